import { MigrationInterface, QueryRunner } from 'typeorm';

/** Roles (built-in Administrator and Analyst) and users. */
export class Identity1763884800000 implements MigrationInterface {
  name = 'Identity1763884800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE roles (
        name        text PRIMARY KEY,
        description text NOT NULL DEFAULT '',
        built_in    boolean NOT NULL DEFAULT false,
        privileges  text[] NOT NULL DEFAULT '{}',
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO roles (name, description, built_in, privileges) VALUES
        ('Administrator', 'Every privilege', true,
         ARRAY['search','suppliers.read','suppliers.write','indicators.read','indicators.write',
               'tags.read','tags.write','users.manage','roles.manage','clients.manage',
               'audit.read','siem.manage','metrics.read']),
        ('Analyst', 'Search only', true, ARRAY['search'])`);
    await q.query(`
      CREATE TABLE users (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username      text NOT NULL,
        password_hash text NOT NULL,
        role          text NOT NULL REFERENCES roles(name) ON UPDATE CASCADE ON DELETE RESTRICT,
        status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX users_username_key ON users (username)`);
    await q.query(`CREATE INDEX users_role_idx ON users (role)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE users`);
    await q.query(`DROP TABLE roles`);
  }
}
