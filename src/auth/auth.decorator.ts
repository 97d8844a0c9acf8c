import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOAuth2,
  ApiOperation,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorBody } from '../common/errors/error-body.dto';
import { RETRY_AFTER_HEADER } from '../common/openapi-conventions';
import type { IndiciumRequest, Principal } from './principal';
import type { Privilege } from './privileges';

export const PRIVILEGE_KEY = 'indicium:privilege';
export const PUBLIC_KEY = 'indicium:public';
/** Any authenticated principal; used with @Auth() and no privilege. */
export const ANY_PRINCIPAL = 'any' as const;
export type RequiredAccess = Privilege | typeof ANY_PRINCIPAL;

/**
 * Declares a route's security and its documentation together: the privilege the guard
 * demands (or any authenticated principal), both security schemes, and 401/403/429 responses.
 */
export function Auth(privilege: RequiredAccess = ANY_PRINCIPAL): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(PRIVILEGE_KEY, privilege),
    ApiBasicAuth('basic'),
    ApiOAuth2([], 'oauth2'),
    ApiUnauthorizedResponse({
      description: 'Missing, invalid or inactive credentials',
      headers: {
        'WWW-Authenticate': { description: 'Basic realm="indicium"', schema: { type: 'string' } },
      },
      type: ErrorBody,
    }),
    ApiForbiddenResponse({
      description:
        privilege === ANY_PRINCIPAL
          ? 'Client IP not in the allow-list'
          : `Missing privilege \`${privilege}\`, or client IP not in the allow-list`,
      type: ErrorBody,
    }),
    ApiTooManyRequestsResponse({
      description: 'Locked out after repeated failures, or server busy',
      headers: RETRY_AFTER_HEADER,
      type: ErrorBody,
    }),
  );
}

/**
 * A route of the console's own session (docs/console.md): authenticated by the session cookie;
 * Basic and Bearer callers are let through the guard but have no session (404). Writes need
 * the CSRF header, like every cookie-authenticated write.
 */
export function SessionAuth(): MethodDecorator {
  return applyDecorators(
    SetMetadata(PRIVILEGE_KEY, ANY_PRINCIPAL),
    ApiCookieAuth('session'),
    ApiUnauthorizedResponse({
      description: 'No session cookie, or the session has ended (expired, idle, revoked)',
      headers: {
        'WWW-Authenticate': {
          description:
            'Session realm="indicium" (not Basic: a browser would open its own dialog); Basic realm="indicium" when an Authorization header was sent',
          schema: { type: 'string' },
        },
      },
      type: ErrorBody,
    }),
    ApiForbiddenResponse({
      description: 'A write without the X-Indicium-CSRF header of the session, or a wrong one',
      type: ErrorBody,
    }),
    ApiNotFoundResponse({
      description:
        'Authenticated with HTTP Basic or a Bearer token: no session (API clients never have one)',
      type: ErrorBody,
    }),
    ApiTooManyRequestsResponse({
      description: 'Locked out after repeated failures, or server busy',
      headers: RETRY_AFTER_HEADER,
      type: ErrorBody,
    }),
  );
}

/**
 * Marks one of the few routes open without credentials (a handler, so the document can say
 * so too: an explicit empty `security`).
 */
export function Public(): MethodDecorator {
  return applyDecorators(
    SetMetadata(PUBLIC_KEY, true),
    // `summary: undefined` keeps the summary the Swagger plugin takes from the handler's comment.
    ApiOperation({ summary: undefined, security: [] }),
  );
}

/**
 * A route bound by the delegation rule (docs/security.md): its 403 also covers granting or
 * acting beyond the caller's own privileges. Put on the handler, under the class's @Auth().
 */
export function Delegated(privilege: Privilege): MethodDecorator {
  return ApiForbiddenResponse({
    description: `Missing privilege \`${privilege}\`, client IP not in the allow-list, or the delegation rule forbids it: the role or principal holds privileges the caller lacks (named in the message), or it is the caller's own role`,
    type: ErrorBody,
  });
}

/** Controller parameter: the authenticated principal of an @Auth() route (who acts). */
export const Actor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<IndiciumRequest>().principal;
  // The guard authenticated every @Auth() route before this runs; a @Public() route has none.
  if (!principal) throw new UnauthorizedException('Authentication required');
  return principal;
});
