import { createHash } from 'node:crypto';
import { ACCESS_TOKEN_PREFIX, CLIENT_SECRET_PREFIX } from './client-credentials';

/** The username grammar (users import it: a user is a kind of principal). */
export const USERNAME = /^[A-Za-z0-9._@-]{3,64}$/;
/** The shape of the client ids we issue (newClientId). */
const CLIENT_ID = /^ind_[A-Za-z0-9_-]{20}$/;
const SECRET_PREFIXES = [CLIENT_SECRET_PREFIX, ACCESS_TOKEN_PREFIX];

/**
 * How a name someone *claimed* (a Basic user-id, an OAuth client_id) may appear in the audit
 * log, which can never forget: as itself only when it could be a username or client id and
 * is not shaped like a secret; otherwise as `sha256:` + 8 hex digits, enough to correlate
 * repeated attempts, not enough to hold a secret typed into the wrong field.
 */
export function auditableName(claimed: string): string {
  const secretShaped = SECRET_PREFIXES.some((p) => claimed.startsWith(p));
  if (!secretShaped && (USERNAME.test(claimed) || CLIENT_ID.test(claimed))) return claimed;
  return fingerprintOf(claimed);
}

/**
 * `sha256:` + 8 hex digits of a claimed name: what a failed login records for a name that is
 * no principal's — a password typed into the username field fits the username grammar too.
 */
export function fingerprintOf(claimed: string): string {
  return `sha256:${createHash('sha256').update(claimed).digest('hex').slice(0, 8)}`;
}
