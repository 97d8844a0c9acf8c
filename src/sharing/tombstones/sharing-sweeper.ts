import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SharingRepository } from '../sharing.repository';

/** Revoked versions stay published this long after a removal (docs/api.md §10: at least 30 days). */
export const TOMBSTONE_DAYS = 30;
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
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly repo: SharingRepository) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweepOnce().catch((err: unknown) =>
        this.logger.error({ err }, 'tombstone sweep failed'),
      );
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One sweep (tests call this); resolves to the number of tombstones purged. */
  sweepOnce(): Promise<number> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<number> {
    const purged = await this.repo.purgeTombstones(TOMBSTONE_DAYS);
    await this.repo.compactTombstones();
    await this.repo.compactChanges();
    if (purged > 0)
      this.logger.log(`purged ${purged} tombstones older than ${TOMBSTONE_DAYS} days`);
    return purged;
  }
}
