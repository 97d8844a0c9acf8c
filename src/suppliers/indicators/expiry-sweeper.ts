import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PeriodicSweep } from '../../common/periodic-sweep';
import { SuppliersRepository } from '../suppliers.repository';
import { TenantDirectory } from '../../tenancy/tenant-directory';
import { IndicatorWriter, SWEEP_BATCH } from './indicator-writer';

/** How often expired indicators are purged. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Purges expired indicators (own expiresAt or supplier retention passed) every
 * SWEEP_INTERVAL_MS, through IndicatorWriter. Works supplier by supplier, in bounded batches, each
 * batch its own short transaction: lock the supplier row (SKIP LOCKED — a supplier busy with an upload is swept
 * next time), delete up to SWEEP_BATCH expired rows, lower indicator_count. Safe with several
 * instances: they skip each other's locked suppliers and rows.
 */
@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ExpirySweeper.name);
  private readonly sweeper = new PeriodicSweep(
    () => this.sweep(),
    (err: unknown) => this.logger.error({ err }, 'expired-indicator sweep failed'),
  );
  private stopped = false;

  constructor(
    private readonly suppliers: SuppliersRepository,
    private readonly writer: IndicatorWriter,
    private readonly tenants: TenantDirectory,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeper.start(SWEEP_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    // A sweep in progress ends after its current batch.
    this.stopped = true;
    await this.sweeper.stop();
  }

  /** Runs one full sweep (tests call this); resolves to the number of indicators purged. */
  sweepOnce(): Promise<number> {
    return this.sweeper.runOnce();
  }

  /** Every tenant in turn, each in its own tenant. */
  private async sweep(): Promise<number> {
    const purged = await this.tenants.forEach(
      () => this.sweepTenant(),
      (err, tenant) =>
        this.logger.error({ err, tenant: tenant.name }, 'expired-indicator sweep failed'),
    );
    return [...purged.values()].reduce((a, b) => a + b, 0);
  }

  private async sweepTenant(): Promise<number> {
    let purged = 0;
    for (const id of await this.suppliers.listIds()) {
      while (!this.stopped && (await this.writer.hasExpired(id))) {
        const n = await this.writer.deleteExpiredBatch(id);
        if (n < 0) break; // busy supplier: next time
        purged += n;
        if (n < SWEEP_BATCH) break;
      }
    }
    if (purged > 0) this.logger.log(`purged ${purged} expired indicators`);
    return purged;
  }
}
