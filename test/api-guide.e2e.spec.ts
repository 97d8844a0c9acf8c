import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeIndicator, type IndicatorType } from '../src/indicators';
import { createTestApp, TestApp } from './support/test-app';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

/**
 * docs/api.md teaches by example: the normalisation table of §3 (`in` → `stored`) and the
 * matching table of §5 (`indicator` ← `searched value`, with its `matchedBy`). Each example
 * must be what the code does, so the guide cannot drift from it.
 */

const GUIDE = readFileSync(join(__dirname, '..', 'docs', 'api.md'), 'utf8');

/** The data rows of the first table after `heading`, as cells. */
function tableRows(heading: string): string[][] {
  const start = GUIDE.indexOf(heading);
  if (start < 0) throw new Error(`docs/api.md has no "${heading}"`);
  const tableStart = GUIDE.indexOf('\n|', start) + 1;
  const tableEnd = GUIDE.indexOf('\n\n', tableStart);
  return GUIDE.slice(tableStart, tableEnd)
    .split('\n')
    .slice(2) // header and separator
    .map((row) =>
      row
        .replace(/^\| | \|$/g, '')
        .split(' | ')
        .map((c) => c.trim()),
    );
}

interface NormalisationExample {
  input: string;
  stored: string;
  storedType: IndicatorType;
}

function normalisationExamples(): NormalisationExample[] {
  return tableRows('### Indicator types and normalisation').flatMap(([typeCell, , examples]) => {
    const type = /^`([a-z0-9]+)`/.exec(typeCell)![1] as IndicatorType;
    return examples.split('; ').map((e) => {
      const m = /^`([^`]+)` → `([^`]+)`(?: \(`([a-z0-9]+)`\))?$/.exec(e);
      if (!m) throw new Error(`docs/api.md §3: cannot read the example "${e}"`);
      return { input: m[1], stored: m[2], storedType: (m[3] ?? type) as IndicatorType };
    });
  });
}

interface MatchExample {
  indicator: string;
  value: string;
  matchedBy: string;
  /** A value the same indicator must not match, from "(but not ← `…`)". */
  notValue?: string;
}

function matchExamples(): MatchExample[] {
  return tableRows('### Matching rules').flatMap(([, , matchedByCell, examples]) => {
    const matchedBy = /^`([a-z_]+)`$/.exec(matchedByCell)![1];
    const found = [...examples.matchAll(/`([^`]+)` ← `([^`]+)`(?: \(but not ← `([^`]+)`\))?/g)];
    if (found.length === 0) throw new Error(`docs/api.md §5: no example in "${examples}"`);
    return found.map((m) => ({ indicator: m[1], value: m[2], matchedBy, notValue: m[3] }));
  });
}

function canonical(value: string): string {
  const n = normalizeIndicator(value);
  if (!n.ok) throw new Error(`docs/api.md: "${value}" is not an indicator: ${n.reason}`);
  return n.value;
}

describe('docs/api.md §3 normalisation examples', () => {
  const examples = normalisationExamples();

  it('show the stored form of every indicator type', () => {
    expect(new Set(examples.map((e) => e.storedType))).toEqual(
      new Set(['ip', 'cidr', 'domain', 'url', 'md5', 'email']),
    );
  });

  it.each(examples)('$input is stored as $stored', (example) => {
    expect(normalizeIndicator(example.input)).toEqual({
      ok: true,
      type: example.storedType,
      value: example.stored,
    });
  });
});

describe('docs/api.md §5 matching examples', () => {
  const examples = matchExamples();
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;

  /** Each example's indicator in a supplier of its own, so its matches are told apart. */
  const supplierOf = (i: number): string => `Guide${i}`;

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    for (const [i, e] of examples.entries()) {
      await ti.createSupplier(supplierOf(i));
      const up = await ti.upload(supplierOf(i), [{ indicator: e.indicator }]);
      expect(up.body).toMatchObject({ created: 1, failed: [] });
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  it('cover every matchedBy', () => {
    expect(new Set(examples.map((e) => e.matchedBy))).toEqual(
      new Set(['exact', 'cidr', 'within', 'parent_domain', 'url_prefix', 'host']),
    );
  });

  it.each(examples.map((e, i) => ({ ...e, i })))(
    '$indicator ← $value ($matchedBy)',
    async ({ indicator, value, matchedBy, notValue, i }) => {
      const res = await asUser(t, ti.admin)
        .post('/api/v1/search')
        .send({ values: notValue ? [value, notValue] : [value] });
      expect(res.status).toBe(200);
      const own = (r: { matches: Array<{ supplier: string }> }) =>
        r.matches.filter((m) => m.supplier === supplierOf(i));
      expect(res.body.results[0].result).toBe('detected');
      expect(own(res.body.results[0])).toEqual([
        expect.objectContaining({ matchedBy, indicator: canonical(indicator) }),
      ]);
      if (notValue) expect(own(res.body.results[1])).toEqual([]);
    },
  );
});
