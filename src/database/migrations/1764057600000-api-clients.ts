import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API clients (integrations) and their OAuth2 access tokens. Secrets are stored only as slow
 * hashes; tokens only as SHA-256 (they are 256-bit random, so a fast hash is enough). Deleting
 * a client deletes its tokens; rotating a secret deletes them in the same transaction.
 */
export class ApiClients1764057600000 implements MigrationInterface {
  name = 'ApiClients1764057600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_clients (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name         text NOT NULL,
        client_id    text NOT NULL,
        secret_hash  text NOT NULL,
        role         text NOT NULL REFERENCES roles(name) ON UPDATE CASCADE ON DELETE RESTRICT,
        ip_mode      text NOT NULL DEFAULT 'allow_all' CHECK (ip_mode IN ('allow_all', 'restricted')),
        allowed_ips  text[] NOT NULL DEFAULT '{}',
        status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        last_used_ip text
      )`);
    await q.query(`CREATE UNIQUE INDEX api_clients_client_id_key ON api_clients (client_id)`);
    await q.query(`CREATE INDEX api_clients_role_idx ON api_clients (role)`);
    await q.query(`
      CREATE TABLE api_client_tokens (
        token_hash text PRIMARY KEY,
        client_id  uuid NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX api_client_tokens_client_idx ON api_client_tokens (client_id)`);
    await q.query(`CREATE INDEX api_client_tokens_expiry_idx ON api_client_tokens (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_client_tokens`);
    await q.query(`DROP TABLE api_clients`);
  }
}
