import { createHash } from 'node:crypto';

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
  hash: string;
}

/** The previous hash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** Every field of a record except `hash`, in this fixed list: what the hash covers. */
export const HASHED_FIELDS = [
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
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The canonical form of a record: its HASHED_FIELDS (missing ones as null), canonical JSON. */
export function canonicalRecord(record: Omit<AuditRecord, 'hash'>): string {
  const picked: Record<string, unknown> = {};
  for (const field of HASHED_FIELDS) picked[field] = record[field] ?? null;
  return canonicalJson(picked);
}

/** `hash = sha256(previous hash + canonical record)`, lowercase hex. */
export function chainHash(previousHash: string, record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(previousHash).update(canonicalRecord(record)).digest('hex');
}
