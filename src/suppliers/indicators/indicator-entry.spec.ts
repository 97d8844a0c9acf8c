import { rawIndicatorOf, validateEntry, EntryRules } from './indicator-entry';

const TAGS = new Map([
  ['PHISHING', '11111111-1111-4111-8111-111111111111'],
  ['C2', '22222222-2222-4222-8222-222222222222'],
]);
const rules: EntryRules = { forbidContext: false, tagId: (n) => TAGS.get(n) };
const fp: EntryRules = { ...rules, forbidContext: true };

function reason(raw: unknown, r: EntryRules = rules): string {
  const result = validateEntry(raw, r);
  if (result.ok) throw new Error(`expected a failure for ${JSON.stringify(raw)}`);
  return result.reason;
}

describe('validateEntry', () => {
  it('normalises the value, detects the type and fills defaults', () => {
    expect(validateEntry({ indicator: 'HTTP://www.Evil.COM:8080/a/./b/../c//d/' }, rules)).toEqual({
      ok: true,
      entry: {
        type: 'url',
        value: 'evil.com/a/c/d',
        context: '{}',
        confidence: null,
        firstSeen: null,
        lastSeen: null,
        expiresAt: null,
        tagIds: null,
      },
    });
    const cidr = validateEntry({ indicator: '10.1.2.3/8', type: 'cidr' }, rules);
    expect(cidr).toMatchObject({ ok: true, entry: { type: 'cidr', value: '10.0.0.0/8' } });
    const host = validateEntry({ indicator: '10.1.2.3/32', type: 'cidr' }, rules);
    expect(host).toMatchObject({ ok: true, entry: { type: 'ip', value: '10.1.2.3' } });
  });

  it('keeps context, confidence, timestamps and resolves tags case-insensitively', () => {
    const r = validateEntry(
      {
        indicator: 'evil.com',
        context: { threat: 'phishing', score: 7, active: true, 'kill-chain_phase': ['a', 'b'] },
        confidence: 80,
        firstSeen: '2026-01-01T00:00:00Z',
        lastSeen: '2026-01-02T03:04:05.678+02:00',
        expiresAt: '2030-01-01',
        tags: ['phishing', 'C2', 'Phishing'],
      },
      rules,
    );
    expect(r).toEqual({
      ok: true,
      entry: {
        type: 'domain',
        value: 'evil.com',
        context: JSON.stringify({
          threat: 'phishing',
          score: 7,
          active: true,
          'kill-chain_phase': ['a', 'b'],
        }),
        confidence: 80,
        firstSeen: '2026-01-01T00:00:00.000Z',
        lastSeen: '2026-01-02T01:04:05.678Z',
        expiresAt: '2030-01-01T00:00:00.000Z',
        tagIds: [TAGS.get('PHISHING'), TAGS.get('C2')],
      },
    });
    expect(validateEntry({ indicator: 'evil.com', tags: [] }, rules)).toMatchObject({
      ok: true,
      entry: { tagIds: [] },
    });
  });

  it.each([
    [null, 'entry must be a JSON object'],
    [['evil.com'], 'entry must be a JSON object'],
    ['evil.com', 'entry must be a JSON object'],
    [{}, 'indicator is required'],
    [{ indicator: 5 }, 'indicator must be a string'],
    [{ indicator: 'evil.com', severity: 'high' }, 'unknown field "severity"'],
    [{ indicator: 'evil.com', type: 'hostname' }, 'type must be one of'],
    [{ indicator: 'evil.com', type: 'ip' }, 'not a valid ip'],
    [{ indicator: 'not a value' }, 'whitespace'],
    [{ indicator: 'evil.com', context: 'x' }, 'context must be an object'],
    [{ indicator: 'evil.com', context: { Threat: 'x' } }, 'context field name "Threat"'],
    [{ indicator: 'evil.com', context: { _x: 'x' } }, 'context field name "_x"'],
    [{ indicator: 'evil.com', context: { a: { b: 1 } } }, 'context.a must be a string'],
    [{ indicator: 'evil.com', context: { a: [1] } }, 'context.a must be an array of strings'],
    [{ indicator: 'evil.com', context: { a: null } }, 'context.a must be a string'],
    [{ indicator: 'evil.com', context: { a: 'x'.repeat(4097) } }, 'longer than 4096'],
    [{ indicator: 'evil.com', confidence: 101 }, 'confidence must be an integer from 0 to 100'],
    [{ indicator: 'evil.com', confidence: 1.5 }, 'confidence must be an integer'],
    [{ indicator: 'evil.com', confidence: '50' }, 'confidence must be an integer'],
    [{ indicator: 'evil.com', firstSeen: 'yesterday' }, 'firstSeen must be an ISO 8601'],
    [{ indicator: 'evil.com', expiresAt: '2026-01-01T00:00:00' }, 'expiresAt must be an ISO 8601'],
    [{ indicator: 'evil.com', lastSeen: '2026-13-45T00:00:00Z' }, 'lastSeen must be an ISO 8601'],
    [{ indicator: 'evil.com', tags: 'PHISHING' }, 'tags must be an array'],
    [{ indicator: 'evil.com', tags: ['NOPE'] }, 'unknown tag "NOPE"'],
    [{ indicator: 'evil.com', tags: ['bad tag'] }, 'must match'],
  ])('rejects %j: %s', (raw, expected) => {
    expect(reason(raw)).toContain(expected);
  });

  it('accepts an importer’s own context names, and only those, beside the lowercase ones', () => {
    const feed: EntryRules = { ...rules, ownContextFields: new Set(['stixId']) };
    const entry = { indicator: 'evil.com', context: { stixId: 'indicator--a1', name: 'n' } };
    expect(validateEntry(entry, feed)).toMatchObject({
      ok: true,
      entry: { context: '{"stixId":"indicator--a1","name":"n"}' },
    });
    expect(reason(entry)).toContain('context field name "stixId"');
    expect(reason({ indicator: 'evil.com', context: { mispEvent: 'x' } }, feed)).toContain(
      'context field name "mispEvent"',
    );
  });

  it('refuses context for FalsePositive, but accepts none or an empty one', () => {
    expect(reason({ indicator: 'good.com', context: { a: 'b' } }, fp)).toBe(
      'FalsePositive indicators may not carry context',
    );
    expect(validateEntry({ indicator: 'good.com' }, fp).ok).toBe(true);
    expect(validateEntry({ indicator: 'good.com', context: {} }, fp).ok).toBe(true);
  });

  it('reports the raw indicator of a failed entry, cut to 256 characters', () => {
    expect(rawIndicatorOf({ indicator: 'x y' })).toBe('x y');
    expect(rawIndicatorOf({ indicator: 5 })).toBeNull();
    expect(rawIndicatorOf('evil.com')).toBeNull();
    expect(rawIndicatorOf({ indicator: 'a'.repeat(1000) })).toHaveLength(256);
  });
});
