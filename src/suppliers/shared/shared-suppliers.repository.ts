import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Sql } from '../../database/sql';
import { inView, requireTenant } from '../../database/tenant-context';

/** A supplier an ancestor tenant shares, as this tenant sees it. */
export interface OfferedSupplier {
  id: string;
  ownerTenant: string;
  name: string;
  description: string;
  confidence: number;
  /** The owner's actionable fields. */
  actionableFields: string[];
  subscribed: boolean;
  /** This tenant's own choice of actionable fields, if it made one. */
  ownActionableFields: string[] | null;
}

/*
 * Read in the `catalogue` view: row-level security adds the suppliers the tenant's ancestors
 * share (subscribed or not) to its own, which `tenant_id <> $1` leaves out.
 */
const OFFERED = `SELECT s.id, s.tenant_id AS "ownerTenant", s.name, s.description, s.confidence,
         s.actionable_fields AS "actionableFields", coalesce(sub.subscribed, false) AS subscribed,
         sub.actionable_fields AS "ownActionableFields"
    FROM suppliers s
    LEFT JOIN supplier_subscriptions sub ON sub.tenant_id = $1 AND sub.supplier_id = s.id
   WHERE s.tenant_id <> $1 AND s.sharing = 'descendants'`;

/** The shared-supplier catalogue of a tenant and its subscriptions (docs/tenancy.md). */
@Injectable()
export class SharedSuppliersRepository {
  constructor(private readonly sql: Sql) {}

  /** Every supplier offered to this tenant, by name (case-insensitively). */
  list(): Promise<OfferedSupplier[]> {
    return inView('catalogue', () =>
      this.sql.rows<OfferedSupplier>(`${OFFERED} ORDER BY lower(s.name)`, [requireTenant()]),
    );
  }

  /** The offered supplier of that name (case-insensitive), if any. */
  async findOffered(tx: EntityManager | undefined, name: string): Promise<OfferedSupplier | null> {
    const rows = await inView('catalogue', () =>
      this.sql
        .in(tx)
        .rows<OfferedSupplier>(`${OFFERED} AND lower(s.name) = lower($2)`, [requireTenant(), name]),
    );
    return rows[0] ?? null;
  }

  /** Sets this tenant's subscription to an offered supplier. */
  async save(
    tx: EntityManager,
    offered: OfferedSupplier,
    subscribed: boolean,
    actionableFields: string[] | null,
  ): Promise<void> {
    await this.sql.in(tx).exec(
      `INSERT INTO supplier_subscriptions (owner_tenant, supplier_id, subscribed, actionable_fields)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, supplier_id) DO UPDATE
          SET subscribed = EXCLUDED.subscribed, actionable_fields = EXCLUDED.actionable_fields,
              updated_at = now()`,
      [offered.ownerTenant, offered.id, subscribed, actionableFields],
    );
  }
}
