import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PeriodicSweep } from '../../common/periodic-sweep';
import { TenantDirectory } from '../../tenancy/tenant-directory';
import { SharingRepository } from '../sharing.repository';

/** Revoked versions stay published this long after a removal (docs/api.md §10: at least 30 days). */
const TOMBSTONE_DAYS = 30;
const SWEEP_INTERVAL_MS = 60 * 60_000;

/**
 * Hourly: purges tombstones older than TOMBSTONE_DAYS, keeps one tombstone per identity and
 * compacts the blocklist change log.
 * No lease: both are idempotent deletes of old rows, so instances sweeping at once only repeat
 * each other's work.
 */
@Injectable()
export class SharingSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SharingSweeper.name);
  private readonly sweeper = new PeriodicSweep(
    () => this.sweep(),
    (err: unknown) => this.logger.error({ err }, 'tombstone sweep failed'),
  );

  constructor(
    private readonly repo: SharingRepository,
    private readonly tenants: TenantDirectory,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeper.start(SWEEP_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
  }

  /** One sweep (tests call this); resolves to the number of tombstones purged. */
  sweepOnce(): Promise<number> {
    return this.sweeper.runOnce();
  }

  private async sweep(): Promise<number> {
    const purged = await this.tenants.forEach(
      () => this.sweepTenant(),
      (err, tenant) => this.logger.error({ err, tenant: tenant.name }, 'tombstone sweep failed'),
    );
    return [...purged.values()].reduce((a, b) => a + b, 0);
  }

  private async sweepTenant(): Promise<number> {
    const purged = await this.repo.purgeTombstones(TOMBSTONE_DAYS);
    await this.repo.compactTombstones();
    await this.repo.compactChanges();
    if (purged > 0)
      this.logger.log(`purged ${purged} tombstones older than ${TOMBSTONE_DAYS} days`);
    return purged;
  }
}
