import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The threat-intelligence store (docs/api.md §3, §4): suppliers, their indicators, tags.
 *
 * Designed for the search hot path (docs/storage.md has the longer version):
 * - `indicators_identity_key UNIQUE (value, type, supplier_id)`: the upsert identity, and — value
 *   first — the btree for cross-supplier exact lookups of batches of candidate keys
 *   (`value = ANY($1)`, or a join on (value, type)) for every type; parent domains and URL
 *   prefixes are exact keys too. One index serves both (a separate (value, type) index would
 *   only cost ingest time).
 * - Ids are time-ordered UUIDs (v7 layout, `indicium_uuid7()`), so the primary key and the
 *   `(supplier_id, id)` / `(supplier_id, updated_at, id)` indexes grow at their right edge during
 *   bulk ingest instead of taking random page writes.
 * - `network` (ip and cidr rows only, `value::cidr`) with a GiST `inet_ops` index: "within"
 *   (`network <<= $q`) and "containing" (`network >>= $q`) range queries (a btree since
 *   1764230400000-network-btree: search only asks "within").
 * - `indicators_cidr_prefix_idx (family(network), prefix_len) WHERE type = 'cidr'`: the distinct
 *   prefix lengths present per family, read with a loose index scan, so search can look up an
 *   IP's covering networks as exact `(value, type)` keys, one per prefix length present.
 * - `effective_expires_at` = least(own expiresAt, updated_at + supplier retention), kept
 *   precomputed (recomputed for a supplier when its retention changes): "unexpired" is a plain
 *   row filter for search, and the sweeper finds expired rows through a partial index.
 * - `(supplier_id, id)` keyset listing, `(supplier_id, updated_at)` for `updatedSince`.
 * - `suppliers.indicator_count` is a counter maintained by every writer in the writer's
 *   transaction; writers lock the supplier row before touching its indicator rows (one lock
 *   order everywhere, so uploads, deletes, retention changes and the sweeper cannot deadlock).
 */
export class ThreatIntel1764144000000 implements MigrationInterface {
  name = 'ThreatIntel1764144000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE suppliers (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name              text NOT NULL CHECK (name ~ '^[A-Za-z0-9_-]{1,128}$'),
        vendor            text NOT NULL DEFAULT '',
        description       text NOT NULL DEFAULT 'REST API supplier',
        status            text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
        confidence        smallint NOT NULL DEFAULT 50 CHECK (confidence BETWEEN 0 AND 100),
        retention_minutes integer NOT NULL DEFAULT 0 CHECK (retention_minutes >= 0),
        actionable_fields text[] NOT NULL DEFAULT '{}',
        built_in          boolean NOT NULL DEFAULT false,
        indicator_count   bigint NOT NULL DEFAULT 0 CHECK (indicator_count >= 0),
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX suppliers_name_key ON suppliers (lower(name))`);
    await q.query(`
      INSERT INTO suppliers (name, vendor, description, built_in) VALUES
        ('InternalTI', 'Indicium', 'The organisation''s own indicators', true),
        ('FalsePositive', 'Indicium', 'Values that must never be reported as detected', true)`);

    // UUIDv7 layout: 48-bit Unix milliseconds, version 7, random rest (gen_random_uuid's bits).
    await q.query(`
      CREATE FUNCTION indicium_uuid7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
        SELECT encode(
          set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    placing substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
          'hex')::uuid
      $$`);
    await q.query(`
      CREATE TABLE indicators (
        id                   uuid PRIMARY KEY DEFAULT indicium_uuid7(),
        supplier_id          uuid NOT NULL REFERENCES suppliers(id) ON DELETE CASCADE,
        type                 text NOT NULL
          CHECK (type IN ('ip', 'cidr', 'domain', 'url', 'md5', 'sha1', 'sha256', 'email')),
        value                text NOT NULL,
        network              cidr,
        prefix_len           smallint,
        context              jsonb NOT NULL DEFAULT '{}',
        confidence           smallint CHECK (confidence BETWEEN 0 AND 100),
        first_seen           timestamptz,
        last_seen            timestamptz,
        expires_at           timestamptz,
        effective_expires_at timestamptz,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT indicators_network_check
          CHECK ((type IN ('ip', 'cidr')) = (network IS NOT NULL)),
        CONSTRAINT indicators_identity_key UNIQUE (value, type, supplier_id)
      )`);
    await q.query(`CREATE INDEX indicators_supplier_id_idx ON indicators (supplier_id, id)`);
    await q.query(
      `CREATE INDEX indicators_network_idx ON indicators USING gist (network inet_ops) WHERE network IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX indicators_cidr_prefix_idx ON indicators (family(network), prefix_len) WHERE type = 'cidr'`,
    );
    // The sweeper works supplier by supplier (it locks the supplier row first), hence the
    // leading supplier_id; only rows that can expire are indexed.
    await q.query(
      `CREATE INDEX indicators_expiry_idx ON indicators (supplier_id, effective_expires_at) WHERE effective_expires_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX indicators_updated_idx ON indicators (supplier_id, updated_at, id)`,
    );

    await q.query(`
      CREATE TABLE tags (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name        text NOT NULL CHECK (name ~ '^[A-Z0-9_-]{1,128}$'),
        weight      smallint NOT NULL DEFAULT 0 CHECK (weight BETWEEN 0 AND 5),
        description text NOT NULL DEFAULT '',
        color       text CHECK (color ~ '^#[0-9a-f]{6}$'),
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX tags_name_key ON tags (name)`);
    await q.query(`
      CREATE TABLE indicator_tags (
        indicator_id uuid NOT NULL REFERENCES indicators(id) ON DELETE CASCADE,
        tag_id       uuid NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        PRIMARY KEY (indicator_id, tag_id)
      )`);
    await q.query(`CREATE INDEX indicator_tags_tag_idx ON indicator_tags (tag_id, indicator_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE indicator_tags`);
    await q.query(`DROP TABLE tags`);
    await q.query(`DROP TABLE indicators`);
    await q.query(`DROP TABLE suppliers`);
    await q.query(`DROP FUNCTION indicium_uuid7()`);
  }
}
