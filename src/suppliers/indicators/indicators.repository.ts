import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { IndicatorKey, IndicatorType, NETWORK_TYPES } from '../../indicators';
import { pgArray, pgArrayOrNull } from '../../database/pg-array';
import { hasTag, tagsJsonOf } from '../../tags/tag-sql';
import { Sql } from '../../database/sql';
import type { UpsertBatch } from './upsert-batch';
import { uuid7 } from './uuid7';

export interface IndicatorRow {
  id: string;
  indicator: string;
  type: IndicatorType;
  context: Record<string, unknown>;
  tags: Array<{ name: string; weight: number }>;
  confidence: number | null;
  firstSeen: Date | null;
  lastSeen: Date | null;
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Detected search results that named it, over all principals (docs/api.md §11). */
  hits: string;
  lastHitAt: Date | null;
}

export interface IndicatorFilter {
  type?: IndicatorType;
  value?: string;
  tagId?: string;
  updatedSince?: Date;
  includeExpired: boolean;
}

/** Rows the sweeper deletes per statement. */
export const SWEEP_BATCH = 10_000;

/**
 * One batch's statement with its parameters already encoded as array literals: built while
 * the previous batch's statement still runs, so Postgres (the bottleneck of an upload) does
 * not wait for Node to encode ~2.5 MB of parameters between batches. Resolves to how many
 * rows the statement created.
 */
export type BatchWrite = (tx: EntityManager) => Promise<number>;

/** The types stored with a `network` value (the migration's indicators_network_check agrees). */
const NETWORK_TYPES_PARAM = pgArray(NETWORK_TYPES);

const UPSERT_SQL = `WITH input AS (
  SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::smallint[],
                       $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::text[])
         AS u(t, v, c, conf, fs, ls, ea, tg)
), up AS (
  INSERT INTO indicators AS i (supplier_id, type, value, network, prefix_len, context,
    confidence, first_seen, last_seen, expires_at, effective_expires_at)
  SELECT $1, t, v, n, masklen(n), c::jsonb, conf, fs, ls, ea,
         LEAST(ea, CASE WHEN $2 > 0 THEN now() + make_interval(mins => $2) END)
  FROM input CROSS JOIN LATERAL
       (SELECT CASE WHEN t = ANY ($11::text[]) THEN v::cidr END AS n) AS net
  ORDER BY v, t
  ON CONFLICT (tenant_id, supplier_id, type, value) DO UPDATE SET
    context = EXCLUDED.context, confidence = EXCLUDED.confidence,
    first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen,
    expires_at = EXCLUDED.expires_at, effective_expires_at = EXCLUDED.effective_expires_at,
    updated_at = now()
  RETURNING i.id, i.type, i.value, (i.xmax = 0) AS inserted
), tagged AS (
  SELECT up.id, up.inserted, input.tg::uuid[] AS tag_ids
  FROM up JOIN input ON input.t = up.type AND input.v = up.value
  WHERE input.tg IS NOT NULL
), removed AS (
  DELETE FROM indicator_tags it USING tagged
  WHERE NOT tagged.inserted AND it.indicator_id = tagged.id
    AND it.tag_id <> ALL (tagged.tag_ids)
), added AS (
  INSERT INTO indicator_tags (indicator_id, tag_id)
  SELECT tagged.id, u.tag_id FROM tagged
  CROSS JOIN LATERAL unnest(tagged.tag_ids) AS u(tag_id)
  ON CONFLICT DO NOTHING
)
SELECT (count(*) FILTER (WHERE inserted))::int AS created FROM up`;

const INSERT_NEW_SQL = `WITH ins AS (
  INSERT INTO indicators (id, supplier_id, type, value, network, prefix_len, context,
    confidence, first_seen, last_seen, expires_at, effective_expires_at)
  SELECT id, $1, t, v, n, masklen(n), c::jsonb, conf, fs, ls, ea,
         LEAST(ea, CASE WHEN $2 > 0 THEN now() + make_interval(mins => $2) END)
  FROM unnest($3::text[], $4::text[], $5::text[], $6::smallint[],
              $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::uuid[])
         AS u(t, v, c, conf, fs, ls, ea, id)
  CROSS JOIN LATERAL (SELECT CASE WHEN t = ANY ($13::text[]) THEN v::cidr END AS n) AS net
  ORDER BY v, t
)
INSERT INTO indicator_tags (indicator_id, tag_id)
SELECT i, t FROM unnest($11::uuid[], $12::uuid[]) AS u(i, t)`;

/**
 * Indicator rows. Bulk writes send each batch as array parameters and write it with one
 * `INSERT … SELECT FROM unnest(…)` statement (tag assignments included). Only IndicatorWriter
 * calls the writing methods, inside its transaction.
 */
@Injectable()
export class IndicatorsRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Upserts one batch into the supplier's indicators (the caller holds the supplier row lock):
   * context, confidence and timestamps are replaced and `updated_at` (the retention clock)
   * restarts; entries that carry `tags` get exactly those tags. One statement per batch.
   * The statement runs when the returned write is called, and resolves to how many rows it
   * created; its parameters are encoded now (see BatchWrite).
   */
  upsertBatch(supplierId: string, retentionMinutes: number, b: UpsertBatch): BatchWrite {
    const params = [
      supplierId,
      retentionMinutes,
      ...b.encodedColumns(),
      pgArrayOrNull(b.tagIds.map((ids) => (ids === null ? null : `{${ids.join(',')}}`))),
      NETWORK_TYPES_PARAM,
    ];
    return async (tx) => {
      const [row] = await this.sql.in(tx).rows<{ created: number }>(UPSERT_SQL, params);
      return row.created;
    };
  }

  /**
   * Inserts a batch of keys the supplier certainly does not have yet (the caller holds the
   * supplier row lock, saw no rows of the supplier when it took it, and sends every key of the
   * upload at most once through here): a plain INSERT — no conflict probe, no RETURNING — with
   * ids made here, so the tag assignments go in the same statement without a join back. The
   * write resolves to how many rows it created (all of them; a duplicate would abort the
   * statement); its parameters are encoded now (see BatchWrite).
   */
  insertNew(supplierId: string, retentionMinutes: number, b: UpsertBatch): BatchWrite {
    const ms = Date.now();
    const ids = b.type.map(() => uuid7(ms));
    const tagIndicator: string[] = [];
    const tagId: string[] = [];
    b.tagIds.forEach((tags, i) => {
      for (const t of tags ?? []) {
        tagIndicator.push(ids[i]);
        tagId.push(t);
      }
    });
    const params = [
      supplierId,
      retentionMinutes,
      ...b.encodedColumns(),
      pgArray(ids),
      pgArray(tagIndicator),
      pgArray(tagId),
      NETWORK_TYPES_PARAM,
    ];
    return async (tx) => {
      await this.sql.in(tx).rows(INSERT_NEW_SQL, params);
      return ids.length;
    };
  }

  /** Whether the supplier has no indicators at all (cheap probe on (supplier_id, id)). */
  async isEmpty(tx: EntityManager, supplierId: string): Promise<boolean> {
    const rows = await this.sql
      .in(tx)
      .rows(`SELECT 1 FROM indicators WHERE supplier_id = $1 LIMIT 1`, [supplierId]);
    return rows.length === 0;
  }

  /**
   * Rows of the supplier that existed before this transaction and were upserted in it: their
   * `updated_at` is this transaction's `now()`, their `created_at` earlier.
   */
  async countUpdatedInTransaction(tx: EntityManager, supplierId: string): Promise<number> {
    const [row] = await this.sql.in(tx).rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM indicators
       WHERE supplier_id = $1 AND updated_at = now() AND created_at < now()`,
      [supplierId],
    );
    return row.n;
  }

  /**
   * Replace mode: deletes the supplier's rows this transaction did not write (every row it
   * upserted has `updated_at` = this transaction's `now()`; the supplier row lock keeps other
   * writers out, so older rows have an earlier one). One set-based statement on
   * indicators_updated_idx; returns how many rows it deleted.
   */
  async deleteUntouched(tx: EntityManager, supplierId: string): Promise<number> {
    const [row] = await this.sql.in(tx).rows<{ n: number }>(
      `WITH gone AS (
         DELETE FROM indicators WHERE supplier_id = $1 AND updated_at < now() RETURNING 1
       ) SELECT count(*)::int AS n FROM gone`,
      [supplierId],
    );
    return row.n;
  }

  /** A page of the supplier's indicators in id order (keyset), with their tag names. */
  list(
    supplierId: string,
    filter: IndicatorFilter,
    afterId: string | null,
    limit: number,
  ): Promise<IndicatorRow[]> {
    const params: unknown[] = [supplierId];
    const where = ['i.supplier_id = $1'];
    const param = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    if (afterId !== null) where.push(`i.id > ${param(afterId)}::uuid`);
    if (filter.type !== undefined) where.push(`i.type = ${param(filter.type)}`);
    if (filter.value !== undefined) where.push(`i.value = ${param(filter.value)}`);
    if (filter.updatedSince !== undefined) {
      where.push(`i.updated_at >= ${param(filter.updatedSince)}`);
    }
    if (filter.tagId !== undefined) {
      where.push(hasTag('i', `${param(filter.tagId)}::uuid`));
    }
    if (!filter.includeExpired) {
      where.push(`(i.effective_expires_at IS NULL OR i.effective_expires_at > now())`);
    }
    return this.sql.rows(
      `SELECT i.id, i.value AS indicator, i.type, i.context, i.confidence,
              i.first_seen AS "firstSeen", i.last_seen AS "lastSeen", i.expires_at AS "expiresAt",
              i.created_at AS "createdAt", i.updated_at AS "updatedAt",
              ${tagsJsonOf('i')} AS tags,
              (SELECT coalesce(sum(h.hits), 0) FROM indicator_hits h WHERE h.indicator_id = i.id)::text AS hits,
              (SELECT max(h.last_hit_at) FROM indicator_hits h WHERE h.indicator_id = i.id) AS "lastHitAt"
       FROM indicators i WHERE ${where.join(' AND ')}
       ORDER BY i.id LIMIT ${param(limit)}`,
      params,
    );
  }

  /** Deletes the given keys of a supplier; returns the keys that existed. */
  deleteKeys(tx: EntityManager, supplierId: string, keys: IndicatorKey[]): Promise<IndicatorKey[]> {
    return this.sql.in(tx).rows(
      `DELETE FROM indicators i USING unnest($2::text[], $3::text[]) AS k(type, value)
       WHERE i.supplier_id = $1 AND i.type = k.type AND i.value = k.value
       RETURNING i.type, i.value`,
      [supplierId, keys.map((k) => k.type), keys.map((k) => k.value)],
    );
  }

  /** Adds the tag to these indicators (already tagged ones stay as they are). */
  async assignTag(tx: EntityManager, tagId: string, indicatorIds: string[]): Promise<void> {
    await this.sql.in(tx).rows(
      `INSERT INTO indicator_tags (indicator_id, tag_id)
       SELECT i, $1 FROM unnest($2::uuid[]) AS i ON CONFLICT DO NOTHING`,
      [tagId, indicatorIds],
    );
  }

  async unassignTag(tx: EntityManager, tagId: string, indicatorIds: string[]): Promise<void> {
    await this.sql
      .in(tx)
      .rows(`DELETE FROM indicator_tags WHERE tag_id = $1 AND indicator_id = ANY ($2::uuid[])`, [
        tagId,
        indicatorIds,
      ]);
  }

  /** Ids of the supplier's indicators with these keys. */
  findIds(
    tx: EntityManager,
    supplierId: string,
    keys: IndicatorKey[],
  ): Promise<Array<IndicatorKey & { id: string }>> {
    return this.sql.in(tx).rows(
      `SELECT i.id, i.type, i.value FROM indicators i
       JOIN unnest($2::text[], $3::text[]) AS k(type, value) ON i.type = k.type AND i.value = k.value
       WHERE i.supplier_id = $1`,
      [supplierId, keys.map((k) => k.type), keys.map((k) => k.value)],
    );
  }

  /** Recomputes effective expiry after the supplier's retention changed. */
  async recomputeExpiry(
    tx: EntityManager,
    supplierId: string,
    retentionMinutes: number,
  ): Promise<void> {
    await this.sql.in(tx).rows(
      `UPDATE indicators SET effective_expires_at =
         LEAST(expires_at, CASE WHEN $2 > 0 THEN updated_at + make_interval(mins => $2) END)
       WHERE supplier_id = $1
         AND effective_expires_at IS DISTINCT FROM
             LEAST(expires_at, CASE WHEN $2 > 0 THEN updated_at + make_interval(mins => $2) END)`,
      [supplierId, retentionMinutes],
    );
  }

  /** Deletes up to SWEEP_BATCH expired indicators of a supplier (whose row the caller locked). */
  async deleteExpired(tx: EntityManager, supplierId: string): Promise<number> {
    const [row] = await this.sql.in(tx).rows<{ n: number }>(
      `WITH gone AS (
         DELETE FROM indicators WHERE id IN (
           SELECT id FROM indicators
           WHERE supplier_id = $1 AND effective_expires_at IS NOT NULL AND effective_expires_at <= now()
           LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)
         RETURNING 1
       ) SELECT count(*)::int AS n FROM gone`,
      [supplierId],
    );
    return row.n;
  }

  /** Whether the supplier has expired indicators (cheap probe on the partial index). */
  async hasExpired(supplierId: string): Promise<boolean> {
    const rows = await this.sql.rows(
      `SELECT 1 FROM indicators
       WHERE supplier_id = $1 AND effective_expires_at IS NOT NULL AND effective_expires_at <= now()
       LIMIT 1`,
      [supplierId],
    );
    return rows.length > 0;
  }
}
