import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Sql } from '../database/sql';

/** Serialises detection appends across instances, so ids commit in order (the SIEM sequence). */
export const APPEND_LOCK = 0x1d37_0019;
/** Serialises retention sweeps across instances (transaction-scoped: a dead one holds nothing). */
const SWEEP_LOCK = 0x1d37_0020;
export const PRUNE_BATCH = 5_000;

/** The counter of one indicator for one principal, as a flush writes it. */
export interface HitRow {
  supplier: string;
  type: string;
  value: string;
  principalType: string;
  principalId: string;
  principalName: string;
  hits: number;
  firstMs: number;
  lastMs: number;
}

/** A detection event to append (`atMs` epoch milliseconds). */
export interface NewDetection {
  atMs: number;
  value: string;
  type: string;
  principalType: string;
  principal: string;
  supplier: string;
  indicator: string;
  indicatorType: string;
  matchedBy: string;
  context: Record<string, unknown>;
  retro: boolean;
}

export interface DetectionRow {
  id: string;
  at: Date;
  value: string;
  type: string;
  result: string;
  principal: string;
  supplier: string;
  indicator: string;
  indicatorType: string;
  matchedBy: string;
  context: Record<string, unknown>;
  retro: boolean;
}

export interface SupplierHitsRow {
  supplier: string;
  indicators: number;
  hitEver: number;
  hit24h: number;
  hit7d: number;
  hit30d: number;
  hits: string;
}

export interface OverlapRow {
  supplier: string;
  other: string;
  common: number;
}

export interface DetectionFilter {
  from?: Date;
  to?: Date;
  supplier?: string;
  principal?: string;
  value?: string;
  /** Keyset: rows recorded before this id. */
  beforeId?: number;
  limit: number;
}

const DETECTION_COLUMNS = `d.id::text AS id, d.at, d.value, d.type, d.result, d.principal, d.supplier,
  d.indicator, d.indicator_type AS "indicatorType", d.matched_by AS "matchedBy", d.context, d.retro`;

/** The SQL of the detection log and the hit counters (tables owned by this module). */
@Injectable()
export class DetectionsRepository {
  constructor(
    private readonly db: DataSource,
    private readonly sql: Sql,
  ) {}

  /**
   * One flush: counters merged into `indicator_hits` by one set-based UPSERT (in key order, so
   * two instances flushing overlapping rows never deadlock) and events appended, atomically.
   * Counters of indicators deleted meanwhile are dropped by the join. Rows go as one JSON
   * parameter each: one native JSON.stringify instead of an array literal per column built
   * and escaped element by element.
   */
  async flush(hits: readonly HitRow[], events: readonly NewDetection[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      const sql = this.sql.in(tx);
      if (hits.length > 0) {
        await sql.exec(
          `INSERT INTO indicator_hits
                  (indicator_id, principal_type, principal_id, principal_name, hits, first_hit_at, last_hit_at)
           SELECT i.id, u."principalType", u."principalId", u."principalName", u.hits,
                  to_timestamp(u."firstMs" / 1000.0), to_timestamp(u."lastMs" / 1000.0)
             FROM json_to_recordset($1::json) AS u(supplier text, type text, value text,
                  "principalType" text, "principalId" text, "principalName" text, hits bigint,
                  "firstMs" float8, "lastMs" float8)
             JOIN suppliers s ON s.name = u.supplier
             JOIN indicators i ON i.value = u.value AND i.type = u.type AND i.supplier_id = s.id
            ORDER BY i.id, u."principalType", u."principalId"
           ON CONFLICT (tenant_id, indicator_id, principal_type, principal_id) DO UPDATE
              SET hits = indicator_hits.hits + EXCLUDED.hits,
                  principal_name = EXCLUDED.principal_name,
                  first_hit_at = least(indicator_hits.first_hit_at, EXCLUDED.first_hit_at),
                  last_hit_at = greatest(indicator_hits.last_hit_at, EXCLUDED.last_hit_at)`,
          [jsonRows(hits)],
        );
      }
      if (events.length > 0) await this.append(tx, events);
    });
  }

  /** Appends detection events (in the caller's transaction), under the append lock. */
  async append(tx: EntityManager, events: readonly NewDetection[]): Promise<void> {
    const sql = this.sql.in(tx);
    await sql.exec(`SELECT pg_advisory_xact_lock($1)`, [APPEND_LOCK]);
    await sql.exec(
      `INSERT INTO detections (at, value, type, result, principal_type, principal, supplier,
                               indicator, indicator_type, matched_by, context, retro)
       SELECT to_timestamp(e."atMs" / 1000.0), e.value, e.type, 'detected', e."principalType",
              e.principal, e.supplier, e.indicator, e."indicatorType", e."matchedBy",
              coalesce(e.context, '{}'), coalesce(e.retro, false)
         FROM ROWS FROM (json_to_recordset($1::json) AS ("atMs" float8, value text, type text,
                "principalType" text, principal text, supplier text, indicator text,
                "indicatorType" text, "matchedBy" text, context jsonb, retro boolean))
              WITH ORDINALITY AS e("atMs", value, type, "principalType", principal, supplier,
                indicator, "indicatorType", "matchedBy", context, retro, ord)
        ORDER BY e.ord`,
      [jsonRows(events)],
    );
  }

  /** Most recently recorded first, by the keyset `id` (append order). */
  list(f: DetectionFilter): Promise<DetectionRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (cond: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(cond(`$${params.length}`));
    };
    if (f.from) add((p) => `d.at >= ${p}`, f.from);
    if (f.to) add((p) => `d.at < ${p}`, f.to);
    if (f.supplier !== undefined) add((p) => `d.supplier = ${p}`, f.supplier);
    if (f.principal !== undefined) add((p) => `d.principal = ${p}`, f.principal);
    if (f.value !== undefined) add((p) => `d.value = ${p}`, f.value);
    if (f.beforeId !== undefined) add((p) => `d.id < ${p}`, f.beforeId);
    params.push(f.limit);
    return this.sql.rows<DetectionRow>(
      `SELECT ${DETECTION_COLUMNS} FROM detections d
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY d.id DESC LIMIT $${params.length}`,
      params,
    );
  }

  /** Events with id above `afterId`, in id order (the SIEM detections stream). */
  batchAfter(afterId: number, limit: number): Promise<DetectionRow[]> {
    return this.sql.rows<DetectionRow>(
      `SELECT ${DETECTION_COLUMNS} FROM detections d WHERE d.id > $1 ORDER BY d.id LIMIT $2`,
      [afterId, limit],
    );
  }

  /**
   * Per supplier: indicators, how many were ever hit and within each window, total hits. One
   * grouped pass over the counters (their size is the indicators ever hit, not the table).
   */
  /**
   * Events per bucket of `bucketSeconds` from `since` on (along the index on `at`); buckets
   * with none are absent.
   */
  timeline(since: Date, bucketSeconds: number): Promise<Array<{ startMs: number; n: number }>> {
    return this.sql.rows<{ startMs: number; n: number }>(
      `SELECT (floor(extract(epoch FROM at) / $2) * $2 * 1000)::float8 AS "startMs",
              count(*)::int AS n
         FROM detections WHERE at >= $1
        GROUP BY 1 ORDER BY 1`,
      [since, bucketSeconds],
    );
  }

  supplierHits(): Promise<SupplierHitsRow[]> {
    return this.sql.rows<SupplierHitsRow>(
      `WITH per_indicator AS (
         SELECT i.supplier_id, sum(h.hits) AS hits, max(h.last_hit_at) AS last
           FROM indicator_hits h JOIN indicators i ON i.tenant_id = h.tenant_id AND i.id = h.indicator_id
          GROUP BY i.supplier_id, h.indicator_id
       ), per_supplier AS (
         SELECT supplier_id, count(*)::int AS hit_ever,
                (count(*) FILTER (WHERE last > now() - interval '1 day'))::int AS d1,
                (count(*) FILTER (WHERE last > now() - interval '7 days'))::int AS d7,
                (count(*) FILTER (WHERE last > now() - interval '30 days'))::int AS d30,
                sum(hits)::text AS hits
           FROM per_indicator GROUP BY supplier_id
       )
       SELECT s.name AS supplier, s.indicator_count::int AS indicators,
              coalesce(p.hit_ever, 0) AS "hitEver", coalesce(p.d1, 0) AS hit24h,
              coalesce(p.d7, 0) AS hit7d, coalesce(p.d30, 0) AS hit30d, coalesce(p.hits, '0') AS hits
         FROM suppliers s LEFT JOIN per_supplier p ON p.supplier_id = s.id
        ORDER BY s.name`,
    );
  }

  /**
   * Indicators in common between every pair of suppliers (same type and canonical value): one
   * self-join of `indicators` on its identity key, grouped by pair — set-based, not a query
   * per indicator.
   */
  overlap(tenants: readonly string[]): Promise<OverlapRow[]> {
    return this.sql.rows<OverlapRow>(
      `SELECT sa.name AS supplier, sb.name AS other, o.common
         FROM (SELECT a.supplier_id AS a, b.supplier_id AS b, count(*)::int AS common
                 FROM indicators a
                 JOIN indicators b ON b.tenant_id = ANY ($1::uuid[]) AND b.value = a.value
                                  AND b.type = a.type AND b.supplier_id <> a.supplier_id
                WHERE a.tenant_id = ANY ($1::uuid[])
                GROUP BY 1, 2) o
         JOIN suppliers sa ON sa.id = o.a JOIN suppliers sb ON sb.id = o.b
        ORDER BY sa.name, sb.name`,
      [tenants],
    );
  }

  /**
   * Deletes up to PRUNE_BATCH events older than `cutoff`: the oldest rows are one range of
   * detections_at_idx, so a batch costs its own rows, never a table scan. -1 when another
   * instance is sweeping.
   */
  pruneBatch(cutoff: Date): Promise<number> {
    return this.db.transaction(async (tx) => {
      const sql = this.sql.in(tx);
      const got = await sql.one<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock($1) AS ok`, [
        SWEEP_LOCK,
      ]);
      if (!got?.ok) return -1;
      return sql.exec(
        `DELETE FROM detections WHERE id IN (
           SELECT id FROM detections WHERE at < $1 ORDER BY at LIMIT $2)`,
        [cutoff, PRUNE_BATCH],
      );
    });
  }
}

/** Unpaired UTF-16 surrogates, which Postgres refuses in JSON (a URL searched may hold one). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Rows as a JSON array for json_to_recordset. JSON.stringify writes a lone surrogate as a
 * \ud800–\udfff escape and nothing else that way, so only when the text holds one (rare) are
 * the strings written again with U+FFFD in its place — what the text encoding of a parameter
 * did before.
 */
export function jsonRows(rows: readonly object[]): string {
  const json = JSON.stringify(rows);
  if (!/\\ud[89a-f]/i.test(json)) return json;
  return JSON.stringify(rows, (_key, v: unknown) =>
    typeof v === 'string' ? v.replace(LONE_SURROGATE, '\ufffd') : v,
  );
}
