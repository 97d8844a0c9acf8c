import { createHash } from 'node:crypto';
import { INDICATOR_TYPE_DEFINITIONS, type IndicatorType } from '../../indicators';

/**
 * Indicium's indicators as STIX 2.1 `indicator` objects (pure functions, no I/O).
 *
 * Ids are UUIDv5 (RFC 9562 §5.5) of `<supplier id>/<type>/<canonical value>` in the Indicium
 * namespace below, so every export, TAXII page and revocation of one indicator carries the
 * same id, on every instance, without storing it.
 */

/** The UUIDv5 namespace of Indicium's STIX ids (fixed forever: changing it renames every object). */
const INDICIUM_STIX_NAMESPACE = '2c18735c-efaa-4902-bef2-abe160840507';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUID's 16 bytes, as a UUIDv5 namespace.
 * @internal exported for tests
 */
export function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

/**
 * RFC 9562 UUIDv5: SHA-1 of namespace bytes + UTF-8 name, with version and variant bits set.
 * @internal exported for tests
 */
export function uuidv5(name: string, namespace: Buffer): string {
  const h = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[h[i]];
  }
  return s;
}

const NAMESPACE = uuidBytes(INDICIUM_STIX_NAMESPACE);

/** The STIX id of one indicator identity: `indicator--<uuidv5>`. */
export function stixIdOf(supplierId: string, type: IndicatorType, value: string): string {
  return `indicator--${uuidv5(`${supplierId}/${type}/${value}`, NAMESPACE)}`;
}

/**
 * A STIX patterning string literal: `\` and `'` escaped with a backslash (STIX 2.1 §9.2).
 * @internal exported for tests
 */
export function stixString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** The single-comparison pattern of one indicator, e.g. `[ipv4-addr:value = '10.0.0.0/8']`. */
export function stixPatternOf(type: IndicatorType, value: string): string {
  return `[${INDICATOR_TYPE_DEFINITIONS[type].stix.pathFor(value)} = ${stixString(value)}]`;
}

/** A live indicator, as the sharing reads return it. */
export interface ShareableIndicator {
  supplierId: string;
  type: IndicatorType;
  value: string;
  context: Record<string, unknown>;
  tags: string[];
  /** The indicator's own confidence, else its supplier's. */
  confidence: number;
  createdAt: Date;
  updatedAt: Date;
  /** Own expiresAt or supplier retention, whichever comes first; null = never. */
  expiresAt: Date | null;
}

/** A deleted indicator, kept as a tombstone for its revoked version. */
export interface RevokedIndicator {
  supplierId: string;
  type: IndicatorType;
  value: string;
  createdAt: Date;
  deletedAt: Date;
}

export interface StixIndicator {
  type: 'indicator';
  spec_version: '2.1';
  id: string;
  created: string;
  modified: string;
  name: string;
  pattern: string;
  pattern_type: 'stix';
  pattern_version: '2.1';
  valid_from: string;
  valid_until?: string;
  confidence?: number;
  labels?: string[];
  revoked?: true;
  x_indicium_context?: Record<string, unknown>;
}

/** STIX timestamps: RFC 3339 UTC with exactly millisecond precision (`created`/`modified` MUST). */
function stixTimestamp(d: Date): string {
  return d.toISOString();
}

/**
 * The current version of a live indicator. `modified` is its last update. `valid_until` is
 * its expiry: an expired indicator that is not purged yet is still this version, no longer
 * valid — it is not revoked, because STIX revocation is final (no later version may follow)
 * and a re-upload would bring it back. Once purged it becomes a revoked version (below).
 * STIX requires valid_until > valid_from: an indicator stored already expired gets valid_from
 * one millisecond before its expiry.
 */
export function toStixIndicator(i: ShareableIndicator): StixIndicator {
  const created = stixTimestamp(i.createdAt);
  let validFrom = i.createdAt;
  if (i.expiresAt && i.expiresAt.getTime() <= validFrom.getTime()) {
    validFrom = new Date(i.expiresAt.getTime() - 1);
  }
  const o: StixIndicator = {
    type: 'indicator',
    spec_version: '2.1',
    id: stixIdOf(i.supplierId, i.type, i.value),
    created,
    modified: stixTimestamp(maxDate(i.updatedAt, i.createdAt)),
    name: i.value,
    pattern: stixPatternOf(i.type, i.value),
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: stixTimestamp(validFrom),
    confidence: i.confidence,
  };
  if (i.expiresAt) o.valid_until = stixTimestamp(i.expiresAt);
  if (i.tags.length > 0) o.labels = i.tags;
  if (Object.keys(i.context).length > 0) o.x_indicium_context = i.context;
  return o;
}

/** The revoked version of a deleted indicator: same id, `modified` = when it was deleted. */
export function toRevokedStixIndicator(t: RevokedIndicator): StixIndicator {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: stixIdOf(t.supplierId, t.type, t.value),
    created: stixTimestamp(t.createdAt),
    modified: stixTimestamp(maxDate(t.deletedAt, t.createdAt)),
    name: t.value,
    pattern: stixPatternOf(t.type, t.value),
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: stixTimestamp(t.createdAt),
    revoked: true,
  };
}

function maxDate(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}
