import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../tenant-context';

/**
 * Console sessions (docs/console.md, "Sessions"): one row per signed-in browser, in the
 * user's tenant under row-level security like every tenant-owned table. Only the SHA-256 of
 * the random session id is stored; `principal_names` maps that digest to its home tenant
 * (kind `session`), so any instance can find the session before it knows the tenant. `stamp`
 * is a digest of what the user's sessions depend on (password hash, role, status) when the
 * session began: a change to any of them ends the session.
 */
export class UserSessions1765872000000 implements MigrationInterface {
  name = 'UserSessions1765872000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_sessions (
        tenant_id uuid NOT NULL DEFAULT indicium_tenant() REFERENCES tenants (id) ON DELETE CASCADE,
        id_hash text NOT NULL CHECK (id_hash ~ '^[0-9a-f]{64}$'),
        user_id uuid NOT NULL,
        stamp text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL DEFAULT now() + interval '12 hours',
        PRIMARY KEY (tenant_id, id_hash),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX user_sessions_user_idx ON user_sessions (tenant_id, user_id)`);
    await q.query(`CREATE INDEX user_sessions_expiry_idx ON user_sessions (tenant_id, expires_at)`);
    await q.query(
      `CREATE INDEX user_sessions_last_seen_idx ON user_sessions (tenant_id, last_seen_at)`,
    );
    await q.query(`ALTER TABLE user_sessions ENABLE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY`);
    await q.query(
      `CREATE POLICY tenant_isolation ON user_sessions
         USING (tenant_id = indicium_tenant()) WITH CHECK (tenant_id = indicium_tenant())`,
    );
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON user_sessions TO ${APP_ROLE}`);

    await q.query(`
      ALTER TABLE principal_names DROP CONSTRAINT principal_names_kind_check,
        ADD CONSTRAINT principal_names_kind_check
          CHECK (kind IN ('user', 'client', 'token', 'session'))`);
    await q.query(
      `CREATE TRIGGER user_sessions_principal_name
         AFTER INSERT OR DELETE OR UPDATE OF id_hash ON user_sessions
         FOR EACH ROW EXECUTE FUNCTION indicium_principal_name('session', 'id_hash')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE user_sessions`);
    await q.query(`DELETE FROM principal_names WHERE kind = 'session'`);
    await q.query(`
      ALTER TABLE principal_names DROP CONSTRAINT principal_names_kind_check,
        ADD CONSTRAINT principal_names_kind_check CHECK (kind IN ('user', 'client', 'token'))`);
  }
}
