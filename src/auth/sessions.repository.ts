import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql';
import { inTenant } from '../database/tenant-context';

/** A console session as stored: never its id, only the SHA-256 of it (the key). */
export interface SessionRecord {
  tenantId: string;
  userId: string;
  username: string;
  stamp: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** Absolute lifetime of a session, whatever its use (docs/console.md). */
const SESSION_LIFETIME_HOURS = 12;

/** Console sessions (user_sessions, owned by auth), keyed by the digest of the session id. */
@Injectable()
export class SessionsRepository {
  constructor(private readonly sql: Sql) {}

  /** The digest is platform-wide (principal_names, kind `session`): it names the home tenant. */
  async find(digest: string): Promise<SessionRecord | undefined> {
    const home = await this.sql.one<{ home: string }>(
      `SELECT home_tenant AS home FROM principal_names WHERE kind = 'session' AND name = $1`,
      [digest],
    );
    if (home === undefined) return undefined;
    return inTenant(home.home, () =>
      this.sql.one<SessionRecord>(
        `SELECT s.tenant_id AS "tenantId", s.user_id AS "userId", u.username, s.stamp,
                s.created_at AS "createdAt", s.last_seen_at AS "lastSeenAt",
                s.expires_at AS "expiresAt"
           FROM user_sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
          WHERE s.tenant_id = $2 AND s.id_hash = $1`,
        [digest, home.home],
      ),
    );
  }

  /** A new session of `userId` in the transaction's tenant; returns when it expires. */
  async insert(tx: EntityManager, digest: string, userId: string, stamp: string): Promise<Date> {
    const row = await this.sql.in(tx).one<{ expiresAt: Date }>(
      `INSERT INTO user_sessions (id_hash, user_id, stamp, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(hours => $4))
       RETURNING expires_at AS "expiresAt"`,
      [digest, userId, stamp, SESSION_LIFETIME_HOURS],
    );
    return row!.expiresAt;
  }

  /** Deletes one session in the current tenant (or `tx`); returns whether it was there. */
  async delete(digest: string, tx?: EntityManager): Promise<boolean> {
    return (
      (await this.sql.in(tx).exec('DELETE FROM user_sessions WHERE id_hash = $1', [digest])) > 0
    );
  }

  async touch(digest: string): Promise<void> {
    await this.sql.exec('UPDATE user_sessions SET last_seen_at = now() WHERE id_hash = $1', [
      digest,
    ]);
  }

  /**
   * Deletes up to 10 000 of the tenant's expired or idle sessions (every one with `all`);
   * returns how many.
   */
  purgeEnded(idleMinutes: number, all: boolean): Promise<number> {
    return this.sql.exec(
      `DELETE FROM user_sessions WHERE id_hash IN (
         SELECT id_hash FROM user_sessions
          WHERE $2 OR expires_at < now() OR last_seen_at < now() - make_interval(mins => $1)
          LIMIT 10000)`,
      [idleMinutes, all],
    );
  }
}
