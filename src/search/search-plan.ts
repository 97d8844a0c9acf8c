import { INDICATOR_TYPE_DEFINITIONS, IndicatorType, LookupKey, PrefixLengths } from '../indicators';

export type { LookupKey, MatchedBy, PrefixLengths } from '../indicators';

export interface ValuePlan {
  keys: LookupKey[];
  /** For a value whose type matches `within` (cidr): the network to look inside. */
  within: string | null;
}

/**
 * The lookup keys of one canonical value: the exact key, then those its type definition
 * derives (docs/api.md §5). Only `within` (indicators inside a queried network) needs a range
 * query.
 */
export function planValue(type: IndicatorType, value: string, lens: PrefixLengths): ValuePlan {
  const definition = INDICATOR_TYPE_DEFINITIONS[type];
  return {
    keys: [{ type, value, matchedBy: 'exact' }, ...definition.lookupKeys(value, lens)],
    within: definition.matchesWithin ? value : null,
  };
}

/**
 * The address family whose CIDR indicators could contain this value (or its URL host), or
 * null when none could.
 */
export function containmentFamily(type: IndicatorType, value: string): 4 | 6 | null {
  const address = INDICATOR_TYPE_DEFINITIONS[type].containedAddress(value);
  if (address === null) return null;
  return address.includes(':') ? 6 : 4;
}

/** Every IPv4 prefix length: as keys, cheaper for a few addresses than asking which exist. */
export const ALL_IPV4_LENGTHS: PrefixLengths = {
  4: Array.from({ length: 32 }, (_, i) => i),
  6: [],
};
