import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql';
import { inTenant } from '../database/tenant-context';

type Status = 'active' | 'inactive';

export interface UserCredentialRecord {
  id: string;
  /** The principal's home tenant. */
  tenantId: string;
  username: string;
  passwordHash: string;
  role: string;
  status: Status;
  privileges: string[];
}

export interface ClientCredentialRecord {
  id: string;
  tenantId: string;
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

  /**
   * Usernames, client ids and token digests are platform-wide (principal_names): the row says
   * which tenant to read the principal in.
   */
  private async homeOf(
    kind: 'user' | 'client' | 'token',
    name: string,
  ): Promise<string | undefined> {
    const row = await this.sql.one<{ home: string }>(
      'SELECT home_tenant AS home FROM principal_names WHERE kind = $1 AND name = $2',
      [kind, name],
    );
    return row?.home;
  }

  async findUser(username: string): Promise<UserCredentialRecord | undefined> {
    const home = await this.homeOf('user', username);
    if (home === undefined) return undefined;
    return inTenant(home, () =>
      this.sql.one<UserCredentialRecord>(
        `SELECT u.id, u.tenant_id AS "tenantId", u.username, u.password_hash AS "passwordHash",
                u.role, u.status, r.privileges
           FROM users u JOIN roles r ON r.tenant_id = u.tenant_id AND r.name = u.role
          WHERE u.username = $1`,
        [username],
      ),
    );
  }

  /** By the public client id (`ind_…`). */
  async findClient(clientId: string): Promise<ClientCredentialRecord | undefined> {
    const home = await this.homeOf('client', clientId);
    if (home === undefined) return undefined;
    return inTenant(home, () =>
      this.sql.one<ClientCredentialRecord>(
        `SELECT c.id, c.tenant_id AS "tenantId", c.client_id AS "clientId", c.name,
                c.secret_hash AS "secretHash", c.role, c.status, r.privileges,
                c.ip_mode AS "ipMode", c.allowed_ips AS "allowedIps"
           FROM api_clients c JOIN roles r ON r.tenant_id = c.tenant_id AND r.name = c.role
          WHERE c.client_id = $1`,
        [clientId],
      ),
    );
  }

  /** By the token's SHA-256; expired tokens are not found. */
  async findToken(digest: string): Promise<{ clientId: string; expiresAt: Date } | undefined> {
    const home = await this.homeOf('token', digest);
    if (home === undefined) return undefined;
    return inTenant(home, () =>
      this.sql.one<{ clientId: string; expiresAt: Date }>(
        `SELECT c.client_id AS "clientId", t.expires_at AS "expiresAt"
           FROM api_client_tokens t JOIN api_clients c ON c.tenant_id = t.tenant_id AND c.id = t.client_id
          WHERE t.token_hash = $1 AND t.expires_at > now()`,
        [digest],
      ),
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

  /** Deletes up to 10 000 of the tenant's expired tokens; returns how many. */
  purgeExpiredTokens(): Promise<number> {
    return this.sql.exec(
      `DELETE FROM api_client_tokens WHERE token_hash IN (
         SELECT token_hash FROM api_client_tokens WHERE expires_at < now() LIMIT 10000)`,
    );
  }

  async touchUser(tenantId: string, id: string): Promise<void> {
    await inTenant(tenantId, () =>
      this.sql.exec('UPDATE users SET last_login_at = now() WHERE id = $1', [id]),
    );
  }

  async touchClient(tenantId: string, id: string, ip: string): Promise<void> {
    await inTenant(tenantId, () =>
      this.sql.exec(
        'UPDATE api_clients SET last_used_at = now(), last_used_ip = $2 WHERE id = $1',
        [id, ip],
      ),
    );
  }
}
