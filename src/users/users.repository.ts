import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PrincipalDirectory } from '../auth/principal-directory';
import { Sql } from '../database/sql';
import type { Status } from './dto/user.dto';

export interface UserRow {
  id: string;
  username: string;
  role: string;
  status: Status;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

const COLUMNS = `id, username, role, status, created_at AS "createdAt", updated_at AS "updatedAt", last_login_at AS "lastLoginAt"`;
export const ADMIN_ROLE = 'Administrator';
const BOOTSTRAP_LOCK_KEY = 7301_2027;

@Injectable()
export class UsersRepository {
  /** Every write changes what authentication sees: the credential cache follows it. */
  private readonly writes: Sql;

  constructor(
    private readonly sql: Sql,
    directory: PrincipalDirectory,
  ) {
    this.writes = sql.followedBy(() => directory.invalidate());
  }

  listAfter(afterId: string | null, limit: number): Promise<UserRow[]> {
    return this.sql.rows(
      `SELECT ${COLUMNS} FROM users WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
  }

  async findById(id: string, tx?: EntityManager): Promise<UserRow | null> {
    return (
      (await this.sql.in(tx).one<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id])) ??
      null
    );
  }

  async passwordHash(id: string): Promise<string | null> {
    const row = await this.sql.one<{ h: string }>(
      `SELECT password_hash AS h FROM users WHERE id = $1`,
      [id],
    );
    return row?.h ?? null;
  }

  async insert(
    tx: EntityManager,
    user: { username: string; passwordHash: string; role: string; status: Status },
  ): Promise<UserRow> {
    const [row] = await this.writes
      .in(tx)
      .rows<UserRow>(
        `INSERT INTO users (username, password_hash, role, status) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [user.username, user.passwordHash, user.role, user.status],
      );
    return row;
  }

  async update(tx: EntityManager, id: string, role: string, status: Status): Promise<UserRow> {
    const [row] = await this.writes
      .in(tx)
      .rows<UserRow>(
        `UPDATE users SET role = $2, status = $3, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, role, status],
      );
    return row;
  }

  async setPassword(tx: EntityManager, id: string, passwordHash: string): Promise<boolean> {
    const affected = await this.writes
      .in(tx)
      .exec(`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, [
        id,
        passwordHash,
      ]);
    return affected > 0;
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await this.writes.in(tx).exec(`DELETE FROM users WHERE id = $1`, [id]);
  }

  /** Locks the active administrators' rows, so two concurrent demotions cannot both pass. */
  async lockActiveAdministrators(tx: EntityManager): Promise<string[]> {
    const rows = await this.sql
      .in(tx)
      .rows<{ id: string }>(
        `SELECT id FROM users WHERE role = $1 AND status = 'active' ORDER BY id FOR UPDATE`,
        [ADMIN_ROLE],
      );
    return rows.map((r) => r.id);
  }

  /** Serialises the first-start check of instances starting together (server Postgres only). */
  async lockBootstrap(tx: EntityManager): Promise<void> {
    await this.sql.in(tx).rows('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_KEY]);
  }

  async count(tx: EntityManager): Promise<number> {
    const row = await this.sql.in(tx).one<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
    return row?.n ?? 0;
  }
}
