import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql';

type Status = 'active' | 'inactive';

export interface UserCredentialRecord {
  id: string;
  username: string;
  passwordHash: string;
  role: string;
  status: Status;
  privileges: string[];
}

export interface ClientCredentialRecord {
  id: string;
  clientId: string;
  name: string;
  secretHash: string;
  role: string;
  status: Status;
  privileges: string[];
  ipMode: string;
  allowedIps: string[];
}

/**
 * What authentication reads and writes of principals: credentials with their role's
 * privileges, access tokens, and when a principal was last seen. (Users, clients and roles
 * are managed by their own modules; this is auth's narrow view of the same rows.)
 */
@Injectable()
export class CredentialsRepository {
  constructor(private readonly sql: Sql) {}

  findUser(username: string): Promise<UserCredentialRecord | undefined> {
    return this.sql.one(
      `SELECT u.id, u.username, u.password_hash AS "passwordHash", u.role, u.status, r.privileges
         FROM users u JOIN roles r ON r.name = u.role
        WHERE u.username = $1`,
      [username],
    );
  }

  /** By the public client id (`ind_…`). */
  findClient(clientId: string): Promise<ClientCredentialRecord | undefined> {
    return this.sql.one(
      `SELECT c.id, c.client_id AS "clientId", c.name, c.secret_hash AS "secretHash", c.role,
              c.status, r.privileges, c.ip_mode AS "ipMode", c.allowed_ips AS "allowedIps"
         FROM api_clients c JOIN roles r ON r.name = c.role
        WHERE c.client_id = $1`,
      [clientId],
    );
  }

  /** By the token's SHA-256; expired tokens are not found. */
  findToken(digest: string): Promise<{ clientId: string; expiresAt: Date } | undefined> {
    return this.sql.one(
      `SELECT c.client_id AS "clientId", t.expires_at AS "expiresAt"
         FROM api_client_tokens t JOIN api_clients c ON c.id = t.client_id
        WHERE t.token_hash = $1 AND t.expires_at > now()`,
      [digest],
    );
  }

  async insertToken(
    tx: EntityManager,
    digest: string,
    clientId: string,
    ttlSeconds: number,
  ): Promise<void> {
    await this.sql.in(tx).exec(
      `INSERT INTO api_client_tokens (token_hash, client_id, expires_at)
       VALUES ($1, $2, now() + make_interval(secs => $3))`,
      [digest, clientId, ttlSeconds],
    );
  }

  /** Deletes up to 10 000 expired tokens; returns how many. */
  purgeExpiredTokens(): Promise<number> {
    return this.sql.exec(
      `DELETE FROM api_client_tokens WHERE token_hash IN (
         SELECT token_hash FROM api_client_tokens WHERE expires_at < now() LIMIT 10000)`,
    );
  }

  async touchUser(id: string): Promise<void> {
    await this.sql.exec('UPDATE users SET last_login_at = now() WHERE id = $1', [id]);
  }

  async touchClient(id: string, ip: string): Promise<void> {
    await this.sql.exec(
      'UPDATE api_clients SET last_used_at = now(), last_used_ip = $2 WHERE id = $1',
      [id, ip],
    );
  }
}
