import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sharing indicators out (docs/api.md §10): tombstones of deleted indicators and a change log
 * that versions the data the blocklist is computed from.
 *
 * - `indicator_tombstones`: one row per deleted indicator, filled by a statement-level AFTER
 *   DELETE trigger on `indicators` that reads the statement's deleted rows as a transition
 *   table. Every delete path (API delete, replace-mode feed, expiry purge, whatever writes them
 *   in future) records its tombstones in its own transaction without knowing about them, and
 *   cannot bypass it. TAXII publishes each tombstone as a revoked version; the sharing sweeper
 *   purges tombstones after 30 days, and those of deleted suppliers (whose collection is gone).
 *   Rows of a supplier being deleted get none.
 *   Every deleted indicator pays for it, so the trigger is one plain INSERT … SELECT: no
 *   upsert (its per-row conflict probe and second unique index made a 1M-row delete 4× slower),
 *   no per-row function (the tombstone keeps the deleted row's own id, unique already), no key
 *   and no foreign key, one index. A value deleted, re-added and deleted again has two
 *   tombstones until the sweeper's compaction keeps only the newest.
 * - `sharing_changes`: one tiny row per statement that writes indicators, tag assignments,
 *   tags or suppliers (statement-level triggers, so a bulk upload adds one row per batch, not
 *   per indicator). Its `(count, max(id))` is the blocklist's data version: read in two index
 *   probes, it answers a conditional poll with 304 without computing the list. Rows are
 *   inserted, never updated, so concurrent writers never wait on each other for it; a row
 *   becomes visible only when its writer commits, so the version never runs ahead of the data.
 */
export class Sharing1764662400000 implements MigrationInterface {
  name = 'Sharing1764662400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE indicator_tombstones (
        id          uuid NOT NULL,
        supplier_id uuid NOT NULL,
        type        text NOT NULL,
        value       text NOT NULL,
        created_at  timestamptz NOT NULL,
        deleted_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // TAXII pages a collection in (deleted_at, id) order: the one index. The purge and the
    // compaction scan the table hourly rather than make every delete maintain another.
    await q.query(
      `CREATE INDEX indicator_tombstones_added_idx ON indicator_tombstones (supplier_id, deleted_at, id)`,
    );
    await q.query(`
      CREATE FUNCTION indicium_record_tombstones() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO indicator_tombstones (id, supplier_id, type, value, created_at)
        SELECT o.id, o.supplier_id, o.type, o.value, o.created_at
          FROM deleted_indicators o
         WHERE EXISTS (SELECT 1 FROM suppliers s WHERE s.id = o.supplier_id);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER indicators_tombstones AFTER DELETE ON indicators
        REFERENCING OLD TABLE AS deleted_indicators
        FOR EACH STATEMENT EXECUTE FUNCTION indicium_record_tombstones()`);

    await q.query(`
      CREATE TABLE sharing_changes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE FUNCTION indicium_note_sharing_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO sharing_changes DEFAULT VALUES;
        RETURN NULL;
      END $$`);
    for (const table of ['indicators', 'indicator_tags', 'tags', 'suppliers']) {
      await q.query(`
        CREATE TRIGGER ${table}_sharing_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
          ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION indicium_note_sharing_change()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['indicators', 'indicator_tags', 'tags', 'suppliers']) {
      await q.query(`DROP TRIGGER ${table}_sharing_change ON ${table}`);
    }
    await q.query(`DROP FUNCTION indicium_note_sharing_change()`);
    await q.query(`DROP TABLE sharing_changes`);
    await q.query(`DROP TRIGGER indicators_tombstones ON indicators`);
    await q.query(`DROP FUNCTION indicium_record_tombstones()`);
    await q.query(`DROP TABLE indicator_tombstones`);
  }
}
