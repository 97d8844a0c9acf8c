import type { AuditContext } from '../src/audit/audit-context';
import { IndicatorWriter, WriteRequest } from '../src/suppliers/indicators/indicator-writer';
import { NoValidEntriesError } from '../src/common/errors/domain-errors';
import { UPSERT_BATCH_ROWS } from '../src/suppliers/indicators/write-run';
import { createTestApp, TestApp } from './support/test-app';
import { DEFAULT_TENANT_ID, inTenant } from '../src/database/tenant-context';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

/** The one writer path (feeds call it directly): replace, removals, abort, all-or-nothing. */
describe('IndicatorWriter', () => {
  let t: TestApp;
  let h: ReturnType<typeof threatIntel>;
  let writer: IndicatorWriter;
  const ctx: AuditContext = {
    actorType: 'anonymous',
    actorId: null,
    actorName: 'feed-runner',
    ip: null,
    userAgent: null,
    requestId: null,
  };

  beforeAll(async () => {
    t = await createTestApp();
    h = threatIntel(t);
    // Below HTTP, as a request of the default tenant would call it.
    const w = t.app.get(IndicatorWriter);
    writer = {
      write: (...args: Parameters<IndicatorWriter['write']>) =>
        inTenant(DEFAULT_TENANT_ID, () => w.write(...args)),
    } as IndicatorWriter;
    await h.createTag('C2', { weight: 5 });
  });
  afterAll(() => t.close());

  async function* from(entries: unknown[]): AsyncGenerator<unknown> {
    for (const e of entries) yield await Promise.resolve(e);
  }

  function request(supplierName: string, extra: Partial<WriteRequest>): WriteRequest {
    return {
      supplierName,
      entries: from([]),
      mode: 'upsert',
      ctx,
      audit: { action: 'feed.run', details: { feed: 'test' } },
      ...extra,
    };
  }

  async function values(supplier: string): Promise<string[]> {
    return (await h.listAll(supplier, { includeExpired: 'true' })).map((i) => i.indicator).sort();
  }

  /** Many valid md5 entries, enough to flush at least one batch before the end. */
  function md5s(n: number, from = 0): Array<{ indicator: string }> {
    return Array.from({ length: n }, (_, i) => ({
      indicator: (from + i).toString(16).padStart(32, '0'),
    }));
  }

  it('replace: keeps what the run sent, removes the rest, in one audited transaction', async () => {
    await h.createSupplier('ReplaceFeed');
    await h
      .upload('ReplaceFeed', [
        { indicator: 'a.example', tags: ['C2'] },
        { indicator: 'b.example', confidence: 10 },
        { indicator: '192.0.2.1' },
      ])
      .expect(200);

    const result = await writer.write(
      request('ReplaceFeed', {
        mode: 'replace',
        entries: from([
          { indicator: 'B.example.', confidence: 70 },
          { indicator: 'c.example' },
          { indicator: 'not an indicator' },
        ]),
      }),
    );
    expect(result).toEqual({
      processed: 3,
      created: 1,
      updated: 1,
      removed: 2,
      failed: [{ index: 2, indicator: 'not an indicator', reason: expect.any(String) }],
    });
    const items = await h.listAll('ReplaceFeed');
    expect(items.map((i) => [i.indicator, i.confidence]).sort()).toEqual([
      ['b.example', 70],
      ['c.example', null],
    ]);
    expect((await h.supplier('ReplaceFeed')).indicatorCount).toBe(2);
    const [record] = await h.auditActions('feed.run');
    expect(record).toMatchObject({
      entityType: 'supplier',
      entityName: 'ReplaceFeed',
      newValue: { processed: 3, created: 1, updated: 1, removed: 2, failed: 1, feed: 'test' },
    });
  });

  it('replace across several batches keeps every key the run sent', async () => {
    await h.createSupplier('BigReplace');
    const first = md5s(UPSERT_BATCH_ROWS + 500);
    await writer.write(request('BigReplace', { mode: 'replace', entries: from(first) }));
    // Every other old key again, plus new ones: the old keys not sent go.
    const again = first.filter((_, i) => i % 2 === 0);
    const fresh = md5s(300, 1_000_000);
    const result = await writer.write(
      request('BigReplace', { mode: 'replace', entries: from([...again, ...fresh]) }),
    );
    expect(result).toMatchObject({
      processed: again.length + fresh.length,
      created: fresh.length,
      updated: again.length,
      removed: first.length - again.length,
      failed: [],
    });
    const expected = [...again, ...fresh].map((e) => e.indicator).sort();
    expect(await values('BigReplace')).toEqual(expected);
    expect((await h.supplier('BigReplace')).indicatorCount).toBe(expected.length);
  });

  it('removals apply in the same transaction, after the entries: a removal wins', async () => {
    await h.createSupplier('MergeFeed');
    await h
      .upload('MergeFeed', [{ indicator: 'gone.example' }, { indicator: 'stays.example' }])
      .expect(200);
    // Filled while the entries stream, as a feed parser learns revocations.
    const removals: WriteRequest['removals'] & object = [];
    async function* entries(): AsyncGenerator<unknown> {
      yield await Promise.resolve({ indicator: 'revoked.example', confidence: 5 });
      removals.push(
        { indicator: 'GONE.example' },
        { indicator: 'revoked.example', type: 'domain' },
      );
      removals.push({ indicator: 'never.example' }, { indicator: 'not an indicator' });
      yield { indicator: 'new.example' };
    }
    const result = await writer.write(request('MergeFeed', { entries: entries(), removals }));
    expect(result).toEqual({ processed: 2, created: 2, updated: 0, removed: 2, failed: [] });
    expect(await values('MergeFeed')).toEqual(['new.example', 'stays.example']);
    expect((await h.supplier('MergeFeed')).indicatorCount).toBe(2);
  });

  it('removals alone (no entries) still write and audit', async () => {
    await h.createSupplier('RevokeOnly');
    await h.upload('RevokeOnly', [{ indicator: 'r.example' }]).expect(200);
    const result = await writer.write(
      request('RevokeOnly', { removals: [{ indicator: 'r.example' }] }),
    );
    expect(result).toEqual({ processed: 0, created: 0, updated: 0, removed: 1, failed: [] });
    expect(await values('RevokeOnly')).toEqual([]);
    expect((await h.auditActions('feed.run')).some((r) => r.entityName === 'RevokeOnly')).toBe(
      true,
    );
  });

  it('readers see the old set while the write runs; an abort leaves nothing', async () => {
    await h.createSupplier('AbortRun');
    await h.upload('AbortRun', [{ indicator: 'old.example' }]).expect(200);
    const abort = new AbortController();
    let flushed!: () => void;
    const midway = new Promise<void>((resolve) => (flushed = resolve));
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    async function* entries(): AsyncGenerator<unknown> {
      yield* md5s(UPSERT_BATCH_ROWS + 1); // the batch is written when the next entry is asked for
      flushed();
      await paused;
      yield { indicator: 'late.example' };
    }
    const run = writer.write(
      request('AbortRun', { mode: 'replace', entries: entries(), signal: abort.signal }),
    );
    await midway;
    expect(await values('AbortRun')).toEqual(['old.example']);
    abort.abort(new Error('feed timed out'));
    resume();
    await expect(run).rejects.toThrow('feed timed out');
    expect(await values('AbortRun')).toEqual(['old.example']);
    expect((await h.supplier('AbortRun')).indicatorCount).toBe(1);
    expect((await h.auditActions('feed.run')).some((r) => r.entityName === 'AbortRun')).toBe(false);
  });

  it('an error thrown by the entries source rolls back what was already written', async () => {
    await h.createSupplier('BrokenSource');
    async function* entries(): AsyncGenerator<unknown> {
      yield* md5s(UPSERT_BATCH_ROWS + 10);
      await Promise.resolve();
      throw new Error('connection to the feed lost');
    }
    await expect(
      writer.write(request('BrokenSource', { mode: 'replace', entries: entries() })),
    ).rejects.toThrow('connection to the feed lost');
    expect(await values('BrokenSource')).toEqual([]);
    expect((await h.supplier('BrokenSource')).indicatorCount).toBe(0);
  });

  it('entries but none valid: refused, and replace removes nothing', async () => {
    await h.createSupplier('AllInvalid');
    await h.upload('AllInvalid', [{ indicator: 'x.example' }]).expect(200);
    const run = writer.write(
      request('AllInvalid', { mode: 'replace', entries: from([{ indicator: '' }, 42]) }),
    );
    await expect(run).rejects.toBeInstanceOf(NoValidEntriesError);
    expect(await values('AllInvalid')).toEqual(['x.example']);
  });

  it('a tag deleted after the write looked it up is dropped from the entries, not a failure', async () => {
    await h.createSupplier('TagRace');
    await h.createTag('Doomed');
    async function* entries(): AsyncGenerator<unknown> {
      // The write has read the tag ids; no transaction is open yet, so the delete goes through.
      await asUser(t, h.admin).delete('/api/v1/tags/doomed').expect(204);
      yield { indicator: 'raced.example', tags: ['DOOMED', 'C2'] };
    }
    const result = await writer.write(request('TagRace', { entries: entries() }));
    expect(result).toEqual({ processed: 1, created: 1, updated: 0, removed: 0, failed: [] });
    const [item] = await h.listAll('TagRace');
    expect(item.tags).toEqual([{ name: 'C2', weight: 5 }]);
  });

  it('an unknown supplier is a 404 before any entry is read', async () => {
    let read = false;
    async function* entries(): AsyncGenerator<unknown> {
      read = true;
      yield await Promise.resolve({ indicator: 'a.example' });
    }
    await expect(writer.write(request('NoSuchSupplier', { entries: entries() }))).rejects.toThrow(
      'Supplier "NoSuchSupplier" does not exist',
    );
    expect(read).toBe(false);
  });
});
