import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import type { Principal } from '../auth/principal';
import { DetectionRecorder } from '../detections/detection-recorder';
import { MetricsService } from '../health/metrics.service';
import { IndicatorType, normalizeIndicator } from '../indicators';
import { MatchDto, SearchResultDto } from './dto/search.dto';
import {
  ALL_IPV4_LENGTHS,
  containmentFamily,
  MatchedBy,
  PrefixLengths,
  planValue,
} from './search-plan';
import { SearchKeyIndex } from '../key-index/search-key-index';
import { MatchRow, SearchRepository } from './search.repository';

const NO_LENGTHS: PrefixLengths = { 4: [], 6: [] };
/** Up to this many IPv4 addresses are planned with every prefix length (ALL_IPV4_LENGTHS). */
const FEW_ADDRESSES = 4;
const RANK: Record<MatchedBy, number> = {
  exact: 0,
  cidr: 1,
  parent_domain: 1,
  url_prefix: 1,
  host: 2,
  within: 3,
};

/** A distinct canonical value of the request and everything found for it. */
interface Subject {
  type: IndicatorType;
  value: string;
  hits: Array<{ row: MatchRow; matchedBy: MatchedBy }>;
  /** Computed once, shared by every input position holding this value. */
  verdict?: Verdict;
}

type Verdict = Pick<SearchResultDto, 'result' | 'matches' | 'falsePositive' | 'matchesTruncated'>;

/** Most values are clean: one shared, immutable answer for all of them. */
const NOT_DETECTED: Verdict = Object.freeze({
  result: 'not_detected',
  matches: Object.freeze([]) as unknown as MatchDto[],
  falsePositive: null,
  matchesTruncated: false,
});

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function toMatch(row: MatchRow, matchedBy: MatchedBy): MatchDto {
  const actionable: Record<string, unknown> = {};
  for (const field of row.actionableFields) {
    if (Object.prototype.hasOwnProperty.call(row.context, field))
      actionable[field] = row.context[field];
  }
  return {
    supplier: row.supplier,
    vendor: row.vendor,
    indicator: row.value,
    indicatorType: row.type,
    matchedBy,
    confidence: row.confidence ?? row.supplierConfidence,
    context: row.context,
    actionable,
    tags: row.tags,
    firstSeen: iso(row.firstSeen),
    lastSeen: iso(row.lastSeen),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function byRelevance(a: MatchDto, b: MatchDto): number {
  return (
    RANK[a.matchedBy] - RANK[b.matchedBy] ||
    b.confidence - a.confidence ||
    (a.supplier < b.supplier ? -1 : a.supplier > b.supplier ? 1 : 0) ||
    (a.indicator < b.indicator ? -1 : a.indicator > b.indicator ? 1 : 0)
  );
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
      const results = await this.run(values, matchesLimit);
      // Tallied here, one counter update per label: a bulk answer has 100,000 results.
      const byType = new Map<string, number>();
      const byResult = new Map<string, number>();
      for (const r of results) {
        const type = r.type ?? 'invalid';
        byType.set(type, (byType.get(type) ?? 0) + 1);
        byResult.set(r.result, (byResult.get(r.result) ?? 0) + 1);
      }
      for (const [type, n] of byType) this.valuesSearched.inc({ type }, n);
      for (const [result, n] of byResult) this.verdicts.inc({ result }, n);
      // Counters, detection events and retro values: in memory only, written in batches.
      this.detections.record(principal, results);
      return results;
    } finally {
      stop();
    }
  }

  /**
   * The CIDR prefix lengths to build containment keys for: none when no value is an address;
   * every IPv4 length for a few IPv4 addresses (up to 32 index probes each beat a round trip
   * to ask which lengths exist — the common single lookup); otherwise the lengths present.
   */
  private async prefixLengthsFor(subjects: readonly Subject[]): Promise<PrefixLengths> {
    let v4 = 0;
    let v6 = 0;
    for (const s of subjects) {
      const family = containmentFamily(s.type, s.value);
      if (family === 4) v4++;
      else if (family === 6) v6++;
    }
    if (v4 === 0 && v6 === 0) return NO_LENGTHS;
    if (this.keyIndex.ready) return this.keyIndex.prefixLengths();
    if (v6 === 0 && v4 <= FEW_ADDRESSES) return ALL_IPV4_LENGTHS;
    return this.repo.prefixLengths();
  }

  private async run(values: readonly unknown[], matchesLimit: number): Promise<SearchResultDto[]> {
    // 1. Canonicalise; duplicates in the input share one subject.
    const subjects = new Map<string, Subject>();
    const perValue: Array<Subject | string> = values.map((raw) => {
      if (typeof raw !== 'string') return 'value must be a string';
      const n = normalizeIndicator(raw);
      if (!n.ok) return n.reason;
      const key = `${n.type}\u0000${n.value}`;
      let s = subjects.get(key);
      if (!s) subjects.set(key, (s = { type: n.type, value: n.value, hits: [] }));
      return s;
    });

    // 2. Plan: exact keys (deduplicated across subjects) and within-ranges.
    const distinct = [...subjects.values()];
    const lens = await this.prefixLengthsFor(distinct);
    // Keys deduplicated per type (a Map per type: no concatenated key strings to hash).
    const keyIndex = new Map<IndicatorType, Map<string, number>>();
    const keyValues: string[] = [];
    const keyTypes: string[] = [];
    // Who uses each key, as linked lists through flat arrays (no array or object per key:
    // 10,000 values plan ~40,000 keys). firstUse/lastUse per key, the rest per use.
    const firstUse: number[] = [];
    const lastUse: number[] = [];
    const useSubject: Subject[] = [];
    const useMatchedBy: MatchedBy[] = [];
    const nextUse: number[] = [];
    const withinNets: string[] = [];
    const withinSubjects: Subject[] = [];
    // With the key index loaded, only keys it may hold go to Postgres (docs/api.md §5).
    const index = this.keyIndex.ready ? this.keyIndex : null;
    let misses = 0;
    for (const s of distinct) {
      const plan = planValue(s.type, s.value, lens);
      for (const k of plan.keys) {
        if (index !== null && !index.mayHold(k.type, k.value)) {
          misses++;
          continue;
        }
        let ofType = keyIndex.get(k.type);
        if (!ofType) keyIndex.set(k.type, (ofType = new Map<string, number>()));
        let i = ofType.get(k.value);
        if (i === undefined) {
          i = keyValues.length;
          ofType.set(k.value, i);
          keyValues.push(k.value);
          keyTypes.push(k.type);
          firstUse.push(-1);
          lastUse.push(-1);
        }
        const u = useSubject.length;
        useSubject.push(s);
        useMatchedBy.push(k.matchedBy);
        nextUse.push(-1);
        if (firstUse[i] < 0) firstUse[i] = u;
        else nextUse[lastUse[i]] = u;
        lastUse[i] = u;
      }
      if (plan.within) {
        withinNets.push(plan.within);
        withinSubjects.push(s);
      }
    }

    // 3. Look up, set-based.
    const [keyRows, withinRows] = await Promise.all([
      this.repo.findByKeys(keyValues, keyTypes),
      this.repo.findWithin(withinNets, matchesLimit + 1),
    ]);
    if (index !== null) index.count(keyValues.length, misses, confirmedKeys(keyRows));
    for (const row of keyRows) {
      for (let u = firstUse[row.ord - 1]; u >= 0; u = nextUse[u]) {
        useSubject[u].hits.push({ row, matchedBy: useMatchedBy[u] });
      }
    }
    for (const row of withinRows)
      withinSubjects[row.ord - 1].hits.push({ row, matchedBy: 'within' });

    // 4. Verdicts, in input order. Results are built as literals of one shape (no spreads):
    // a bulk answer is 100,000 of them, and object spreads were its costliest line.
    return values.map((raw, i) => {
      const s = perValue[i];
      if (typeof s === 'string') {
        return {
          value: raw,
          type: null,
          normalized: null,
          result: 'invalid',
          matches: [],
          falsePositive: null,
          matchesTruncated: false,
          reason: s,
        };
      }
      const v = (s.verdict ??= verdictOf(s, matchesLimit));
      return {
        value: raw,
        type: s.type,
        normalized: s.value,
        result: v.result,
        matches: v.matches,
        falsePositive: v.falsePositive,
        matchesTruncated: v.matchesTruncated,
      };
    });
  }
}

/** Distinct keys that found rows. */
function confirmedKeys(rows: readonly MatchRow[]): number {
  return new Set(rows.map((r) => r.ord)).size;
}

function verdictOf(s: Subject, limit: number): Verdict {
  if (s.hits.length === 0) return NOT_DETECTED;
  const fps: MatchDto[] = [];
  const matches: MatchDto[] = [];
  for (const h of s.hits) (h.row.falsePositive ? fps : matches).push(toMatch(h.row, h.matchedBy));
  if (fps.length > 0) {
    fps.sort(byRelevance);
    return {
      result: 'false_positive',
      matches: [],
      falsePositive: fps[0],
      matchesTruncated: false,
    };
  }
  matches.sort(byRelevance);
  const truncated = matches.length > limit;
  return {
    result: 'detected',
    matches: truncated ? matches.slice(0, limit) : matches,
    falsePositive: null,
    matchesTruncated: truncated,
  };
}
