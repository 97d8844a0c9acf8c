import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Detections and statistics (docs/api.md §11).
 *
 * - `detections.read` joins the built-in Administrator's privileges (the catalogue grew).
 * - `indicator_hits`: one row per (indicator, principal), written only by the detection
 *   recorder's batched UPSERT (never by a search). Deleting an indicator drops its counters.
 * - `detections`: the detection log, append-only. Pruned by batched deletes along the btree on
 *   `at` (the oldest rows are one index range), so the retention sweep never scans the table;
 *   plain rather than partitioned so the same schema runs on the embedded database. `id` is
 *   also the SIEM stream's sequence: writers append under one advisory lock, so ids commit in
 *   order and a forwarder that has seen id n has seen everything below it.
 * - `retro_values` / `retro_keys`: values searched and not detected, with the lookup keys the
 *   search plan derives for them (parent domains, URL prefixes, hosts) and, for addresses, the
 *   address itself (containment by a later CIDR is a range of the btree on `addr`, not one key
 *   per prefix length). Pruned by `searched_at`.
 * - `siem_integrations.streams`: what an integration forwards (audit records, detection events
 *   or both), with its own progress per stream.
 */
export class Detections1764835200000 implements MigrationInterface {
  name = 'Detections1764835200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE roles SET privileges = array_append(privileges, 'detections.read')
       WHERE name = 'Administrator' AND built_in AND NOT ('detections.read' = ANY (privileges))`);
    await q.query(`
      CREATE TABLE indicator_hits (
        indicator_id   uuid NOT NULL REFERENCES indicators(id) ON DELETE CASCADE,
        principal_type text NOT NULL CHECK (principal_type IN ('user', 'client')),
        principal_id   text NOT NULL,
        principal_name text NOT NULL,
        hits           bigint NOT NULL,
        first_hit_at   timestamptz NOT NULL,
        last_hit_at    timestamptz NOT NULL,
        PRIMARY KEY (indicator_id, principal_type, principal_id)
      )`);
    // Statistics count indicators hit within a window.
    await q.query(`CREATE INDEX indicator_hits_last_idx ON indicator_hits (last_hit_at)`);
    await q.query(`
      CREATE TABLE detections (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at             timestamptz NOT NULL,
        value          text NOT NULL,
        type           text NOT NULL,
        result         text NOT NULL,
        principal_type text NOT NULL,
        principal      text NOT NULL,
        supplier       text NOT NULL,
        indicator      text NOT NULL,
        indicator_type text NOT NULL,
        matched_by     text NOT NULL,
        context        jsonb NOT NULL DEFAULT '{}',
        retro          boolean NOT NULL DEFAULT false
      )`);
    await q.query(`CREATE INDEX detections_at_idx ON detections (at, id)`);
    await q.query(`CREATE INDEX detections_supplier_idx ON detections (supplier, at, id)`);
    await q.query(`CREATE INDEX detections_value_idx ON detections (value, at, id)`);
    await q.query(`
      CREATE TABLE retro_values (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        type           text NOT NULL,
        value          text NOT NULL,
        addr           inet,
        principal_type text NOT NULL,
        principal      text NOT NULL,
        searched_at    timestamptz NOT NULL,
        CONSTRAINT retro_values_identity_key UNIQUE (value, type)
      )`);
    await q.query(`CREATE INDEX retro_values_searched_idx ON retro_values (searched_at)`);
    await q.query(
      `CREATE INDEX retro_values_addr_idx ON retro_values (addr) WHERE addr IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE retro_keys (
        value_id   bigint NOT NULL REFERENCES retro_values(id) ON DELETE CASCADE,
        key_type   text NOT NULL,
        key_value  text NOT NULL,
        matched_by text NOT NULL,
        PRIMARY KEY (key_value, key_type, value_id)
      )`);
    await q.query(`CREATE INDEX retro_keys_value_idx ON retro_keys (value_id)`);
    await q.query(`
      ALTER TABLE siem_integrations
        ADD COLUMN streams text[] NOT NULL DEFAULT '{audit}'
          CHECK (cardinality(streams) >= 1 AND streams <@ ARRAY['audit', 'detections']),
        ADD COLUMN last_delivered_detection bigint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE siem_integrations DROP COLUMN streams, DROP COLUMN last_delivered_detection`,
    );
    await q.query(`DROP TABLE retro_keys, retro_values, detections, indicator_hits`);
    await q.query(
      `UPDATE roles SET privileges = array_remove(privileges, 'detections.read') WHERE name = 'Administrator' AND built_in`,
    );
  }
}
