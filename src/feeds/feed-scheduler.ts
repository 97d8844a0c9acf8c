import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { FailureStreak } from '../common/logging';
import { WakeLoop } from '../common/wake-loop';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../health/metrics.service';
import { USER_AGENT } from './feed-fetcher';
import { FeedRunner } from './feed-runner';
import { inTenant } from '../database/tenant-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { FeedRow, FeedsRepository, FinishedRun } from './feeds.repository';

/** Who a run acts as in the audit log: no person, the scheduler itself. */
const SCHEDULER_CONTEXT: AuditContext = {
  actorType: 'anonymous',
  actorId: null,
  actorName: 'feed-scheduler',
  ip: null,
  userAgent: USER_AGENT,
  requestId: null,
};

class ShutdownError extends Error {}

/**
 * Runs due feeds (docs/api.md §9). Every instance polls; a feed is run by the one instance
 * whose lease it holds (claimed with SKIP LOCKED, renewed while the run lasts, so a dead
 * instance's run is taken over once the lease expires and retried, never run twice at once).
 * At most FEED_CONCURRENCY runs per instance. On shutdown runs are aborted — the writer rolls
 * them back — and the leases released. Due-ness lives in the database (`next_run_at`), so a
 * plain poll is all the timing needed; a cron library would add nothing here.
 */
@Injectable()
export class FeedScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(FeedScheduler.name);
  readonly owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  private readonly active = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private poller?: NodeJS.Timeout;
  /** Polls fail every FEED_POLL_SECONDS while the database is away: logged once, and the recovery. */
  private readonly polls = new FailureStreak(this.logger, 'feed poll');
  private readonly loop = new WakeLoop(
    async () => {
      await this.poll();
      this.polls.succeeded();
    },
    (err: unknown) => this.polls.failed(err),
  );
  private readonly runs: Counter<'supplier' | 'outcome'>;
  private readonly lastSuccess: Gauge<'supplier'>;
  private readonly applied: Counter<'supplier'>;

  constructor(
    private readonly db: DataSource,
    private readonly feeds: FeedsRepository,
    private readonly runner: FeedRunner,
    private readonly audit: AuditService,
    metrics: MetricsService,
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly tenants: TenantDirectory,
  ) {
    const registers = [metrics.registry];
    this.runs = new Counter({
      name: 'indicium_feed_runs_total',
      help: 'Feed runs by supplier and outcome (applied, not_modified, failed)',
      labelNames: ['supplier', 'outcome'] as const,
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'indicium_feed_last_success_timestamp_seconds',
      help: 'Unix time of the last successful run of each supplier feed (this instance)',
      labelNames: ['supplier'] as const,
      registers,
    });
    this.applied = new Counter({
      name: 'indicium_feed_indicators_applied_total',
      help: 'Indicators created, updated or removed by feed runs, by supplier',
      labelNames: ['supplier'] as const,
      registers,
    });
  }

  private get leaseMs(): number {
    return this.config.env.FEED_LEASE_SECONDS * 1000;
  }

  onApplicationBootstrap(): void {
    this.poller = setInterval(() => this.wake(), this.config.env.FEED_POLL_SECONDS * 1000).unref();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    const polled = this.loop.stop();
    clearInterval(this.poller);
    for (const run of this.active.values()) run.abort.abort(new ShutdownError('shutting down'));
    await polled;
    await Promise.all([...this.active.values()].map((r) => r.done));
    await this.tenants.forEach(
      () => this.feeds.release(this.owner),
      (err: unknown) =>
        // Shutdown goes on: an unreleased lease only delays another instance until it expires.
        this.logger.warn(
          { err },
          'releasing feed leases at shutdown failed; they expire by themselves',
        ),
    );
  }

  /** Looks for due feeds now (run-now, a finished run, the poll timer). */
  wake(): void {
    this.loop.wake();
  }

  /** Tenant by tenant, as long as this instance has room for more runs. */
  private async poll(): Promise<void> {
    let failure: Error | undefined;
    for (const tenant of this.tenants.working()) {
      const free = this.config.env.FEED_CONCURRENCY - this.active.size;
      if (free <= 0 || this.loop.stopped) break;
      try {
        await inTenant(tenant.id, () => this.pollTenant(free));
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
      }
    }
    if (failure !== undefined) throw failure;
  }

  private async pollTenant(free: number): Promise<void> {
    const due = await this.feeds.claimDue(this.owner, this.leaseMs, free);
    for (const feed of due) {
      if (this.loop.stopped) break;
      // Our own run whose lease lapsed while a renewal waited (claimDue renewed it): still one run.
      if (this.active.has(feed.supplierId)) continue;
      this.start(feed);
    }
  }

  /** Runs in the tenant of the poll that claimed it; so do its renewals and its record. */
  private start(feed: FeedRow): void {
    const abort = new AbortController();
    const timeoutMs = this.config.env.FEED_RUN_TIMEOUT_SECONDS * 1000;
    const timeout = setTimeout(
      () =>
        abort.abort(
          new Error(
            `the run took longer than ${this.config.env.FEED_RUN_TIMEOUT_SECONDS} s (FEED_RUN_TIMEOUT_SECONDS); nothing was applied`,
          ),
        ),
      timeoutMs,
    );
    const renew = setInterval(() => {
      this.feeds
        .renew(feed.supplierId, this.owner, this.leaseMs)
        .then((held) => {
          if (!held) abort.abort(new Error('the run lost its lease to another instance'));
        })
        .catch((err: unknown) => this.logger.warn({ err }, 'feed lease renewal failed'));
    }, this.leaseMs / 3);
    const done = (async () => {
      try {
        const result = await this.runner.run(feed, {
          signal: abort.signal,
          allowPrivateNetworks: this.config.env.FEED_ALLOW_PRIVATE_NETWORKS === 'true',
          ctx: SCHEDULER_CONTEXT,
        });
        // Cut short by shutdown: nothing applied; the lease is released and the run retried.
        if (abort.signal.reason instanceof ShutdownError) return;
        await this.finish(feed, result);
      } catch (err) {
        this.logger.error({ err, supplier: feed.supplierName }, 'feed run could not be recorded');
      } finally {
        clearTimeout(timeout);
        clearInterval(renew);
        this.active.delete(feed.supplierId);
        this.wake();
      }
    })();
    this.active.set(feed.supplierId, { abort, done });
  }

  private async finish(feed: FeedRow, result: FinishedRun): Promise<void> {
    await this.feeds.finish(feed.supplierId, this.owner, {
      ...result,
      configStamp: feed.configStamp,
    });
    this.runs.inc({ supplier: feed.supplierName, outcome: result.outcome });
    if (result.outcome !== 'failed') {
      this.lastSuccess.set({ supplier: feed.supplierName }, Date.now() / 1000);
    }
    const { created, updated, removed } = result.counts;
    this.applied.inc({ supplier: feed.supplierName }, created + updated + removed);
    if (result.outcome === 'failed') {
      this.logger.warn(`feed of "${feed.supplierName}" failed: ${result.error}`);
    }
    // An applied run was audited by the writer in its own transaction; the others here.
    if (result.outcome !== 'applied') {
      await this.db.transaction((tx) =>
        this.audit.record(tx, SCHEDULER_CONTEXT, {
          action: 'feed.run',
          entityType: 'supplier',
          entityName: feed.supplierName,
          operation: 'update',
          outcome: result.outcome === 'failed' ? 'failure' : 'success',
          newValue: {
            outcome: result.outcome,
            format: feed.format,
            error: result.error,
            ...result.counts,
          },
        }),
      );
    }
  }
}
