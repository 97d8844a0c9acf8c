import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { FailureStreak } from '../common/logging';
import { PeriodicSweep } from '../common/periodic-sweep';
import { DEFAULT_TENANT_ID, inTenant } from '../database/tenant-context';
import { TenantRow, TenantsRepository } from './tenants.repository';

export type Tenant = TenantRow;

/** How often every instance reads what changed: a suspension or offboarding reaches it within this. */
const REFRESH_MS = 1_000;
/** Changes are read with this overlap, so a commit that became visible late is not missed. */
const OVERLAP_MS = 5_000;
/** Unknown tenants make a read at most this often. */
const MISS_REFRESH_MS = 250;
/** A full read now and then drops tenants whose offboarding finished. */
const FULL_EVERY = 30;

/**
 * Every instance's copy of the tenant tree, refreshed once a second (changes on this instance
 * at once): a request resolves its tenant with no query, and a suspension or an offboarding
 * reaches every instance within about a second. While the database cannot be read the last
 * copy is kept.
 */
@Injectable()
export class TenantDirectory implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TenantDirectory.name);
  private readonly refreshes = new FailureStreak(this.logger, 'tenant directory refresh');
  private byIdMap = new Map<string, Tenant>();
  private byNameMap = new Map<string, Tenant>();
  private readSince = new Date(0);
  private rounds = 0;
  private lastMissRefresh = 0;
  private missRefresh: Promise<void> = Promise.resolve();
  private readonly loop = new PeriodicSweep(
    () => this.refresh(),
    (err: unknown) => this.refreshes.failed(err),
  );

  constructor(private readonly tenants: TenantsRepository) {}

  async onModuleInit(): Promise<void> {
    await this.refresh(true);
    this.loop.start(REFRESH_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }

  /** Reads what changed (everything when `full`). */
  async refresh(full = this.rounds % FULL_EVERY === 0): Promise<void> {
    const startedAt = new Date(Date.now() - OVERLAP_MS);
    const rows = full ? await this.tenants.all() : await this.tenants.changedSince(this.readSince);
    const byId = full ? new Map<string, Tenant>() : new Map(this.byIdMap);
    for (const row of rows) byId.set(row.id, row);
    this.byIdMap = byId;
    this.byNameMap = new Map([...byId.values()].map((t) => [t.name, t]));
    this.readSince = startedAt;
    this.rounds++;
    this.refreshes.succeeded();
  }

  /**
   * Reads what changed now, for a tenant this copy does not know yet (created on another
   * instance within the last second): at most once per MISS_REFRESH_MS, shared by every caller.
   */
  async refreshForMiss(): Promise<void> {
    if (Date.now() - this.lastMissRefresh < MISS_REFRESH_MS) return this.missRefresh;
    this.lastMissRefresh = Date.now();
    this.missRefresh = this.loop.runOnce().catch((err: unknown) => this.refreshes.failed(err));
    return this.missRefresh;
  }

  /** After a change on this instance: read it at once. */
  changed(row: TenantRow): void {
    const byId = new Map(this.byIdMap);
    byId.set(row.id, row);
    this.byIdMap = byId;
    this.byNameMap = new Map([...byId.values()].map((t) => [t.name, t]));
  }

  byId(id: string): Tenant | undefined {
    return this.byIdMap.get(id);
  }

  /** A tenant not being offboarded, by name. */
  byName(name: string): Tenant | undefined {
    const t = this.byNameMap.get(name);
    return t && t.status !== 'deleting' ? t : undefined;
  }

  /**
   * Whether the tenant's principals may work: not when it is being offboarded (gone), nor when
   * it or one of its ancestors is suspended.
   */
  standing(id: string): 'active' | 'suspended' | 'gone' {
    let t = this.byIdMap.get(id);
    if (!t || t.status === 'deleting') return 'gone';
    for (; t; t = t.parentId === null ? undefined : this.byIdMap.get(t.parentId)) {
      if (t.status === 'deleting') return 'gone';
      if (t.status === 'suspended') return 'suspended';
    }
    return 'active';
  }

  /** Whether `id` is `ancestorId` or lies below it. */
  isWithin(id: string, ancestorId: string): boolean {
    for (
      let t = this.byIdMap.get(id);
      t;
      t = t.parentId === null ? undefined : this.byIdMap.get(t.parentId)
    ) {
      if (t.id === ancestorId) return true;
    }
    return false;
  }

  /** The ids of the tenants strictly above `id`, nearest first. */
  ancestorsOf(id: string): string[] {
    const out: string[] = [];
    for (let t = this.byIdMap.get(id); t && t.parentId !== null; t = this.byIdMap.get(t.parentId))
      out.push(t.parentId);
    return out;
  }

  /** `id`, then its ancestors: the tenants whose rows a search of `id` may read. */
  lineageOf(id: string): string[] {
    return [id, ...this.ancestorsOf(id)];
  }

  /** The tenants strictly below `id`, not being offboarded, ordered by name. */
  descendantsOf(id: string): Tenant[] {
    return [...this.byIdMap.values()]
      .filter((t) => t.id !== id && t.status !== 'deleting' && this.isWithin(t.id, id))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The path from the root to `id`, names joined by "/" (for logs and audit). */
  nameOf(id: string): string {
    return this.byIdMap.get(id)?.name ?? id;
  }

  /** The tenants background work runs for: every one not being offboarded, root first. */
  working(): Tenant[] {
    const all = [...this.byIdMap.values()].filter((t) => t.status !== 'deleting');
    return all.sort(
      (a, b) => Number(b.id === DEFAULT_TENANT_ID) - Number(a.id === DEFAULT_TENANT_ID),
    );
  }

  /**
   * Runs `work` once in each working tenant, one after another; a tenant whose work fails does
   * not stop the others (its failure is reported to `failed`). Returns the results by tenant.
   */
  async forEach<T>(
    work: (tenant: Tenant) => Promise<T>,
    failed: (err: unknown, tenant: Tenant) => void,
  ): Promise<Map<string, T>> {
    const results = new Map<string, T>();
    for (const tenant of this.working()) {
      try {
        results.set(tenant.id, await inTenant(tenant.id, () => work(tenant)));
      } catch (err) {
        failed(err, tenant);
      }
    }
    return results;
  }
}
