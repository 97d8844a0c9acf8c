import { DetectionRecorder } from '../src/detections/detection-recorder';
import { DetectionRetention } from '../src/detections/detection-retention';
import { REMEMBER_REFRESH_MS } from '../src/detections/recent-values';
import { RetroScanner } from '../src/detections/retro-scanner';
import { appDb, createTestApp, TestApp } from './support/test-app';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

interface Detection {
  value: string;
  type: string;
  principal: string;
  supplier: string;
  indicator: string;
  matchedBy: string;
  retro: boolean;
}

describe('retro-scan (docs/api.md §11)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;
  let analyst: string;

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    analyst = await ti.createAnalyst('hunter');
    await ti.createSupplier('LateFeed');
  });
  afterAll(() => t.close());

  async function search(values: string[]): Promise<void> {
    const res = await asUser(t, analyst).post('/api/v1/search').send({ values });
    expect(res.status).toBe(200);
    for (const r of res.body.results) expect(r.result).toBe('not_detected');
  }

  async function uploadAndScan(supplier: string, entries: unknown[]): Promise<void> {
    const res = await ti.upload(supplier, entries);
    expect(res.status).toBe(200);
    expect(res.body.failed).toEqual([]);
    await t.app.get(RetroScanner).idle();
  }

  async function retroDetections(): Promise<Detection[]> {
    const res = await t
      .api()
      .get('/api/v1/detections')
      .query({ limit: 1000 })
      .set('Authorization', ti.admin);
    expect(res.status).toBe(200);
    return (res.body.items as Detection[]).filter((d) => d.retro);
  }

  it.each([
    ['IP in a later CIDR', '10.1.2.3', '10.0.0.0/8', 'cidr', '10.1.2.3'],
    ['parent domain', 'a.b.evil.com', 'evil.com', 'parent_domain', 'a.b.evil.com'],
    [
      'URL prefix',
      'http://kit.example/kit/a.php?x=1',
      'kit.example/kit',
      'url_prefix',
      'kit.example/kit/a.php?x=1',
    ],
    ['email domain', 'ceo@mail.phish.example', 'phish.example', 'host', 'ceo@mail.phish.example'],
    ['URL host in a later CIDR', 'http://192.168.7.9/x', '192.168.0.0/16', 'host', '192.168.7.9/x'],
    [
      'exact hash',
      'd41d8cd98f00b204e9800998ecf8427e',
      'd41d8cd98f00b204e9800998ecf8427e',
      'exact',
      'd41d8cd98f00b204e9800998ecf8427e',
    ],
  ])(
    '%s: an earlier clean search becomes a retro detection',
    async (_what, searched, indicator, matchedBy, value) => {
      await search([searched]);
      await t.app.get(DetectionRecorder).flush();
      await uploadAndScan('LateFeed', [{ indicator, context: { threat: 'late' } }]);
      const found = (await retroDetections()).filter((d) => d.indicator === indicator);
      expect(found).toEqual([
        expect.objectContaining({
          value,
          principal: 'hunter',
          supplier: 'LateFeed',
          matchedBy,
          retro: true,
        }),
      ]);
      // Uploading the same indicator again records nothing new.
      await uploadAndScan('LateFeed', [{ indicator, context: { threat: 'again' } }]);
      expect((await retroDetections()).filter((d) => d.indicator === indicator)).toHaveLength(1);
    },
  );

  it('records no retro detection a FalsePositive indicator suppresses', async () => {
    await search(['cdn.trusted.example', '172.16.5.5']);
    await t.app.get(DetectionRecorder).flush();
    await uploadAndScan('FalsePositive', [
      { indicator: 'trusted.example' },
      { indicator: '172.16.0.0/12' },
    ]);
    await uploadAndScan('LateFeed', [
      { indicator: 'cdn.trusted.example' },
      { indicator: '172.16.5.0/24' },
    ]);
    const values = (await retroDetections()).map((d) => d.value);
    expect(values).not.toContain('cdn.trusted.example');
    expect(values).not.toContain('172.16.5.5');
  });

  it('records no retro detection of a value a FalsePositive indicator equals, and keeps no key row for the value itself', async () => {
    await search([
      'fp.exact.example',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ]);
    await t.app.get(DetectionRecorder).flush();
    const keys: unknown[] = await appDb(t).query(
      `SELECT k.key_value AS key, k.matched_by AS by FROM retro_keys k JOIN retro_values v ON v.id = k.value_id
          WHERE v.value IN ('fp.exact.example', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
          ORDER BY 1`,
    );
    expect(keys).toEqual([{ key: 'exact.example', by: 'parent_domain' }]);
    await uploadAndScan('FalsePositive', [{ indicator: 'fp.exact.example' }]);
    await uploadAndScan('LateFeed', [
      { indicator: 'fp.exact.example' },
      { indicator: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    ]);
    const found = (await retroDetections()).filter((d) =>
      [
        'fp.exact.example',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].includes(d.value),
    );
    expect(found).toEqual([
      expect.objectContaining({
        value: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        matchedBy: 'exact',
      }),
    ]);
  });

  it('remembers a URL holding an unpaired surrogate, with U+FFFD in its place', async () => {
    await search(['http://lone.surrogate.example/\udc00x']);
    await t.app.get(DetectionRecorder).flush();
    await uploadAndScan('LateFeed', [{ indicator: 'surrogate.example' }]);
    expect((await retroDetections()).filter((d) => d.indicator === 'surrogate.example')).toEqual([
      expect.objectContaining({ value: 'lone.surrogate.example/\ufffdx', retro: true }),
    ]);
  });

  interface Remembered {
    at: Date;
    principal: string;
    version: string;
  }

  async function remembered(value: string): Promise<Remembered[]> {
    return appDb(t).query(
      `SELECT searched_at AS at, principal, xmin::text AS version FROM retro_values WHERE value = $1`,
      [value],
    );
  }

  async function searchAs(auth: string, values: string[]): Promise<void> {
    const res = await asUser(t, auth).post('/api/v1/search').send({ values });
    expect(res.status).toBe(200);
  }

  it('remembers a value searched again within the hour once: the row is not rewritten, and a later upload still finds it', async () => {
    await search(['twice.again.example']);
    await t.app.get(DetectionRecorder).flush();
    const [first] = await remembered('twice.again.example');
    expect(first).toMatchObject({ principal: 'hunter' });
    await search(['twice.again.example', 'twice.again.example']);
    await t.app.get(DetectionRecorder).flush();
    expect(await remembered('twice.again.example')).toEqual([first]);
    await uploadAndScan('LateFeed', [{ indicator: 'again.example' }]);
    expect((await retroDetections()).filter((d) => d.value === 'twice.again.example')).toEqual([
      expect.objectContaining({ principal: 'hunter', indicator: 'again.example', retro: true }),
    ]);
  });

  it('leaves a row remembered within the hour alone when only the database knows it (another instance, a restart)', async () => {
    await search(['known.elsewhere.example']);
    await t.app.get(DetectionRecorder).flush();
    const before = await remembered('known.elsewhere.example');
    // This instance forgets what it remembered, as another instance or a restarted one would.
    const recorder: unknown = t.app.get(DetectionRecorder);
    (recorder as { recent: { clear(): void } }).recent.clear();
    await search(['known.elsewhere.example']);
    await t.app.get(DetectionRecorder).flush();
    expect(await remembered('known.elsewhere.example')).toEqual(before);
  });

  it('moves the row to another principal that searches the value within the hour', async () => {
    await search(['shared.value.example']);
    await t.app.get(DetectionRecorder).flush();
    await searchAs(ti.admin, ['shared.value.example']);
    await t.app.get(DetectionRecorder).flush();
    expect(await remembered('shared.value.example')).toEqual([
      expect.objectContaining({ principal: 'admin' }),
    ]);
    await uploadAndScan('LateFeed', [{ indicator: 'value.example' }]);
    expect((await retroDetections()).filter((d) => d.value === 'shared.value.example')).toEqual([
      expect.objectContaining({ principal: 'admin', retro: true }),
    ]);
  });

  it('moves searched_at again once the value was remembered more than an hour ago', async () => {
    await search(['hourly.refresh.example']);
    await t.app.get(DetectionRecorder).flush();
    const [first] = await remembered('hourly.refresh.example');
    const later = Date.now() + REMEMBER_REFRESH_MS + 60_000;
    const now = jest.spyOn(Date, 'now').mockReturnValue(later);
    try {
      await search(['hourly.refresh.example']);
      await t.app.get(DetectionRecorder).flush();
    } finally {
      now.mockRestore();
    }
    const [second] = await remembered('hourly.refresh.example');
    expect(second.version).not.toBe(first.version);
    expect(Math.abs(second.at.getTime() - later)).toBeLessThan(1_000);
  });

  it('finds a value whose searched_at lags its last search by up to the hour: the window is RETROSCAN_DAYS plus that hour', async () => {
    await search(['late.edge.example']);
    await t.app.get(DetectionRecorder).flush();
    await appDb(t).query(
      `UPDATE retro_values SET searched_at = now() - interval '7 days 30 minutes' WHERE value = 'late.edge.example'`,
    );
    await uploadAndScan('LateFeed', [{ indicator: 'edge.example' }]);
    expect((await retroDetections()).map((d) => d.value)).toContain('late.edge.example');
    // Kept by the sweep too; past the window it goes.
    await t.app.get(DetectionRetention).sweepOnce();
    expect(await remembered('late.edge.example')).toHaveLength(1);
  });

  it('does not look back further than RETROSCAN_DAYS, and forgets older values', async () => {
    await search(['old.stale.example']);
    await t.app.get(DetectionRecorder).flush();
    const db = appDb(t);
    await db.query(
      `UPDATE retro_values SET searched_at = now() - interval '8 days' WHERE value = 'old.stale.example'`,
    );
    await uploadAndScan('LateFeed', [{ indicator: 'stale.example' }]);
    expect((await retroDetections()).map((d) => d.value)).not.toContain('old.stale.example');
    await t.app.get(DetectionRetention).sweepOnce();
    const left: unknown[] = await db.query(
      `SELECT count(*)::int AS n FROM retro_values WHERE value = 'old.stale.example'`,
    );
    expect(left).toEqual([{ n: 0 }]);
  });
});
