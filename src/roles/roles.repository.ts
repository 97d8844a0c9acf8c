import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PrincipalDirectory } from '../auth/principal-directory';
import { ALL_PRIVILEGES, isPrivilege, Privilege } from '../auth/privileges';
import { Sql } from '../database/sql';

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
  /** A role's privileges are every holder's: the credential cache follows each write. */
  private readonly writes: Sql;

  constructor(
    private readonly sql: Sql,
    directory: PrincipalDirectory,
  ) {
    this.writes = sql.followedBy(() => directory.invalidate());
  }

  /** A new tenant's built-in roles: Administrator (every privilege) and Analyst (search). */
  async insertBuiltIns(tx: EntityManager): Promise<void> {
    await this.writes.in(tx).exec(
      `INSERT INTO roles (name, description, built_in, privileges) VALUES
         ('Administrator', 'Every privilege', true, $1), ('Analyst', 'Search only', true, '{search}')`,
      [ALL_PRIVILEGES],
    );
  }

  async listAfter(afterName: string | null, limit: number): Promise<RoleRow[]> {
    const rows = await this.sql.rows<RoleRow>(
      `SELECT ${COLUMNS} FROM roles WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2`,
      [afterName, limit],
    );
    return rows.map(clean);
  }

  async findByName(name: string, tx?: EntityManager, lock = false): Promise<RoleRow | null> {
    const row = await this.sql
      .in(tx)
      .one<RoleRow>(`SELECT ${COLUMNS} FROM roles WHERE name = $1${lock ? ' FOR UPDATE' : ''}`, [
        name,
      ]);
    return row ? clean(row) : null;
  }

  async insert(
    tx: EntityManager,
    role: Pick<RoleRow, 'name' | 'description' | 'privileges'>,
  ): Promise<RoleRow> {
    const [row] = await this.writes
      .in(tx)
      .rows<RoleRow>(
        `INSERT INTO roles (name, description, privileges) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [role.name, role.description, role.privileges],
      );
    return clean(row);
  }

  async update(
    tx: EntityManager,
    name: string,
    description: string,
    privileges: Privilege[],
  ): Promise<RoleRow> {
    const [row] = await this.writes
      .in(tx)
      .rows<RoleRow>(
        `UPDATE roles SET description = $2, privileges = $3, updated_at = now() WHERE name = $1 RETURNING ${COLUMNS}`,
        [name, description, privileges],
      );
    return clean(row);
  }

  /** How many principals (users and API clients) hold the role. */
  async countAssignments(tx: EntityManager, name: string): Promise<number> {
    const row = await this.sql.in(tx).one<{ n: string | number }>(
      `SELECT (SELECT count(*) FROM users WHERE role = $1)
            + (SELECT count(*) FROM api_clients WHERE role = $1) AS n`,
      [name],
    );
    return Number(row?.n ?? 0);
  }

  async delete(tx: EntityManager, name: string): Promise<void> {
    await this.writes.in(tx).exec(`DELETE FROM roles WHERE name = $1`, [name]);
  }
}
