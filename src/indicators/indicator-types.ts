import { emailDomain, parentDomains, urlHost, urlPrefixes } from './candidate-keys';
import {
  normalizeCidr,
  normalizeDomain,
  normalizeEmail,
  normalizeHash,
  normalizeIp,
  normalizeUrl,
  NormalizeResult,
} from './canonical-forms';
import { INDICATOR_TYPES, IndicatorType } from './indicator-type';
import { formatIp, parseIpLiteral } from './ip-literal';
import { LookupKey, MatchedBy, PrefixLengths, pushCovering, pushHost } from './lookup-keys';
import { URL_SCHEME } from './url-canonical';

/**
 * One rule of type detection (a value sent without a type): rules of every type run in
 * `rank` order, and the first that answers decides — a result, or a reason the value is bad.
 */
export interface DetectionRule {
  rank: number;
  /** null: not this type, try the next rule. */
  detect(text: string): NormalizeResult | null;
}

/**
 * How FalsePositive values suppress a value (docs/api.md §5): `exact` the same value only,
 * `network` the value or a network containing it, `domain` the domain or a parent, `url` the
 * URL, a prefix of it or its host, `email` the address or its domain. The blocklist applies
 * each rule twice (in memory and as SQL), both exhaustive over this union.
 */
export type FalsePositiveRule = 'exact' | 'network' | 'domain' | 'url' | 'email';

/**
 * Retro-scan by network (docs/api.md §5 rules): a new indicator of a type that `contains`
 * matches the remembered values whose address (`containedAddress`) lies in its network.
 * `inNetwork` is how a remembered value of this type is reported then (`matchedBy`), null when
 * it has no address; `sameSize` whether a network of exactly its size counts (not for a network
 * value: the same network is its exact match, found by identity).
 */
interface RetroContainment {
  contains: boolean;
  inNetwork: { matchedBy: MatchedBy; sameSize: boolean } | null;
}

/** Everything Indicium knows about one indicator type; adding a type is adding one of these. */
export interface IndicatorTypeDefinition {
  /** Validates a value declared as this type; returns its canonical form (docs/api.md §3). */
  canonical(text: string): NormalizeResult;
  detection: readonly DetectionRule[];
  /** Stored with a `network` (cidr column): ip-range matching applies to it. */
  network: boolean;
  /** Search: the lookup keys of a canonical value besides the exact one (docs/api.md §5). */
  lookupKeys(value: string, lens: PrefixLengths): LookupKey[];
  /** Search: indicators inside a queried value of this type match it (`within`). */
  matchesWithin: boolean;
  /** How a FalsePositive value suppresses values of this type (docs/api.md §5 rules). */
  falsePositive: FalsePositiveRule;
  /** The address a CIDR indicator could contain, or null (which prefix lengths to plan). */
  containedAddress(value: string): string | null;
  retro: RetroContainment;
  /** STIX 2.1 patterning: the object paths a value of this type can be, and the one for a value. */
  stix: { paths: readonly string[]; pathFor(value: string): string };
  /** Hashes: the length in hex digits. */
  hexLength?: number;
}

/** Digits and dots only, or two colons or more (no domain or bare URL has any): meant as an IP. */
const LOOKS_LIKE_IP = /^[\d.]+$|^[0-9a-z.]*:[0-9a-z.]*:[0-9a-z.:%]*$/i;
const DIGITS = /^\d+$/;
const HEX = /^[0-9a-f]+$/i;

const none = (): LookupKey[] => [];
const noAddress = (): null => null;
const noContainment: RetroContainment = { contains: false, inNetwork: null };
const ipFamilyPath = (value: string): string =>
  value.includes(':') ? 'ipv6-addr:value' : 'ipv4-addr:value';
const IP_PATHS = ['ipv4-addr:value', 'ipv6-addr:value'] as const;
const fixed = (path: string): IndicatorTypeDefinition['stix'] => ({
  paths: [path],
  pathFor: () => path,
});

function hashType(type: IndicatorType, length: number, stixPath: string): IndicatorTypeDefinition {
  return {
    canonical: (text) => normalizeHash(text, type, length),
    detection: [
      {
        rank: 30,
        detect: (text) =>
          text.length === length && HEX.test(text)
            ? { ok: true, type, value: text.toLowerCase() }
            : null,
      },
    ],
    network: false,
    lookupKeys: none,
    matchesWithin: false,
    falsePositive: 'exact',
    containedAddress: noAddress,
    retro: noContainment,
    stix: fixed(stixPath),
    hexLength: length,
  };
}

/** The registry: one definition per type, exhaustive over INDICATOR_TYPES. */
export const INDICATOR_TYPE_DEFINITIONS: Readonly<Record<IndicatorType, IndicatorTypeDefinition>> =
  {
    ip: {
      canonical: normalizeIp,
      detection: [
        {
          rank: 10,
          detect: (text) => {
            const ip = parseIpLiteral(text);
            return ip ? { ok: true, type: 'ip', value: formatIp(ip) } : null;
          },
        },
        // Not an IP (the first rule), yet shaped like one: report it as a bad IP, not a bad domain.
        { rank: 60, detect: (text) => (LOOKS_LIKE_IP.test(text) ? normalizeIp(text) : null) },
      ],
      network: true,
      lookupKeys: (value, lens) => {
        const keys: LookupKey[] = [];
        pushCovering(keys, value, lens, 'cidr');
        return keys;
      },
      matchesWithin: false,
      falsePositive: 'network',
      containedAddress: (value) => value,
      retro: { contains: false, inNetwork: { matchedBy: 'cidr', sameSize: true } },
      stix: { paths: IP_PATHS, pathFor: ipFamilyPath },
    },
    cidr: {
      canonical: normalizeCidr,
      detection: [
        {
          // An IP-shaped value followed by "/digits" is a CIDR, reported as such when it is
          // bad rather than read as a URL path. An IPv6 can never be a bare URL host.
          rank: 20,
          detect: (text) => {
            const slash = text.indexOf('/');
            if (slash <= 0) return null;
            const left = text.slice(0, slash);
            return LOOKS_LIKE_IP.test(left) &&
              (left.includes(':') || DIGITS.test(text.slice(slash + 1)))
              ? normalizeCidr(text)
              : null;
          },
        },
      ],
      network: true,
      lookupKeys: (value, lens) => {
        const keys: LookupKey[] = [];
        pushCovering(keys, value, lens, 'cidr');
        return keys;
      },
      matchesWithin: true,
      falsePositive: 'network',
      containedAddress: (value) => value,
      retro: { contains: true, inNetwork: { matchedBy: 'cidr', sameSize: false } },
      stix: { paths: IP_PATHS, pathFor: ipFamilyPath },
    },
    md5: hashType('md5', 32, 'file:hashes.MD5'),
    sha1: hashType('sha1', 40, "file:hashes.'SHA-1'"),
    sha256: hashType('sha256', 64, "file:hashes.'SHA-256'"),
    email: {
      canonical: normalizeEmail,
      detection: [
        {
          rank: 40,
          detect: (text) =>
            text.includes('@') && !URL_SCHEME.test(text) && !text.includes('/')
              ? normalizeEmail(text)
              : null,
        },
      ],
      network: false,
      lookupKeys: (value, lens) => {
        const keys: LookupKey[] = [];
        pushHost(keys, { type: 'domain', value: emailDomain(value) }, lens);
        return keys;
      },
      matchesWithin: false,
      falsePositive: 'email',
      containedAddress: noAddress,
      retro: noContainment,
      stix: fixed('email-addr:value'),
    },
    url: {
      canonical: normalizeUrl,
      detection: [
        {
          rank: 50,
          detect: (text) =>
            URL_SCHEME.test(text) || text.includes('/') || text.includes('?')
              ? normalizeUrl(text)
              : null,
        },
      ],
      network: false,
      lookupKeys: (value, lens) => {
        const keys: LookupKey[] = urlPrefixes(value)
          .slice(1)
          .map((prefix) => ({ type: 'url', value: prefix, matchedBy: 'url_prefix' }));
        pushHost(keys, urlHost(value), lens);
        return keys;
      },
      matchesWithin: false,
      falsePositive: 'url',
      containedAddress: (value) => {
        const host = urlHost(value);
        return host.type === 'ip' ? host.value : null;
      },
      retro: { contains: false, inNetwork: { matchedBy: 'host', sameSize: true } },
      stix: fixed('url:value'),
    },
    domain: {
      canonical: normalizeDomain,
      // Whatever no other rule claimed.
      detection: [{ rank: 100, detect: normalizeDomain }],
      network: false,
      lookupKeys: (value) =>
        parentDomains(value).map((parent) => ({
          type: 'domain',
          value: parent,
          matchedBy: 'parent_domain',
        })),
      matchesWithin: false,
      falsePositive: 'domain',
      containedAddress: noAddress,
      retro: noContainment,
      stix: fixed('domain-name:value'),
    },
  };

/** Types stored with a network column (the writer computes it for these). */
export const NETWORK_TYPES: readonly IndicatorType[] = INDICATOR_TYPES.filter(
  (t) => INDICATOR_TYPE_DEFINITIONS[t].network,
);
