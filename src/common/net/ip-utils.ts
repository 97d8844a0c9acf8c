import ipaddr from 'ipaddr.js';
import { type IpAddress, type IpRange, parseIp } from '../../config/ip-range';

export { type IpAddress, type IpRange, parseIp, parseRange } from '../../config/ip-range';

function rangeContains(range: IpRange, addr: IpAddress): boolean {
  return addr.kind() === range[0].kind() && addr.match(range);
}

export function anyRangeContains(ranges: ReadonlyArray<IpRange>, addr: IpAddress): boolean {
  return ranges.some((r) => rangeContains(r, addr));
}

/** Canonical text form: IPv4 dotted-decimal, IPv6 per RFC 5952. */
function formatIp(addr: IpAddress): string {
  return addr.toString();
}

/** Canonical form of an "ip" or "ip/prefix" with host bits cleared. */
export function formatRange([addr, prefix]: IpRange): string {
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  if (prefix === max) return addr.toString();
  const network =
    addr.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${prefix}`);
  return `${network.toString()}/${prefix}`;
}

/**
 * One X-Forwarded-For hop: a bare address, `ip:port` (IPv4) or `[v6]` / `[v6]:port`, the port
 * stripped. Null when it is anything else (`unknown`, an obfuscated name, garbage).
 * @internal exported for tests
 */
export function parseForwardedHop(hop: string): IpAddress | null {
  const text = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  const v4WithPort = /^([\d.]+):(\d{1,5})$/.exec(text);
  const [address, port] = bracketed
    ? [bracketed[1], bracketed[2]]
    : v4WithPort
      ? [v4WithPort[1], v4WithPort[2]]
      : [text, undefined];
  if (port !== undefined && Number(port) > 65535) return null;
  if (bracketed && !address.includes(':')) return null;
  return parseIp(address);
}

/**
 * The client address. The TCP peer, unless the peer is a trusted proxy: then X-Forwarded-For
 * is walked from the right, and the first hop that is not a trusted proxy is the client. A
 * hop on that walk that does not parse ends it at the last trusted address seen: everything
 * to its left was written by someone we do not trust, so it is never used.
 */
export function resolveClientIp(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: ReadonlyArray<IpRange>,
): string {
  const peerAddr = peer ? parseIp(peer) : null;
  if (!peerAddr) return peer ?? 'unknown';
  if (trustedProxies.length === 0 || !anyRangeContains(trustedProxies, peerAddr)) {
    return formatIp(peerAddr);
  }
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  if (header.trim() === '') return formatIp(peerAddr);
  const hops = header.split(',');
  let lastTrusted = peerAddr;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseForwardedHop(hops[i]);
    if (!hop) break;
    if (!anyRangeContains(trustedProxies, hop)) return formatIp(hop);
    lastTrusted = hop;
  }
  return formatIp(lastTrusted);
}
