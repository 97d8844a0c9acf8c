import type { Slicer } from '../common/work-budget';
import { IndicatorType, normalizeIndicator } from '../indicators';
import type { MatchDto, SearchResultDto } from './dto/search.dto';
import type { MatchedBy } from './search-plan';
import type { MatchRow } from './search.repository';

/**
 * A search's values as subjects, and the verdicts assembled from what was found for them
 * (docs/api.md §5): pure, below the database and HTTP (verdicts.spec.ts).
 */

const RANK: Record<MatchedBy, number> = {
  exact: 0,
  cidr: 1,
  parent_domain: 1,
  url_prefix: 1,
  host: 2,
  within: 3,
};

/** A distinct canonical value of the request and everything found for it. */
export interface Subject {
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
  const match: MatchDto = {
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
  if (row.sharedBy !== null) match.sharedBy = row.sharedBy;
  return match;
}

function byRelevance(a: MatchDto, b: MatchDto): number {
  return (
    RANK[a.matchedBy] - RANK[b.matchedBy] ||
    b.confidence - a.confidence ||
    (a.supplier < b.supplier ? -1 : a.supplier > b.supplier ? 1 : 0) ||
    (a.indicator < b.indicator ? -1 : a.indicator > b.indicator ? 1 : 0)
  );
}

/** Canonicalises every value; duplicates in the input share one subject. */
export async function canonicalise(
  values: readonly unknown[],
  slicer: Slicer,
): Promise<{ subjects: Subject[]; perValue: Array<Subject | string> }> {
  const subjects = new Map<string, Subject>();
  const perValue: Array<Subject | string> = [];
  for (let i = 0; i < values.length; i++) {
    const raw = values[i];
    if (typeof raw !== 'string') {
      perValue.push('value must be a string');
    } else {
      const n = normalizeIndicator(raw);
      if (!n.ok) {
        perValue.push(n.reason);
      } else {
        const key = `${n.type}\u0000${n.value}`;
        let s = subjects.get(key);
        if (!s) subjects.set(key, (s = { type: n.type, value: n.value, hits: [] }));
        perValue.push(s);
      }
    }
    if (slicer.due(i)) await slicer.pause();
  }
  return { subjects: [...subjects.values()], perValue };
}

/**
 * Verdicts, in input order. Results are built as literals of one shape (no spreads): a bulk
 * answer is 100,000 of them, and object spreads were its costliest line.
 */
export async function verdicts(
  values: readonly unknown[],
  perValue: ReadonlyArray<Subject | string>,
  matchesLimit: number,
  slicer: Slicer,
): Promise<SearchResultDto[]> {
  const results: SearchResultDto[] = [];
  for (let i = 0; i < values.length; i++) {
    const raw = values[i];
    const s = perValue[i];
    if (typeof s === 'string') {
      results.push({
        value: raw,
        type: null,
        normalized: null,
        result: 'invalid',
        matches: [],
        falsePositive: null,
        matchesTruncated: false,
        reason: s,
      });
    } else {
      const v = (s.verdict ??= verdictOf(s, matchesLimit));
      results.push({
        value: raw,
        type: s.type,
        normalized: s.value,
        result: v.result,
        matches: v.matches,
        falsePositive: v.falsePositive,
        matchesTruncated: v.matchesTruncated,
      });
    }
    if (slicer.due(i)) await slicer.pause();
  }
  return results;
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
