import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { FailureStreak } from '../common/logging';
import { PeriodicSweep } from '../common/periodic-sweep';
import { Sql } from '../database/sql';
import { inTenant } from '../database/tenant-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { TenantsRepository } from '../tenancy/tenants.repository';

/**
 * Every tenant-owned table, children before parents. Offboarding is the one writer that
 * deletes across every owner's tables: all of a tenant's rows go, whoever owns the table, and
 * row-level security confines each statement to that tenant.
 */
const TABLES = [
  'indicator_hits',
  'indicator_tags',
  'indicators',
  'indicator_tombstones',
  'feed_runs',
  'feeds',
  'supplier_subscriptions',
  'suppliers',
  'tags',
  'retro_keys',
  'retro_values',
  'detections',
  'api_client_tokens',
  'api_clients',
  'user_sessions',
  'users',
  'roles',
  'siem_integrations',
  'audit_log',
  'audit_chain_anchor',
  'sharing_changes',
] as const;

/** Rows per statement: each batch is a short transaction of its own. */
const BATCH = 5_000;
const INTERVAL_MS = 5_000;

/**
 * Deletes the data of tenants being offboarded, in batches, off the request path; once nothing
 * is left the tenant row itself goes. Any instance may run it (deleting is idempotent).
 */
@Injectable()
export class TenantPurge implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TenantPurge.name);
  private readonly failures = new FailureStreak(this.logger, 'tenant offboarding');
  private readonly sweep = new PeriodicSweep(
    () => this.round(),
    (err: unknown) => this.failures.failed(err),
  );

  constructor(
    private readonly sql: Sql,
    private readonly tenants: TenantsRepository,
    private readonly directory: TenantDirectory,
  ) {}

  onModuleInit(): void {
    this.sweep.start(INTERVAL_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.sweep.stop();
  }

  /** Starts a round now (after an offboarding); its failures are logged. */
  kick(): void {
    this.run().catch((err: unknown) => this.failures.failed(err));
  }

  /**
   * One round: every tenant being offboarded, emptied and removed; returns how many. A caller
   * arriving while this instance's round runs joins it, so two rounds never race each other here.
   */
  run(): Promise<number> {
    return this.sweep.runOnce();
  }

  private async round(): Promise<number> {
    const doomed = await this.tenants.deleting();
    for (const tenant of doomed) {
      const rows = await this.offboard(tenant.id).catch((err: unknown) =>
        this.finishedElsewhere(tenant.id, err),
      );
      if (rows !== undefined)
        this.logger.log({ tenant: tenant.name, rows }, 'tenant offboarded: its data is deleted');
    }
    if (doomed.length > 0) await this.directory.refresh(true);
    this.failures.succeeded();
    return doomed.length;
  }

  private async offboard(tenantId: string): Promise<number> {
    let rows = 0;
    await inTenant(tenantId, async () => {
      for (const table of TABLES) rows += await this.empty(table);
    });
    await this.tenants.remove(tenantId);
    return rows;
  }

  /**
   * Another instance may finish the same tenant first: its last statement removes the tenant
   * row, and this instance's next batch then fails on the tenant's foreign key. That is not a
   * failure (there is nothing left to do); anything else is.
   */
  private async finishedElsewhere(tenantId: string, err: unknown): Promise<undefined> {
    const left = await this.tenants.deleting();
    if (left.some((t) => t.id === tenantId)) throw err;
    return undefined;
  }

  private async empty(table: (typeof TABLES)[number]): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.sql.exec(
        `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table} LIMIT ${BATCH}))`,
      );
      total += n;
      if (n < BATCH) return total;
    }
  }
}
