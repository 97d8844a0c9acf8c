import { applyDecorators, SetMetadata } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiForbiddenResponse,
  ApiOAuth2,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorBody } from '../common/errors/error-body.dto';
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
      type: ErrorBody,
    }),
  );
}

/** Marks one of the few routes open without credentials. */
export function Public(): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(PUBLIC_KEY, true));
}
