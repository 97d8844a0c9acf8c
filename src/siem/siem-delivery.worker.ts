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
import {
  SIEM_STREAMS,
  SiemIntegrationRow,
  SiemIntegrationsRepository,
  SiemStream,
} from './siem-integrations.repository';
import { ReceiverGone } from './receiver-gone';
import { SendResult, SiemSender } from './siem-sender';
import { inTenant } from '../database/tenant-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { PRODUCT_VERSION } from './siem-integrations.service';

const POLL_MS = 1_000;
const EMBEDDED_POLL_MS = 500;
/** A lease outlives a few missed renewals (renewed every run, at least every POLL_MS). */
const LEASE_MS = 15_000;
const BATCH_SIZE = 500;
const MAX_BATCHES_PER_RUN = 20;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
/** While backing off, the receiver is probed at most this often (and at every run). */
const PROBE_INTERVAL_MS = 500;
/** TCP/TLS records written this long ago are confirmed (clean close) by the next run. */
const CONFIRM_AFTER_MS = 500;
const RELISTEN_MS = 5_000;
const CHANNEL = 'audit_log_appended';

interface Backoff {
  failures: number;
  until: number;
  nextProbe: number;
  /**
   * The receiver was found gone (the failure said so, or a probe failed since): the next
   * probe it answers means it is back. A receiver that answers probes but fails deliveries
   * (HTTP 500, stalled) waits out the backoff instead.
   */
  down: boolean;
}

/** One integration's sender, and what it wrote on TCP/TLS that is not confirmed yet. */
interface SenderState {
  key: string;
  sender: SiemSender;
  /** Per stream, the last sequence/id written but not confirmed. */
  written: Partial<Record<SiemStream, number>>;
  /** When the oldest of those was written. */
  since?: number;
}

/** One stream as delivery sees it: where it stands, the next batch, how progress is saved. */
interface StreamWay {
  delivered(i: SiemIntegrationRow): number;
  next(
    after: number,
  ): Promise<{ last: number; size: number; send(s: SiemSender): Promise<SendResult> } | undefined>;
  save(id: string, owner: string, last: number): Promise<boolean>;
}

/**
 * Forwards the audit log (and, for integrations with that stream, detection events: docs/api.md
 * §11) to SIEM integrations (docs/api.md §7): in sequence order, at least once for
 * tcp/tls/relp/webhook. Woken by NOTIFY on every append (server Postgres) and by a short poll
 * (always; the only trigger on the embedded database). Each integration is delivered by the
 * one instance holding its lease. Progress is saved only once the receiver confirmed (RELP
 * acknowledgement, HTTP 2xx, TCP/TLS: a clean close after the records, see SiemSender), so
 * records a receiver did not confirm are sent again, from the database. No transaction is
 * held during network I/O. After a failure deliveries back off (capped), while a cheap
 * probe each run notices within a run that a receiver which was gone is back.
 */
@Injectable()
export class SiemDeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SiemDeliveryWorker.name);
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  private readonly senders = new Map<string, SenderState>();
  private readonly backoff = new Map<string, Backoff>();
  private poller?: NodeJS.Timeout;
  private relisten?: NodeJS.Timeout;
  private listener?: Client;
  private readonly loop = new WakeLoop(
    () => this.runOnce(),
    (err: unknown) => this.logger.warn({ err }, 'SIEM delivery run failed'),
  );
  private readonly streams: Record<SiemStream, StreamWay> = {
    audit: {
      delivered: (i) => i.lastDeliveredSequence,
      next: async (after) => {
        const batch = await this.audit.batchAfter(after, BATCH_SIZE);
        if (batch.length === 0) return undefined;
        const last = batch[batch.length - 1].sequence;
        return { last, size: batch.length, send: (s) => s.send(batch) };
      },
      save: (id, owner, last) => this.integrations.saveProgress(id, owner, last),
    },
    detections: {
      delivered: (i) => i.lastDeliveredDetection,
      next: async (after) => {
        const batch = await this.detections.after(after, BATCH_SIZE);
        if (batch.length === 0) return undefined;
        const last = batch[batch.length - 1].id;
        return { last, size: batch.length, send: (s) => s.sendDetections(batch) };
      },
      save: (id, owner, last) => this.integrations.saveDetectionProgress(id, owner, last),
    },
  };

  constructor(
    private readonly integrations: SiemIntegrationsRepository,
    private readonly audit: AuditRepository,
    private readonly detections: DetectionsService,
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly tenants: TenantDirectory,
  ) {}

  onApplicationBootstrap(): void {
    const embedded = this.config.usesEmbeddedDatabase;
    this.poller = setInterval(() => this.wake(), embedded ? EMBEDDED_POLL_MS : POLL_MS).unref();
    if (!embedded) void this.listen();
    this.wake();
  }

  /**
   * Stops before the DataSource closes (that happens at application shutdown). Records
   * written on TCP/TLS but not confirmed yet are sent again by whoever delivers next.
   */
  async onModuleDestroy(): Promise<void> {
    const delivered = this.loop.stop();
    clearInterval(this.poller);
    clearTimeout(this.relisten);
    await delivered;
    for (const { sender } of this.senders.values()) sender.close();
    this.senders.clear();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch((err: Error) => {
      this.logger.debug(`SIEM LISTEN session did not end cleanly at shutdown: ${err.message}`);
    });
    await this.tenants.forEach(
      () => this.integrations.release(this.owner),
      (err) =>
        this.logger.warn(
          `SIEM leases not released at shutdown (${(err as Error).message}); they expire within ${LEASE_MS} ms`,
        ),
    );
  }

  /** Runs delivery now, or once more right after the run in progress. */
  wake(): void {
    this.loop.wake();
  }

  /** Every tenant's integrations, each delivered in its own tenant (its records only). */
  private async runOnce(): Promise<void> {
    const mine: Array<{ tenant: string; integration: SiemIntegrationRow }> = [];
    let failure: Error | undefined;
    for (const tenant of this.tenants.working()) {
      try {
        const claimed = await inTenant(tenant.id, () =>
          this.integrations.claim(this.owner, LEASE_MS),
        );
        for (const integration of claimed) mine.push({ tenant: tenant.id, integration });
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
      }
    }
    const ids = new Set(mine.map((m) => m.integration.id));
    for (const [id, { sender }] of this.senders) {
      if (!ids.has(id)) {
        sender.close();
        this.senders.delete(id);
      }
    }
    await Promise.all(mine.map((m) => inTenant(m.tenant, () => this.attempt(m.integration))));
    if (failure !== undefined) throw failure;
  }

  /** Delivers unless backing off; while backing off, a receiver found back ends the wait. */
  private async attempt(integration: SiemIntegrationRow): Promise<void> {
    const b = this.backoff.get(integration.id);
    if (b && Date.now() < b.until && !(await this.cameBack(integration, b))) return;
    await this.deliver(integration);
  }

  /** Probes (at most every PROBE_INTERVAL_MS): true when it answers after it was found gone. */
  private async cameBack(integration: SiemIntegrationRow, b: Backoff): Promise<boolean> {
    if (Date.now() < b.nextProbe) return false;
    b.nextProbe = Date.now() + PROBE_INTERVAL_MS;
    try {
      await this.senderFor(integration).sender.probe();
    } catch (err) {
      // Expected while the receiver is gone or stalled; the delivery failure was logged.
      if (!b.down)
        this.logger.debug(
          `SIEM integration "${integration.name}" probe failed (${(err as Error).message}); still backing off`,
        );
      b.down = true;
      return false;
    }
    return b.down;
  }

  /**
   * Each stream the integration carries, in its own order, then the TCP/TLS confirmation
   * when due. Any failure drops what was written unconfirmed: it is sent again from the
   * database, after the backoff.
   */
  private async deliver(integration: SiemIntegrationRow): Promise<void> {
    const state = this.senderFor(integration);
    try {
      for (const stream of SIEM_STREAMS) {
        if (!integration.streams.includes(stream)) continue;
        if (!(await this.deliverStream(integration, state, stream))) return;
      }
      await this.confirmIfDue(integration, state);
      this.backoff.delete(integration.id);
    } catch (err) {
      state.sender.close();
      state.written = {};
      state.since = undefined;
      await this.failed(integration, err as Error);
    }
  }

  /** false when the lease has passed to another instance. */
  private async deliverStream(
    integration: SiemIntegrationRow,
    state: SenderState,
    stream: SiemStream,
  ): Promise<boolean> {
    const way = this.streams[stream];
    let after = Math.max(state.written[stream] ?? 0, way.delivered(integration));
    for (let n = 0; n < MAX_BATCHES_PER_RUN && !this.loop.stopped; n++) {
      const batch = await way.next(after);
      if (!batch) return true;
      const result = await batch.send(state.sender);
      after = batch.last;
      if (result === 'written') {
        state.written[stream] = after;
        state.since ??= Date.now();
      } else if (!(await way.save(integration.id, this.owner, after))) {
        return false;
      }
      if (batch.size < BATCH_SIZE) return true;
    }
    this.loop.wake(); // more than a run's batches waiting: once more right after this run
    return true;
  }

  /** TCP/TLS: closes the connection cleanly and saves what was written on it as delivered. */
  private async confirmIfDue(integration: SiemIntegrationRow, state: SenderState): Promise<void> {
    if (state.since === undefined || Date.now() - state.since < CONFIRM_AFTER_MS) return;
    await state.sender.confirm();
    const written = state.written;
    state.written = {};
    state.since = undefined;
    for (const stream of SIEM_STREAMS) {
      const last = written[stream];
      if (last !== undefined) await this.streams[stream].save(integration.id, this.owner, last);
    }
  }

  private async failed(integration: SiemIntegrationRow, err: Error): Promise<void> {
    const failures = (this.backoff.get(integration.id)?.failures ?? 0) + 1;
    const delay = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
    const now = Date.now();
    const down = err instanceof ReceiverGone;
    this.backoff.set(integration.id, { failures, until: now + delay, nextProbe: now, down });
    if (failures === 1)
      this.logger.warn(`SIEM integration "${integration.name}" delivery failed: ${err.message}`);
    await this.integrations.saveError(integration.id, this.owner, err.message);
  }

  /** One sender per integration, replaced when its target or streams change. */
  private senderFor(i: SiemIntegrationRow): SenderState {
    const key = JSON.stringify([i.target, i.streams]);
    const cached = this.senders.get(i.id);
    if (cached?.key === key) return cached;
    cached?.sender.close();
    const state: SenderState = {
      key,
      sender: new SiemSender(i.target, PRODUCT_VERSION, hostname()),
      written: {},
    };
    this.senders.set(i.id, state);
    return state;
  }

  /** A dedicated session LISTENing for appends; re-established after errors. */
  private async listen(): Promise<void> {
    const client = new Client({
      connectionString: this.config.env.DATABASE_URL,
      application_name: 'indicium-siem',
    });
    const retry = (err: unknown): void => {
      if (this.listener === client) this.listener = undefined;
      client.end().catch((endErr: Error) => {
        this.logger.debug(`broken SIEM LISTEN session did not end cleanly: ${endErr.message}`);
      });
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
