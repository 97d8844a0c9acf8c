import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PrincipalDirectory } from '../auth/principal-directory';
import { Sql } from '../database/sql';
import type { Status } from '../users/dto/user.dto';
import type { IpMode } from './dto/api-client.dto';

export interface ApiClientRow {
  id: string;
  name: string;
  clientId: string;
  role: string;
  ipMode: IpMode;
  allowedIps: string[];
  status: Status;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
}

export type ApiClientChange = Pick<
  ApiClientRow,
  'name' | 'role' | 'ipMode' | 'allowedIps' | 'status'
>;

const COLUMNS = `id, name, client_id AS "clientId", role, ip_mode AS "ipMode", allowed_ips AS "allowedIps",
  status, created_at AS "createdAt", updated_at AS "updatedAt", last_used_at AS "lastUsedAt",
  last_used_ip AS "lastUsedIp"`;

@Injectable()
export class ApiClientsRepository {
  /** Every write changes what authentication sees: the credential cache follows it. */
  private readonly writes: Sql;

  constructor(
    private readonly sql: Sql,
    directory: PrincipalDirectory,
  ) {
    this.writes = sql.followedBy(() => directory.invalidate());
  }

  listAfter(afterId: string | null, limit: number): Promise<ApiClientRow[]> {
    return this.sql.rows(
      `SELECT ${COLUMNS} FROM api_clients WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
  }

  async findById(id: string, tx?: EntityManager): Promise<ApiClientRow | null> {
    const row = await this.sql
      .in(tx)
      .one<ApiClientRow>(`SELECT ${COLUMNS} FROM api_clients WHERE id = $1 FOR UPDATE`, [id]);
    return row ?? null;
  }

  async insert(
    tx: EntityManager,
    client: ApiClientChange & { clientId: string; secretHash: string },
  ): Promise<ApiClientRow> {
    const [row] = await this.writes.in(tx).rows<ApiClientRow>(
      `INSERT INTO api_clients (name, client_id, secret_hash, role, ip_mode, allowed_ips, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        client.name,
        client.clientId,
        client.secretHash,
        client.role,
        client.ipMode,
        client.allowedIps,
        client.status,
      ],
    );
    return row;
  }

  async update(tx: EntityManager, id: string, c: ApiClientChange): Promise<ApiClientRow> {
    const [row] = await this.writes.in(tx).rows<ApiClientRow>(
      `UPDATE api_clients SET name = $2, role = $3, ip_mode = $4, allowed_ips = $5, status = $6,
              updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, c.name, c.role, c.ipMode, c.allowedIps, c.status],
    );
    return row;
  }

  /** A new secret invalidates every token issued under the old one. */
  async replaceSecret(tx: EntityManager, id: string, secretHash: string): Promise<void> {
    await this.writes
      .in(tx)
      .exec(`UPDATE api_clients SET secret_hash = $2, updated_at = now() WHERE id = $1`, [
        id,
        secretHash,
      ]);
    await this.revokeTokens(tx, id);
  }

  async revokeTokens(tx: EntityManager, id: string): Promise<void> {
    await this.writes.in(tx).exec(`DELETE FROM api_client_tokens WHERE client_id = $1`, [id]);
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await this.writes.in(tx).exec(`DELETE FROM api_clients WHERE id = $1`, [id]);
  }
}
