import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Feeds (docs/api.md §9): at most one per supplier, and its run history.
 *
 * - `credentials` holds the secrets a fetch sends (password, token, header value). They must be
 *   usable, so they are not hashed; they never leave the repository in a read, a response or
 *   an audit record (reads say only `configured`).
 * - `lease_owner`/`lease_until`: the instance running the feed now. A run is claimed with one
 *   UPDATE … FOR UPDATE SKIP LOCKED, renewed while it runs, and taken over by another instance
 *   once it has expired (its owner died). `next_run_at` moves on only when a run finishes, so
 *   a run cut short is retried.
 * - `validators` (ETag, Last-Modified) and `cursor` (TAXII `added_after`, MISP timestamp) are
 *   saved only after a successful run.
 */
export class Feeds1764576000000 implements MigrationInterface {
  name = 'Feeds1764576000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE feeds (
        supplier_id      uuid PRIMARY KEY REFERENCES suppliers (id) ON DELETE CASCADE,
        url              text NOT NULL,
        format           text NOT NULL CHECK (format IN ('stix21', 'taxii21', 'misp', 'csv', 'text')),
        mode             text NOT NULL CHECK (mode IN ('replace', 'merge')),
        interval_minutes integer NOT NULL CHECK (interval_minutes BETWEEN 5 AND 10080),
        enabled          boolean NOT NULL,
        auth_type        text NOT NULL CHECK (auth_type IN ('none', 'basic', 'bearer', 'header')),
        credentials      jsonb,
        csv              jsonb,
        taxii            jsonb,
        tls_verify       boolean NOT NULL,
        ca_certificate   text,
        validators       jsonb NOT NULL DEFAULT '{}',
        cursor           jsonb NOT NULL DEFAULT '{}',
        run_requested    boolean NOT NULL DEFAULT false,
        next_run_at      timestamptz NOT NULL DEFAULT now(),
        lease_owner      text,
        lease_until      timestamptz,
        last_run_at      timestamptz,
        last_success_at  timestamptz,
        last_outcome     text CHECK (last_outcome IN ('applied', 'not_modified', 'failed')),
        last_error       text,
        last_counts      jsonb,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX feeds_due_idx ON feeds (next_run_at)`);
    await q.query(`
      CREATE TABLE feed_runs (
        id              uuid PRIMARY KEY DEFAULT indicium_uuid7(),
        supplier_id     uuid NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
        started_at      timestamptz NOT NULL,
        finished_at     timestamptz NOT NULL,
        outcome         text NOT NULL CHECK (outcome IN ('applied', 'not_modified', 'failed')),
        error           text,
        counts          jsonb NOT NULL,
        rejected_sample jsonb NOT NULL DEFAULT '[]'
      )`);
    await q.query(`CREATE INDEX feed_runs_supplier_idx ON feed_runs (supplier_id, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE feed_runs`);
    await q.query(`DROP TABLE feeds`);
  }
}
