import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
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
  constructor(private readonly db: DataSource) {}

  listAfter(afterId: string | null, limit: number): Promise<ApiClientRow[]> {
    return this.db.query(
      `SELECT ${COLUMNS} FROM api_clients WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
  }

  async findById(
    id: string,
    manager: EntityManager = this.db.manager,
  ): Promise<ApiClientRow | null> {
    const rows: ApiClientRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM api_clients WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ?? null;
  }

  async insert(
    manager: EntityManager,
    client: ApiClientChange & { clientId: string; secretHash: string },
  ): Promise<ApiClientRow> {
    const rows: ApiClientRow[] = await manager.query(
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
    return rows[0];
  }

  async update(manager: EntityManager, id: string, c: ApiClientChange): Promise<ApiClientRow> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const [rows]: [ApiClientRow[], number] = await manager.query(
      `UPDATE api_clients SET name = $2, role = $3, ip_mode = $4, allowed_ips = $5, status = $6,
              updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, c.name, c.role, c.ipMode, c.allowedIps, c.status],
    );
    return rows[0];
  }

  /** A new secret invalidates every token issued under the old one. */
  async replaceSecret(manager: EntityManager, id: string, secretHash: string): Promise<void> {
    await manager.query(
      `UPDATE api_clients SET secret_hash = $2, updated_at = now() WHERE id = $1`,
      [id, secretHash],
    );
    await this.revokeTokens(manager, id);
  }

  async revokeTokens(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`DELETE FROM api_client_tokens WHERE client_id = $1`, [id]);
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`DELETE FROM api_clients WHERE id = $1`, [id]);
  }
}
