import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql';
import type { AuditRecord, ChainAnchor, Outcome } from './audit-chain';

/** Serialises appends across connections and instances, held until the writer commits. */
const APPEND_LOCK_KEY = 7301_2030;

const COLUMNS = `sequence, id, "timestamp", actor_type AS "actorType", actor_id AS "actorId",
  actor_name AS "actorName", action, entity_type AS "entityType", entity_name AS "entityName",
  operation, outcome, old_value AS "oldValue", new_value AS "newValue", ip, user_agent AS "userAgent",
  request_id AS "requestId", actor_tenant AS "actorTenant", hash`;

type AuditRow = Omit<AuditRecord, 'sequence' | 'timestamp' | 'actorTenant'> & {
  sequence: string | number;
  timestamp: Date;
  actorTenant: string | null;
};

export interface AuditFilter {
  from?: Date;
  to?: Date;
  actor?: string;
  action?: string;
  entityType?: string;
  outcome?: Outcome;
}

/** A record as the API and SIEMs show it: `actorTenant` only where it is set. */
function toRecord(row: AuditRow): AuditRecord {
  const { actorTenant, ...rest } = row;
  return {
    ...rest,
    ...(actorTenant ? { actorTenant } : {}),
    sequence: Number(row.sequence),
    timestamp: row.timestamp.toISOString(),
  };
}

const json = (v: unknown): string | null =>
  v === null || v === undefined ? null : JSON.stringify(v);

@Injectable()
export class AuditRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Takes the append lock, then reads the chain head and the time: under the lock no other
   * writer can append until this transaction ends, so head.sequence + 1 is gapless and the
   * timestamps follow the sequence.
   */
  async lockHead(tx: EntityManager): Promise<{ sequence: number; hash: string | null; now: Date }> {
    const sql = this.sql.in(tx);
    // One chain per tenant: appends of different tenants do not wait for each other.
    await sql.rows('SELECT pg_advisory_xact_lock($1, hashtext(indicium_tenant()::text))', [
      APPEND_LOCK_KEY,
    ]);
    const [head] = await sql.rows<{ sequence: string | null; hash: string | null; now: Date }>(
      `SELECT date_trunc('milliseconds', clock_timestamp()) AS now, h.sequence, h.hash
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1) h ON true`,
    );
    return { sequence: Number(head.sequence ?? 0), hash: head.hash, now: head.now };
  }

  async insert(tx: EntityManager, r: AuditRecord): Promise<void> {
    await this.sql.in(tx).exec(
      `INSERT INTO audit_log (sequence, id, "timestamp", actor_type, actor_id, actor_name, action, entity_type,
         entity_name, operation, outcome, old_value, new_value, ip, user_agent, request_id, hash,
         actor_tenant)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14, $15, $16, $17,
               $18)`,
      [
        r.sequence,
        r.id,
        r.timestamp,
        r.actorType,
        r.actorId,
        r.actorName,
        r.action,
        r.entityType,
        r.entityName,
        r.operation,
        r.outcome,
        json(r.oldValue),
        json(r.newValue),
        r.ip,
        r.userAgent,
        r.requestId,
        r.hash,
        r.actorTenant ?? null,
      ],
    );
  }

  /** Newest first, matching every given filter, before the keyset `beforeSequence`. */
  async listBefore(
    filter: AuditFilter,
    beforeSequence: number | null,
    limit: number,
  ): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (beforeSequence !== null) add('sequence < ?', beforeSequence);
    if (filter.from) add('"timestamp" >= ?', filter.from);
    if (filter.to) add('"timestamp" <= ?', filter.to);
    if (filter.actor !== undefined) add('actor_name = ?', filter.actor);
    if (filter.action !== undefined) add('action = ?', filter.action);
    if (filter.entityType !== undefined) add('entity_type = ?', filter.entityType);
    if (filter.outcome !== undefined) add('outcome = ?', filter.outcome);
    params.push(limit);
    const rows = await this.sql.rows<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY sequence DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toRecord);
  }

  /** Oldest first, after `afterSequence`: for verification and delivery (keyset batches). */
  async batchAfter(afterSequence: number, limit: number): Promise<AuditRecord[]> {
    const rows = await this.sql.rows<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_log WHERE sequence > $1 ORDER BY sequence LIMIT $2`,
      [afterSequence, limit],
    );
    return rows.map(toRecord);
  }

  async findAnchor(tx?: EntityManager): Promise<ChainAnchor | null> {
    const row = await this.sql
      .in(tx)
      .one<{ keyedFrom: string; legacyHead: string; mac: string }>(
        `SELECT keyed_from AS "keyedFrom", legacy_head AS "legacyHead", mac FROM audit_chain_anchor`,
      );
    return row ? { ...row, keyedFrom: Number(row.keyedFrom) } : null;
  }

  /** Call under the append lock (lockHead), so no record lands between reading the head and this. */
  async insertAnchor(tx: EntityManager, anchor: ChainAnchor): Promise<void> {
    await this.sql
      .in(tx)
      .exec(`INSERT INTO audit_chain_anchor (keyed_from, legacy_head, mac) VALUES ($1, $2, $3)`, [
        anchor.keyedFrom,
        anchor.legacyHead,
        anchor.mac,
      ]);
  }
}
