import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql';
import {
  FeedCounts,
  FeedCursor,
  FeedOutcome,
  FeedSettings,
  FeedValidators,
  RejectedSample,
} from './feed-config';

export interface FeedRow extends FeedSettings {
  supplierId: string;
  supplierName: string;
  validators: FeedValidators;
  cursor: FeedCursor;
  running: boolean;
  nextRunAt: Date;
  lastRunAt: Date | null;
  lastSuccessAt: Date | null;
  lastOutcome: FeedOutcome | null;
  lastError: string | null;
  lastCounts: FeedCounts | null;
  createdAt: Date;
  updatedAt: Date;
  /** `updated_at` exactly (text keeps its microseconds): tells a run whether it was reconfigured. */
  configStamp: string;
}

export interface FeedRunRow {
  id: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: FeedOutcome;
  error: string | null;
  counts: FeedCounts;
  rejectedSample: RejectedSample[];
}

export interface FinishedRun {
  startedAt: Date;
  /** The configStamp the run started with. */
  configStamp?: string;
  outcome: FeedOutcome;
  error: string | null;
  counts: FeedCounts;
  rejectedSample: RejectedSample[];
  /** Saved only after a successful run (undefined: keep). */
  validators?: FeedValidators;
  cursor?: FeedCursor;
}

const COLUMNS = `f.supplier_id AS "supplierId", s.name AS "supplierName", f.url, f.format, f.mode,
  f.interval_minutes AS "intervalMinutes", f.enabled, f.auth_type AS "authType", f.credentials,
  f.csv, f.taxii, f.tls_verify AS "tlsVerify", f.ca_certificate AS "caCertificate",
  f.validators, f.cursor,
  (f.lease_owner IS NOT NULL AND f.lease_until > clock_timestamp()) AS running,
  f.next_run_at AS "nextRunAt", f.last_run_at AS "lastRunAt", f.last_success_at AS "lastSuccessAt",
  f.last_outcome AS "lastOutcome", f.last_error AS "lastError", f.last_counts AS "lastCounts",
  f.created_at AS "createdAt", f.updated_at AS "updatedAt", f.updated_at::text AS "configStamp"`;

/** Run history kept per feed; older runs are pruned as new ones finish. */
const KEEP_RUNS = 500;

function settingsValues(f: FeedSettings): unknown[] {
  return [
    f.url,
    f.format,
    f.mode,
    f.intervalMinutes,
    f.enabled,
    f.authType,
    f.credentials === null ? null : JSON.stringify(f.credentials),
    f.csv === null ? null : JSON.stringify(f.csv),
    f.taxii === null ? null : JSON.stringify(f.taxii),
    f.tlsVerify,
    f.caCertificate,
  ];
}

/** The `feeds` and `feed_runs` tables, and the run lease. */
@Injectable()
export class FeedsRepository {
  constructor(private readonly sql: Sql) {}

  /** The tenant's feeds in supplier-name order, after `afterName` (keyset paging). */
  listAfter(afterName: string | null, limit: number): Promise<FeedRow[]> {
    return this.sql.rows<FeedRow>(
      `SELECT ${COLUMNS} FROM feeds f JOIN suppliers s ON s.id = f.supplier_id
        WHERE ($1::text IS NULL OR s.name > $1::text) ORDER BY s.name LIMIT $2`,
      [afterName, limit],
    );
  }

  async find(supplierId: string, tx?: EntityManager, lock = false): Promise<FeedRow | null> {
    const row = await this.sql
      .in(tx)
      .one<FeedRow>(
        `SELECT ${COLUMNS} FROM feeds f JOIN suppliers s ON s.id = f.supplier_id WHERE f.supplier_id = $1${lock ? ' FOR UPDATE OF f' : ''}`,
        [supplierId],
      );
    return row ?? null;
  }

  /**
   * Creates or replaces the configuration. A changed URL or format forgets the validators and
   * cursor (they belong to the old source); the next run is due now.
   */
  async upsert(tx: EntityManager, supplierId: string, f: FeedSettings): Promise<void> {
    await this.sql.in(tx).exec(
      `INSERT INTO feeds (supplier_id, url, format, mode, interval_minutes, enabled, auth_type, credentials,
         csv, taxii, tls_verify, ca_certificate)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (tenant_id, supplier_id) DO UPDATE SET url = $2, format = $3, mode = $4, interval_minutes = $5,
         enabled = $6, auth_type = $7, credentials = $8, csv = $9, taxii = $10, tls_verify = $11,
         ca_certificate = $12, next_run_at = now(), updated_at = now(),
         validators = CASE WHEN feeds.url = $2 AND feeds.format = $3 THEN feeds.validators ELSE '{}' END,
         cursor = CASE WHEN feeds.url = $2 AND feeds.format = $3 AND feeds.taxii IS NOT DISTINCT FROM $10::jsonb
                  THEN feeds.cursor ELSE '{}' END`,
      [supplierId, ...settingsValues(f)],
    );
  }

  async delete(tx: EntityManager, supplierId: string): Promise<void> {
    await this.sql.in(tx).exec(`DELETE FROM feed_runs WHERE supplier_id = $1`, [supplierId]);
    await this.sql.in(tx).exec(`DELETE FROM feeds WHERE supplier_id = $1`, [supplierId]);
  }

  /** Makes the feed due now (run-now); false while a live lease holds it. */
  async requestRun(supplierId: string): Promise<boolean> {
    const n = await this.sql.exec(
      `UPDATE feeds SET run_requested = true, next_run_at = now()
        WHERE supplier_id = $1 AND (lease_owner IS NULL OR lease_until <= clock_timestamp())`,
      [supplierId],
    );
    return n > 0;
  }

  /**
   * Leases up to `limit` due feeds to `owner`: enabled (or asked to run) and free, or leased
   * by an instance that stopped renewing. SKIP LOCKED: instances racing never take the same.
   */
  async claimDue(owner: string, leaseMs: number, limit: number): Promise<FeedRow[]> {
    if (limit <= 0) return [];
    const claimed = await this.sql.rows<{ supplierId: string }>(
      `UPDATE feeds SET lease_owner = $1,
              lease_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000)
        WHERE supplier_id IN (
          SELECT supplier_id FROM feeds
           WHERE (enabled OR run_requested) AND next_run_at <= clock_timestamp()
             AND (lease_owner IS NULL OR lease_until <= clock_timestamp())
           ORDER BY next_run_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING supplier_id AS "supplierId"`,
      [owner, leaseMs, limit],
    );
    if (claimed.length === 0) return [];
    return this.sql.rows<FeedRow>(
      `SELECT ${COLUMNS} FROM feeds f JOIN suppliers s ON s.id = f.supplier_id
        WHERE f.supplier_id = ANY($1::uuid[]) AND f.lease_owner = $2`,
      [claimed.map((c) => c.supplierId), owner],
    );
  }

  /** Extends the lease; false when it has passed to another instance (the run must stop). */
  async renew(supplierId: string, owner: string, leaseMs: number): Promise<boolean> {
    const n = await this.sql.exec(
      `UPDATE feeds SET lease_until = clock_timestamp() + make_interval(secs => $3::double precision / 1000)
        WHERE supplier_id = $1 AND lease_owner = $2`,
      [supplierId, owner, leaseMs],
    );
    return n > 0;
  }

  /** Records a finished run, releases the lease and schedules the next run. */
  async finish(supplierId: string, owner: string, run: FinishedRun): Promise<void> {
    const counts = JSON.stringify(run.counts);
    const n = await this.sql.exec(
      // Reconfigured during the run (another configStamp): the new configuration is due
      // now, and what the run learnt about the old source is not kept.
      `UPDATE feeds SET lease_owner = NULL, lease_until = NULL, run_requested = false,
              next_run_at = CASE WHEN updated_at <> $9::timestamptz THEN now()
                                 ELSE now() + make_interval(mins => interval_minutes) END,
              last_run_at = $3, last_outcome = $4, last_error = $5, last_counts = $6::jsonb,
              last_success_at = CASE WHEN $4 = 'failed' THEN last_success_at ELSE now() END,
              validators = CASE WHEN updated_at <> $9::timestamptz THEN validators ELSE coalesce($7::jsonb, validators) END,
              cursor = CASE WHEN updated_at <> $9::timestamptz THEN cursor ELSE coalesce($8::jsonb, cursor) END
        WHERE supplier_id = $1 AND lease_owner = $2`,
      [
        supplierId,
        owner,
        run.startedAt,
        run.outcome,
        run.error,
        counts,
        run.validators === undefined ? null : JSON.stringify(run.validators),
        run.cursor === undefined ? null : JSON.stringify(run.cursor),
        run.configStamp ?? null,
      ],
    );
    // The feed was deleted (or its lease taken) meanwhile: no history for it.
    if (n === 0) return;
    await this.sql.exec(
      `INSERT INTO feed_runs (supplier_id, started_at, finished_at, outcome, error, counts, rejected_sample)
       VALUES ($1, $2, now(), $3, $4, $5::jsonb, $6::jsonb)`,
      [
        supplierId,
        run.startedAt,
        run.outcome,
        run.error,
        counts,
        JSON.stringify(run.rejectedSample),
      ],
    );
    await this.sql.exec(
      `DELETE FROM feed_runs WHERE supplier_id = $1 AND id < (
         SELECT id FROM feed_runs WHERE supplier_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
      [supplierId, KEEP_RUNS - 1],
    );
  }

  /** On shutdown: the feeds this instance held are free again (their runs were rolled back). */
  async release(owner: string): Promise<void> {
    await this.sql.exec(
      `UPDATE feeds SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`,
      [owner],
    );
  }

  /** Newest first; `before` is the id of the last run of the previous page. */
  listRuns(supplierId: string, before: string | null, limit: number): Promise<FeedRunRow[]> {
    return this.sql.rows<FeedRunRow>(
      `SELECT id, started_at AS "startedAt", finished_at AS "finishedAt", outcome, error, counts,
              rejected_sample AS "rejectedSample"
         FROM feed_runs WHERE supplier_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid)
        ORDER BY id DESC LIMIT $3`,
      [supplierId, before, limit],
    );
  }
}
