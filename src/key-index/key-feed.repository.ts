import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Sql } from '../database/sql';

/** One committed write's additions, as the change feed holds them. */
export interface KeyChange {
  seq: string;
  /** The tenant whose keys these are, or its shared suppliers' scope (`keyScope`). */
  scope: string;
  hashes: Uint8Array;
  cidr4: number[];
  cidr6: number[];
}

/** Arbitrary, fixed: the advisory lock that orders change-feed commits (see the migration). */
const FEED_LOCK = 1764748800;
/** The NOTIFY channel that wakes followers of the feed. */
export const FEED_CHANNEL = 'search_key_changes';

/** The change feed's SQL (search_key_changes, search_key_feed_state) and the index's scan. */
@Injectable()
export class KeyFeedRepository {
  constructor(
    private readonly db: DataSource,
    private readonly sql: Sql,
  ) {}

  /**
   * Records a write's added keys in its transaction, as its last statement before COMMIT: the
   * lock (held to the commit) makes rows commit in `seq` order; NOTIFY is delivered on commit.
   */
  async append(
    tx: EntityManager,
    scope: string,
    hashes: Buffer,
    cidr4: number[],
    cidr6: number[],
  ): Promise<void> {
    const sql = this.sql.in(tx);
    await sql.exec(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
    await sql.exec(
      `WITH c AS (
         INSERT INTO search_key_changes (seq, scope, hashes, cidr4, cidr6)
         VALUES (nextval('search_key_change_seq'), $1, $2, $3::smallint[], $4::smallint[])
         RETURNING seq)
       SELECT pg_notify('${FEED_CHANNEL}', seq::text) FROM c`,
      [scope, hashes, cidr4, cidr6],
    );
  }

  /** Changes after `seq`, oldest first; how far the feed was pruned, and its last `seq`. */
  async since(
    seq: string,
    limit: number,
  ): Promise<{ changes: KeyChange[]; prunedThrough: string; head: string }> {
    const [state] = await this.sql.rows<{ prunedThrough: string; head: string }>(
      `SELECT pruned_through::text AS "prunedThrough",
              (SELECT coalesce(max(seq), 0) FROM search_key_changes)::text AS head
         FROM search_key_feed_state`,
    );
    const changes = await this.sql.rows<KeyChange>(
      `SELECT seq::text AS seq, scope, hashes, cidr4, cidr6 FROM search_key_changes
        WHERE seq > $1::bigint ORDER BY seq LIMIT $2`,
      [seq, limit],
    );
    return { changes, prunedThrough: state.prunedThrough, head: state.head };
  }

  /** The feed's last position. */
  async head(): Promise<string> {
    const [head] = await this.sql.rows<{ seq: string }>(
      `SELECT coalesce(max(seq), 0)::text AS seq FROM search_key_changes`,
    );
    return head.seq;
  }

  /** Reads every indicator key of the tenant in one snapshot, and whether it is shared. */
  async scan(
    page: number,
    onPage: (types: string[], values: string[], shared: boolean[]) => void,
  ): Promise<number> {
    return this.db.transaction('REPEATABLE READ', async (tx) => {
      const sql = this.sql.in(tx);
      let after = '00000000-0000-0000-0000-000000000000';
      let rows = 0;
      for (;;) {
        const batch = await sql.rows<{
          id: string;
          types: string[];
          values: string[];
          shared: boolean[];
        }>(
          `SELECT max(p.id::text) AS id, array_agg(p.type) AS types, array_agg(p.value) AS values,
                  array_agg(s.sharing = 'descendants') AS shared
             FROM (SELECT id, type, value, supplier_id FROM indicators
                    WHERE id > $1::uuid ORDER BY id LIMIT $2) p
             JOIN suppliers s ON s.id = p.supplier_id`,
          [after, page],
        );
        const b = batch[0];
        if (!b || b.id === null) break;
        onPage(b.types, b.values, b.shared);
        rows += b.types.length;
        after = b.id;
        if (b.types.length < page) break;
      }
      return rows;
    });
  }

  /** The tenant's indicators stored. */
  async indicatorCount(): Promise<number> {
    const [r] = await this.sql.rows<{ n: string }>(
      `SELECT coalesce(sum(indicator_count), 0)::text AS n FROM suppliers`,
    );
    return Number(r.n);
  }

  /** Drops feed rows older than `minutes` (every index has long applied them). */
  async prune(minutes: number): Promise<void> {
    await this.sql.exec(
      `WITH d AS (
         DELETE FROM search_key_changes WHERE created_at < now() - make_interval(mins => $1)
         RETURNING seq)
       UPDATE search_key_feed_state
          SET pruned_through = greatest(pruned_through, (SELECT max(seq) FROM d))
        WHERE EXISTS (SELECT 1 FROM d)`,
      [minutes],
    );
  }
}
