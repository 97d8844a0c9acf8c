import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import type { Principal } from '../auth/principal';
import { PeriodicSweep } from '../common/periodic-sweep';
import { AppConfig } from '../config/app-config';
import { currentTenant, inTenant } from '../database/tenant-context';
import { MetricsService } from '../health/metrics.service';
import type { IndicatorType } from '../indicators';
import { DetectionsRepository, HitRow, NewDetection } from './detections.repository';
import { RecentValues, REMEMBER_REFRESH_MS } from './recent-values';

/**
 * What the recorder needs of a search result: the §5 result shape (structural, so the search
 * module does not depend on this one).
 */
export interface SearchedResult {
  type: string | null;
  normalized: string | null;
  result: string;
  matches: ReadonlyArray<{
    supplier: string;
    indicator: string;
    indicatorType: string;
    matchedBy: string;
    context: Record<string, unknown>;
  }>;
}

/** A value searched and not detected, waiting to be remembered for retro-scan. */
export interface PendingRetro {
  /** The tenant whose principal searched it. */
  tenant: string;
  type: IndicatorType;
  value: string;
  principalType: string;
  principal: string;
  atMs: number;
}

/**
 * Bounds on what waits in memory between flushes: past them, new events / retro values are
 * dropped and counted (indicium_detections_dropped_total) rather than growing without limit
 * while the database is unreachable. Counters merge, so they stay bounded by distinct keys.
 */
const MAX_PENDING_EVENTS = 200_000;
const MAX_PENDING_RETRO = 200_000;
const MAX_PENDING_HITS = 500_000;

/** A detection event waiting for a flush, with the tenant it happened in. */
type PendingDetection = NewDetection & { tenant: string };

/** Remembers retro values (RetroScanner registers itself; a flush hands it the batch). */
export interface RetroSink {
  remember(values: PendingRetro[]): Promise<void>;
}

/**
 * Counts hits and collects detection events off the search hot path (docs/api.md §11): a search
 * only updates in-memory maps; a timer flushes them every DETECTION_FLUSH_MS (≤ 5 s) with one
 * set-based UPSERT and one append, and shutdown flushes what is left. A crash (SIGKILL) loses
 * at most the last interval.
 */
@Injectable()
export class DetectionRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DetectionRecorder.name);
  /**
   * Pending counters per principal (`tenant \0 type \0 id`), per indicator
   * (`supplier \0 type \0 value`).
   */
  private hits = new Map<string, Map<string, HitRow>>();
  private hitCount = 0;
  private events: PendingDetection[] = [];
  /** Pending retro values per tenant and type (`tenant \0 type`), by value. */
  private retro = new Map<string, Map<string, PendingRetro>>();
  private retroCount = 0;
  /** Values this instance remembered lately: searched again, they are not remembered again. */
  private readonly recent = new RecentValues();
  private retroSink?: RetroSink;
  /** Flushes every DETECTION_FLUSH_MS, one at a time (a flush asked for meanwhile joins it). */
  private readonly flusher = new PeriodicSweep(
    () => this.flushNow(),
    (err: unknown) => this.logger.warn({ err }, 'flushing detections failed'),
  );
  private readonly retroOn: boolean;
  /** DETECTIONS=off: record() returns at once and nothing is ever flushed. */
  private readonly on: boolean;
  private readonly detectionsBySupplier: Counter<'supplier' | 'retro'>;
  private readonly dropped: Counter<'kind'>;
  private readonly flushLag: Gauge;
  private oldestPendingMs = 0;

  constructor(
    private readonly repo: DetectionsRepository,
    @Inject(AppConfig) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.on = config.env.DETECTIONS === 'on';
    this.retroOn = this.on && config.env.RETROSCAN_DAYS > 0;
    this.detectionsBySupplier = new Counter({
      name: 'indicium_detections_total',
      help: 'Detection events recorded, by supplier and whether found by retro-scan',
      labelNames: ['supplier', 'retro'],
      registers: [metrics.registry],
    });
    this.dropped = new Counter({
      name: 'indicium_detections_dropped_total',
      help: 'Detection events, hit counters or retro values dropped because too many waited for a flush',
      labelNames: ['kind'],
      registers: [metrics.registry],
    });
    this.flushLag = new Gauge({
      name: 'indicium_detections_flush_lag_seconds',
      help: 'Age of the oldest hit or detection event not yet written to the database',
      registers: [metrics.registry],
      collect: () => {
        this.flushLag.set(this.oldestPendingMs ? (Date.now() - this.oldestPendingMs) / 1000 : 0);
      },
    });
  }

  onApplicationBootstrap(): void {
    if (!this.on) return;
    this.flusher.start(this.config.env.DETECTION_FLUSH_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flusher.stop();
    await this.flush();
  }

  setRetroSink(sink: RetroSink): void {
    this.retroSink = sink;
  }

  /**
   * The hot path's only cost: map updates per detected match and per clean value. Every
   * detected result counts, a value repeated within one request included. A clean value this
   * instance remembered for the same principal less than REMEMBER_REFRESH_MS ago costs a
   * hash and a table probe, and is not remembered again (docs/api.md §11).
   */
  record(principal: Principal | undefined, results: readonly SearchedResult[]): void {
    const tenant = currentTenant();
    if (!principal || !this.on || tenant === undefined) return;
    const now = Date.now();
    const since = now - REMEMBER_REFRESH_MS;
    const recent = this.recent;
    let who = -1;
    let mine: Map<string, HitRow> | undefined;
    for (const r of results) {
      if (r.result === 'detected') {
        if (mine === undefined) {
          const key = `${tenant}\u0000${principal.type}\u0000${principal.id}`;
          mine = this.hits.get(key);
          if (mine === undefined) this.hits.set(key, (mine = new Map<string, HitRow>()));
        }
        for (const m of r.matches) this.hit(tenant, principal, mine, r, m, now);
      } else if (r.result === 'not_detected' && this.retroOn && r.normalized !== null) {
        if (who < 0) who = recent.principal(principal.type, principal.name);
        recent.hash(r.type as string, r.normalized);
        if (recent.fresh(who, since)) continue;
        const retroKey = `${tenant}\u0000${r.type as string}`;
        let byValue = this.retro.get(retroKey);
        if (byValue === undefined)
          this.retro.set(retroKey, (byValue = new Map<string, PendingRetro>()));
        const pending = byValue.get(r.normalized);
        if (pending) {
          pending.atMs = now;
          pending.principal = principal.name;
          pending.principalType = principal.type;
        } else if (this.retroCount < MAX_PENDING_RETRO) {
          this.retroCount++;
          byValue.set(r.normalized, {
            tenant,
            type: r.type as IndicatorType,
            value: r.normalized,
            principalType: principal.type,
            principal: principal.name,
            atMs: now,
          });
        } else this.dropped.inc({ kind: 'retro' });
      }
    }
  }

  /** Counts detections written elsewhere (retro-scan) in the detections metric. */
  counted(events: ReadonlyArray<{ supplier: string; retro: boolean }>): void {
    for (const e of events)
      this.detectionsBySupplier.inc({ supplier: e.supplier, retro: String(e.retro) });
  }

  /** Writes what is pending now (tests call it; the timer and shutdown too). */
  flush(): Promise<void> {
    return this.flusher.runOnce();
  }

  private hit(
    tenant: string,
    principal: Principal,
    mine: Map<string, HitRow>,
    r: SearchedResult,
    m: SearchedResult['matches'][number],
    now: number,
  ): void {
    const key = `${m.supplier}\u0000${m.indicatorType}\u0000${m.indicator}`;
    const h = mine.get(key);
    if (h) {
      h.hits++;
      h.lastMs = now;
    } else if (this.hitCount < MAX_PENDING_HITS) {
      this.hitCount++;
      mine.set(key, {
        supplier: m.supplier,
        type: m.indicatorType,
        value: m.indicator,
        principalType: principal.type,
        principalId: principal.id,
        principalName: principal.name,
        hits: 1,
        firstMs: now,
        lastMs: now,
      });
    } else this.dropped.inc({ kind: 'hit' });
    if (this.oldestPendingMs === 0) this.oldestPendingMs = now;
    this.event({
      tenant,
      atMs: now,
      value: r.normalized as string,
      type: r.type as string,
      principalType: principal.type,
      principal: principal.name,
      supplier: m.supplier,
      indicator: m.indicator,
      indicatorType: m.indicatorType,
      matchedBy: m.matchedBy,
      context: m.context,
      retro: false,
    });
  }

  private event(e: PendingDetection): void {
    if (this.events.length >= MAX_PENDING_EVENTS) return void this.dropped.inc({ kind: 'event' });
    if (this.oldestPendingMs === 0) this.oldestPendingMs = e.atMs;
    this.events.push(e);
  }

  private async flushNow(): Promise<void> {
    const hits = this.hits;
    const hitCount = this.hitCount;
    const events = this.events;
    const retro = this.retro;
    this.hits = new Map();
    this.hitCount = 0;
    this.events = [];
    this.retro = new Map();
    this.retroCount = 0;
    this.oldestPendingMs = 0;
    if (hitCount > 0 || events.length > 0) await this.flushHits(hits, events);
    if (retro.size > 0 && this.retroSink) await this.flushRetro(this.retroSink, retro);
  }

  /** Each tenant's counters and events in its own tenant; a failed tenant's wait for the next flush. */
  private async flushHits(
    hits: Map<string, Map<string, HitRow>>,
    events: PendingDetection[],
  ): Promise<void> {
    const byTenant = new Map<
      string,
      { hits: Map<string, Map<string, HitRow>>; rows: HitRow[]; events: PendingDetection[] }
    >();
    const of = (tenant: string) => {
      let t = byTenant.get(tenant);
      if (!t) byTenant.set(tenant, (t = { hits: new Map(), rows: [], events: [] }));
      return t;
    };
    for (const [who, mine] of hits) {
      const t = of(who.slice(0, who.indexOf('\u0000')));
      t.hits.set(who, mine);
      for (const h of mine.values()) t.rows.push(h);
    }
    for (const e of events) of(e.tenant).events.push(e);
    for (const [tenant, t] of byTenant) {
      try {
        await inTenant(tenant, () => this.repo.flush(t.rows, t.events));
        for (const e of t.events)
          this.detectionsBySupplier.inc({ supplier: e.supplier, retro: String(e.retro) });
      } catch (err) {
        this.logger.warn(
          { err },
          'writing hit counters and detections failed; kept for the next flush',
        );
        this.restore(t.hits, t.rows.length, t.events);
      }
    }
  }

  private async flushRetro(
    sink: RetroSink,
    retro: Map<string, Map<string, PendingRetro>>,
  ): Promise<void> {
    const byTenant = new Map<string, PendingRetro[]>();
    for (const byValue of retro.values()) {
      for (const v of byValue.values()) {
        const list = byTenant.get(v.tenant);
        if (list) list.push(v);
        else byTenant.set(v.tenant, [v]);
      }
    }
    for (const [tenant, values] of byTenant) {
      try {
        await inTenant(tenant, () => sink.remember(values));
        for (const v of values)
          this.recent.remembered(v.type, v.value, v.principalType, v.principal, v.atMs);
      } catch (err) {
        this.logger.warn({ err }, 'remembering values for retro-scan failed');
      }
    }
  }

  /** Puts a failed flush back in front of what arrived meanwhile (within the bounds). */
  private restore(
    hits: Map<string, Map<string, HitRow>>,
    hitCount: number,
    events: PendingDetection[],
  ): void {
    let count = hitCount;
    for (const [who, arrived] of this.hits) {
      let mine = hits.get(who);
      if (mine === undefined) hits.set(who, (mine = new Map<string, HitRow>()));
      for (const [key, h] of arrived) {
        const old = mine.get(key);
        if (old) {
          old.hits += h.hits;
          old.lastMs = h.lastMs;
        } else {
          mine.set(key, h);
          count++;
        }
      }
    }
    this.hits = hits;
    this.hitCount = count;
    this.events = events.concat(this.events).slice(0, MAX_PENDING_EVENTS);
    this.oldestPendingMs = this.events[0]?.atMs ?? (count > 0 ? Date.now() : 0);
  }
}
