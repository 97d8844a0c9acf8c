import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
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

@Injectable()
export class UsersRepository {
  constructor(private readonly db: DataSource) {}

  listAfter(afterId: string | null, limit: number): Promise<UserRow[]> {
    return this.db.query(
      `SELECT ${COLUMNS} FROM users WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
  }

  async findById(id: string, manager: EntityManager = this.db.manager): Promise<UserRow | null> {
    const rows: UserRow[] = await manager.query(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async passwordHash(id: string): Promise<string | null> {
    const rows: Array<{ h: string }> = await this.db.query(
      `SELECT password_hash AS h FROM users WHERE id = $1`,
      [id],
    );
    return rows[0]?.h ?? null;
  }

  async insert(
    manager: EntityManager,
    user: { username: string; passwordHash: string; role: string; status: Status },
  ): Promise<UserRow> {
    const rows: UserRow[] = await manager.query(
      `INSERT INTO users (username, password_hash, role, status) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [user.username, user.passwordHash, user.role, user.status],
    );
    return rows[0];
  }

  async update(manager: EntityManager, id: string, role: string, status: Status): Promise<UserRow> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const [rows]: [UserRow[], number] = await manager.query(
      `UPDATE users SET role = $2, status = $3, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, role, status],
    );
    return rows[0];
  }

  async setPassword(manager: EntityManager, id: string, passwordHash: string): Promise<boolean> {
    const [, affected]: [unknown, number] = await manager.query(
      `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`,
      [id, passwordHash],
    );
    return affected > 0;
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`DELETE FROM users WHERE id = $1`, [id]);
  }

  /** Locks the active administrators' rows, so two concurrent demotions cannot both pass. */
  async lockActiveAdministrators(manager: EntityManager): Promise<string[]> {
    const rows: Array<{ id: string }> = await manager.query(
      `SELECT id FROM users WHERE role = $1 AND status = 'active' ORDER BY id FOR UPDATE`,
      [ADMIN_ROLE],
    );
    return rows.map((r) => r.id);
  }

  async count(manager: EntityManager): Promise<number> {
    const rows: Array<{ n: number }> = await manager.query(`SELECT count(*)::int AS n FROM users`);
    return rows[0].n;
  }
}
