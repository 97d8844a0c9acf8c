import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiProperty,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import type { Response } from 'express';
import { auditContextOf } from '../audit/audit-context';
import { ErrorBody } from '../common/errors/error-body.dto';
import { NoSessionError } from '../common/errors/domain-errors';
import { RETRY_AFTER_HEADER } from '../common/openapi-conventions';
import { auditableName } from './auditable-name';
import { Public, SessionAuth } from './auth.decorator';
import { LockedOutException } from './auth.service';
import type { ActiveSession, IndiciumRequest } from './principal';
import { SESSION_CHALLENGE } from './session-tokens';
import { SessionService, SessionState } from './session.service';

class SignInDto {
  @ApiProperty({ maxLength: 256, example: 'jane.doe' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  username!: string;

  @ApiProperty({ maxLength: 256, format: 'password', writeOnly: true })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

class SessionStateDto implements SessionState {
  @ApiProperty({ description: 'Send it as X-Indicium-CSRF on every write' }) csrfToken!: string;
  @ApiProperty({
    format: 'date-time',
    description: 'The earlier of the idle expiry (from this request) and the absolute one',
  })
  expiresAt!: string;
  @ApiProperty({ description: "The user's home tenant", example: 'default' }) tenant!: string;
}

const SESSION_COOKIE_HEADER = {
  'Set-Cookie': {
    description: 'indicium_session=…; Max-Age=43200; Path=/; HttpOnly; SameSite=Strict; Secure',
    schema: { type: 'string' },
  },
};

function sessionOf(req: IndiciumRequest): ActiveSession {
  if (!req.consoleSession) throw new NoSessionError();
  return req.consoleSession;
}

/** The console's sign-in (docs/console.md, "Sessions"): a session cookie for people. */
@ApiTags('Sessions')
@Controller('api/v1/session')
export class SessionController {
  constructor(private readonly sessions: SessionService) {}

  /**
   * Sign in (users only): sets the session cookie.
   *
   * @remarks Exactly HTTP Basic for a user: the same lockout, audit and refusal of inactive
   * accounts. An API client id is refused (401): API clients never have sessions. The session
   * ends after SESSION_IDLE_MINUTES without a request, and 12 h after sign-in in any case.
   */
  @Post()
  @Public()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Signed in', headers: SESSION_COOKIE_HEADER })
  @ApiBadRequestResponse({
    description: 'username or password missing or too long',
    type: ErrorBody,
  })
  @ApiUnauthorizedResponse({
    description: 'Wrong username or password, an inactive user, or an API client',
    headers: {
      'WWW-Authenticate': { description: SESSION_CHALLENGE, schema: { type: 'string' } },
    },
    type: ErrorBody,
  })
  @ApiTooManyRequestsResponse({
    description: 'Locked out after repeated failures, or server busy',
    headers: RETRY_AFTER_HEADER,
    type: ErrorBody,
  })
  async signIn(
    @Req() req: IndiciumRequest,
    @Res({ passthrough: true }) res: Response,
    @Body() dto: SignInDto,
  ): Promise<void> {
    const cookie = await this.sessions
      .start(
        dto.username,
        dto.password,
        req.clientIp,
        auditContextOf(req, auditableName(dto.username)),
      )
      .catch((err: unknown) => {
        if (err instanceof LockedOutException)
          res.setHeader('Retry-After', String(err.retryAfterSeconds));
        res.setHeader('WWW-Authenticate', SESSION_CHALLENGE);
        throw err;
      });
    res.setHeader('Set-Cookie', cookie);
  }

  /** The session's CSRF token, expiry and tenant (session cookie only). */
  @Get()
  @SessionAuth()
  @ApiOkResponse({ type: SessionStateDto })
  state(@Req() req: IndiciumRequest): SessionStateDto {
    return this.sessions.state(sessionOf(req));
  }

  /** Sign out: ends the session and clears its cookie (needs X-Indicium-CSRF). */
  @Delete()
  @SessionAuth()
  @HttpCode(204)
  @ApiHeader({
    name: 'X-Indicium-CSRF',
    required: true,
    description: 'The csrfToken of GET /api/v1/session',
  })
  @ApiNoContentResponse({
    description: 'Signed out; the cookie is cleared',
    headers: SESSION_COOKIE_HEADER,
  })
  async signOut(
    @Req() req: IndiciumRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    res.setHeader('Set-Cookie', await this.sessions.end(sessionOf(req), auditContextOf(req)));
  }
}
