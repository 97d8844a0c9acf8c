import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { Client } from 'pg';
import { WakeLoop } from '../common/wake-loop';
import { AppConfig } from '../config/app-config';
import { AuditRepository } from '../audit/audit.repository';
import { DetectionsService } from '../detections/detections.service';
import { SiemIntegrationRow, SiemIntegrationsRepository } from './siem-integrations.repository';
import { SiemSender } from './siem-sender';
import { PRODUCT_VERSION } from './siem-integrations.service';

const POLL_MS = 1_000;
const EMBEDDED_POLL_MS = 500;
/** A lease outlives a few missed renewals (renewed every run, at least every POLL_MS). */
const LEASE_MS = 15_000;
const BATCH_SIZE = 500;
const MAX_BATCHES_PER_RUN = 20;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
const RELISTEN_MS = 5_000;
const CHANNEL = 'audit_log_appended';

interface Backoff {
  failures: number;
  until: number;
}

/**
 * Forwards the audit log (and, for integrations with that stream, detection events: docs/api.md
 * §11) to SIEM integrations (docs/api.md §7): in sequence order, at least once
 * for tcp/tls/webhook. Woken by NOTIFY on every append (server Postgres) and by a short poll
 * (always; the only trigger on the embedded database). Each integration is delivered by the
 * one instance holding its lease; progress is saved only after a successful send, so a
 * receiver that is down just makes records wait in the database. No transaction is held
 * during network I/O.
 */
@Injectable()
export class SiemDeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SiemDeliveryWorker.name);
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  private readonly senders = new Map<string, { key: string; sender: SiemSender }>();
  private readonly backoff = new Map<string, Backoff>();
  private poller?: NodeJS.Timeout;
  private relisten?: NodeJS.Timeout;
  private listener?: Client;
  private readonly loop = new WakeLoop(
    () => this.runOnce(),
    (err: unknown) => this.logger.warn({ err }, 'SIEM delivery run failed'),
  );

  constructor(
    private readonly integrations: SiemIntegrationsRepository,
    private readonly audit: AuditRepository,
    private readonly detections: DetectionsService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const embedded = this.config.usesEmbeddedDatabase;
    this.poller = setInterval(() => this.wake(), embedded ? EMBEDDED_POLL_MS : POLL_MS).unref();
    if (!embedded) void this.listen();
    this.wake();
  }

  /** Stops before the DataSource closes (that happens at application shutdown). */
  async onModuleDestroy(): Promise<void> {
    const delivered = this.loop.stop();
    clearInterval(this.poller);
    clearTimeout(this.relisten);
    await delivered;
    for (const { sender } of this.senders.values()) sender.close();
    this.senders.clear();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.integrations.release(this.owner).catch(() => undefined);
  }

  /** Runs delivery now, or once more right after the run in progress. */
  wake(): void {
    this.loop.wake();
  }

  private async runOnce(): Promise<void> {
    const mine = await this.integrations.claim(this.owner, LEASE_MS);
    const ids = new Set(mine.map((i) => i.id));
    for (const [id, { sender }] of this.senders) {
      if (!ids.has(id)) {
        sender.close();
        this.senders.delete(id);
      }
    }
    const now = Date.now();
    await Promise.all(
      mine.filter((i) => (this.backoff.get(i.id)?.until ?? 0) <= now).map((i) => this.deliver(i)),
    );
  }

  /** Each stream the integration carries, in its own order; a failure stops both until backoff. */
  private async deliver(integration: SiemIntegrationRow): Promise<void> {
    const sender = this.senderFor(integration);
    if (integration.streams.includes('audit') && !(await this.deliverAudit(integration, sender)))
      return;
    if (integration.streams.includes('detections'))
      await this.deliverDetections(integration, sender);
  }

  /** false when a send failed (the integration is backing off). */
  private async deliverDetections(
    integration: SiemIntegrationRow,
    sender: SiemSender,
  ): Promise<boolean> {
    let after = integration.lastDeliveredDetection;
    for (let n = 0; n < MAX_BATCHES_PER_RUN && !this.loop.stopped; n++) {
      const batch = await this.detections.after(after, BATCH_SIZE);
      if (batch.length === 0) return true;
      try {
        await sender.sendDetections(batch);
      } catch (err) {
        sender.close();
        await this.failed(integration, err as Error);
        return false;
      }
      this.backoff.delete(integration.id);
      after = batch[batch.length - 1].id;
      if (!(await this.integrations.saveDetectionProgress(integration.id, this.owner, after)))
        return true;
      if (batch.length < BATCH_SIZE) return true;
    }
    this.loop.wake(); // more than a run's batches waiting: once more right after this run
    return true;
  }

  /** false when a send failed (the integration is backing off). */
  private async deliverAudit(
    integration: SiemIntegrationRow,
    sender: SiemSender,
  ): Promise<boolean> {
    let after = integration.lastDeliveredSequence;
    for (let n = 0; n < MAX_BATCHES_PER_RUN && !this.loop.stopped; n++) {
      const batch = await this.audit.batchAfter(after, BATCH_SIZE);
      if (batch.length === 0) return true;
      try {
        await sender.send(batch);
      } catch (err) {
        sender.close();
        await this.failed(integration, err as Error);
        return false;
      }
      this.backoff.delete(integration.id);
      after = batch[batch.length - 1].sequence;
      if (!(await this.integrations.saveProgress(integration.id, this.owner, after))) return true;
      if (batch.length < BATCH_SIZE) return true;
    }
    this.loop.wake(); // more than a run's batches waiting: once more right after this run
    return true;
  }

  private async failed(integration: SiemIntegrationRow, err: Error): Promise<void> {
    const failures = (this.backoff.get(integration.id)?.failures ?? 0) + 1;
    const delay = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
    this.backoff.set(integration.id, { failures, until: Date.now() + delay });
    if (failures === 1)
      this.logger.warn(`SIEM integration "${integration.name}" delivery failed: ${err.message}`);
    await this.integrations.saveError(integration.id, this.owner, err.message);
  }

  /** One sender per integration, replaced when its delivery configuration changes. */
  private senderFor(i: SiemIntegrationRow): SiemSender {
    const key = JSON.stringify(i.target);
    const cached = this.senders.get(i.id);
    if (cached?.key === key) return cached.sender;
    cached?.sender.close();
    const sender = new SiemSender(i.target, PRODUCT_VERSION, hostname());
    this.senders.set(i.id, { key, sender });
    return sender;
  }

  /** A dedicated session LISTENing for appends; re-established after errors. */
  private async listen(): Promise<void> {
    const client = new Client({
      connectionString: this.config.env.DATABASE_URL,
      application_name: 'indicium-siem',
    });
    const retry = (err: unknown): void => {
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => undefined);
      if (this.loop.stopped) return;
      this.logger.warn({ err }, 'SIEM LISTEN connection lost; polling until it is back');
      this.relisten = setTimeout(() => void this.listen(), RELISTEN_MS).unref();
    };
    client.on('notification', () => this.wake());
    client.on('error', retry);
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.loop.stopped) {
        await client.end();
        return;
      }
      this.listener = client;
    } catch (err) {
      retry(err);
    }
  }
}
