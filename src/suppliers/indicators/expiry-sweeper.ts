import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SuppliersRepository } from '../suppliers.repository';
import { IndicatorWriter, SWEEP_BATCH } from './indicator-writer';

/** How often expired indicators are purged. */
export const SWEEP_INTERVAL_MS = 60_000;

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
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly suppliers: SuppliersRepository,
    private readonly writer: IndicatorWriter,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweepOnce().catch((err: unknown) =>
        this.logger.error({ err }, 'expired-indicator sweep failed'),
      );
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Runs one full sweep (tests call this); resolves to the number of indicators purged. */
  sweepOnce(): Promise<number> {
    // One sweep at a time per instance; a caller arriving meanwhile joins the running one.
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<number> {
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
