import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { PeriodicSweep } from '../common/periodic-sweep';
import { AppConfig } from '../config/app-config';
import { DetectionsRepository, PRUNE_BATCH } from './detections.repository';
import { retroWindowMs } from './recent-values';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { RetroRepository } from './retro.repository';

const SWEEP_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * Deletes detection events older than DETECTION_RETENTION_DAYS every minute, in batches along
 * the `at` index (never a scan of the table), and forgets retro-scan values past RETROSCAN_DAYS
 * the same way. One instance at a time: each batch takes a
 * transaction-scoped advisory lock, so a dead instance holds nothing.
 */
@Injectable()
export class DetectionRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DetectionRetention.name);
  private readonly sweeper = new PeriodicSweep(
    () => this.sweep(Date.now()),
    (err: unknown) => this.logger.error({ err }, 'detection retention sweep failed'),
  );
  private stopped = false;

  constructor(
    private readonly repo: DetectionsRepository,
    private readonly retro: RetroRepository,
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly tenants: TenantDirectory,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeper.start(SWEEP_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.sweeper.stop();
  }

  /**
   * One sweep (tests call it, `now` to sweep as if at another moment); resolves to the number
   * of events deleted.
   */
  sweepOnce(now?: number): Promise<number> {
    return now === undefined ? this.sweeper.runOnce() : this.sweep(now);
  }

  private async sweep(now: number): Promise<number> {
    const deleted = await this.tenants.forEach(
      () => this.sweepTenant(now),
      (err, tenant) =>
        this.logger.error({ err, tenant: tenant.name }, 'detection retention sweep failed'),
    );
    return [...deleted.values()].reduce((a, b) => a + b, 0);
  }

  private async sweepTenant(now: number): Promise<number> {
    const cutoff = new Date(now - this.config.env.DETECTION_RETENTION_DAYS * DAY_MS);
    let deleted = 0;
    while (!this.stopped) {
      const n = await this.repo.pruneBatch(cutoff);
      if (n <= 0) break;
      deleted += n;
      if (n < PRUNE_BATCH) break;
    }
    // Remembered values past the retro window (all of them when retro-scan is off).
    const retroCutoff = new Date(now - retroWindowMs(this.config.env.RETROSCAN_DAYS));
    while (!this.stopped && (await this.retro.prune(retroCutoff)) === PRUNE_BATCH);
    return deleted;
  }
}
