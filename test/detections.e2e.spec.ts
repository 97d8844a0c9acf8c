import { DetectionRecorder } from '../src/detections/detection-recorder';
import { DetectionRetention } from '../src/detections/detection-retention';
import { RetroScanner } from '../src/detections/retro-scanner';
import { appDb, createTestApp, TestApp, withDatabase } from './support/test-app';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

interface Detection {
  id: number;
  at: string;
  value: string;
  type: string;
  result: string;
  principal: string;
  supplier: string;
  indicator: string;
  matchedBy: string;
  retro: boolean;
}

describe('hit counters and the detection log (docs/api.md §11)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;
  let analyst: string;

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    analyst = await ti.createAnalyst('hunter');
    await ti.createSupplier('AcmeFeed');
    await ti.createSupplier('OtherFeed');
    const up = await ti.upload('AcmeFeed', [
      { indicator: 'evil.com', context: { threat: 'phishing' } },
      { indicator: '10.0.0.0/8' },
    ]);
    expect(up.status).toBe(200);
    expect((await ti.upload('OtherFeed', [{ indicator: 'evil.com' }])).status).toBe(200);
  });
  afterAll(() => t.close());

  const flush = () => t.app.get(DetectionRecorder).flush();

  function detections(query: Record<string, string | number> = {}, auth = ti.admin) {
    return t.api().get('/api/v1/detections').query(query).set('Authorization', auth);
  }

  it('counts concurrent searches per indicator and principal exactly, and surfaces them on indicator reads', async () => {
    const before = await ti.listAll('AcmeFeed');
    expect(before.find((i) => i.indicator === 'evil.com')).toMatchObject({
      hits: 0,
      lastHitAt: null,
    });
    const searches = [
      ...Array.from({ length: 20 }, () =>
        t
          .api()
          .get('/api/v1/search')
          .query({ value: 'a.b.evil.com' })
          .set('Authorization', analyst),
      ),
      ...Array.from({ length: 10 }, () =>
        asUser(t, ti.admin)
          .post('/api/v1/search')
          .send({ values: ['evil.com', '10.1.2.3', 'clean.example', 'evil.com'] }),
      ),
    ];
    for (const res of await Promise.all(searches)) expect(res.status).toBe(200);
    await flush();
    const items = await ti.listAll('AcmeFeed');
    // 20 analyst hits (parent_domain) + 10 × 2 admin hits (exact, a value twice per request).
    expect(items.find((i) => i.indicator === 'evil.com')).toMatchObject({ hits: 40 });
    expect(items.find((i) => i.indicator === '10.0.0.0/8')).toMatchObject({ hits: 10 });
    const lastHitAt = (
      items.find((i) => i.indicator === 'evil.com') as unknown as { lastHitAt: string }
    ).lastHitAt;
    expect(Date.now() - Date.parse(lastHitAt)).toBeLessThan(60_000);
    const rows: unknown[] = await appDb(t).query(
      `SELECT h.principal_name AS p, h.hits::int AS n FROM indicator_hits h
         JOIN indicators i ON i.id = h.indicator_id JOIN suppliers s ON s.id = i.supplier_id
        WHERE s.name = 'AcmeFeed' AND i.value = 'evil.com' ORDER BY 1`,
    );
    expect(rows).toEqual([
      { p: 'admin', n: 20 },
      { p: 'hunter', n: 20 },
    ]);
  });

  it('adds up counters from two instances searching the same database concurrently', async () => {
    const url = t.config.env.DATABASE_URL!;
    const second = await createTestApp({ DATABASE_URL: url });
    try {
      const count = async (): Promise<number> => {
        const items = (await ti.listAll('OtherFeed')) as unknown as Array<{
          indicator: string;
          hits: number;
        }>;
        return items.find((i) => i.indicator === 'evil.com')?.hits ?? -1;
      };
      const before = await count();
      const burst = (app: TestApp) =>
        Array.from({ length: 25 }, () =>
          app
            .api()
            .post('/api/v1/search')
            .set('Authorization', ti.admin)
            .send({ values: ['evil.com', 'x.evil.com'] }),
        );
      for (const res of await Promise.all([...burst(t), ...burst(second)]))
        expect(res.status).toBe(200);
      await Promise.all([flush(), second.app.get(DetectionRecorder).flush()]);
      expect(await count()).toBe(before + 100);
    } finally {
      await second.close();
    }
  });

  it('lists detection events newest first with filters and keyset paging', async () => {
    await t
      .api()
      .get('/api/v1/search')
      .query({ value: 'http://x.evil.com/kit' })
      .set('Authorization', analyst);
    await flush();
    const first = await detections({ principal: 'hunter', value: 'http://x.evil.com/kit' });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items.map((d: Detection) => d.supplier).sort()).toEqual([
      'AcmeFeed',
      'OtherFeed',
    ]);
    expect(first.body.items[0]).toMatchObject({
      value: 'x.evil.com/kit',
      type: 'url',
      result: 'detected',
      principal: 'hunter',
      indicator: 'evil.com',
      matchedBy: 'host',
      retro: false,
    });
    const acme = await detections({ supplier: 'AcmeFeed', limit: 1000 });
    expect(acme.body.items.every((d: Detection) => d.supplier === 'AcmeFeed')).toBe(true);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Detection[]; nextCursor: string | null } } =
        await detections({ limit: 7, supplier: 'AcmeFeed', ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((d) => d.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(acme.body.items.map((d: Detection) => d.id));
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    const none = await detections({ from: new Date(Date.now() + 60_000).toISOString() });
    expect(none.body).toEqual({ items: [], nextCursor: null });
  });

  it('records a detection of a searched URL holding an unpaired surrogate, with U+FFFD in its place', async () => {
    const res = await asUser(t, analyst)
      .post('/api/v1/search')
      .send({ values: ['http://odd.evil.com/\ud800x'] });
    expect(res.status).toBe(200);
    expect(res.body.results[0].result).toBe('detected');
    await flush();
    const found = await detections({ principal: 'hunter', supplier: 'AcmeFeed', limit: 5 });
    expect(found.body.items[0]).toMatchObject({
      value: 'odd.evil.com/\ufffdx',
      indicator: 'evil.com',
      matchedBy: 'host',
    });
  });

  it('answers 400 naming a bad filter or cursor, 401 without credentials, 403 without detections.read', async () => {
    const bad = await detections({ from: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('from');
    const cursor = await detections({ cursor: 'nope' });
    expect(cursor.status).toBe(400);
    expect(JSON.stringify(cursor.body)).toContain('cursor');
    expect((await t.api().get('/api/v1/detections')).status).toBe(401);
    const denied = await detections({}, analyst);
    expect(denied.status).toBe(403);
  });

  it('prunes events past DETECTION_RETENTION_DAYS and keeps the rest', async () => {
    const total = (await detections({ limit: 1000 })).body.items.length;
    expect(total).toBeGreaterThan(0);
    const retention = t.app.get(DetectionRetention);
    expect(await retention.sweepOnce()).toBe(0);
    expect(await retention.sweepOnce(Date.now() + 31 * 86_400_000)).toBe(total);
    expect((await detections()).body.items).toEqual([]);
  });

  it('reports per supplier hits per window, the never-hit share and pairwise overlap', async () => {
    await ti.createSupplier('QuietFeed');
    await ti.upload('QuietFeed', [
      { indicator: 'evil.com' },
      { indicator: '10.0.0.0/8' },
      { indicator: 'never.example' },
    ]);
    const acmeHits = ((await ti.listAll('AcmeFeed')) as unknown as Array<{ hits: number }>).reduce(
      (sum, i) => sum + i.hits,
      0,
    );
    expect(acmeHits).toBeGreaterThanOrEqual(51);
    const res = await asUser(t, ti.admin).get('/api/v1/statistics/suppliers');
    expect(res.status).toBe(200);
    const by = Object.fromEntries(res.body.items.map((s: { supplier: string }) => [s.supplier, s]));
    expect(by.AcmeFeed).toEqual({
      supplier: 'AcmeFeed',
      indicators: 2,
      hitLast24h: 2,
      hitLast7d: 2,
      hitLast30d: 2,
      hits: acmeHits,
      neverHitShare: 0,
      overlap: [
        { supplier: 'OtherFeed', indicators: 1 },
        { supplier: 'QuietFeed', indicators: 2 },
      ],
    });
    expect(by.QuietFeed).toMatchObject({ indicators: 3, hits: 0, hitLast24h: 0, neverHitShare: 1 });
    expect(by.OtherFeed.overlap).toEqual([
      { supplier: 'AcmeFeed', indicators: 1 },
      { supplier: 'QuietFeed', indicators: 1 },
    ]);
    expect((await asUser(t, analyst).get('/api/v1/statistics/suppliers')).status).toBe(403);
  });

  it('exposes detections by supplier and the flush lag as metrics', async () => {
    const res = await asUser(t, ti.admin).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(
      /^indicium_detections_total\{supplier="AcmeFeed",retro="false"\} [1-9]\d*$/m,
    );
    expect(res.text).toMatch(/^indicium_detections_flush_lag_seconds \d/m);
    expect(res.text).toContain('# TYPE indicium_retro_detections_total counter');
  });

  it('flushes pending counters on shutdown', async () => {
    const other = await createTestApp();
    const url = other.config.env.DATABASE_URL as string;
    const o = threatIntel(other);
    await o.createSupplier('AcmeFeed');
    await o.upload('AcmeFeed', [{ indicator: 'evil.com' }]);
    for (let i = 0; i < 3; i++)
      expect(
        (
          await other
            .api()
            .get('/api/v1/search')
            .query({ value: 'evil.com' })
            .set('Authorization', o.admin)
        ).body.result,
      ).toBe('detected');
    // Read the counters after close, before the database is dropped: close() runs the hooks first.
    await other.app.close();
    const rows = await withDatabase(url, (c) =>
      c.query(`SELECT hits::int AS n FROM indicator_hits`),
    );
    expect(rows.rows).toEqual([{ n: 3 }]);
    await other.close().catch(() => undefined);
  });
});

describe('DETECTIONS=off (docs/api.md §11)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;

  beforeAll(async () => {
    t = await createTestApp({ DETECTIONS: 'off' });
    ti = threatIntel(t);
    await ti.createSupplier('AcmeFeed');
    expect((await ti.upload('AcmeFeed', [{ indicator: 'evil.com' }])).status).toBe(200);
  });
  afterAll(() => t.close());

  it('records nothing: no counters, no detection log, nothing remembered or retro-scanned', async () => {
    const searched = await asUser(t, ti.admin)
      .post('/api/v1/search')
      .send({ values: ['evil.com', 'later.example'] });
    expect(searched.status).toBe(200);
    expect(searched.body.results.map((r: { result: string }) => r.result)).toEqual([
      'detected',
      'not_detected',
    ]);
    await t.app.get(DetectionRecorder).flush();
    // A value searched before would be a retro detection once uploaded, were it remembered.
    expect((await ti.upload('AcmeFeed', [{ indicator: 'later.example' }])).status).toBe(200);
    await t.app.get(RetroScanner).idle();
    expect(
      (await ti.listAll('AcmeFeed')).map((i) => {
        const { indicator, hits, lastHitAt } = i as unknown as Record<string, unknown>;
        return { indicator, hits, lastHitAt };
      }),
    ).toEqual(
      expect.arrayContaining([
        { indicator: 'evil.com', hits: 0, lastHitAt: null },
        { indicator: 'later.example', hits: 0, lastHitAt: null },
      ]),
    );
    const log = await asUser(t, ti.admin).get('/api/v1/detections');
    expect(log.status).toBe(200);
    expect(log.body.items).toEqual([]);
    const db = appDb(t);
    expect(
      await db.query(
        `SELECT (SELECT count(*) FROM indicator_hits)::int AS hits,
                (SELECT count(*) FROM detections)::int AS detections,
                (SELECT count(*) FROM retro_values)::int AS retro`,
      ),
    ).toEqual([{ hits: 0, detections: 0, retro: 0 }]);
  });
});

describe('detections over time (GET /api/v1/statistics/detections)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    await ti.createSupplier('AcmeFeed');
    expect((await ti.upload('AcmeFeed', [{ indicator: 'evil.com' }])).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      await asUser(t, ti.admin).get('/api/v1/search').query({ value: 'evil.com' }).expect(200);
    }
    await t.app.get(DetectionRecorder).flush();
    // One event three days old, one twenty days old, one fresh.
    await appDb(t).query(
      `UPDATE detections SET at = now() - CASE WHEN id = (SELECT min(id) FROM detections)
                                               THEN interval '3 days' ELSE interval '20 days' END
        WHERE id < (SELECT max(id) FROM detections)`,
    );
  });
  afterAll(() => t.close());

  const timeline = (range?: string) =>
    asUser(t, ti.admin)
      .get('/api/v1/statistics/detections')
      .query(range ? { range } : {});

  it.each([
    ['24h', 24, 3_600, 1],
    ['7d', 28, 21_600, 2],
    ['30d', 30, 86_400, 3],
  ])(
    '%s: %i buckets of %i s, every one listed, counting what fell in the window',
    async (range, n, width, total) => {
      const res = await timeline(range);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ range, bucketSeconds: width });
      const buckets = res.body.buckets as Array<{ start: string; detections: number }>;
      expect(buckets).toHaveLength(n);
      const starts = buckets.map((b) => Date.parse(b.start));
      for (let i = 1; i < n; i++) expect(starts[i] - starts[i - 1]).toBe(width * 1000);
      expect(starts[n - 1]).toBeLessThanOrEqual(Date.now());
      expect(starts[n - 1] + width * 1000).toBeGreaterThan(Date.now());
      expect(buckets.reduce((sum, b) => sum + b.detections, 0)).toBe(total);
      expect(buckets[n - 1].detections).toBeGreaterThanOrEqual(1);
    },
  );

  it('defaults to 24 h, names a bad range and needs detections.read', async () => {
    expect((await timeline()).body.range).toBe('24h');
    const bad = await timeline('1y');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('range');
    const analyst = await ti.createAnalyst('looker');
    const denied = await asUser(t, analyst).get('/api/v1/statistics/detections');
    expect(denied.status).toBe(403);
  });
});
