import { domainToASCII } from 'node:url';
import { canonicalDomain } from './domain-name';
import { formatIp, parseIpv4, parseIpv6 } from './ip-literal';
import { Outcome, quote } from './result';

/** Any `scheme://` (RFC 3986 scheme syntax), so defanged `hxxp://` is stripped as well. */
export const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

const PORT = /^\d{1,5}$/;
/**
 * WHATWG "ends in a number": when the last label is decimal or 0x-hex, browsers parse
 * the whole host as IPv4, including legacy forms (`0x7f.1`, `3232235777`). URLs carry
 * such obfuscated hosts in the wild, so they are resolved to the address a browser
 * would contact.
 */
const ENDS_IN_NUMBER = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/;
const NUMERIC_HOST_CHARS = /^[0-9a-fx.]+$/;

function fail(reason: string): Outcome<string> {
  return { ok: false, reason };
}

/** Host of a URL without brackets: IPv4 (any browser form) or a domain minus leading `www.`. */
function canonicalHost(host: string): Outcome<string> {
  const bare = host.endsWith('.') ? host.slice(0, -1) : host;
  if (ENDS_IN_NUMBER.test(bare) && NUMERIC_HOST_CHARS.test(bare)) {
    // The strict parser handles the common dotted quad; domainToASCII applies the
    // WHATWG IPv4 parser to the rest ('' when it is not an address).
    const v4 = parseIpv4(bare) ?? parseIpv4(domainToASCII(bare));
    return v4
      ? { ok: true, value: formatIp(v4) }
      : fail(`host ${quote(host)} is not a valid IPv4 address`);
  }
  const domain = canonicalDomain(host);
  if (!domain.ok) return fail(`invalid host (${domain.reason})`);
  // Drop leading "www." labels, but keep two labels (`www.com` is a site). Stripping
  // repeatedly keeps canonicalisation idempotent: `www.www.evil.com` -> `evil.com`.
  let name = domain.value;
  while (name.startsWith('www.') && name.includes('.', 4)) name = name.slice(4);
  return { ok: true, value: name };
}

/**
 * RFC 3986 remove_dot_segments, then repeated "/" collapsed and the trailing "/"
 * dropped. Dot segments go first, as a browser resolves them before the request is
 * sent: `/a//../b` is `/a/b`, not `/b`. `path` is empty or starts with "/".
 */
function canonicalPath(path: string): string {
  if (!path.includes('/.') && !path.includes('//')) {
    return path.endsWith('/') ? path.slice(0, -1) : path; // nothing to resolve (common case)
  }
  const kept: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '..') kept.pop();
    // Empty segments stay on the stack so ".." can remove them, exactly as in RFC 3986.
    else if (segment !== '.') kept.push(segment);
  }
  let out = '';
  for (const segment of kept) if (segment !== '') out += `/${segment}`;
  return out;
}

/**
 * Canonical URL: no scheme, userinfo, port, fragment or leading `www.`; dot segments
 * resolved, `//` collapsed, trailing `/` and trailing host `.` removed, IDN host in
 * punycode, IP host canonical (IPv6 kept in brackets), everything lowercased, query kept.
 * Percent-encoding is left as it is (only lowercased).
 */
export function canonicalUrl(input: string): Outcome<string> {
  const s = input.toLowerCase();
  const scheme = URL_SCHEME.exec(s);
  const start = scheme ? scheme[0].length : s.startsWith('//') ? 2 : 0;
  const hash = s.indexOf('#', start);
  const end = hash === -1 ? s.length : hash;
  // The authority cannot contain "?", so the first "?" before the fragment starts the query.
  let queryStart = s.indexOf('?', start);
  if (queryStart === -1 || queryStart > end) queryStart = end;
  // Browsers read "\" as "/" before the query, so `evil.com\@good.com` is evil.com,
  // not good.com with userinfo: follow them rather than RFC 3986 here.
  const hier = s.slice(start, queryStart).replaceAll('\\', '/');
  const slash = hier.indexOf('/');
  const authEnd = slash === -1 ? hier.length : slash;
  // Userinfo may itself contain "@" (`user:p@ss@host`): the host follows the last one.
  const hostPort = hier.slice(hier.lastIndexOf('@', authEnd - 1) + 1, authEnd);

  let host: string;
  let port: string;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) return fail('the IPv6 host has no closing "]"');
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) {
      return fail(`unexpected ${quote(after)} after the IPv6 host`);
    }
    port = after.slice(1);
    const v6 = parseIpv6(hostPort.slice(1, close));
    if (!v6) return fail(`host ${quote(hostPort.slice(0, close + 1))} is not a valid IPv6 address`);
    // IPv4-mapped IPv6 denotes an IPv4 host, as for `ip` indicators.
    host = v6.isIPv4MappedAddress() ? formatIp(v6.toIPv4Address()) : `[${formatIp(v6)}]`;
  } else {
    const colon = hostPort.lastIndexOf(':');
    const hostText = colon === -1 ? hostPort : hostPort.slice(0, colon);
    port = colon === -1 ? '' : hostPort.slice(colon + 1);
    if (hostText.includes(':') && (parseIpv6(hostPort) || parseIpv6(hostText))) {
      return fail('an IPv6 host must be enclosed in brackets');
    }
    if (hostText === '') return fail('it has no host');
    const canonical = canonicalHost(hostText);
    if (!canonical.ok) return canonical;
    host = canonical.value;
  }
  // An empty port (`host:/`) is allowed by RFC 3986; anything else must be a real port.
  if (port !== '' && !(PORT.test(port) && Number(port) <= 65535)) {
    return fail(`port ${quote(port)} is not a number from 0 to 65535`);
  }

  const path = canonicalPath(hier.slice(authEnd));
  // An empty query (`a.php?`) asks the server for the same thing as no query.
  const query = queryStart < end ? s.slice(queryStart + 1, end) : '';
  return { ok: true, value: query === '' ? host + path : `${host}${path}?${query}` };
}
