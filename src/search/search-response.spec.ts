import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import type { SearchResultDto } from './dto/search.dto';
import { writeSearchResponse } from './search-response';

/** A response that keeps what is written and refuses every third write until it drains. */
function response(): Response & { text: () => string; writes: number } {
  const out: string[] = [];
  const res = Object.assign(new EventEmitter(), {
    destroyed: false,
    writes: 0,
    status: () => res,
    type: () => res,
    send: (s: string) => out.push(s),
    write: (s: string) => {
      out.push(s);
      res.writes++;
      if (res.writes % 3 !== 0) return true;
      setImmediate(() => res.emit('drain'));
      return false;
    },
    end: (s: string) => out.push(s),
    text: () => out.join(''),
  });
  return res as unknown as Response & { text: () => string; writes: number };
}

function results(count: number, valueOf: (i: number) => unknown): SearchResultDto[] {
  return Array.from({ length: count }, (_, i) => ({
    value: valueOf(i),
    type: 'url',
    normalized: `n${i}`,
    result: 'not_detected',
    matches: [],
    falsePositive: null,
    matchesTruncated: false,
  }));
}

describe('writeSearchResponse', () => {
  it.each([
    ['a small answer', results(3, (i) => `v${i}`)],
    ['many short results', results(10_000, (i) => `10.0.${i >> 8}.${i & 255}`)],
    [
      'long values, any JSON',
      results(5_000, (i) => (i % 7 ? 'x'.repeat(600) + i : { i, s: '"\u2028' })),
    ],
  ])('%s: byte for byte what JSON.stringify gives', async (_what, rs) => {
    const res = response();
    await writeSearchResponse(res, rs);
    expect(res.text()).toBe(JSON.stringify({ results: rs }));
  });

  it('writes a long answer in chunks of a few hundred KiB', async () => {
    const rs = results(5_000, (i) => 'x'.repeat(600) + i);
    const res = response();
    await writeSearchResponse(res, rs);
    const size = JSON.stringify({ results: rs }).length;
    expect(res.writes).toBeGreaterThanOrEqual(Math.floor(size / (256 * 1024)));
  });
});
