import type { IndicatorEntry } from './indicator-entry';
import { UpsertBatch } from './upsert-batch';
import { uuid7 } from './uuid7';

function entry(value: string, tagIds: string[] | null = null): IndicatorEntry {
  return {
    type: 'domain',
    value,
    context: '{}',
    confidence: null,
    firstSeen: null,
    lastSeen: null,
    expiresAt: null,
    tagIds,
  };
}

describe('UpsertBatch', () => {
  it('keeps the last entry of a key repeated within the batch, in its first slot', () => {
    const b = new UpsertBatch();
    b.push(entry('a.example', ['t1']));
    b.push(entry('b.example'));
    b.push({ ...entry('a.example', ['t2']), confidence: 7 });
    expect(b.size).toBe(2);
    expect(b.value).toEqual(['a.example', 'b.example']);
    expect(b.confidence).toEqual([7, null]);
    expect(b.tagIds).toEqual([['t2'], null]);
  });

  it('splits off the keys an earlier batch may have written', () => {
    const seen = new Set<number>();
    const first = new UpsertBatch();
    first.push(entry('a.example'));
    first.push(entry('b.example'));
    expect(first.splitSeen(seen)).toBeNull();
    const second = new UpsertBatch();
    second.push(entry('c.example'));
    second.push(entry('a.example', ['t1']));
    second.push(entry('d.example'));
    const again = second.splitSeen(seen);
    expect(second.value).toEqual(['c.example', 'd.example']);
    expect(again?.value).toEqual(['a.example']);
    expect(again?.tagIds).toEqual([['t1']]);
  });

  it('names the tags it assigns that are not locked yet, and drops deleted ones', () => {
    const b = new UpsertBatch();
    b.push(entry('a.example', ['t1', 't2']));
    b.push(entry('b.example', ['t2', 't3']));
    b.push(entry('c.example'));
    expect(b.tagIdsOutside(new Set(['t2'])).sort()).toEqual(['t1', 't3']);
    b.dropTagIds(new Set(['t2']));
    expect(b.tagIds).toEqual([['t1'], ['t3'], null]);
  });

  it('encodes columns as array literals, an all-null column as NULL', () => {
    const b = new UpsertBatch();
    b.push(entry('a.example'));
    b.push({ ...entry('b"x.example'), confidence: 5 });
    const [type, value, context, confidence, firstSeen] = b.encodedColumns();
    expect(type).toBe('{"domain","domain"}');
    expect(value).toBe('{"a.example","b\\"x.example"}');
    expect(context).toBe('{"{}","{}"}');
    expect(confidence).toBe('{NULL,5}');
    expect(firstSeen).toBeNull();
  });
});

describe('uuid7', () => {
  it('is a version 7, variant 1 UUID whose first 48 bits are the milliseconds', () => {
    const ms = Date.UTC(2026, 10, 27, 12, 0, 0, 123);
    const id = uuid7(ms);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
  });

  it('orders by time and differs within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => uuid7(1_800_000_000_000));
    expect(new Set(ids).size).toBe(1000);
    expect(uuid7(1_800_000_000_001) > uuid7(1_800_000_000_000)).toBe(true);
  });
});
