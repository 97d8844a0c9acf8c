import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../health/metrics.service';
import { INDICATOR_TYPE_DEFINITIONS, PrefixLengths } from '../indicators';
import { CommittedWrite, IndicatorWriter } from '../suppliers/indicators/indicator-writer';
import { DetectionRecorder, PendingRetro, RetroSink } from './detection-recorder';
import { REMEMBER_REFRESH_MS, retroWindowMs } from './recent-values';
import { inTenant } from '../database/tenant-context';
import { RetroKeyRow, RetroRepository, RetroValueRow } from './retro.repository';

/**
 * No CIDR keys: containment by a later CIDR is checked on the remembered address itself (one
 * btree range per new CIDR) instead of storing up to 32 (IPv4) or 128 (IPv6) keys per address.
 */
const NO_LENGTHS: PrefixLengths = { 4: [], 6: [] };

/**
 * Retro-scan (docs/api.md §11): values searched and not detected are remembered for
 * RETROSCAN_DAYS with the lookup keys the search plan derives for them (a value searched again
 * moves its `searched_at` at most once per REMEMBER_REFRESH_MS, so the window looked back over
 * is RETROSCAN_DAYS plus that: retroWindowMs); after each committed
 * write that created indicators, those are checked against them set-based, and matches are
 * recorded as `retro: true` detections at once (durably, not through the in-memory batch).
 */
@Injectable()
export class RetroScanner implements OnModuleInit, RetroSink {
  private readonly logger = new Logger(RetroScanner.name);
  private readonly retroDetections: Counter<'supplier'>;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly repo: RetroRepository,
    private readonly writer: IndicatorWriter,
    private readonly recorder: DetectionRecorder,
    @Inject(AppConfig) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.retroDetections = new Counter({
      name: 'indicium_retro_detections_total',
      help: 'Detections found by retro-scan, by supplier',
      labelNames: ['supplier'],
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    if (this.config.env.RETROSCAN_DAYS === 0 || this.config.env.DETECTIONS === 'off') return;
    this.recorder.setRetroSink(this);
    this.writer.onCommitted((w) => this.track(this.scan(w)));
  }

  /** Resolves when the scans started so far are done (tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  async remember(values: PendingRetro[]): Promise<void> {
    const rows: RetroValueRow[] = [];
    const keys: RetroKeyRow[] = [];
    for (const v of values) {
      const definition = INDICATOR_TYPE_DEFINITIONS[v.type];
      rows.push({
        t: v.type,
        v: v.value,
        a: definition.containedAddress(v.value),
        pt: v.principalType,
        p: v.principal,
        at: v.atMs,
      });
      const o = rows.length;
      // The value itself is no key row: retro-scan matches it on retro_values' own (value,
      // type) key, so addresses and hashes, which have no other key, cost one row, not two.
      for (const k of definition.lookupKeys(v.value, NO_LENGTHS)) {
        if (k.type === v.type && k.value === v.value) continue;
        keys.push({ o, kt: k.type, kv: k.value, mb: k.matchedBy });
      }
    }
    await this.repo.remember(rows, keys, REMEMBER_REFRESH_MS);
  }

  private async scan(w: CommittedWrite): Promise<void> {
    try {
      const found = await inTenant(w.tenant, () =>
        this.repo.scan(w.supplierId, w.since, retroWindowMs(this.config.env.RETROSCAN_DAYS)),
      );
      for (const d of found) this.retroDetections.inc({ supplier: d.supplier });
      this.recorder.counted(found.map((d) => ({ supplier: d.supplier, retro: true })));
    } catch (err) {
      this.logger.warn({ err }, 'retro-scan after a write failed');
    }
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
