import { createHash, createHmac } from 'node:crypto';

export const ACTOR_TYPES = ['user', 'client', 'anonymous'] as const;
export const OPERATIONS = ['create', 'update', 'delete', 'auth', 'access'] as const;
export const OUTCOMES = ['success', 'failure', 'denied'] as const;
export type Operation = (typeof OPERATIONS)[number];
export type Outcome = (typeof OUTCOMES)[number];

/** An audit record exactly as the API returns it (docs/api.md §6). */
export interface AuditRecord {
  id: string;
  sequence: number;
  timestamp: string;
  actorType: (typeof ACTOR_TYPES)[number];
  actorId: string | null;
  actorName: string | null;
  action: string;
  entityType: string;
  entityName: string | null;
  operation: Operation;
  outcome: Outcome;
  oldValue: unknown;
  newValue: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** The actor's home tenant, when it acted in another (a parent's principal in a descendant). */
  actorTenant?: string;
  hash: string;
}

/** The previous hash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** Every field of a record except `hash`, in this fixed list: what the hash covers. */
const HASHED_FIELDS = [
  'sequence',
  'id',
  'timestamp',
  'actorType',
  'actorId',
  'actorName',
  'action',
  'entityType',
  'entityName',
  'operation',
  'outcome',
  'oldValue',
  'newValue',
  'ip',
  'userAgent',
  'requestId',
] as const;

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit at every depth, no whitespace,
 * `undefined` members dropped, strings/numbers/booleans/null as JSON.stringify writes them.
 * Timestamps are already ISO 8601 strings with milliseconds (`2025-01-01T00:00:00.000Z`).
 * @internal exported for tests
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The canonical form of a record: its HASHED_FIELDS (missing ones as null), canonical JSON.
 * @internal exported for tests
 */
export function canonicalRecord(record: Omit<AuditRecord, 'hash'>): string {
  const picked: Record<string, unknown> = {};
  for (const field of HASHED_FIELDS) picked[field] = record[field] ?? null;
  // Only where it is set: records written before tenants hash as they always did.
  if (record.actorTenant) picked.actorTenant = record.actorTenant;
  return canonicalJson(picked);
}

/**
 * The unkeyed link, `sha256(previous hash + canonical record)` in lowercase hex: only for
 * records written before the chain was keyed (below the anchor's `keyedFrom`).
 */
export function chainHash(previousHash: string, record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(previousHash).update(canonicalRecord(record)).digest('hex');
}

/**
 * The keyed link, `HMAC-SHA256(key, previous hash + canonical record)` in lowercase hex:
 * without the key nobody (not a database superuser either) can recompute a rewritten record.
 */
export function keyedChainHash(
  key: Buffer,
  previousHash: string,
  record: Omit<AuditRecord, 'hash'>,
): string {
  return createHmac('sha256', key)
    .update(previousHash)
    .update(canonicalRecord(record))
    .digest('hex');
}

/**
 * Where the keyed chain begins: records from `keyedFrom` on are keyed, those before it (a
 * log written before keying existed) are not, and the last of them has hash `legacyHead`.
 * The MAC binds both, so the boundary cannot be moved to make keyed records "legacy".
 */
export interface ChainAnchor {
  keyedFrom: number;
  legacyHead: string;
  mac: string;
}

export function anchorMac(key: Buffer, keyedFrom: number, legacyHead: string): string {
  return createHmac('sha256', key)
    .update(`indicium-audit-anchor:v1:${keyedFrom}:${legacyHead}`)
    .digest('hex');
}
