export { INDICATOR_TYPES, isIndicatorType } from './indicator-type';
export type { IndicatorType } from './indicator-type';
export { normalizeIndicator } from './indicator-normalizer';
export type { NormalizeResult } from './indicator-normalizer';
export { INDICATOR_TYPE_DEFINITIONS, NETWORK_TYPES } from './indicator-types';
export type { DetectionRule, FalsePositiveRule, IndicatorTypeDefinition } from './indicator-types';
export { coveringNetworks, MATCHED_BY } from './lookup-keys';
export type { LookupKey, MatchedBy, PrefixLengths } from './lookup-keys';
export { refang } from './refang';
export {
  domainCandidates,
  emailDomain,
  networkOf,
  parentDomains,
  urlHost,
  urlPrefixes,
} from './candidate-keys';
export type { IpNetwork, UrlHost } from './candidate-keys';
export { keyString, lookupOf } from './indicator-key';
export type { IndicatorKey, ValueLookup } from './indicator-key';
