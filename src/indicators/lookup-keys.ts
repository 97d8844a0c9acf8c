import ipaddr from 'ipaddr.js';
import { domainCandidates, networkOf, UrlHost } from './candidate-keys';
import type { IndicatorType } from './indicator-type';

/*
 * Search lookup keys shared by the indicator type definitions: everything is an exact
 * `(type, value)` key on the (value, type) index — containment by a CIDR indicator included:
 * an address's covering networks are computed for each prefix length present, instead of a
 * per-value range scan.
 */

/** How a match was found (docs/api.md §5). */
export const MATCHED_BY = [
  'exact',
  'cidr',
  'within',
  'parent_domain',
  'url_prefix',
  'host',
] as const;

export type MatchedBy = (typeof MATCHED_BY)[number];

/** One exact `(type, value)` lookup and what a hit on it means for the value searched. */
export interface LookupKey {
  type: IndicatorType;
  value: string;
  matchedBy: MatchedBy;
}

/** The prefix lengths of the CIDR indicators present, per family, shortest first. */
export interface PrefixLengths {
  4: readonly number[];
  6: readonly number[];
}

/** Keys of a host (of a URL or an email address): the domain and its parents, or the ip. */
export function pushHost(keys: LookupKey[], host: UrlHost, lens: PrefixLengths): void {
  if (host.type === 'domain') {
    for (const d of domainCandidates(host.value))
      keys.push({ type: 'domain', value: d, matchedBy: 'host' });
    return;
  }
  keys.push({ type: 'ip', value: host.value, matchedBy: 'host' });
  pushCovering(keys, host.value, lens, 'host');
}

/** `cidr` keys of the networks that strictly contain `canonical` (an ip or a cidr). */
export function pushCovering(
  keys: LookupKey[],
  canonical: string,
  lens: PrefixLengths,
  matchedBy: MatchedBy,
): void {
  const { family, address, prefix } = networkOf(canonical);
  for (const net of coveringNetworks(family, address, prefix, lens[family])) {
    keys.push({ type: 'cidr', value: net, matchedBy });
  }
}

/**
 * Canonical `network/len` strings for every `len` in `lengths` shorter than `prefix`.
 * IPv4 uses integer masks (the hot case); IPv6 clears bits in the byte array.
 * @internal exported for tests
 */
export function coveringNetworks(
  family: 4 | 6,
  address: string,
  prefix: number,
  lengths: readonly number[],
): string[] {
  const out: string[] = [];
  if (family === 4) {
    const p = address.split('.');
    const n = ((+p[0] << 24) | (+p[1] << 16) | (+p[2] << 8) | +p[3]) >>> 0;
    for (const len of lengths) {
      if (len >= prefix) break;
      const net = len === 0 ? 0 : (n & (0xffffffff << (32 - len))) >>> 0;
      out.push(`${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${len}`);
    }
    return out;
  }
  const bytes = ipaddr.IPv6.parse(address).toByteArray();
  for (const len of lengths) {
    if (len >= prefix) break;
    const copy = bytes.slice();
    for (let i = 0; i < 16; i++) {
      const keep = len - i * 8;
      if (keep <= 0) copy[i] = 0;
      else if (keep < 8) copy[i] &= (0xff << (8 - keep)) & 0xff;
    }
    out.push(`${ipaddr.fromByteArray(copy).toString()}/${len}`);
  }
  return out;
}
