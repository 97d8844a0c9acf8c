import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lockout state shared by every instance and kept across restarts (docs/api.md §2), and the
 * per-IP, per-minute tally of audited refusals.
 *
 * `auth_lockouts`: one row per principal or source IP with recent failures. A failure is one
 * upsert; a lock check reads at most two rows by primary key. `expires_at` is when the row
 * stops mattering (its window and its lock are both over), so pruning is an index range.
 *
 * `auth_refusals`: refusals during a lockout and malformed Authorization headers, counted per
 * (ip, kind, minute). A closed minute becomes one audit record with its count, so an attacker
 * repeating a refused request cannot grow the audit log faster than one record per minute.
 */
export class AuthLockouts1764403200000 implements MigrationInterface {
  name = 'AuthLockouts1764403200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auth_lockouts (
        kind text NOT NULL CHECK (kind IN ('principal', 'ip')),
        subject text NOT NULL,
        failures integer NOT NULL CHECK (failures > 0),
        window_started_at timestamptz NOT NULL,
        locked_until timestamptz,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (kind, subject)
      )`);
    await q.query(`CREATE INDEX auth_lockouts_expires_at_idx ON auth_lockouts (expires_at)`);
    await q.query(`
      CREATE TABLE auth_refusals (
        ip text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('locked_out', 'malformed_authorization')),
        minute timestamptz NOT NULL,
        count integer NOT NULL CHECK (count > 0),
        first_at timestamptz NOT NULL,
        last_at timestamptz NOT NULL,
        first_context jsonb NOT NULL,
        PRIMARY KEY (ip, kind, minute)
      )`);
    await q.query(`CREATE INDEX auth_refusals_minute_idx ON auth_refusals (minute)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE auth_refusals`);
    await q.query(`DROP TABLE auth_lockouts`);
  }
}
