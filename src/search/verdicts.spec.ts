import { Slicer } from '../common/work-budget';
import type { MatchedBy } from './search-plan';
import type { MatchRow } from './search.repository';
import { canonicalise, type Subject, verdicts } from './verdicts';

const UPDATED = new Date('2026-01-02T03:04:05.000Z');

/** A row as the search repository answers it; `over` sets what a case is about. */
function row(over: Partial<MatchRow> = {}): MatchRow {
  return {
    ord: 1,
    type: 'domain',
    value: 'evil.example',
    context: {},
    confidence: null,
    firstSeen: null,
    lastSeen: null,
    updatedAt: UPDATED,
    supplier: 'Feed',
    vendor: 'Acme',
    supplierConfidence: 50,
    actionableFields: [],
    falsePositive: false,
    tags: [],
    sharedBy: null,
    ...over,
  };
}

async function subjectsOf(values: unknown[]) {
  return canonicalise(values, new Slicer());
}

/** The verdicts of `values` once `found` gave the first subject its hits. */
async function judged(values: unknown[], found: Array<[MatchRow, MatchedBy]>, matchesLimit = 10) {
  const { subjects, perValue } = await subjectsOf(values);
  for (const [r, matchedBy] of found) subjects[0].hits.push({ row: r, matchedBy });
  return verdicts(values, perValue, matchesLimit, new Slicer());
}

describe('canonicalise', () => {
  it('gives equal canonical values one subject, and says why a value is not an indicator', async () => {
    const { subjects, perValue } = await subjectsOf([
      'Evil.Example',
      42,
      'evil.example.',
      'not an indicator at all',
      '10.0.0.1',
    ]);
    expect(subjects.map((s) => [s.type, s.value])).toEqual([
      ['domain', 'evil.example'],
      ['ip', '10.0.0.1'],
    ]);
    expect(perValue[0]).toBe(subjects[0]);
    expect(perValue[2]).toBe(subjects[0]);
    expect(perValue[1]).toBe('value must be a string');
    expect(typeof perValue[3]).toBe('string');
    expect((perValue[3] as string).length).toBeGreaterThan(0);
    expect(perValue[4]).toBe(subjects[1]);
  });
});

describe('verdicts', () => {
  it('answers every position in input order: invalid with its reason, clean as not_detected', async () => {
    const [clean, invalid] = await judged(['clean.example', 7], []);
    expect(clean).toEqual({
      value: 'clean.example',
      type: 'domain',
      normalized: 'clean.example',
      result: 'not_detected',
      matches: [],
      falsePositive: null,
      matchesTruncated: false,
    });
    expect(invalid).toEqual({
      value: 7,
      type: null,
      normalized: null,
      result: 'invalid',
      matches: [],
      falsePositive: null,
      matchesTruncated: false,
      reason: 'value must be a string',
    });
  });

  it('ranks matches: exact, then containment, then host, then within; then confidence, then supplier', async () => {
    const [r] = await judged(
      ['evil.example'],
      [
        [row({ supplier: 'Within', value: '10.0.0.0/8' }), 'within'],
        [row({ supplier: 'Host' }), 'host'],
        [row({ supplier: 'Parent', confidence: 99 }), 'parent_domain'],
        [row({ supplier: 'B' }), 'exact'],
        [row({ supplier: 'A' }), 'exact'],
        [row({ supplier: 'Sure', supplierConfidence: 90 }), 'exact'],
      ],
    );
    expect(r.result).toBe('detected');
    expect(r.matches.map((m) => [m.supplier, m.matchedBy, m.confidence])).toEqual([
      ['Sure', 'exact', 90],
      ['A', 'exact', 50],
      ['B', 'exact', 50],
      ['Parent', 'parent_domain', 99],
      ['Host', 'host', 50],
      ['Within', 'within', 50],
    ]);
  });

  it('a false-positive hit wins over every detection: no matches, the best false positive', async () => {
    const [r] = await judged(
      ['evil.example'],
      [
        [row({ supplier: 'Feed', supplierConfidence: 100 }), 'exact'],
        [
          row({ supplier: 'FalsePositive', falsePositive: true, value: 'example' }),
          'parent_domain',
        ],
        [row({ supplier: 'FalsePositive', falsePositive: true }), 'exact'],
      ],
    );
    expect(r.result).toBe('false_positive');
    expect(r.matches).toEqual([]);
    expect(r.matchesTruncated).toBe(false);
    expect(r.falsePositive).toMatchObject({
      supplier: 'FalsePositive',
      indicator: 'evil.example',
      matchedBy: 'exact',
    });
  });

  it('keeps the best matchesLimit matches and says it cut the rest', async () => {
    const found: Array<[MatchRow, MatchedBy]> = [10, 30, 20].map((c) => [
      row({ supplier: `S${c}`, confidence: c }),
      'exact',
    ]);
    const [r] = await judged(['evil.example'], found, 2);
    expect(r.matches.map((m) => m.supplier)).toEqual(['S30', 'S20']);
    expect(r.matchesTruncated).toBe(true);
    const [all] = await judged(['evil.example'], found, 3);
    expect(all.matchesTruncated).toBe(false);
  });

  it('a match: actionable holds only the actionable fields the context has; sharedBy only when shared; dates as ISO', async () => {
    const [r] = await judged(
      ['evil.example'],
      [
        [
          row({
            context: { family: 'Emotet', score: 7, note: 'x' },
            actionableFields: ['family', 'absent', 'score'],
            firstSeen: new Date('2025-05-06T00:00:00.000Z'),
            tags: [{ name: 'apt', weight: 3 }],
          }),
          'exact',
        ],
        [row({ supplier: 'Parent feed', sharedBy: 'mssp' }), 'exact'],
      ],
    );
    const [own, shared] = r.matches;
    expect(own).toEqual({
      supplier: 'Feed',
      vendor: 'Acme',
      indicator: 'evil.example',
      indicatorType: 'domain',
      matchedBy: 'exact',
      confidence: 50,
      context: { family: 'Emotet', score: 7, note: 'x' },
      actionable: { family: 'Emotet', score: 7 },
      tags: [{ name: 'apt', weight: 3 }],
      firstSeen: '2025-05-06T00:00:00.000Z',
      lastSeen: null,
      updatedAt: UPDATED.toISOString(),
    });
    expect(own).not.toHaveProperty('sharedBy');
    expect(shared.sharedBy).toBe('mssp');
  });

  it('positions holding one value share its verdict, assembled once', async () => {
    const values = ['evil.example', 'EVIL.example', 'evil.example'];
    const { subjects, perValue } = await subjectsOf(values);
    subjects[0].hits.push({ row: row(), matchedBy: 'exact' });
    const results = await verdicts(values, perValue, 10, new Slicer());
    expect(results.map((r) => r.value)).toEqual(values);
    expect(results[1].matches).toBe(results[0].matches);
    expect(results[2].matches).toBe(results[0].matches);
    expect((perValue[0] as Subject).verdict?.result).toBe('detected');
  });
});
