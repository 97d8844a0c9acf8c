import { FeedServer } from './support/feed-server';
import { basic, createTestApp, TestApp } from './support/test-app';
import { threatIntel } from './support/threat-intel';
import { feedHelpers } from './support/feed-helpers';
import { asUser } from './api/client';

describe('Feeds: configuration, text and CSV, apply semantics, HTTP behaviour (docs/api.md §9)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;
  let f: ReturnType<typeof feedHelpers>;
  let server: FeedServer;

  beforeAll(async () => {
    t = await createTestApp({
      FEED_POLL_SECONDS: '1',
      FEED_ALLOW_PRIVATE_NETWORKS: 'true',
      FEED_RUN_TIMEOUT_SECONDS: '2',
    });
    ti = threatIntel(t);
    f = feedHelpers(t);
    server = await new FeedServer().start();
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  describe('configuration', () => {
    beforeAll(async () => {
      await ti.createSupplier('CfgFeed');
    });

    it('creates a feed with defaults; credentials are write-only and never audited', async () => {
      const res = await f.put('CfgFeed', {
        url: server.url('/never.txt'),
        format: 'text',
        enabled: false,
        auth: { type: 'basic', username: 'u', password: 's3cret-pass' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        url: server.url('/never.txt'),
        format: 'text',
        mode: 'replace',
        intervalMinutes: 60,
        enabled: false,
        auth: { type: 'basic', configured: true },
        tlsVerify: true,
        caCertificate: null,
        state: 'idle',
        lastRunAt: null,
        lastSuccessAt: null,
        lastOutcome: null,
        lastError: null,
        lastCounts: null,
        nextRunAt: null,
      });
      const got = await asUser(t, ti.admin).get('/api/v1/suppliers/cfgfeed/feed');
      expect(got.status).toBe(200);
      expect(got.body.auth).toEqual({ type: 'basic', configured: true });
      expect(JSON.stringify(got.body)).not.toContain('s3cret-pass');
      const audit = await ti.auditActions('feed.create');
      expect(audit[0]).toMatchObject({
        entityType: 'feed',
        entityName: 'CfgFeed',
        operation: 'create',
      });
      expect(JSON.stringify(audit)).not.toContain('s3cret-pass');
      expect((audit[0].newValue as { auth: unknown }).auth).toEqual({
        type: 'basic',
        configured: true,
      });
    });

    it('keeps stored credentials when only the same auth type is sent again; audits the update', async () => {
      const res = await f.put('CfgFeed', {
        url: server.url('/never.txt'),
        format: 'text',
        enabled: false,
        intervalMinutes: 5,
        auth: { type: 'basic' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        intervalMinutes: 5,
        auth: { type: 'basic', configured: true },
      });
      const audit = await ti.auditActions('feed.update');
      expect(audit[0]).toMatchObject({ operation: 'update', entityName: 'CfgFeed' });
      expect((audit[0].oldValue as { intervalMinutes: number }).intervalMinutes).toBe(60);
    });

    it.each([
      [
        { url: 'ftp://x.example/a', format: 'text' },
        'url scheme "ftp" is not allowed: use http or https',
      ],
      [{ url: 'not a url', format: 'text' }, 'url must be an absolute http or https URL'],
      [{ url: 'https://x.example/', format: 'rss' }, 'format must be one of the following values'],
      [
        { url: 'https://x.example/', format: 'text', intervalMinutes: 4 },
        'intervalMinutes must not be less than 5',
      ],
      [
        { url: 'https://x.example/', format: 'text', intervalMinutes: 10081 },
        'intervalMinutes must not be greater than 10080',
      ],
      [
        {
          url: 'https://x.example/',
          format: 'taxii21',
          mode: 'replace',
          taxii: { collectionId: 'c' },
        },
        'mode "replace" is not available for taxii21 feeds (merge only)',
      ],
      [
        { url: 'https://x.example/', format: 'taxii21' },
        'taxii.collectionId is required for taxii21 feeds',
      ],
      [
        { url: 'https://x.example/', format: 'csv', csv: { header: false, valueColumn: 'ioc' } },
        'csv.valueColumn names column "ioc" but csv.header is false: give a 0-based index',
      ],
      [
        { url: 'https://x.example/', format: 'csv', csv: { valueColumn: -1 } },
        'valueColumn must be a column name',
      ],
      [
        { url: 'https://x.example/', format: 'csv', csv: { contextColumns: { Bad: 1 } } },
        'contextColumns must map',
      ],
      [
        { url: 'https://x.example/', format: 'text', csv: {} },
        'csv applies only to csv feeds (format is text)',
      ],
      [
        { url: 'https://x.example/', format: 'text', auth: { type: 'bearer' } },
        'auth.token is required for auth.type "bearer"',
      ],
      [
        { url: 'https://x.example/', format: 'text', caCertificate: 'nope' },
        'caCertificate is not a PEM certificate',
      ],
      [{ url: 'https://x.example/', format: 'text', extra: 1 }, 'property extra should not exist'],
    ])('400 for %j', async (body, message) => {
      const res = await f.put('CfgFeed', body);
      expect(res.status).toBe(400);
      expect(String(res.body.message)).toContain(message);
    });

    it('404 for an unknown supplier or a supplier without a feed, 409 for built-ins', async () => {
      expect((await f.put('NoSuch', { url: 'https://x.example/', format: 'text' })).status).toBe(
        404,
      );
      await ti.createSupplier('NoFeed');
      const res = await asUser(t, ti.admin).get('/api/v1/suppliers/NoFeed/feed');
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({
        code: 'feed_not_found',
        message: 'Supplier "NoFeed" has no feed',
      });
      const builtIn = await f.put('InternalTI', { url: 'https://x.example/', format: 'text' });
      expect(builtIn.status).toBe(409);
      expect(builtIn.body).toMatchObject({
        code: 'built_in_immutable',
        message: 'Supplier "InternalTI" is built in and cannot have a feed',
      });
    });

    it('401 without credentials, 403 without the privilege', async () => {
      expect((await t.api().get('/api/v1/suppliers/CfgFeed/feed')).status).toBe(401);
      const analyst = await ti.createAnalyst('feed-analyst');
      const res = await asUser(t, analyst).get('/api/v1/suppliers/CfgFeed/feed');
      expect(res.status).toBe(403);
      const put = await asUser(t, analyst)
        .put('/api/v1/suppliers/CfgFeed/feed')
        .send({ url: 'https://x.example/', format: 'text' });
      expect(put.status).toBe(403);
    });

    it('lists every feed with its supplier, in name order, paged, credentials never shown', async () => {
      await ti.createSupplier('ListFeedB');
      await ti.createSupplier('ListFeedA');
      for (const name of ['ListFeedB', 'ListFeedA'])
        expect(
          (await f.put(name, { url: server.url('/l.txt'), format: 'text', enabled: false })).status,
        ).toBe(200);
      const all = await asUser(t, ti.admin).get('/api/v1/feeds').query({ limit: 1000 });
      expect(all.status).toBe(200);
      const names = (all.body.items as Array<{ supplier: string }>).map((i) => i.supplier);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['ListFeedA', 'ListFeedB']));
      expect(names).not.toContain('NoFeed');
      const a = all.body.items.find((i: { supplier: string }) => i.supplier === 'ListFeedA');
      const one = await asUser(t, ti.admin).get('/api/v1/suppliers/ListFeedA/feed');
      expect(a).toEqual({ supplier: 'ListFeedA', ...one.body });
      expect(JSON.stringify(all.body)).not.toContain('s3cret-pass');
      const first = await asUser(t, ti.admin).get('/api/v1/feeds').query({ limit: 1 });
      expect(first.body.items.map((i: { supplier: string }) => i.supplier)).toEqual([names[0]]);
      const second = await asUser(t, ti.admin)
        .get('/api/v1/feeds')
        .query({ limit: 1, cursor: first.body.nextCursor as string });
      expect(second.body.items.map((i: { supplier: string }) => i.supplier)).toEqual([names[1]]);
      expect(
        (await asUser(t, ti.admin).get('/api/v1/feeds').query({ cursor: 'nope' })).status,
      ).toBe(400);
      const analyst = await ti.createAnalyst('feed-list-analyst');
      expect((await asUser(t, analyst).get('/api/v1/feeds')).status).toBe(403);
    });

    it('deletes the feed (audited), keeping the indicators', async () => {
      await ti.createSupplier('DelFeed');
      await ti.upload('DelFeed', [{ indicator: '192.0.2.1' }]);
      await f.put('DelFeed', { url: server.url('/x.txt'), format: 'text', enabled: false });
      const res = await asUser(t, ti.admin).delete('/api/v1/suppliers/DelFeed/feed');
      expect(res.status).toBe(204);
      expect((await asUser(t, ti.admin).get('/api/v1/suppliers/DelFeed/feed')).status).toBe(404);
      expect((await ti.supplier('DelFeed')).indicatorCount).toBe(1);
      expect((await ti.auditActions('feed.delete'))[0]).toMatchObject({ entityName: 'DelFeed' });
    });
  });

  describe('text feeds', () => {
    let list =
      '# C2 list\n198.51.100.7\nevil.example\n\n; comment\nhttp://www.Evil.COM:8080/a/./b/\nnot a value!\n';

    beforeAll(async () => {
      server.static('/c2.txt', () => list);
      await ti.createSupplier('TextFeed');
      const res = await f.put('TextFeed', { url: server.url('/c2.txt'), format: 'text' });
      expect(res.status).toBe(200);
    });

    it('runs when configured: applies the valid lines, reports counts and rejects, audits feed.run', async () => {
      const run = await f.waitForRuns('TextFeed', 1);
      expect(run).toMatchObject({
        outcome: 'applied',
        error: null,
        counts: { fetched: 4, created: 3, updated: 0, removed: 0, rejected: 1 },
      });
      expect(run.rejectedSample).toEqual([
        { indicator: 'not a value!', reason: expect.any(String) },
      ]);
      expect((await ti.listAll('TextFeed')).map((i) => i.indicator).sort()).toEqual(
        ['198.51.100.7', 'evil.com/a/b', 'evil.example'].sort(),
      );
      const feed = await f.get('TextFeed');
      expect(feed).toMatchObject({ state: 'idle', lastOutcome: 'applied', lastCounts: run.counts });
      expect(feed.lastSuccessAt).not.toBeNull();
      expect(Date.parse(feed.nextRunAt) - Date.parse(feed.lastRunAt)).toBeGreaterThan(59 * 60_000);
      const audit = await ti.auditActions('feed.run');
      expect(audit[0]).toMatchObject({ entityType: 'supplier', entityName: 'TextFeed' });
      expect(audit[0].newValue).toMatchObject({
        created: 3,
        outcome: 'applied',
        fetched: 4,
        failed: 1,
        unsupported: 0,
      });
      expect(server.requests.find((r) => r.path === '/c2.txt')!.headers['user-agent']).toMatch(
        /^Indicium\//,
      );
    });

    it('sends If-None-Match next time; 304 is not_modified and changes nothing', async () => {
      const run = await f.runNow('TextFeed');
      expect(run).toMatchObject({ outcome: 'not_modified', counts: { fetched: 0, created: 0 } });
      expect(
        server.requests.filter((r) => r.path === '/c2.txt').at(-1)!.headers['if-none-match'],
      ).toMatch(/^"/);
      expect((await f.get('TextFeed')).lastOutcome).toBe('not_modified');
    });

    it('replace: the supplier then holds exactly the new list', async () => {
      list = '198.51.100.7\nnew.example\n';
      const run = await f.runNow('TextFeed');
      expect(run).toMatchObject({
        outcome: 'applied',
        counts: { fetched: 2, created: 1, updated: 1, removed: 2, rejected: 0 },
      });
      expect((await ti.listAll('TextFeed')).map((i) => i.indicator).sort()).toEqual([
        '198.51.100.7',
        'new.example',
      ]);
    });

    it('merge: upserts only', async () => {
      await ti.createSupplier('MergeFeed');
      await ti.upload('MergeFeed', [{ indicator: 'kept.example' }]);
      server.static('/merge.txt', 'added.example\n');
      await f.put('MergeFeed', { url: server.url('/merge.txt'), format: 'text', mode: 'merge' });
      const run = await f.waitForRuns('MergeFeed', 1);
      expect(run.counts).toMatchObject({ created: 1, removed: 0 });
      expect((await ti.listAll('MergeFeed')).map((i) => i.indicator).sort()).toEqual([
        'added.example',
        'kept.example',
      ]);
    });

    it('run-now answers 202, and the runs list pages newest first', async () => {
      const runs = await asUser(t, ti.admin).get('/api/v1/suppliers/TextFeed/feed/runs?limit=2');
      expect(runs.status).toBe(200);
      expect(runs.body.items).toHaveLength(2);
      expect(runs.body.items[0].outcome).toBe('applied');
      expect(runs.body.items[1].outcome).toBe('not_modified');
      const next = await asUser(t, ti.admin).get(
        `/api/v1/suppliers/TextFeed/feed/runs?limit=2&cursor=${runs.body.nextCursor}`,
      );
      expect(next.body.items.map((r: { outcome: string }) => r.outcome)).toEqual(['applied']);
      expect(next.body.nextCursor).toBeNull();
    });
  });

  describe('csv feeds', () => {
    it('maps columns by header name, with quoted fields and embedded newlines', async () => {
      await ti.createSupplier('CsvFeed');
      await ti.createTag('botnet');
      server.static(
        '/iocs.csv',
        'indicator,type,threat,tags\r\n"198.51.100.9",ip,"Bear, ""Fancy""",botnet\r\nevil.example,domain,"two\r\nlines",\r\nx.example,domain,,unknown-tag\r\n',
      );
      await f.put('CsvFeed', {
        url: server.url('/iocs.csv'),
        format: 'csv',
        csv: {
          valueColumn: 'indicator',
          typeColumn: 'type',
          contextColumns: { threat: 'threat' },
          tagsColumn: 'tags',
        },
      });
      const run = await f.waitForRuns('CsvFeed', 1);
      expect(run.counts).toMatchObject({ fetched: 3, created: 2, rejected: 1 });
      expect(run.rejectedSample).toEqual([
        { indicator: 'x.example', reason: 'unknown tag "UNKNOWN-TAG"' },
      ]);
      const items = await ti.listAll('CsvFeed');
      expect(items.find((i) => i.indicator === '198.51.100.9')).toMatchObject({
        type: 'ip',
        context: { threat: 'Bear, "Fancy"' },
        tags: [{ name: 'BOTNET', weight: 0 }],
      });
      expect(items.find((i) => i.indicator === 'evil.example')!.context).toEqual({
        threat: 'two\r\nlines',
      });
    });

    it('fails the run naming the column when the header lacks it (nothing applied)', async () => {
      await ti.createSupplier('CsvBad');
      server.static('/bad.csv', 'value\n1.2.3.4\n');
      await f.put('CsvBad', {
        url: server.url('/bad.csv'),
        format: 'csv',
        csv: { valueColumn: 'ioc' },
      });
      const run = await f.waitForRuns('CsvBad', 1);
      expect(run).toMatchObject({
        outcome: 'failed',
        error:
          'csv.valueColumn names column "ioc", which the header does not have (columns: value)',
      });
    });
  });

  describe('failed fetches change nothing', () => {
    const before = ['192.0.2.10', '192.0.2.11'];
    async function supplierWith(name: string, path: string) {
      await ti.createSupplier(name);
      await ti.upload(
        name,
        before.map((indicator) => ({ indicator })),
      );
      await f.put(name, { url: server.url(path), format: 'text' });
      return f.waitForRuns(name, 1);
    }
    async function unchanged(name: string) {
      expect((await ti.listAll(name)).map((i) => i.indicator).sort()).toEqual(before);
      expect((await f.get(name)).lastOutcome).toBe('failed');
    }

    it('a server that drops the connection half-way', async () => {
      server.routes.set('/drop.txt', (_req, res) => {
        res.writeHead(200, { 'Content-Length': '100000' });
        res.write('203.0.113.1\n'.repeat(1000));
        setTimeout(() => res.socket?.destroy(), 20);
      });
      const run = await supplierWith('DropFeed', '/drop.txt');
      expect(run.error).toMatch(/^the (connection broke|body ended) after 12000 /);
      await unchanged('DropFeed');
    });

    it('a server that stalls (run timeout)', async () => {
      server.routes.set('/stall.txt', (_req, res) => {
        res.writeHead(200);
        res.write('203.0.113.2\n'.repeat(100));
      });
      const run = await supplierWith('StallFeed', '/stall.txt');
      expect(run.error).toBe(
        'the run took longer than 2 s (FEED_RUN_TIMEOUT_SECONDS); nothing was applied',
      );
      await unchanged('StallFeed');
    });

    it('a redirect loop', async () => {
      server.routes.set('/loop.txt', (_req, res) =>
        res.writeHead(302, { Location: '/loop.txt' }).end(),
      );
      const run = await supplierWith('LoopFeed', '/loop.txt');
      expect(run.error).toBe('too many redirects (more than 5)');
      await unchanged('LoopFeed');
      const audit = await ti.auditActions('feed.run');
      expect(audit.find((a) => a.entityName === 'LoopFeed')).toMatchObject({
        newValue: expect.objectContaining({
          outcome: 'failed',
          error: 'too many redirects (more than 5)',
        }),
      });
    });

    it('an HTTP error status', async () => {
      const run = await supplierWith('GoneFeed', '/gone.txt');
      expect(run.error).toMatch(/HTTP 404 Not Found$/);
      await unchanged('GoneFeed');
    });
  });

  it('exposes run metrics', async () => {
    const res = await t
      .api()
      .get('/metrics')
      .set('Authorization', basic(t.admin.username, t.admin.password));
    expect(res.text).toMatch(/indicium_feed_runs_total\{supplier="TextFeed",outcome="applied"\} 2/);
    expect(res.text).toMatch(
      /indicium_feed_last_success_timestamp_seconds\{supplier="TextFeed"\} \d/,
    );
    expect(res.text).toMatch(/indicium_feed_indicators_applied_total\{supplier="TextFeed"\} \d/);
  });
});
