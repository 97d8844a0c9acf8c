import { canonicalDomain } from './domain-name';
import type { IndicatorType } from './indicator-type';
import { canonicalNetwork, formatIp, parseIpLiteral, parseRawIp } from './ip-literal';
import { quote } from './result';
import { canonicalUrl } from './url-canonical';

/*
 * The canonical form of each indicator type: validates a value declared as that type and
 * returns it canonical (pure functions; the registry in indicator-types.ts points at them).
 */

export type NormalizeResult =
  { ok: true; type: IndicatorType; value: string } | { ok: false; reason: string };

const MAX_EMAIL_LENGTH = 254; // RFC 5321 path limit minus the angle brackets
const MAX_LOCAL_PART = 64;

const NON_HEX = /[^0-9a-f]/i;
/** RFC 5322 dot-atom text, plus non-ASCII for internationalised addresses (RFC 6531). */
const LOCAL_PART_INVALID = /[^a-z0-9!#$%&'*+/=?^_`{|}~.\-\u0080-\uffff]/;

export function fail(reason: string): NormalizeResult {
  return { ok: false, reason };
}

export function normalizeIp(text: string): NormalizeResult {
  if (text.includes('/')) {
    // `10.1.2.3/32` is one address; a wider range is not an ip.
    const net = canonicalNetwork(text);
    if (net.ok && net.value.type === 'ip') return { ok: true, type: 'ip', value: net.value.value };
    if (net.ok) return fail('not a valid ip: it is a network range (use type cidr)');
    return fail(`not a valid ip: ${net.reason}`);
  }
  const addr = parseIpLiteral(text);
  return addr
    ? { ok: true, type: 'ip', value: formatIp(addr) }
    : fail(`not a valid ip: ${quote(text)} is not an IPv4 or IPv6 address`);
}

export function normalizeCidr(text: string): NormalizeResult {
  const net = canonicalNetwork(text);
  return net.ok ? { ok: true, ...net.value } : fail(`not a valid cidr: ${net.reason}`);
}

export function normalizeDomain(text: string): NormalizeResult {
  const domain = canonicalDomain(text);
  if (domain.ok) return { ok: true, type: 'domain', value: domain.value };
  // Only on the failure path: explain the common mistake better than "numeric label".
  if (parseRawIp(text)) return fail('not a valid domain: it is an IP address (use type ip)');
  return fail(`not a valid domain: ${domain.reason}`);
}

export function normalizeUrl(text: string): NormalizeResult {
  const url = canonicalUrl(text);
  return url.ok
    ? { ok: true, type: 'url', value: url.value }
    : fail(`not a valid url: ${url.reason}`);
}

export function normalizeHash(text: string, type: IndicatorType, length: number): NormalizeResult {
  if (text.length !== length) {
    return fail(`${type} must be ${length} hex digits, got ${text.length} characters`);
  }
  const bad = NON_HEX.exec(text);
  if (bad) return fail(`${type} must be ${length} hex digits: ${quote(bad[0])} is not a hex digit`);
  return { ok: true, type, value: text.toLowerCase() };
}

export function normalizeEmail(text: string): NormalizeResult {
  // Quoted local parts ("a@b"@example.com) are not supported, so the last "@" splits.
  const at = text.lastIndexOf('@');
  if (at === -1) return fail('not a valid email: it has no "@"');
  const local = text.slice(0, at).toLowerCase();
  if (local === '') return fail('not a valid email: the local part before "@" is empty');
  if (local.length > MAX_LOCAL_PART) {
    return fail(`not a valid email: the local part is longer than ${MAX_LOCAL_PART} characters`);
  }
  const bad = LOCAL_PART_INVALID.exec(local);
  if (bad) {
    return fail(`not a valid email: the local part contains invalid character ${quote(bad[0])}`);
  }
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return fail('not a valid email: the local part has a leading, trailing or double dot');
  }
  const domain = canonicalDomain(text.slice(at + 1));
  if (!domain.ok) return fail(`not a valid email: invalid domain part (${domain.reason})`);
  const value = `${local}@${domain.value}`;
  if (value.length > MAX_EMAIL_LENGTH) {
    return fail(`not a valid email: it is longer than ${MAX_EMAIL_LENGTH} characters`);
  }
  return { ok: true, type: 'email', value };
}
