import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Less written per detection flush (docs/api.md §11):
 *
 * - Hit counters are rewritten by every flush (every 5 s) for each indicator hit meanwhile. The
 *   index on `last_hit_at` served no query (statistics group all counters, indicator reads and
 *   exports go by `indicator_id`), yet as an indexed column it made every counter update a
 *   non-HOT one: a new entry in both indexes per hit indicator and flush. Without it, and with
 *   room left on each page (fillfactor 80), an update stays on its page and touches no index.
 * - A remembered value is no longer also a row of its own keys (`matched_by = 'exact'`):
 *   retro-scan matches it on `retro_values`' identity key (value, type), so an address or a
 *   hash, which has no other key, costs one row instead of two.
 */
export class DetectionsLighterWrites1765008000000 implements MigrationInterface {
  name = 'DetectionsLighterWrites1765008000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS indicator_hits_last_idx`);
    await q.query(`ALTER TABLE indicator_hits SET (fillfactor = 80)`);
    await q.query(`DELETE FROM retro_keys WHERE matched_by = 'exact'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO retro_keys (value_id, key_type, key_value, matched_by)
      SELECT id, type, value, 'exact' FROM retro_values
      ON CONFLICT DO NOTHING`);
    await q.query(`ALTER TABLE indicator_hits RESET (fillfactor)`);
    await q.query(`CREATE INDEX indicator_hits_last_idx ON indicator_hits (last_hit_at)`);
  }
}
