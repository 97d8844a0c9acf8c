import ipaddr from 'ipaddr.js';
import {
  domainCandidates,
  emailDomain,
  IndicatorType,
  networkOf,
  urlHost,
  urlPrefixes,
} from '../indicators';

/** How a match was found (docs/api.md §5). */
export type MatchedBy = 'exact' | 'cidr' | 'within' | 'parent_domain' | 'url_prefix' | 'host';

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

export interface ValuePlan {
  keys: LookupKey[];
  /** For a `cidr` query: the network whose ip/cidr indicators match `within`. */
  within: string | null;
}

/**
 * The lookup keys of one canonical value. Everything is an exact `(type, value)` key on the
 * (value, type) index — containment by a CIDR indicator included: an address's covering
 * networks are computed for each prefix length present, instead of a per-value range scan.
 * Only `within` (indicators inside a queried network) needs a range query.
 */
export function planValue(type: IndicatorType, value: string, lens: PrefixLengths): ValuePlan {
  const keys: LookupKey[] = [{ type, value, matchedBy: 'exact' }];
  let within: string | null = null;
  switch (type) {
    case 'ip':
      pushCovering(keys, value, lens, 'cidr');
      break;
    case 'cidr':
      pushCovering(keys, value, lens, 'cidr');
      within = value;
      break;
    case 'domain':
      for (const parent of domainCandidates(value).slice(1)) {
        keys.push({ type: 'domain', value: parent, matchedBy: 'parent_domain' });
      }
      break;
    case 'url': {
      for (const prefix of urlPrefixes(value).slice(1)) {
        keys.push({ type: 'url', value: prefix, matchedBy: 'url_prefix' });
      }
      pushHost(keys, urlHost(value), lens);
      break;
    }
    case 'email':
      pushHost(keys, { type: 'domain', value: emailDomain(value) }, lens);
      break;
    default:
      break;
  }
  return { keys, within };
}

function pushHost(
  keys: LookupKey[],
  host: { type: 'domain' | 'ip'; value: string },
  lens: PrefixLengths,
): void {
  if (host.type === 'domain') {
    for (const d of domainCandidates(host.value))
      keys.push({ type: 'domain', value: d, matchedBy: 'host' });
    return;
  }
  keys.push({ type: 'ip', value: host.value, matchedBy: 'host' });
  pushCovering(keys, host.value, lens, 'host');
}

/** `cidr` keys of the networks that strictly contain `canonical` (an ip or a cidr). */
function pushCovering(
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

/**
 * The address family whose CIDR indicators could contain this value (or its URL host), or
 * null when none could.
 */
export function containmentFamily(type: IndicatorType, value: string): 4 | 6 | null {
  let address: string;
  if (type === 'ip' || type === 'cidr') address = value;
  else if (type === 'url') {
    const host = urlHost(value);
    if (host.type !== 'ip') return null;
    address = host.value;
  } else return null;
  return address.includes(':') ? 6 : 4;
}

/** Every IPv4 prefix length: as keys, cheaper for a few addresses than asking which exist. */
export const ALL_IPV4_LENGTHS: PrefixLengths = {
  4: Array.from({ length: 32 }, (_, i) => i),
  6: [],
};
