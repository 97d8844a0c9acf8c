import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { isPrivilege, Privilege } from '../auth/privileges';

export interface RoleRow {
  name: string;
  description: string;
  builtIn: boolean;
  privileges: Privilege[];
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `name, description, built_in AS "builtIn", privileges, created_at AS "createdAt", updated_at AS "updatedAt"`;

function clean(row: RoleRow & { privileges: string[] }): RoleRow {
  return { ...row, privileges: row.privileges.filter(isPrivilege) };
}

@Injectable()
export class RolesRepository {
  constructor(private readonly db: DataSource) {}

  async listAfter(afterName: string | null, limit: number): Promise<RoleRow[]> {
    const rows: RoleRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM roles WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2`,
      [afterName, limit],
    );
    return rows.map(clean);
  }

  async findByName(
    name: string,
    manager: EntityManager = this.db.manager,
    lock = false,
  ): Promise<RoleRow | null> {
    const rows: RoleRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM roles WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    return rows[0] ? clean(rows[0]) : null;
  }

  async insert(
    manager: EntityManager,
    role: Pick<RoleRow, 'name' | 'description' | 'privileges'>,
  ): Promise<RoleRow> {
    const rows: RoleRow[] = await manager.query(
      `INSERT INTO roles (name, description, privileges) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
      [role.name, role.description, role.privileges],
    );
    return clean(rows[0]);
  }

  async update(
    manager: EntityManager,
    name: string,
    description: string,
    privileges: Privilege[],
  ): Promise<RoleRow> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const [rows]: [RoleRow[], number] = await manager.query(
      `UPDATE roles SET description = $2, privileges = $3, updated_at = now() WHERE name = $1 RETURNING ${COLUMNS}`,
      [name, description, privileges],
    );
    return clean(rows[0]);
  }

  /** How many principals (users and API clients) hold the role. */
  async countAssignments(manager: EntityManager, name: string): Promise<number> {
    const rows: Array<{ n: number }> = await manager.query(
      `SELECT (SELECT count(*) FROM users WHERE role = $1)
            + (SELECT count(*) FROM api_clients WHERE role = $1) AS n`,
      [name],
    );
    return Number(rows[0].n);
  }

  async delete(manager: EntityManager, name: string): Promise<void> {
    await manager.query(`DELETE FROM roles WHERE name = $1`, [name]);
  }
}
