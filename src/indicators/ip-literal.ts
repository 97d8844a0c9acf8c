import ipaddr from 'ipaddr.js';
import { Outcome, quote } from './result';

/*
 * Strict IP literal parsing. ipaddr.js (and ../common/net/ip-utils on top of it) is
 * lenient in ways that are wrong for indicators: it accepts zone ids (`fe80::1%eth0`),
 * hex/octal octets inside IPv6 (`::ffff:0x7f.0.0.1`) and reads the deprecated
 * IPv4-compatible `::1.2.3.4` as IPv4-mapped. So IPv4 is parsed by hand (dotted quad,
 * decimal, no leading zeros: `010.0.0.1` is ambiguous, octal to inet_aton) and IPv6
 * text is screened before ipaddr.js parses it.
 */

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

const DOT = 0x2e;
const DIGIT_0 = 0x30;
const IPV6_CHARS = /^[0-9a-f:.]+$/i;

/** Parses a strict dotted-quad IPv4 address without splitting or regexes (hot path). */
export function parseIpv4(text: string): ipaddr.IPv4 | null {
  const len = text.length;
  if (len < 7 || len > 15) return null;
  const octets: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= len; i++) {
    const c = i === len ? DOT : text.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || value > 255 || octets.length === 4) return null;
      octets.push(value);
      value = 0;
      digits = 0;
      continue;
    }
    const d = c - DIGIT_0;
    if (d < 0 || d > 9) return null;
    if (digits === 1 && value === 0) return null; // leading zero
    value = value * 10 + d;
    digits++;
  }
  return octets.length === 4 ? new ipaddr.IPv4(octets) : null;
}

/** Parses an IPv6 address (no zone id, no brackets); IPv4-mapped addresses stay IPv6. */
export function parseIpv6(text: string): ipaddr.IPv6 | null {
  if (!IPV6_CHARS.test(text)) return null;
  const lastColon = text.lastIndexOf(':');
  if (lastColon === -1) return null;
  const firstDot = text.indexOf('.');
  let source = text;
  if (firstDot !== -1) {
    // Dotted notation is only allowed as the final 32 bits, as a strict dotted quad.
    if (firstDot < lastColon || !parseIpv4(text.slice(lastColon + 1))) return null;
    // ipaddr.js treats `::a.b.c.d` as `::ffff:a.b.c.d`; spelling the leading zero group
    // out makes it parse as what it is (the deprecated IPv4-compatible form).
    if (lastColon === 1) source = `0${text}`;
  }
  try {
    return ipaddr.IPv6.parse(source);
  } catch {
    return null;
  }
}

/** Parses an IP literal as written, without unmapping IPv4-mapped IPv6. */
export function parseRawIp(text: string): IpAddress | null {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function isIpv6(addr: IpAddress): addr is ipaddr.IPv6 {
  return addr.kind() === 'ipv6';
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) denotes an IPv4 host. */
function unmap(addr: IpAddress): IpAddress {
  return isIpv6(addr) && addr.isIPv4MappedAddress() ? addr.toIPv4Address() : addr;
}

/** Parses an IP literal to its canonical address (IPv4-mapped IPv6 becomes IPv4). */
export function parseIpLiteral(text: string): IpAddress | null {
  const addr = parseRawIp(text);
  return addr && unmap(addr);
}

/** Canonical text: IPv4 dotted-decimal, IPv6 per RFC 5952 (ipaddr.js toString). */
export function formatIp(addr: IpAddress): string {
  return addr.toString();
}

/** Clears the host bits of an address beyond `prefix`. */
function networkAddress(addr: IpAddress, prefix: number): IpAddress {
  const bytes = addr.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = prefix - i * 8;
    if (keep <= 0) bytes[i] = 0;
    else if (keep < 8) bytes[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return ipaddr.fromByteArray(bytes);
}

export interface CanonicalNetwork {
  /** `ip` when the network is a single host (/32 or /128). */
  type: 'ip' | 'cidr';
  value: string;
}

const DIGITS = /^\d+$/;

/**
 * Canonicalises `address` or `address/prefix`: host bits cleared, a full-length prefix
 * becomes a plain IP, and an IPv4-mapped network of /96 or longer becomes the IPv4
 * network it denotes (`::ffff:10.0.0.0/104` -> `10.0.0.0/8`). Reasons are returned
 * without the "not a valid ..." prefix so callers can phrase it for their type.
 */
export function canonicalNetwork(text: string): Outcome<CanonicalNetwork> {
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const raw = parseRawIp(addrText);
  if (!raw) return { ok: false, reason: `${quote(addrText)} is not an IPv4 or IPv6 address` };
  if (slash === -1) return { ok: true, value: { type: 'ip', value: formatIp(unmap(raw)) } };

  const prefixText = text.slice(slash + 1);
  if (prefixText === '') return { ok: false, reason: 'the prefix length after "/" is missing' };
  if (!DIGITS.test(prefixText)) {
    return { ok: false, reason: `prefix length ${quote(prefixText)} is not a number` };
  }
  let prefix = Number(prefixText);
  const family = isIpv6(raw) ? 6 : 4;
  const max = family === 4 ? 32 : 128;
  if (prefix > max) {
    return {
      ok: false,
      reason: `prefix length /${prefixText} is out of range for IPv${family} (0-${max})`,
    };
  }
  let addr: IpAddress = raw;
  if (isIpv6(raw) && raw.isIPv4MappedAddress() && prefix >= 96) {
    addr = raw.toIPv4Address();
    prefix -= 96;
  }
  const full = isIpv6(addr) ? 128 : 32;
  if (prefix === full) return { ok: true, value: { type: 'ip', value: formatIp(addr) } };
  return {
    ok: true,
    value: { type: 'cidr', value: `${formatIp(networkAddress(addr, prefix))}/${prefix}` },
  };
}
