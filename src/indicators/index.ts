export { INDICATOR_TYPES, isIndicatorType } from './indicator-type';
export type { IndicatorType } from './indicator-type';
export { normalizeIndicator } from './indicator-normalizer';
export type { NormalizeResult } from './indicator-normalizer';
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
