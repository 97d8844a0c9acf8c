import {
  ArgumentsHost,
  Body,
  Catch,
  Controller,
  ExceptionFilter,
  Header,
  HttpCode,
  HttpException,
  Post,
  Req,
  UseFilters,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { auditContextOf } from '../audit/audit-context';
import { auditableName } from './auditable-name';
import { Public } from './auth.decorator';
import { AuthService, IpNotAllowedException } from './auth.service';
import type { IndiciumRequest } from './principal';

type OAuthErrorCode =
  'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'unauthorized_client';

/** An RFC 6749 §5.2 error: its own body shape, not the API's error body. */
class OAuthError extends HttpException {
  constructor(
    status: number,
    readonly code: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description, status);
  }
}

@Catch(OAuthError)
class OAuthErrorFilter implements ExceptionFilter {
  catch(error: OAuthError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.setHeader('Cache-Control', 'no-store');
    if (error.getStatus() === 401) res.setHeader('WWW-Authenticate', 'Basic realm="indicium"');
    res.status(error.getStatus()).json({ error: error.code, error_description: error.description });
  }
}

class TokenRequest {
  @ApiProperty({ enum: ['client_credentials'] }) grant_type!: string;
  @ApiProperty({ required: false, description: 'Or send client_id:client_secret as HTTP Basic' })
  client_id?: string;
  @ApiProperty({ required: false, format: 'password' }) client_secret?: string;
}

class TokenResponse {
  @ApiProperty() access_token!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: 'Bearer';
  @ApiProperty({ example: 3600 }) expires_in!: number;
}

class OAuthErrorBody {
  @ApiProperty({
    enum: ['invalid_request', 'invalid_client', 'unsupported_grant_type', 'unauthorized_client'],
  })
  error!: OAuthErrorCode;
  @ApiProperty() error_description!: string;
}

const MAX_FIELD = 512;

function basicCredentials(header: string | undefined): [string, string] | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/** A reader of the token request's form fields: each once, a string of at most MAX_FIELD. */
function formFields(req: IndiciumRequest, body: unknown): (name: string) => string | undefined {
  if (!req.is('application/x-www-form-urlencoded') || typeof body !== 'object' || body === null) {
    throw new OAuthError(400, 'invalid_request', 'Send an application/x-www-form-urlencoded body');
  }
  const form = body as Record<string, unknown>;
  return (name) => {
    const v = form[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > MAX_FIELD) {
      throw new OAuthError(
        400,
        'invalid_request',
        `${name} must be given once, as a string of at most ${MAX_FIELD} characters`,
      );
    }
    return v;
  };
}

function checkGrantType(grantType: string | undefined): void {
  if (grantType === undefined)
    throw new OAuthError(400, 'invalid_request', 'grant_type is required');
  if (grantType !== 'client_credentials') {
    throw new OAuthError(
      400,
      'unsupported_grant_type',
      'Only grant_type=client_credentials is supported',
    );
  }
}

/** The client id and secret, from the form body or HTTP Basic (not both). */
function clientCredentials(
  req: IndiciumRequest,
  field: (name: string) => string | undefined,
): [string, string] {
  const fromBody = field('client_id') !== undefined || field('client_secret') !== undefined;
  const fromHeader = basicCredentials(req.headers.authorization);
  if (fromBody && fromHeader) {
    throw new OAuthError(
      400,
      'invalid_request',
      'Send client credentials either in the body or as HTTP Basic, not both',
    );
  }
  const [clientId, secret] = fromHeader ?? [field('client_id') ?? '', field('client_secret') ?? ''];
  if (!clientId || !secret)
    throw new OAuthError(401, 'invalid_client', 'Client authentication is required');
  return [clientId, secret];
}

/** OAuth 2.0 client credentials grant (RFC 6749 §4.4) for API clients and Swagger UI. */
@ApiTags('OAuth 2.0')
@Controller('api/v1/oauth')
@UseFilters(OAuthErrorFilter)
export class OAuthController {
  constructor(private readonly auth: AuthService) {}

  /**
   * Issue an access token (OAuth 2.0 client credentials).
   *
   * @remarks Send `grant_type=client_credentials` with `client_id` and `client_secret` in the
   * form body, or the same credentials as HTTP Basic (not both).
   */
  @Post('token')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({ type: TokenRequest })
  @ApiOkResponse({ type: TokenResponse })
  @ApiBadRequestResponse({
    description: 'invalid_request or unsupported_grant_type',
    type: OAuthErrorBody,
  })
  @ApiUnauthorizedResponse({ description: 'invalid_client', type: OAuthErrorBody })
  @ApiForbiddenResponse({ description: 'Client IP not in the allow-list', type: OAuthErrorBody })
  async token(@Req() req: IndiciumRequest, @Body() body: unknown): Promise<TokenResponse> {
    const field = formFields(req, body);
    checkGrantType(field('grant_type'));
    const [clientId, secret] = clientCredentials(req, field);
    try {
      const issued = await this.auth.issueToken(
        clientId,
        secret,
        req.clientIp,
        auditContextOf(req, auditableName(clientId)),
      );
      return {
        access_token: issued.accessToken,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
      };
    } catch (e) {
      if (e instanceof IpNotAllowedException)
        throw new OAuthError(403, 'unauthorized_client', e.message);
      if (e instanceof HttpException && e.getStatus() === 401) {
        throw new OAuthError(401, 'invalid_client', 'Client authentication failed');
      }
      throw e;
    }
  }
}
