import { canonicalDomain } from './domain-name';
import { IndicatorType } from './indicator-type';
import { canonicalNetwork, formatIp, parseIpLiteral, parseRawIp } from './ip-literal';
import { quote } from './result';
import { canonicalUrl, URL_SCHEME } from './url-canonical';

export type NormalizeResult =
  { ok: true; type: IndicatorType; value: string } | { ok: false; reason: string };

const MAX_LENGTH = 2048;
const MAX_EMAIL_LENGTH = 254; // RFC 5321 path limit minus the angle brackets
const MAX_LOCAL_PART = 64;

type HashType = 'md5' | 'sha1' | 'sha256';
const HASH_LENGTH: Record<HashType, number> = { md5: 32, sha1: 40, sha256: 64 };
const HASH_BY_LENGTH: Readonly<Record<number, HashType>> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

const HEX = /^[0-9a-f]+$/i;
const NON_HEX = /[^0-9a-f]/i;
const DIGITS = /^\d+$/;
/** Digits and dots only, or two colons or more (no domain or bare URL has any): meant as an IP. */
const LOOKS_LIKE_IP = /^[\d.]+$|^[0-9a-z.]*:[0-9a-z.]*:[0-9a-z.:%]*$/i;
// Whitespace (including Unicode spaces) and C0/DEL/C1 control characters.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\s\u0000-\u001f\u007f-\u009f]/;
const WHITESPACE = /\s/;
/** RFC 5322 dot-atom text, plus non-ASCII for internationalised addresses (RFC 6531). */
const LOCAL_PART_INVALID = /[^a-z0-9!#$%&'*+/=?^_`{|}~.\-\u0080-\uffff]/;

function fail(reason: string): NormalizeResult {
  return { ok: false, reason };
}

function normalizeIp(text: string): NormalizeResult {
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

function normalizeCidr(text: string): NormalizeResult {
  const net = canonicalNetwork(text);
  return net.ok ? { ok: true, ...net.value } : fail(`not a valid cidr: ${net.reason}`);
}

function normalizeDomain(text: string): NormalizeResult {
  const domain = canonicalDomain(text);
  if (domain.ok) return { ok: true, type: 'domain', value: domain.value };
  // Only on the failure path: explain the common mistake better than "numeric label".
  if (parseRawIp(text)) return fail('not a valid domain: it is an IP address (use type ip)');
  return fail(`not a valid domain: ${domain.reason}`);
}

function normalizeUrl(text: string): NormalizeResult {
  const url = canonicalUrl(text);
  return url.ok
    ? { ok: true, type: 'url', value: url.value }
    : fail(`not a valid url: ${url.reason}`);
}

function normalizeHash(text: string, type: HashType): NormalizeResult {
  const length = HASH_LENGTH[type];
  if (text.length !== length) {
    return fail(`${type} must be ${length} hex digits, got ${text.length} characters`);
  }
  const bad = NON_HEX.exec(text);
  if (bad) return fail(`${type} must be ${length} hex digits: ${quote(bad[0])} is not a hex digit`);
  return { ok: true, type, value: text.toLowerCase() };
}

function normalizeEmail(text: string): NormalizeResult {
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

/** Detection order from the contract; each branch validates with its type's rules. */
function detect(text: string): NormalizeResult {
  const ip = parseIpLiteral(text);
  if (ip) return { ok: true, type: 'ip', value: formatIp(ip) };

  const slash = text.indexOf('/');
  if (slash > 0) {
    // An IP-shaped value followed by "/digits" is a CIDR, reported as such when it is
    // bad rather than read as a URL path. An IPv6 can never be a bare URL host.
    const left = text.slice(0, slash);
    if (LOOKS_LIKE_IP.test(left) && (left.includes(':') || DIGITS.test(text.slice(slash + 1)))) {
      return normalizeCidr(text);
    }
  }

  if (HEX.test(text)) {
    const hashType = HASH_BY_LENGTH[text.length];
    if (hashType) return { ok: true, type: hashType, value: text.toLowerCase() };
    // A long dotless hex string can only be a hash; say so rather than "single label".
    if (text.length >= 16) {
      return fail(`not a valid hash: ${text.length} hex digits (md5 has 32, sha1 40, sha256 64)`);
    }
  }

  const hasScheme = URL_SCHEME.test(text);
  if (text.includes('@') && !hasScheme && slash === -1) return normalizeEmail(text);
  if (hasScheme || slash !== -1 || text.includes('?')) return normalizeUrl(text);
  // Not an IP (checked first), yet shaped like one: report it as a bad IP, not a bad domain.
  if (LOOKS_LIKE_IP.test(text)) return normalizeIp(text);
  return normalizeDomain(text);
}

/**
 * Validates an indicator value and returns its canonical form and type. With `type`,
 * the value must be of that type (a /32 or /128 `cidr` comes back as `ip`); without
 * it, the type is detected. Never throws: bad input gives `{ ok: false, reason }`.
 */
export function normalizeIndicator(value: string, type?: IndicatorType): NormalizeResult {
  if (typeof value !== 'string') return fail('the value must be a string');
  const text = value.trim();
  if (text === '') return fail('the value is empty');
  if (text.length > MAX_LENGTH) return fail(`the value is longer than ${MAX_LENGTH} characters`);
  const forbidden = FORBIDDEN.exec(text);
  if (forbidden) {
    return fail(
      WHITESPACE.test(forbidden[0])
        ? 'the value contains whitespace'
        : 'the value contains a control character',
    );
  }

  switch (type) {
    case undefined:
      return detect(text);
    case 'ip':
      return normalizeIp(text);
    case 'cidr':
      return normalizeCidr(text);
    case 'domain':
      return normalizeDomain(text);
    case 'url':
      return normalizeUrl(text);
    case 'md5':
    case 'sha1':
    case 'sha256':
      return normalizeHash(text, type);
    case 'email':
      return normalizeEmail(text);
    default:
      // Unreachable for typed callers; guards values that came straight from a request.
      return fail(`unknown indicator type ${quote(String(type))}`);
  }
}
