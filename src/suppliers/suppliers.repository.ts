import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { SupplierSharing, SupplierStatus } from './dto/supplier.dto';
import { Sql } from '../database/sql';
import { FALSE_POSITIVE_SUPPLIER, INTERNAL_TI_SUPPLIER } from './built-in-suppliers';

export interface SupplierRow {
  id: string;
  name: string;
  vendor: string;
  description: string;
  status: SupplierStatus;
  confidence: number;
  retentionMinutes: number;
  actionableFields: string[];
  sharing: SupplierSharing;
  builtIn: boolean;
  indicatorCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export type SupplierFields = Pick<
  SupplierRow,
  | 'name'
  | 'vendor'
  | 'description'
  | 'status'
  | 'confidence'
  | 'retentionMinutes'
  | 'actionableFields'
  | 'sharing'
>;

const COLUMNS = `id, name, vendor, description, status, confidence,
  retention_minutes AS "retentionMinutes", actionable_fields AS "actionableFields",
  sharing, built_in AS "builtIn", indicator_count::float8 AS "indicatorCount",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Supplier rows. Writers lock the supplier row before its indicators (see the migration). */
@Injectable()
export class SuppliersRepository {
  constructor(private readonly sql: Sql) {}

  /** A new tenant's built-in suppliers, as the first migration made them for `default`. */
  async insertBuiltIns(manager: EntityManager): Promise<void> {
    await this.sql.in(manager).exec(
      `INSERT INTO suppliers (name, vendor, description, built_in) VALUES
         ('${INTERNAL_TI_SUPPLIER}', 'Indicium', 'The organisation''s own indicators', true),
         ('${FALSE_POSITIVE_SUPPLIER}', 'Indicium', 'Values that must never be reported as detected', true)`,
    );
  }

  /** Ordered case-insensitively by name; `after` is the lowercased name of the last row. */
  listAfter(after: string | null, limit: number): Promise<SupplierRow[]> {
    return this.sql.rows(
      `SELECT ${COLUMNS} FROM suppliers WHERE ($1::text IS NULL OR lower(name) > $1)
       ORDER BY lower(name) LIMIT $2`,
      [after, limit],
    );
  }

  /** Case-insensitive lookup; `lock` takes the row lock writers of its indicators take. */
  async findByName(
    name: string,
    manager?: EntityManager,
    lock = false,
  ): Promise<SupplierRow | null> {
    const rows = await this.sql
      .in(manager)
      .rows<SupplierRow>(
        `SELECT ${COLUMNS} FROM suppliers WHERE lower(name) = lower($1)${lock ? ' FOR UPDATE' : ''}`,
        [name],
      );
    return rows[0] ?? null;
  }

  /**
   * The row, locked, by id (it may have been renamed or deleted since it was looked up).
   * NO KEY UPDATE: excludes the other writers, not the FK checks of inserted indicators.
   */
  async lockById(manager: EntityManager, id: string): Promise<SupplierRow | null> {
    const rows = await this.sql
      .in(manager)
      .rows<SupplierRow>(`SELECT ${COLUMNS} FROM suppliers WHERE id = $1 FOR NO KEY UPDATE`, [id]);
    return rows[0] ?? null;
  }

  /** Locks the row unless another transaction holds it (the sweeper skips busy suppliers). */
  async tryLockById(manager: EntityManager, id: string): Promise<boolean> {
    const rows = await this.sql
      .in(manager)
      .rows(`SELECT id FROM suppliers WHERE id = $1 FOR UPDATE SKIP LOCKED`, [id]);
    return rows.length > 0;
  }

  async listIds(): Promise<string[]> {
    const rows = await this.sql.rows<{ id: string }>(`SELECT id FROM suppliers`);
    return rows.map((r) => r.id);
  }

  async insert(manager: EntityManager, s: SupplierFields): Promise<SupplierRow> {
    const rows = await this.sql.in(manager).rows<SupplierRow>(
      `INSERT INTO suppliers (name, vendor, description, status, confidence, retention_minutes, actionable_fields, sharing)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [
        s.name,
        s.vendor,
        s.description,
        s.status,
        s.confidence,
        s.retentionMinutes,
        s.actionableFields,
        s.sharing,
      ],
    );
    return rows[0];
  }

  async update(manager: EntityManager, id: string, s: SupplierFields): Promise<SupplierRow> {
    const rows = await this.sql.in(manager).rows<SupplierRow>(
      `UPDATE suppliers SET name = $2, vendor = $3, description = $4, status = $5, confidence = $6,
         retention_minutes = $7, actionable_fields = $8, sharing = $9, updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        id,
        s.name,
        s.vendor,
        s.description,
        s.status,
        s.confidence,
        s.retentionMinutes,
        s.actionableFields,
        s.sharing,
      ],
    );
    return rows[0];
  }

  /** Every key of the supplier's indicators, a page at a time in id order (`after`: last id). */
  keysAfter(
    manager: EntityManager,
    supplierId: string,
    after: string,
    limit: number,
  ): Promise<Array<{ id: string; type: string; value: string }>> {
    return this.sql.in(manager).rows(
      `SELECT id, type, value FROM indicators
        WHERE supplier_id = $1 AND id > $2::uuid ORDER BY id LIMIT $3`,
      [supplierId, after, limit],
    );
  }

  async addToCount(manager: EntityManager, id: string, delta: number): Promise<void> {
    if (delta === 0) return;
    await this.sql
      .in(manager)
      .rows(`UPDATE suppliers SET indicator_count = indicator_count + $2 WHERE id = $1`, [
        id,
        delta,
      ]);
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await this.sql.in(manager).rows(`DELETE FROM suppliers WHERE id = $1`, [id]);
  }
}
