import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Sql } from '../database/sql';
import { INDICATOR_TYPE_DEFINITIONS, INDICATOR_TYPES, lastAddressSql } from '../indicators';
import { FALSE_POSITIVE_SUPPLIER } from '../suppliers/built-in-suppliers';
import { APPEND_LOCK, jsonRows, PRUNE_BATCH } from './detections.repository';

/** A value to remember: type, value, address (or null), principal type and name, epoch ms. */
export interface RetroValueRow {
  t: string;
  v: string;
  a: string | null;
  pt: string;
  p: string;
  at: number;
}

/** A lookup key of the value at 1-based position `o` of the batch: type, value, matched_by. */
export interface RetroKeyRow {
  o: number;
  kt: string;
  kv: string;
  mb: string;
}

export interface RetroDetection {
  supplier: string;
}

/*
 * The network part of the scan, from the registry's `retro` entries (types and matched_by
 * are literals of closed unions, so inlined): which new indicators contain addresses, which
 * remembered types have one and how a match is reported, and which count only when narrower.
 */
const inList = (types: readonly string[]): string => types.map((t) => `'${t}'`).join(', ');
const CONTAINING = INDICATOR_TYPES.filter((t) => INDICATOR_TYPE_DEFINITIONS[t].retro.contains);
const CONTAINED = INDICATOR_TYPES.flatMap((t) => {
  const n = INDICATOR_TYPE_DEFINITIONS[t].retro.inNetwork;
  return n ? [{ type: t, ...n }] : [];
});
const NARROWER_ONLY = CONTAINED.filter((c) => !c.sameSize).map((c) => c.type);
const IN_NETWORK_MATCHED_BY = `CASE rv.type ${CONTAINED.map((c) => `WHEN '${c.type}' THEN '${c.matchedBy}'`).join(' ')} END`;
const SIZE_COUNTS =
  NARROWER_ONLY.length === 0
    ? 'true'
    : `(rv.type NOT IN (${inList(NARROWER_ONLY)}) OR masklen(rv.addr) > masklen(f.network))`;

/** The SQL of retro-scan: `retro_values` / `retro_keys` (owned here) and retro detections. */
/** The retro-scan of one committed write ($1 supplier, $2 since, $3 window in ms): see `scan`. */
const RETRO_SCAN = `WITH fresh AS MATERIALIZED (
           SELECT i.id, i.type, i.value, i.network, ${lastAddressSql('i.network')} AS last,
                  i.context, s.name AS supplier
             FROM indicators i JOIN suppliers s ON s.id = i.supplier_id
            WHERE i.supplier_id = $1 AND i.created_at >= $2 AND s.status = 'enabled'
              AND NOT (s.built_in AND s.name = '${FALSE_POSITIVE_SUPPLIER}')
              AND (i.effective_expires_at IS NULL OR i.effective_expires_at > now())
         ), matched AS (
           SELECT rv.id AS value_id, f.id, 'exact' AS matched_by
             FROM fresh f JOIN retro_values rv ON rv.value = f.value AND rv.type = f.type
           UNION ALL
           SELECT k.value_id, f.id, k.matched_by
             FROM fresh f JOIN retro_keys k ON k.key_value = f.value AND k.key_type = f.type
           UNION ALL
           SELECT rv.id, f.id, ${IN_NETWORK_MATCHED_BY}
             FROM fresh f JOIN retro_values rv
               ON f.type IN (${inList(CONTAINING)}) AND rv.addr IS NOT NULL
              AND rv.type IN (${inList(CONTAINED.map((c) => c.type))})
              AND rv.addr >= f.network
              AND rv.addr <= f.last
              AND rv.addr <<= f.network
              AND ${SIZE_COUNTS}
         ), fps AS (
           SELECT id FROM suppliers WHERE built_in AND name = '${FALSE_POSITIVE_SUPPLIER}'
         )
         INSERT INTO detections (at, value, type, result, principal_type, principal, supplier,
                                 indicator, indicator_type, matched_by, context, retro)
         SELECT now(), rv.value, rv.type, 'detected', rv.principal_type, rv.principal, f.supplier,
                f.value, f.type, m.matched_by, f.context, true
           FROM matched m
           JOIN retro_values rv ON rv.id = m.value_id
           JOIN fresh f ON f.id = m.id
          WHERE rv.searched_at > now() - make_interval(secs => $3::float8 / 1000)
            AND NOT EXISTS (
                  SELECT 1 FROM indicators fp
                   WHERE fp.value = rv.value AND fp.type = rv.type
                     AND fp.supplier_id IN (SELECT id FROM fps)
                     AND (fp.effective_expires_at IS NULL OR fp.effective_expires_at > now()))
            AND NOT EXISTS (
                  SELECT 1 FROM retro_keys k
                    JOIN indicators fp ON fp.value = k.key_value AND fp.type = k.key_type
                   WHERE k.value_id = rv.id AND fp.supplier_id IN (SELECT id FROM fps)
                     AND (fp.effective_expires_at IS NULL OR fp.effective_expires_at > now()))
            AND NOT (rv.addr IS NOT NULL AND EXISTS (
                  SELECT 1 FROM indicators fp
                   WHERE fp.supplier_id IN (SELECT id FROM fps) AND fp.network >>= rv.addr
                     AND (fp.effective_expires_at IS NULL OR fp.effective_expires_at > now())))
            AND NOT EXISTS (
                  SELECT 1 FROM detections d
                   WHERE d.value = rv.value AND d.retro AND d.supplier = f.supplier
                     AND d.indicator = f.value AND d.indicator_type = f.type)
          ORDER BY rv.value, f.value
         RETURNING supplier`;

@Injectable()
export class RetroRepository {
  constructor(
    private readonly db: DataSource,
    private readonly sql: Sql,
  ) {}

  /**
   * Remembers values searched and not detected: a value searched again only moves its
   * `searched_at` (its keys are already there), and only when that is more than `refreshMs`
   * old or another principal searched it — otherwise the row is left as it is (no new row
   * version, no index entries). Rows in value order, so concurrent flushes of two instances
   * never deadlock. Values and keys go as one JSON parameter each (see jsonRows).
   */
  async remember(
    values: readonly RetroValueRow[],
    keys: readonly RetroKeyRow[],
    refreshMs: number,
  ): Promise<void> {
    await this.sql.exec(
      `WITH v AS (
         SELECT * FROM ROWS FROM (json_to_recordset($1::json)
                AS (t text, v text, a inet, pt text, p text, at float8))
                WITH ORDINALITY AS v(t, val, addr, pt, p, at, ord)
       ), up AS (
         INSERT INTO retro_values (type, value, addr, principal_type, principal, searched_at)
         SELECT t, val, addr, pt, p, to_timestamp(at / 1000.0) FROM v ORDER BY val, t
         ON CONFLICT (tenant_id, value, type) DO UPDATE
            SET searched_at = greatest(retro_values.searched_at, EXCLUDED.searched_at),
                principal_type = EXCLUDED.principal_type, principal = EXCLUDED.principal
          WHERE retro_values.searched_at < EXCLUDED.searched_at - make_interval(secs => $3::float8 / 1000)
             OR retro_values.principal <> EXCLUDED.principal
             OR retro_values.principal_type <> EXCLUDED.principal_type
         RETURNING id, type, value, (xmax = 0) AS inserted
       )
       INSERT INTO retro_keys (value_id, key_type, key_value, matched_by)
       SELECT up.id, k.kt, k.kv, k.mb
         FROM json_to_recordset($2::json) AS k(o bigint, kt text, kv text, mb text)
         JOIN v ON v.ord = k.o
         JOIN up ON up.value = v.val AND up.type = v.t
        WHERE up.inserted
       ON CONFLICT DO NOTHING`,
      [jsonRows(values), jsonRows(keys), refreshMs],
    );
  }

  /**
   * Checks the indicators a committed write created (supplier, created at or after `since`)
   * against the remembered values, set-based, and records a `retro` detection for each match
   * (docs/api.md §5 rules): the value itself by retro_values' identity key, other keys (parent
   * domain, URL prefix, host) by the key index, addresses and networks inside a new CIDR by one
   * btree range each. A value a
   * FalsePositive indicator matches is skipped, and so is a match already recorded.
   */
  async scan(supplierId: string, since: Date, windowMs: number): Promise<RetroDetection[]> {
    return this.db.transaction(async (tx) => {
      const sql = this.sql.in(tx);
      await sql.exec(`SELECT pg_advisory_xact_lock($1)`, [APPEND_LOCK]);
      return sql.rows<RetroDetection>(RETRO_SCAN, [supplierId, since, windowMs]);
    });
  }

  /** Forgets up to PRUNE_BATCH values searched before `cutoff` (their keys go with them). */
  prune(cutoff: Date): Promise<number> {
    return this.sql.exec(
      `DELETE FROM retro_values WHERE id IN (
         SELECT id FROM retro_values WHERE searched_at < $1 ORDER BY searched_at LIMIT $2)`,
      [cutoff, PRUNE_BATCH],
    );
  }
}
