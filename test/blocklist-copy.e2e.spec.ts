import type { IndicatorType } from '../src/indicators';
import { BlocklistService } from '../src/sharing/blocklist/blocklist.service';
import { FalsePositiveSet } from '../src/sharing/blocklist/false-positive-set';
import { suppressedSql } from '../src/sharing/blocklist/false-positive-sql';
import { CopyOut, litArray } from '../src/sharing/copy-out';
import { appDb, createTestApp, TestApp } from './support/test-app';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

/**
 * The blocklist through COPY on a Postgres server (docs/api.md §10): filters, FalsePositive
 * suppression and de-duplication in one statement. Same bytes as the keyset path, and the SQL
 * suppression agrees with FalsePositiveSet value by value.
 */
describe('blocklist through COPY', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;
  let blocklist: BlocklistService;

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    blocklist = t.app.get(BlocklistService);
    await ti.createSupplier('Alpha', { confidence: 50 });
    await ti.createSupplier('Beta', { confidence: 90 });
    await ti.createSupplier('Off');
    await ti.createTag('C2');
    await ti
      .upload('FalsePositive', [
        { indicator: '10.0.0.0/8' },
        { indicator: '2001:db8::/32' },
        { indicator: '192.0.2.7' },
        { indicator: 'example.com' },
        { indicator: 'http://good.org/safe' },
        { indicator: 'ok@mail.net' },
        { indicator: 'd41d8cd98f00b204e9800998ecf8427e' },
      ])
      .expect(200);
    await ti
      .upload('Alpha', [
        { indicator: '10.1.2.3' },
        { indicator: '11.1.2.3', tags: ['C2'] },
        { indicator: '192.0.2.7' },
        { indicator: '192.0.2.8', confidence: 20 },
        { indicator: '2001:db8:1::5' },
        { indicator: '2001:db9::5' },
        { indicator: '10.20.0.0/16' },
        { indicator: '0.0.0.0/0' },
        { indicator: '192.0.2.0/24' },
        { indicator: 'a.b.example.com' },
        { indicator: 'notexample.com', tags: ['C2'] },
        { indicator: 'http://good.org/safe/page?x=1' },
        { indicator: 'http://good.org/safer' },
        { indicator: 'http://cdn.example.com/kit.js' },
        { indicator: 'http://10.9.9.9/x' },
        { indicator: 'http://[2001:db8::9]/x' },
        { indicator: 'http://evil.net/x' },
        { indicator: "http://bad.org/it's?q=a\\b" },
        { indicator: 'ok@mail.net' },
        { indicator: 'x@sub.example.com' },
        { indicator: 'bad@mail.net' },
        { indicator: 'd41d8cd98f00b204e9800998ecf8427e' },
        { indicator: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' },
        { indicator: 'shared.com' },
        { indicator: 'gone.com', expiresAt: '2020-01-01T00:00:00Z' },
      ])
      .expect(200);
    await ti
      .upload('Beta', [
        { indicator: 'shared.com' },
        { indicator: '11.1.2.3', confidence: 10 },
        { indicator: 'only-beta.org', tags: ['C2'] },
      ])
      .expect(200);
    await ti.upload('Off', [{ indicator: 'off.com' }]).expect(200);
    await asUser(t, ti.admin)
      .patch('/api/v1/suppliers/Off')
      .send({ status: 'disabled' })
      .expect(200);
  });
  afterAll(async () => {
    blocklist.useCopy = true;
    await t.close();
  });

  const get = async (query: Record<string, string | number>, copy: boolean): Promise<string> => {
    blocklist.useCopy = copy;
    const res = await t.api().get('/api/v1/blocklist').query(query).set('Authorization', ti.admin);
    expect(res.status).toBe(200);
    return res.text;
  };

  it.each<Record<string, string | number>>([
    {},
    { types: 'ip,cidr,domain,url' },
    { types: 'email,md5,sha1' },
    { suppliers: 'beta' },
    { suppliers: 'off' },
    { minConfidence: 60 },
    { tags: 'C2' },
    { tags: 'C2', minConfidence: 50, suppliers: 'alpha,beta' },
  ])('writes the same bytes as the keyset path for %j', async (query) => {
    expect(t.app.get(CopyOut).available).toBe(t.config.env.DATABASE_URL !== undefined);
    const viaCopy = await get(query, true);
    expect(viaCopy).toBe(await get(query, false));
  });

  it('leaves out what FalsePositive suppresses, keeps the rest, each value once', async () => {
    const lines = (await get({}, true)).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual([
      '0.0.0.0/0',
      '11.1.2.3',
      '192.0.2.0/24',
      '192.0.2.8',
      '2001:db9::5',
      "bad.org/it's?q=a\\b",
      'bad@mail.net',
      'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      'evil.net/x',
      'good.org/safer',
      'notexample.com',
      'only-beta.org',
      'shared.com',
    ]);
  });

  it('suppresses in SQL exactly what FalsePositiveSet suppresses', async () => {
    const fp = new FalsePositiveSet();
    const fps: Array<[IndicatorType, string]> = [
      ['cidr', '10.0.0.0/8'],
      ['cidr', '10.64.0.0/10'],
      ['cidr', '172.16.5.0/24'],
      ['cidr', '2001:db8::/32'],
      ['ip', '192.0.2.7'],
      ['ip', '2001:db8:ffff::1'],
      ['domain', 'example.com'],
      ['domain', 'x.y.example.org'],
      ['domain', 'localhost'],
      ['url', 'good.org/safe'],
      ['url', 'good.org/a?b'],
      ['email', 'ok@mail.net'],
      ['md5', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ];
    for (const [type, value] of fps) fp.add(type, value);
    // Values near every rule, and a seeded sweep of addresses and names around them.
    const cases: Array<[IndicatorType, string]> = [
      ['ip', '10.1.2.3'],
      ['ip', '11.1.2.3'],
      ['ip', '192.0.2.7'],
      ['ip', '192.0.2.8'],
      ['ip', '2001:db8:1::5'],
      ['ip', '2001:db9::5'],
      ['ip', '2001:db8:ffff::1'],
      ['cidr', '10.20.0.0/16'],
      ['cidr', '10.0.0.0/8'],
      ['cidr', '10.0.0.0/7'],
      ['cidr', '0.0.0.0/0'],
      ['cidr', '192.0.2.0/24'],
      ['cidr', '172.16.5.128/25'],
      ['cidr', '172.16.4.0/23'],
      ['cidr', '2001:db8:8000::/33'],
      ['domain', 'example.com'],
      ['domain', 'a.b.example.com'],
      ['domain', 'notexample.com'],
      ['domain', 'com'],
      ['domain', 'y.example.org'],
      ['domain', 'z.x.y.example.org'],
      ['domain', 'a.localhost'],
      ['domain', 'localhost'],
      ['url', 'good.org/safe'],
      ['url', 'good.org/safe/page?x=1'],
      ['url', 'good.org/safe?x'],
      ['url', 'good.org/safer'],
      ['url', 'good.org/a?b'],
      ['url', 'good.org/a?bc'],
      ['url', 'good.org/a?b/c'],
      ['url', 'cdn.example.com/kit.js'],
      ['url', 'example.com'],
      ['url', '10.9.9.9/x'],
      ['url', '11.9.9.9/x'],
      ['url', '192.0.2.7?q'],
      ['url', '[2001:db8::9]/x'],
      ['url', '[2001:db9::9]/x'],
      ['url', 'evil.net/x'],
      ['email', 'ok@mail.net'],
      ['email', 'x@sub.example.com'],
      ['email', 'bad@mail.net'],
      ['md5', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['md5', 'd41d8cd98f00b204e9800998ecf8427f'],
      ['sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
      ['sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ];
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const labels = ['a', 'x', 'y', 'example', 'mail', 'safe', 'org', 'com', 'net'];
    for (let k = 0; k < 400; k++) {
      const octets = [[10, 11, 172, 192][rnd(4)], rnd(2) ? 64 + rnd(4) : 16, rnd(6), rnd(256)];
      cases.push(['ip', octets.join('.')]);
      cases.push(['cidr', `${octets[0]}.${octets[1]}.0.0/${[9, 10, 11, 16][rnd(4)]}`]);
      const name = Array.from({ length: 2 + rnd(3) }, () => labels[rnd(labels.length)]).join('.');
      cases.push(['domain', name]);
      cases.push(['url', `${name}/${labels[rnd(labels.length)]}`]);
      cases.push(['email', `u@${name}`]);
    }
    const sql = suppressedSql(fp)!;
    const db = appDb(t);
    const types = cases.map(([type]) => type);
    const values = cases.map(([, value]) => value);
    // A cidr with host bits set is not canonical: those generated ones are skipped.
    const rows: Array<{ n: number; s: boolean }> = await db.query(
      `SELECT i.n, ${sql} AS s
         FROM (SELECT u.n, u.type, u.value,
                      CASE WHEN u.type IN ('ip', 'cidr') THEN u.value::cidr END AS network
                 FROM unnest(${litArray(types, 'text')}, ${litArray(values, 'text')})
                      WITH ORDINALITY AS u(type, value, n)
                WHERE u.type <> 'cidr' OR u.value::inet = network(u.value::inet)) i
        ORDER BY i.n`,
    );
    expect(rows.length).toBeGreaterThan(cases.length * 0.8);
    const got = rows.map((r) => [...cases[Number(r.n) - 1], r.s]);
    const expected = rows.map((r) => {
      const [type, value] = cases[Number(r.n) - 1];
      return [type, value, fp.suppresses(type, value)];
    });
    expect(got).toEqual(expected);
    expect(got.filter((g) => g[2]).length).toBeGreaterThan(50);
  });

  it('suppresses nothing and adds no condition when FalsePositive is empty', () => {
    expect(suppressedSql(new FalsePositiveSet())).toBeNull();
  });
});
