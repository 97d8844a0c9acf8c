import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hit counters are rewritten by every flush (every 5 s) for each indicator hit meanwhile. The
 * index on `last_hit_at` served no query (statistics group all counters, indicator reads and
 * exports go by `indicator_id`), yet as an indexed column it made every counter update a
 * non-HOT one: a new entry in both indexes per hit indicator and flush. Without it, and with
 * room left on each page (fillfactor 80), an update stays on its page and touches no index.
 */
export class DetectionHitsHot1765008000000 implements MigrationInterface {
  name = 'DetectionHitsHot1765008000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS indicator_hits_last_idx`);
    await q.query(`ALTER TABLE indicator_hits SET (fillfactor = 80)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE indicator_hits RESET (fillfactor)`);
    await q.query(`CREATE INDEX indicator_hits_last_idx ON indicator_hits (last_hit_at)`);
  }
}
