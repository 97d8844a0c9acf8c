import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql';
import { SiemTarget, SiemTargetColumns, targetColumns, targetFromColumns } from './siem-target';

export interface SiemIntegrationRow {
  id: string;
  name: string;
  enabled: boolean;
  sendHistory: boolean;
  streams: SiemStream[];
  target: SiemTarget;
  lastDeliveredSequence: number;
  /** Id of the last detection event forwarded (the detections stream). */
  lastDeliveredDetection: number;
  detectionBacklog: number;
  lastDeliveredAt: Date | null;
  lastError: string | null;
  backlog: number;
  createdAt: Date;
  updatedAt: Date;
}

export type SiemIntegrationFields = Pick<
  SiemIntegrationRow,
  'name' | 'enabled' | 'sendHistory' | 'streams' | 'target'
>;

export const SIEM_STREAMS = ['audit', 'detections'] as const;
export type SiemStream = (typeof SIEM_STREAMS)[number];

const COLUMNS = `id, name, type, enabled, send_history AS "sendHistory", transport, host, port, format,
  tls_insecure AS "tlsInsecure", ca_cert AS "caCert", url, secret,
  last_delivered_sequence AS "lastDeliveredSequence", last_delivered_at AS "lastDeliveredAt",
  last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt",
  GREATEST((SELECT coalesce(max(sequence), 0) FROM audit_log) - last_delivered_sequence, 0) AS backlog,
  streams, last_delivered_detection AS "lastDeliveredDetection",
  CASE WHEN 'detections' = ANY (streams)
       THEN GREATEST((SELECT coalesce(max(id), 0) FROM detections) - last_delivered_detection, 0)
       ELSE 0 END AS "detectionBacklog"`;

type Raw = Omit<
  SiemIntegrationRow,
  'target' | 'lastDeliveredSequence' | 'backlog' | 'lastDeliveredDetection' | 'detectionBacklog'
> &
  SiemTargetColumns & {
    lastDeliveredSequence: string | number;
    backlog: string | number;
    lastDeliveredDetection: string | number;
    detectionBacklog: string | number;
  };

const toRow = (r: Raw): SiemIntegrationRow => ({
  id: r.id,
  name: r.name,
  enabled: r.enabled,
  sendHistory: r.sendHistory,
  streams: r.streams,
  target: targetFromColumns(r),
  lastDeliveredSequence: Number(r.lastDeliveredSequence),
  lastDeliveredDetection: Number(r.lastDeliveredDetection),
  detectionBacklog: Number(r.detectionBacklog),
  lastDeliveredAt: r.lastDeliveredAt,
  lastError: r.lastError,
  backlog: Number(r.backlog),
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** The written columns in statement order: name, type, enabled, send_history, transport … secret. */
function fieldValues(f: SiemIntegrationFields): unknown[] {
  const c = targetColumns(f.target);
  return [
    f.name,
    c.type,
    f.enabled,
    f.sendHistory,
    c.transport,
    c.host,
    c.port,
    c.format,
    c.tlsInsecure,
    c.caCert,
    c.url,
    c.secret,
    f.streams,
  ];
}

@Injectable()
export class SiemIntegrationsRepository {
  constructor(private readonly sql: Sql) {}

  async listAfter(afterId: string | null, limit: number): Promise<SiemIntegrationRow[]> {
    const rows = await this.sql.rows<Raw>(
      `SELECT ${COLUMNS} FROM siem_integrations WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map(toRow);
  }

  /** `lock` (inside a transaction): takes the row lock writers take. */
  async findById(id: string, tx?: EntityManager, lock = false): Promise<SiemIntegrationRow | null> {
    const row = await this.sql
      .in(tx)
      .one<Raw>(
        `SELECT ${COLUMNS} FROM siem_integrations WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
        [id],
      );
    return row ? toRow(row) : null;
  }

  async nameTaken(tx: EntityManager, name: string): Promise<boolean> {
    const rows = await this.sql
      .in(tx)
      .rows(`SELECT 1 FROM siem_integrations WHERE name = $1`, [name]);
    return rows.length > 0;
  }

  /**
   * sendHistory: start before the first record (and detection event); else after the last one
   * existing now.
   */
  async insert(tx: EntityManager, f: SiemIntegrationFields): Promise<SiemIntegrationRow> {
    const [row] = await this.sql.in(tx).rows<Raw>(
      `INSERT INTO siem_integrations (name, type, enabled, send_history, transport, host, port, format,
         tls_insecure, ca_cert, url, secret, streams, last_delivered_sequence, last_delivered_detection)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
         CASE WHEN $4 THEN 0 ELSE (SELECT coalesce(max(sequence), 0) FROM audit_log) END,
         CASE WHEN $4 THEN 0 ELSE (SELECT coalesce(max(id), 0) FROM detections) END)
       RETURNING ${COLUMNS}`,
      fieldValues(f),
    );
    return toRow(row);
  }

  async update(
    tx: EntityManager,
    id: string,
    f: SiemIntegrationFields,
  ): Promise<SiemIntegrationRow> {
    const [row] = await this.sql.in(tx).rows<Raw>(
      `UPDATE siem_integrations SET name = $2, type = $3, enabled = $4, send_history = $5, transport = $6, host = $7,
         port = $8, format = $9, tls_insecure = $10, ca_cert = $11, url = $12, secret = $13, last_error = NULL,
         streams = $14,
         -- A stream added later follows the sendHistory rule from the moment it is added.
         last_delivered_detection = CASE
           WHEN 'detections' = ANY ($14::text[]) AND NOT ('detections' = ANY (streams)) AND NOT $5
           THEN (SELECT coalesce(max(id), 0) FROM detections)
           ELSE last_delivered_detection END,
         last_delivered_sequence = CASE
           WHEN 'audit' = ANY ($14::text[]) AND NOT ('audit' = ANY (streams)) AND NOT $5
           THEN (SELECT coalesce(max(sequence), 0) FROM audit_log)
           ELSE last_delivered_sequence END,
         updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, ...fieldValues(f)],
    );
    return toRow(row);
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await this.sql.in(tx).exec(`DELETE FROM siem_integrations WHERE id = $1`, [id]);
  }

  /**
   * Takes or renews the delivery lease of every enabled integration that is free, expired,
   * or already ours; returns those this owner now holds. One statement, no open transaction.
   */
  async claim(owner: string, leaseMs: number): Promise<SiemIntegrationRow[]> {
    const rows = await this.sql.rows<{ id: string }>(
      `UPDATE siem_integrations
          SET lease_owner = $1, lease_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000)
        WHERE enabled AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < clock_timestamp())
        RETURNING id`,
      [owner, leaseMs],
    );
    if (rows.length === 0) return [];
    const full = await this.sql.rows<Raw>(
      `SELECT ${COLUMNS} FROM siem_integrations WHERE id = ANY($1::uuid[]) AND lease_owner = $2 ORDER BY id`,
      [rows.map((r) => r.id), owner],
    );
    return full.map(toRow);
  }

  /** Records progress after a successful send; false when the lease has passed to someone else. */
  async saveProgress(id: string, owner: string, sequence: number): Promise<boolean> {
    const affected = await this.sql.exec(
      `UPDATE siem_integrations SET last_delivered_sequence = $3, last_delivered_at = now(), last_error = NULL
        WHERE id = $1 AND lease_owner = $2 AND last_delivered_sequence < $3`,
      [id, owner, sequence],
    );
    return affected > 0;
  }

  /** saveProgress for the detections stream. */
  async saveDetectionProgress(id: string, owner: string, detectionId: number): Promise<boolean> {
    const affected = await this.sql.exec(
      `UPDATE siem_integrations SET last_delivered_detection = $3, last_delivered_at = now(), last_error = NULL
        WHERE id = $1 AND lease_owner = $2 AND last_delivered_detection < $3`,
      [id, owner, detectionId],
    );
    return affected > 0;
  }

  async saveError(id: string, owner: string, error: string): Promise<void> {
    await this.sql.exec(
      `UPDATE siem_integrations SET last_error = $3 WHERE id = $1 AND lease_owner = $2`,
      [id, owner, error.slice(0, 1024)],
    );
  }

  /** On shutdown: another instance may take over at once. */
  async release(owner: string): Promise<void> {
    await this.sql.exec(
      `UPDATE siem_integrations SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`,
      [owner],
    );
  }
}
