import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { isPrivilege, Privilege } from './privileges';

/** What authentication needs to know about a user, read in one indexed query. */
export interface UserCredentialRow {
  id: string;
  username: string;
  passwordHash: string;
  role: string;
  status: 'active' | 'inactive';
  privileges: Privilege[];
}

interface Cached<T> {
  value: T | null;
  at: number;
}

/**
 * A short-lived (AUTH_CACHE_TTL_SECONDS ≤ 5 s) snapshot of principals' credentials, roles and
 * status, so an authenticated request costs no query most of the time. Changes on this
 * instance invalidate it at once; other instances see them when the TTL runs out.
 */
@Injectable()
export class PrincipalDirectory {
  private readonly users = new Map<string, Cached<UserCredentialRow>>();

  constructor(
    private readonly db: DataSource,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async findUser(username: string): Promise<UserCredentialRow | null> {
    const hit = this.users.get(username);
    if (hit && Date.now() - hit.at < this.config.env.AUTH_CACHE_TTL_SECONDS * 1000)
      return hit.value;
    const rows: Array<Omit<UserCredentialRow, 'privileges'> & { privileges: string[] }> =
      await this.db.query(
        `SELECT u.id, u.username, u.password_hash AS "passwordHash", u.role, u.status, r.privileges
         FROM users u JOIN roles r ON r.name = u.role
        WHERE u.username = $1`,
        [username],
      );
    const row = rows[0];
    const value = row ? { ...row, privileges: row.privileges.filter(isPrivilege) } : null;
    if (this.users.size > 10_000) this.users.clear();
    this.users.set(username, { value, at: Date.now() });
    return value;
  }

  /** Forget everything: after any change to users or roles on this instance. */
  invalidate(): void {
    this.users.clear();
  }
}
