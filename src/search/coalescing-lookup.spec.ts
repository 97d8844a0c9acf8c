import { currentTenant, inTenant } from '../database/tenant-context';
import { CoalescingLookup } from './coalescing-lookup';

const A = '0b6a0e9e-5d1b-4e8e-9a43-0d3c7f0a2b11';
const B = '7d1c7a52-8a2e-4c55-b2a1-3f8c3c1d9e20';
/** Lookups run in a tenant, as every search does. */
const inA = <T>(fn: () => T): T => inTenant(A, fn);
/** A search that reads its own tenant only. */
const ONE = [A];

interface Row {
  ord: number;
  key: string;
}

/**
 * A key lookup over a fixed table that records each call and answers only when released, so
 * a test decides what is in flight. Rows come back in reverse key order, as a database may.
 */
function table(entries: Record<string, number>) {
  const calls: Array<{ values: string[]; release: () => void; fail: (e: Error) => void }> = [];
  const lookup = (values: string[], types: string[]): Promise<Row[]> =>
    new Promise<Row[]>((resolve, reject) => {
      const rows: Row[] = [];
      values.forEach((v, i) => {
        const key = `${types[i]}:${v}`;
        for (let n = 0; n < (entries[key] ?? 0); n++) rows.push({ ord: i + 1, key });
      });
      calls.push({ values, release: () => resolve(rows.reverse()), fail: reject });
    });
  return { calls, lookup };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescingLookup', () => {
  it('runs a lookup at once, alone, while a slot is free', async () => {
    const { calls, lookup } = table({ 'ip:1.1.1.1': 1 });
    const c = new CoalescingLookup(lookup, 2, 100);
    const p = inA(() => c.run(['1.1.1.1', '2.2.2.2'], ['ip', 'ip'], ONE));
    expect(calls.map((x) => x.values)).toEqual([['1.1.1.1', '2.2.2.2']]);
    calls[0].release();
    await expect(p).resolves.toEqual([{ ord: 1, key: 'ip:1.1.1.1' }]);
  });

  it('merges lookups that wait for a slot into one call and gives each its own rows and ords', async () => {
    const { calls, lookup } = table({ 'ip:a': 1, 'domain:b': 2, 'ip:c': 1, 'md5:d': 1 });
    const c = new CoalescingLookup(lookup, 1, 100);
    const first = inA(() => c.run(['a'], ['ip'], ONE));
    const second = inA(() => c.run(['x', 'b'], ['ip', 'domain'], ONE));
    const third = inA(() => c.run(['c'], ['ip'], ONE));
    const fourth = inA(() => c.run(['y', 'z', 'd'], ['ip', 'ip', 'md5'], ONE));
    expect(calls).toHaveLength(1);
    calls[0].release();
    await expect(first).resolves.toEqual([{ ord: 1, key: 'ip:a' }]);
    await tick();
    // The three that waited: one call with their keys in order.
    expect(calls).toHaveLength(2);
    expect(calls[1].values).toEqual(['x', 'b', 'c', 'y', 'z', 'd']);
    calls[1].release();
    await expect(second).resolves.toEqual([
      { ord: 2, key: 'domain:b' },
      { ord: 2, key: 'domain:b' },
    ]);
    await expect(third).resolves.toEqual([{ ord: 1, key: 'ip:c' }]);
    await expect(fourth).resolves.toEqual([{ ord: 3, key: 'md5:d' }]);
  });

  it('keeps merged calls within maxBatchKeys and runs larger lookups on their own', async () => {
    const { calls, lookup } = table({});
    const c = new CoalescingLookup(lookup, 1, 4);
    const all = [
      inA(() => c.run(['a'], ['ip'], ONE)),
      inA(() => c.run(['b', 'c'], ['ip', 'ip'], ONE)),
      inA(() => c.run(['d', 'e'], ['ip', 'ip'], ONE)),
      inA(() => c.run(['f'], ['ip'], ONE)),
    ];
    const big = inA(() => c.run(['1', '2', '3', '4', '5'], Array(5).fill('ip') as string[], ONE));
    // The big one did not wait for a slot.
    expect(calls.map((x) => x.values)).toEqual([['a'], ['1', '2', '3', '4', '5']]);
    calls[0].release();
    await tick();
    expect(calls[2].values).toEqual(['b', 'c', 'd', 'e']);
    calls[2].release();
    await tick();
    expect(calls[3].values).toEqual(['f']);
    calls[3].release();
    calls[1].release();
    await expect(Promise.all([...all, big])).resolves.toEqual([[], [], [], [], []]);
  });

  it('fails every lookup of a failed merged call, then carries on', async () => {
    const { calls, lookup } = table({ 'ip:ok': 1 });
    const c = new CoalescingLookup(lookup, 1, 100);
    const first = inA(() => c.run(['a'], ['ip'], ONE));
    const merged = [inA(() => c.run(['b'], ['ip'], ONE)), inA(() => c.run(['c'], ['ip'], ONE))];
    calls[0].release();
    await first;
    await tick();
    calls[1].fail(new Error('connection lost'));
    for (const p of merged) await expect(p).rejects.toThrow('connection lost');
    const after = inA(() => c.run(['ok'], ['ip'], ONE));
    expect(calls).toHaveLength(3);
    calls[2].release();
    await expect(after).resolves.toEqual([{ ord: 1, key: 'ip:ok' }]);
  });

  it('never merges lookups of two tenants, and runs each batch in its own tenant', async () => {
    const tenants: Array<string | undefined> = [];
    const { calls, lookup } = table({ 'ip:a': 1, 'ip:b': 1, 'ip:c': 1 });
    const c = new CoalescingLookup<Row>(
      (values, types) => {
        tenants.push(currentTenant());
        return lookup(values, types);
      },
      1,
      100,
    );
    const first = inA(() => c.run(['a'], ['ip'], ONE));
    const ofB = inTenant(B, () => c.run(['b'], ['ip'], [B]));
    const ofA = inA(() => c.run(['c'], ['ip'], ONE));
    await tick();
    calls[0].release();
    await tick();
    // The oldest waiting lookup is B's: it runs alone; A's next one is not merged into it.
    expect(calls.map((x) => x.values)).toEqual([['a'], ['b']]);
    calls[1].release();
    await tick();
    expect(calls.map((x) => x.values)).toEqual([['a'], ['b'], ['c']]);
    calls[2].release();
    expect((await Promise.all([first, ofB, ofA])).map((rows) => rows.map((r) => r.key))).toEqual([
      ['ip:a'],
      ['ip:b'],
      ['ip:c'],
    ]);
    expect(tenants).toEqual([A, B, A]);
  });

  it('merges only lookups that read the same tenants, and passes them on', async () => {
    const read: Array<readonly string[]> = [];
    const { calls, lookup } = table({ 'ip:a': 1, 'ip:b': 1, 'ip:c': 1 });
    const c = new CoalescingLookup<Row>(
      (values, types, tenants) => {
        read.push(tenants);
        return lookup(values, types);
      },
      1,
      100,
    );
    const first = inA(() => c.run(['a'], ['ip'], ONE));
    const withShared = inA(() => c.run(['b'], ['ip'], [A, B]));
    const own = inA(() => c.run(['c'], ['ip'], ONE));
    await tick();
    calls[0].release();
    await tick();
    expect(calls.map((x) => x.values)).toEqual([['a'], ['b']]);
    calls[1].release();
    await tick();
    calls[2].release();
    expect((await Promise.all([first, withShared, own])).map((r) => r[0].key)).toEqual([
      'ip:a',
      'ip:b',
      'ip:c',
    ]);
    expect(read).toEqual([[A], [A, B], [A]]);
  });
});
