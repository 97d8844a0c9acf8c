import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql';

export type TenantStatus = 'active' | 'suspended' | 'deleting';

export interface TenantRow {
  id: string;
  name: string;
  displayName: string;
  parentId: string | null;
  status: TenantStatus;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, name, display_name AS "displayName", parent_id AS "parentId", status,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * The tenant tree: a platform table (no tenant of its own, no row-level security), read whole
 * by the directory of every instance and written only by the tenants service.
 */
@Injectable()
export class TenantsRepository {
  constructor(private readonly sql: Sql) {}

  all(): Promise<TenantRow[]> {
    return this.sql.rows(`SELECT ${COLUMNS} FROM tenants`);
  }

  /** Rows changed at or after `since` (the directory's incremental refresh). */
  changedSince(since: Date): Promise<TenantRow[]> {
    return this.sql.rows(`SELECT ${COLUMNS} FROM tenants WHERE updated_at >= $1`, [since]);
  }

  async insert(
    tx: EntityManager,
    t: { id: string; name: string; displayName: string; parentId: string },
  ): Promise<TenantRow> {
    const [row] = await this.sql
      .in(tx)
      .rows<TenantRow>(
        `INSERT INTO tenants (id, name, display_name, parent_id) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [t.id, t.name, t.displayName, t.parentId],
      );
    return row;
  }

  /** Locks the row (a change or an offboarding holds it until commit). */
  lockByName(tx: EntityManager, name: string): Promise<TenantRow | undefined> {
    return this.sql.in(tx).one(`SELECT ${COLUMNS} FROM tenants WHERE name = $1 FOR UPDATE`, [name]);
  }

  async hasChildren(tx: EntityManager, id: string): Promise<boolean> {
    const row = await this.sql
      .in(tx)
      .one(`SELECT 1 FROM tenants WHERE parent_id = $1 LIMIT 1`, [id]);
    return row !== undefined;
  }

  async update(
    tx: EntityManager,
    id: string,
    change: { displayName?: string; status?: TenantStatus },
  ): Promise<TenantRow> {
    const [row] = await this.sql.in(tx).rows<TenantRow>(
      `UPDATE tenants SET display_name = coalesce($2, display_name), status = coalesce($3, status),
              updated_at = clock_timestamp()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, change.displayName ?? null, change.status ?? null],
    );
    return row;
  }

  /** Tenants being offboarded, whose data is still being deleted. */
  deleting(): Promise<Array<{ id: string; name: string }>> {
    return this.sql.rows(`SELECT id, name FROM tenants WHERE status = 'deleting'`);
  }

  /** The last step of offboarding, once no row of the tenant is left (foreign keys check it). */
  async remove(id: string): Promise<void> {
    await this.sql.exec(`DELETE FROM tenants WHERE id = $1 AND status = 'deleting'`, [id]);
  }
}
