import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import type { Principal } from '../auth/principal';
import { DetectionRecorder } from '../detections/detection-recorder';
import { Slicer } from '../common/work-budget';
import { MetricsService } from '../health/metrics.service';
import { IndicatorType } from '../indicators';
import { SearchResultDto } from './dto/search.dto';
import {
  ALL_IPV4_LENGTHS,
  containmentFamily,
  LookupKey,
  MatchedBy,
  PrefixLengths,
  planValue,
} from './search-plan';
import { ScopedKeys, SearchKeyIndex } from '../key-index/search-key-index';
import { requireTenant } from '../database/tenant-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { MatchRow, SearchRepository } from './search.repository';
import { canonicalise, Subject, verdicts } from './verdicts';

const NO_LENGTHS: PrefixLengths = { 4: [], 6: [] };
/** Up to this many IPv4 addresses are planned with every prefix length (ALL_IPV4_LENGTHS). */
const FEW_ADDRESSES = 4;

/** The tenants a search reads rows of, and the key index scopes it asks (null: no index). */
interface Reads {
  tenants: string[];
  keyScopes: string[] | null;
}

/**
 * The matching engine (docs/api.md §5). A request of any size costs at most three queries:
 * prefix lengths present (only when an address is searched), all exact keys at once, and
 * the within-ranges of queried networks. Under load, the key lookups of concurrent single
 * searches are merged into shared queries (SearchRepository).
 */
@Injectable()
export class SearchService {
  private readonly valuesSearched: Counter<'type'>;
  private readonly verdicts: Counter<'result'>;
  private readonly latency: Histogram<'mode'>;

  constructor(
    private readonly repo: SearchRepository,
    metrics: MetricsService,
    private readonly detections: DetectionRecorder,
    private readonly keyIndex: SearchKeyIndex,
    private readonly tenants: TenantDirectory,
  ) {
    this.valuesSearched = new Counter({
      name: 'indicium_search_values_total',
      help: 'Values searched, by detected type (invalid for values that are not indicators)',
      labelNames: ['type'],
      registers: [metrics.registry],
    });
    this.verdicts = new Counter({
      name: 'indicium_search_verdicts_total',
      help: 'Search verdicts',
      labelNames: ['result'],
      registers: [metrics.registry],
    });
    this.latency = new Histogram({
      name: 'indicium_search_duration_seconds',
      help: 'Search request processing time, single (GET) or bulk (POST)',
      labelNames: ['mode'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
  }

  async search(
    values: readonly unknown[],
    matchesLimit: number,
    mode: 'single' | 'bulk',
    principal?: Principal,
  ): Promise<SearchResultDto[]> {
    const stop = this.latency.startTimer({ mode });
    try {
      // One slicer for the whole request: its loops together give the event loop a turn every
      // few ms, so bulk work never holds /health/live (docs/api.md §8, work budget).
      const slicer = new Slicer();
      const results = await this.run(values, matchesLimit, slicer);
      await this.tally(results, principal, slicer);
      return results;
    } finally {
      stop();
    }
  }

  /** Counters, detection events and retro values: in memory only, written in batches. */
  private async tally(
    results: readonly SearchResultDto[],
    principal: Principal | undefined,
    slicer: Slicer,
  ): Promise<void> {
    // One counter update per label: a bulk answer has 100,000 results.
    const byType = new Map<string, number>();
    const byResult = new Map<string, number>();
    let recorded = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      const type = r.type ?? 'invalid';
      byType.set(type, (byType.get(type) ?? 0) + 1);
      byResult.set(r.result, (byResult.get(r.result) ?? 0) + 1);
      if (slicer.due(i)) {
        this.detections.record(principal, results.slice(recorded, i + 1));
        recorded = i + 1;
        await slicer.pause();
      }
    }
    for (const [type, n] of byType) this.valuesSearched.inc({ type }, n);
    for (const [result, n] of byResult) this.verdicts.inc({ result }, n);
    this.detections.record(principal, recorded === 0 ? results : results.slice(recorded));
  }

  /**
   * The CIDR prefix lengths to build containment keys for: none when no value is an address;
   * every IPv4 length for a few IPv4 addresses (up to 32 index probes each beat a round trip
   * to ask which lengths exist — the common single lookup); otherwise the lengths present.
   */
  private async prefixLengthsFor(
    subjects: readonly Subject[],
    reads: Reads,
    slicer: Slicer,
  ): Promise<PrefixLengths> {
    let v4 = 0;
    let v6 = 0;
    for (let i = 0; i < subjects.length; i++) {
      const family = containmentFamily(subjects[i].type, subjects[i].value);
      if (family === 4) v4++;
      else if (family === 6) v6++;
      if (slicer.due(i)) await slicer.pause();
    }
    if (v4 === 0 && v6 === 0) return NO_LENGTHS;
    if (reads.keyScopes) return this.keyIndex.prefixLengths(reads.keyScopes);
    if (v6 === 0 && v4 <= FEW_ADDRESSES) return ALL_IPV4_LENGTHS;
    return this.repo.prefixLengths(reads.tenants);
  }

  /**
   * What the search reads: its own tenant, and ancestors' shared suppliers (row-level security
   * admits only those it subscribed to). With the key index loaded, only the key scopes that
   * hold any key, so a tenant that reads nothing shared runs exactly the single-tenant plan.
   */
  private readsOf(tenant: string): Reads {
    const ancestors = this.tenants.ancestorsOf(tenant);
    if (!this.keyIndex.ready) return { tenants: [tenant, ...ancestors], keyScopes: null };
    const keyScopes = this.keyIndex.scopesOf(tenant, ancestors);
    const tenants = new Set(keyScopes.map((s) => (s.startsWith('shared:') ? s.slice(7) : s)));
    return { tenants: [...tenants], keyScopes };
  }

  private async run(
    values: readonly unknown[],
    matchesLimit: number,
    slicer: Slicer,
  ): Promise<SearchResultDto[]> {
    const { subjects, perValue } = await canonicalise(values, slicer);
    const reads = this.readsOf(requireTenant());
    const lens = await this.prefixLengthsFor(subjects, reads, slicer);
    // With the key index loaded, only keys it may hold go to Postgres (docs/api.md §5).
    const loadedIndex = reads.keyScopes ? this.keyIndex.scoped(reads.keyScopes) : null;
    const plan = await planLookups(subjects, lens, loadedIndex, slicer);
    const [keyRows, withinRows] = await Promise.all([
      this.repo.findByKeys(plan.keys.values, plan.keys.types, reads.tenants),
      this.repo.findWithin(plan.withinNets, matchesLimit + 1, reads.tenants),
    ]);
    loadedIndex?.count(plan.keys.values.length, plan.misses, confirmedKeys(keyRows));
    for (const row of keyRows) plan.keys.deliver(row.ord - 1, row);
    for (const row of withinRows)
      plan.withinSubjects[row.ord - 1].hits.push({ row, matchedBy: 'within' });
    return verdicts(values, perValue, matchesLimit, slicer);
  }
}

/**
 * The exact keys of a search, each once (deduplicated per type), and which subjects look each
 * one up and how. A key's uses are a list linked through flat arrays, not an array and an
 * object per key: a bulk request plans tens of thousands of keys, and those allocations were
 * among its costliest lines (bulk values/s +10-20% without them).
 */
class KeyTable {
  /** Key ordinal → value and type: the arrays the key query takes. */
  readonly values: string[] = [];
  readonly types: IndicatorType[] = [];
  private readonly ordinals = new Map<IndicatorType, Map<string, number>>();
  /** Key ordinal → its first and last use (-1: none yet). */
  private readonly firstUse: number[] = [];
  private readonly lastUse: number[] = [];
  /** Use → the next use of the same key (-1: the last), who uses it and how. */
  private readonly nextUse: number[] = [];
  private readonly useSubject: Subject[] = [];
  private readonly useMatchedBy: MatchedBy[] = [];

  /** Records that `subject` looks `key` up. */
  add(key: LookupKey, subject: Subject): void {
    const k = this.ordinalOf(key.type, key.value);
    const u = this.useSubject.length;
    this.useSubject.push(subject);
    this.useMatchedBy.push(key.matchedBy);
    this.nextUse.push(-1);
    if (this.firstUse[k] < 0) this.firstUse[k] = u;
    else this.nextUse[this.lastUse[k]] = u;
    this.lastUse[k] = u;
  }

  /** Gives `row`, found for key ordinal `k`, to every subject that looked that key up. */
  deliver(k: number, row: MatchRow): void {
    for (let u = this.firstUse[k]; u >= 0; u = this.nextUse[u]) {
      this.useSubject[u].hits.push({ row, matchedBy: this.useMatchedBy[u] });
    }
  }

  /** A Map per type: no concatenated key strings to hash. */
  private ordinalOf(type: IndicatorType, value: string): number {
    let ofType = this.ordinals.get(type);
    if (!ofType) this.ordinals.set(type, (ofType = new Map<string, number>()));
    let k = ofType.get(value);
    if (k === undefined) {
      k = this.values.length;
      ofType.set(value, k);
      this.values.push(value);
      this.types.push(type);
      this.firstUse.push(-1);
      this.lastUse.push(-1);
    }
    return k;
  }
}

/** The lookups of a search: exact keys and the networks to look inside. */
interface LookupPlan {
  keys: KeyTable;
  withinNets: string[];
  withinSubjects: Subject[];
  /** Keys the key index ruled out. */
  misses: number;
}

async function planLookups(
  subjects: readonly Subject[],
  lens: PrefixLengths,
  loadedIndex: ScopedKeys | null,
  slicer: Slicer,
): Promise<LookupPlan> {
  const plan: LookupPlan = { keys: new KeyTable(), withinNets: [], withinSubjects: [], misses: 0 };
  for (let j = 0; j < subjects.length; j++) {
    const s = subjects[j];
    const { keys, within } = planValue(s.type, s.value, lens);
    for (const key of keys) {
      if (loadedIndex === null || loadedIndex.mayHold(key.type, key.value)) plan.keys.add(key, s);
      else plan.misses++;
    }
    if (within) {
      plan.withinNets.push(within);
      plan.withinSubjects.push(s);
    }
    if (slicer.due(j)) await slicer.pause();
  }
  return plan;
}

/** Distinct keys that found rows. */
function confirmedKeys(rows: readonly MatchRow[]): number {
  return new Set(rows.map((r) => r.ord)).size;
}
