import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The change feed that keeps every instance's in-memory search key index in step
 * (src/key-index).
 *
 * - `search_key_changes`: one row per committed indicator write that added keys, written by
 *   IndicatorWriter in that write's transaction, just before it commits: the 64-bit hashes of
 *   the keys (8 bytes each, `bytea`; random bytes, so stored EXTERNAL — compression would only
 *   cost time) and the CIDR prefix lengths they bring (search plans containment keys per
 *   length present). Only additions are recorded: a removed key left in an index costs one
 *   query, never a wrong answer.
 * - `seq` is taken under a transaction-scoped advisory lock held until commit, so rows commit
 *   in `seq` order: a follower that sees `seq` n has seen (or will never see) everything below
 *   it, and reads `seq > last` with no gap to guess about.
 * - `search_key_feed_state.pruned_through`: rows up to it were pruned; an index behind it
 *   rebuilds from `indicators`.
 */
export class SearchKeyFeed1764748800000 implements MigrationInterface {
  name = 'SearchKeyFeed1764748800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE search_key_change_seq`);
    await q.query(`
      CREATE TABLE search_key_changes (
        seq        bigint PRIMARY KEY,
        hashes     bytea NOT NULL,
        cidr4      smallint[] NOT NULL,
        cidr6      smallint[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE search_key_changes ALTER COLUMN hashes SET STORAGE EXTERNAL`);
    await q.query(`
      CREATE TABLE search_key_feed_state (
        id             boolean PRIMARY KEY DEFAULT true CHECK (id),
        pruned_through bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`INSERT INTO search_key_feed_state DEFAULT VALUES`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE search_key_feed_state`);
    await q.query(`DROP TABLE search_key_changes`);
    await q.query(`DROP SEQUENCE search_key_change_seq`);
  }
}
