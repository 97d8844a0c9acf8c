import { createHash, randomBytes } from 'node:crypto';

/**
 * Credential formats. Prefixes make leaked values recognisable to secret scanners and tell
 * the authenticator, from the Basic username alone, that it is an API client.
 */
const CLIENT_ID_PREFIX = 'ind_';
export const CLIENT_SECRET_PREFIX = 'inds_';
export const ACCESS_TOKEN_PREFIX = 'indt_';

/** A client id: 120 random bits. */
export function newClientId(): string {
  return CLIENT_ID_PREFIX + randomBytes(15).toString('base64url');
}

/** A client secret: 256 random bits. */
export function newClientSecret(): string {
  return CLIENT_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** An opaque access token: 256 random bits. */
export function newAccessToken(): string {
  return ACCESS_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Tokens are stored and looked up by SHA-256: high-entropy values need no slow hash. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isClientId(name: string): boolean {
  return name.startsWith(CLIENT_ID_PREFIX);
}
