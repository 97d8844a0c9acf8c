import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The console session's formats (docs/console.md, "Sessions"). The id lives only in the
 * browser's HttpOnly cookie; the database keeps its SHA-256 (tokenDigest), and the CSRF token
 * is derived from it, so neither the table nor the audit log holds anything that opens a
 * session.
 */
const SESSION_COOKIE = 'indicium_session';
export const CSRF_HEADER = 'x-indicium-csrf';
const SESSION_ID_PREFIX = 'inss_';
/** The prefix and 256 random bits, base64url. */
const SESSION_ID = /^inss_[A-Za-z0-9_-]{43}$/;
/** Longer than this, a Cookie header is not read at all. */
const MAX_COOKIE_HEADER = 8192;

/**
 * The challenge of a 401 to the console (no Authorization header, and a session cookie or a
 * session route): not `Basic`, which would make the browser open its own password dialog.
 */
export const SESSION_CHALLENGE = 'Session realm="indicium"';

export function newSessionId(): string {
  return SESSION_ID_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * The session cookie's value: undefined when the request has none, null when it is there but
 * not a session id this server could have issued (several, or malformed).
 */
export function sessionCookieOf(header: string | string[] | undefined): string | null | undefined {
  if (typeof header !== 'string') return undefined;
  if (header.length > MAX_COOKIE_HEADER) return header.includes(SESSION_COOKIE) ? null : undefined;
  const values = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${SESSION_COOKIE}=`))
    .map((pair) => pair.slice(SESSION_COOKIE.length + 1));
  if (values.length === 0) return undefined;
  return values.length === 1 && SESSION_ID.test(values[0]) ? values[0] : null;
}

/** The Set-Cookie value that stores `id` for `maxAgeSeconds` (0 and an empty id: clears it). */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${id}`,
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** The session's CSRF token: derived from its id (a keyed hash), never stored. */
export function csrfTokenOf(id: string): string {
  return createHmac('sha256', id).update('csrf').digest('base64url');
}

/** Whether `given` is the session's CSRF token, compared in constant time. */
export function csrfTokenMatches(id: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const expected = Buffer.from(csrfTokenOf(id));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * What a user's sessions depend on, as a digest taken at sign-in: a new password, another
 * role or a status change gives another stamp, and the session ends.
 */
export function sessionStamp(user: { passwordHash: string; role: string; status: string }): string {
  return createHash('sha256')
    .update(`${user.passwordHash}\u0000${user.role}\u0000${user.status}`)
    .digest('hex');
}
