import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Sql } from '../database/sql';

/** Serialises detection appends across instances, so ids commit in order (the SIEM sequence). */
export const APPEND_LOCK = 0x1d37_0019;
/** Serialises retention sweeps across instances (transaction-scoped: a dead one holds nothing). */
const SWEEP_LOCK = 0x1d37_0020;
export const PRUNE_BATCH = 5_000;

/** Counters of one flush, as parallel arrays (one row per indicator and principal). */
export interface HitBatch {
  supplier: string[];
  type: string[];
  value: string[];
  principalType: string[];
  principalId: string[];
  principalName: string[];
  hits: number[];
  firstMs: number[];
  lastMs: number[];
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
   * Counters of indicators deleted meanwhile are dropped by the join.
   */
  async flush(hits: HitBatch, events: NewDetection[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      const sql = this.sql.in(tx);
      if (hits.supplier.length > 0) {
        await sql.exec(
          `INSERT INTO indicator_hits
                  (indicator_id, principal_type, principal_id, principal_name, hits, first_hit_at, last_hit_at)
           SELECT i.id, u.pt, u.pid, u.pn, u.h, to_timestamp(u.f / 1000.0), to_timestamp(u.l / 1000.0)
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::bigint[], $8::float8[], $9::float8[]) AS u(sup, t, v, pt, pid, pn, h, f, l)
             JOIN suppliers s ON s.name = u.sup
             JOIN indicators i ON i.value = u.v AND i.type = u.t AND i.supplier_id = s.id
            ORDER BY i.id, u.pt, u.pid
           ON CONFLICT (indicator_id, principal_type, principal_id) DO UPDATE
              SET hits = indicator_hits.hits + EXCLUDED.hits,
                  principal_name = EXCLUDED.principal_name,
                  first_hit_at = least(indicator_hits.first_hit_at, EXCLUDED.first_hit_at),
                  last_hit_at = greatest(indicator_hits.last_hit_at, EXCLUDED.last_hit_at)`,
          [
            hits.supplier,
            hits.type,
            hits.value,
            hits.principalType,
            hits.principalId,
            hits.principalName,
            hits.hits,
            hits.firstMs,
            hits.lastMs,
          ],
        );
      }
      if (events.length > 0) await this.append(tx, events);
    });
  }

  /** Appends detection events (in the caller's transaction), under the append lock. */
  async append(tx: EntityManager, events: NewDetection[]): Promise<void> {
    const sql = this.sql.in(tx);
    await sql.exec(`SELECT pg_advisory_xact_lock($1)`, [APPEND_LOCK]);
    await sql.exec(
      `INSERT INTO detections (at, value, type, result, principal_type, principal, supplier,
                               indicator, indicator_type, matched_by, context, retro)
       SELECT to_timestamp(e.at / 1000.0), e.v, e.t, 'detected', e.pt, e.p, e.s, e.i, e.it, e.mb,
              e.c::jsonb, e.r
         FROM unnest($1::float8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::boolean[])
              WITH ORDINALITY AS e(at, v, t, pt, p, s, i, it, mb, c, r, ord)
        ORDER BY e.ord`,
      [
        events.map((e) => e.atMs),
        events.map((e) => e.value),
        events.map((e) => e.type),
        events.map((e) => e.principalType),
        events.map((e) => e.principal),
        events.map((e) => e.supplier),
        events.map((e) => e.indicator),
        events.map((e) => e.indicatorType),
        events.map((e) => e.matchedBy),
        events.map((e) => JSON.stringify(e.context)),
        events.map((e) => e.retro),
      ],
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
  supplierHits(): Promise<SupplierHitsRow[]> {
    return this.sql.rows<SupplierHitsRow>(
      `WITH per_indicator AS (
         SELECT i.supplier_id, sum(h.hits) AS hits, max(h.last_hit_at) AS last
           FROM indicator_hits h JOIN indicators i ON i.id = h.indicator_id
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
  overlap(): Promise<OverlapRow[]> {
    return this.sql.rows<OverlapRow>(
      `SELECT sa.name AS supplier, sb.name AS other, o.common
         FROM (SELECT a.supplier_id AS a, b.supplier_id AS b, count(*)::int AS common
                 FROM indicators a
                 JOIN indicators b ON b.value = a.value AND b.type = a.type
                                  AND b.supplier_id <> a.supplier_id
                GROUP BY 1, 2) o
         JOIN suppliers sa ON sa.id = o.a JOIN suppliers sb ON sb.id = o.b
        ORDER BY sa.name, sb.name`,
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
