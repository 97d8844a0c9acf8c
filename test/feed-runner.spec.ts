import { FeedServer } from './support/feed-server';
import { NoValidEntriesError } from '../src/common/errors/domain-errors';
import type {
  IndicatorWriter,
  WriteRequest,
  WriteResult,
} from '../src/suppliers/indicators/indicator-writer';
import type { FeedRow } from '../src/feeds/feeds.repository';
import { FeedRunner, type RunEnvironment } from '../src/feeds/feed-runner';

/**
 * The feed runner's branches below the database: a real HTTP feed server on loopback, and in
 * place of the indicator writer (tested with Postgres in test/indicator-writer.e2e.spec.ts) a
 * thin one that consumes the entries as the real one does and answers what it is told.
 */
class RecordingWriter {
  readonly requests: Array<{ req: WriteRequest; entries: unknown[]; removals: unknown[] }> = [];
  /** What the next write answers: a result, or an error to throw after reading the entries. */
  answer: (entries: unknown[]) => Partial<WriteResult> | Error = (entries) => ({
    created: entries.length,
  });

  async write(req: WriteRequest): Promise<WriteResult> {
    const entries: unknown[] = [];
    for await (const e of req.entries) entries.push(e);
    // Read after the last entry, as the writer does: merge removals fill while streaming.
    const removals = [...(req.removals ?? [])];
    this.requests.push({ req, entries, removals });
    const a = this.answer(entries);
    if (a instanceof Error) throw a;
    return {
      processed: entries.length,
      created: 0,
      updated: 0,
      removed: removals.length,
      failed: [],
      ...a,
    };
  }
}

const ctx = { principal: { type: 'user', name: 'admin' }, ip: '127.0.0.1' } as never;

function feedRow(url: string, extra: Partial<FeedRow> = {}): FeedRow {
  return {
    url,
    format: 'text',
    mode: 'replace',
    intervalMinutes: 60,
    enabled: true,
    authType: 'none',
    credentials: null,
    csv: null,
    taxii: null,
    tlsVerify: true,
    caCertificate: null,
    supplierId: 'f0000000-0000-4000-8000-000000000001',
    supplierName: 'Feed',
    validators: {},
    cursor: {},
    running: true,
    nextRunAt: new Date(),
    lastRunAt: null,
    lastSuccessAt: null,
    lastOutcome: null,
    lastError: null,
    lastCounts: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    configStamp: '',
    ...extra,
  };
}

describe('FeedRunner', () => {
  let server: FeedServer;
  let writer: RecordingWriter;
  let runner: FeedRunner;
  const env = (signal: AbortSignal = AbortSignal.timeout(10_000)): RunEnvironment => ({
    signal,
    allowPrivateNetworks: true,
    ctx,
  });

  beforeAll(async () => {
    server = await new FeedServer().start();
    server.static('/list.txt', '198.51.100.7\nnot an indicator at all\nbad.example\n');
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    writer = new RecordingWriter();
    runner = new FeedRunner(writer as unknown as IndicatorWriter);
  });

  it('applies a text feed in replace mode, saving its validators; rejects are tallied by the writer', async () => {
    writer.answer = (entries) => ({
      created: entries.length - 1,
      failed: [{ index: 1, indicator: 'not an indicator at all', reason: 'not a known type' }],
    });
    const run = await runner.run(feedRow(server.url('/list.txt')), env());
    expect(run).toMatchObject({
      outcome: 'applied',
      error: null,
      counts: { fetched: 3, created: 2, updated: 0, removed: 0, rejected: 1 },
      rejectedSample: [{ indicator: 'not an indicator at all', reason: 'not a known type' }],
      validators: { etag: expect.stringMatching(/^"/) },
    });
    expect(writer.requests).toHaveLength(1);
    expect(writer.requests[0].req).toMatchObject({ supplierName: 'Feed', mode: 'replace' });
    expect(writer.requests[0].req.audit).toMatchObject({ action: 'feed.run' });
  });

  it('sends the saved ETag and, on 304, writes nothing', async () => {
    const first = await runner.run(feedRow(server.url('/list.txt')), env());
    const again = await runner.run(
      feedRow(server.url('/list.txt'), { validators: first.validators ?? {} }),
      env(),
    );
    expect(again).toMatchObject({ outcome: 'not_modified', error: null });
    expect(server.requests.at(-1)!.headers['if-none-match']).toBe(first.validators!.etag);
    expect(writer.requests).toHaveLength(1);
  });

  it('a write refused for having no valid entry fails the run with its failures', async () => {
    writer.answer = () =>
      new NoValidEntriesError([{ index: 0, indicator: 'x', reason: 'not a known type' }]);
    const run = await runner.run(feedRow(server.url('/list.txt')), env());
    expect(run.outcome).toBe('failed');
    expect(run.error).toMatch(/No entry is valid \(1 failed\)/);
    expect(run.rejectedSample).toEqual([{ indicator: 'x', reason: 'not a known type' }]);
    expect(run.validators).toBeUndefined();
  });

  it('an abort fails the run with the abort reason, not the error it caused', async () => {
    const abort = new AbortController();
    writer.answer = () => {
      abort.abort(new Error('the run took longer than its timeout'));
      return new Error('statement cancelled');
    };
    const run = await runner.run(feedRow(server.url('/list.txt')), env(abort.signal));
    expect(run).toMatchObject({ outcome: 'failed', error: 'the run took longer than its timeout' });
  });

  it('an unreachable feed fails with what went wrong, never a credential', async () => {
    const run = await runner.run(
      feedRow(server.url('/missing.txt'), {
        authType: 'basic',
        credentials: { username: 'u', password: 'hunter2-secret' },
      }),
      env(),
    );
    expect(run.outcome).toBe('failed');
    expect(run.error).toMatch(/404/);
    expect(run.error).not.toMatch(/hunter2/);
    expect(server.requests.at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from('u:hunter2-secret').toString('base64')}`,
    );
  });

  it('merge mode: a STIX revocation becomes a second write that removes, after the entries', async () => {
    server.static(
      '/bundle.json',
      JSON.stringify({
        type: 'bundle',
        id: 'bundle--1',
        objects: [
          {
            type: 'indicator',
            id: 'indicator--1',
            pattern_type: 'stix',
            pattern: "[domain-name:value = 'c2.example']",
            valid_from: '2026-11-01T00:00:00Z',
          },
          {
            type: 'indicator',
            id: 'indicator--2',
            pattern_type: 'stix',
            revoked: true,
            pattern: "[url:value = 'http://old.example/']",
            valid_from: '2026-11-01T00:00:00Z',
          },
        ],
      }),
      'application/json',
    );
    const run = await runner.run(
      feedRow(server.url('/bundle.json'), { format: 'stix21', mode: 'merge' }),
      env(),
    );
    expect(run).toMatchObject({
      outcome: 'applied',
      counts: { fetched: 2, created: 1, removed: 1 },
    });
    expect(writer.requests.map((r) => [r.req.mode, r.entries.length, r.removals])).toEqual([
      ['upsert', 1, []],
      ['upsert', 0, [{ indicator: 'http://old.example/', type: 'url' }]],
    ]);
    expect(writer.requests[0].req.ownContextFields?.has('stixId')).toBe(true);
  });

  it('replace mode drops revocations: the new set simply lacks them', async () => {
    const run = await runner.run(
      feedRow(server.url('/bundle.json'), { format: 'stix21', mode: 'replace' }),
      env(),
    );
    expect(run.counts).toMatchObject({ fetched: 2, created: 1, removed: 0 });
    expect(writer.requests).toHaveLength(1);
  });

  describe('TAXII 2.1 paging', () => {
    const indicator = (n: number) => ({
      type: 'indicator',
      id: `indicator--${n}`,
      pattern_type: 'stix',
      pattern: `[ipv4-addr:value = '203.0.113.${n}']`,
      valid_from: '2026-11-01T00:00:00Z',
    });
    const page = (objects: object[], envelope: object) => JSON.stringify({ objects, ...envelope });

    it('follows next, then saves X-TAXII-Date-Added-Last as the cursor', async () => {
      server.routes.set('/taxii/collections/c1/objects/', (req, res) => {
        const next = new URL(req.url!, 'http://x').searchParams.get('next');
        const last = next ? '2026-11-02T00:00:00.000Z' : '2026-11-01T00:00:00.000Z';
        res.writeHead(200, {
          'Content-Type': 'application/taxii+json;version=2.1',
          'X-TAXII-Date-Added-Last': last,
        });
        res.end(
          next
            ? page([indicator(2)], { more: false })
            : page([indicator(1)], { more: true, next: 'p2' }),
        );
      });
      const run = await runner.run(
        feedRow(server.url('/taxii/'), {
          format: 'taxii21',
          mode: 'merge',
          taxii: { collectionId: 'c1' },
        }),
        env(),
      );
      expect(run).toMatchObject({
        outcome: 'applied',
        counts: { fetched: 2, created: 2 },
        cursor: { addedAfter: '2026-11-02T00:00:00.000Z' },
      });
      const asked = server.requests.filter((r) => r.path === '/taxii/collections/c1/objects/');
      expect(asked.map((r) => r.headers.accept)).toEqual([
        'application/taxii+json;version=2.1',
        'application/taxii+json;version=2.1',
      ]);
    });

    it('a server that says more but gives neither next nor a date fails the run', async () => {
      server.routes.set('/taxii/collections/c2/objects/', (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/taxii+json;version=2.1' });
        res.end(page([indicator(3)], { more: true }));
      });
      const run = await runner.run(
        feedRow(server.url('/taxii/'), {
          format: 'taxii21',
          mode: 'merge',
          taxii: { collectionId: 'c2' },
        }),
        env(),
      );
      expect(run.outcome).toBe('failed');
      expect(run.error).toMatch(/says "more" but gives neither "next" nor X-TAXII-Date-Added-Last/);
      expect(run.cursor).toBeUndefined();
    });
  });

  it('MISP: only events newer than the cursor are fetched, and the newest becomes the cursor', async () => {
    const old = 'a1a2c3d4-0000-4000-8000-000000000001';
    const fresh = 'b1a2c3d4-0000-4000-8000-000000000002';
    server.static(
      '/misp/manifest.json',
      JSON.stringify({ [old]: { timestamp: '1700000100' }, [fresh]: { timestamp: '1700000200' } }),
      'application/json',
    );
    server.static(
      `/misp/${fresh}.json`,
      JSON.stringify({
        Event: {
          uuid: fresh,
          info: 'wave',
          Attribute: [
            { type: 'domain', value: 'phish.example', to_ids: true },
            { type: 'sha256', value: 'c'.repeat(64), to_ids: true, deleted: true },
          ],
        },
      }),
      'application/json',
    );
    const run = await runner.run(
      feedRow(server.url('/misp/'), {
        format: 'misp',
        mode: 'merge',
        cursor: { eventTimestamp: 1700000100 },
      }),
      env(),
    );
    expect(run).toMatchObject({
      outcome: 'applied',
      counts: { fetched: 2, created: 1, removed: 1 },
      cursor: { eventTimestamp: 1700000200 },
    });
    const paths = server.requests.map((r) => r.path).filter((p) => p.startsWith('/misp/'));
    expect(paths).toEqual(['/misp/manifest.json', `/misp/${fresh}.json`]);
  });
});
