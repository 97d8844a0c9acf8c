import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The matching rules of docs/api.md §5, end to end over real uploads. */
describe('search (docs/api.md §5)', () => {
  let t: TestApp;
  let admin: string;

  async function call(
    method: 'post' | 'put' | 'patch' | 'delete',
    path: string,
    body: unknown,
    expected = [200, 201],
  ) {
    const res = await t
      .api()
      [method](path)
      .set('Authorization', admin)
      .send(body as object);
    if (!expected.includes(res.status))
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  beforeAll(async () => {
    t = await createTestApp();
    admin = basic(t.admin.username, t.admin.password);
    await call('post', '/api/v1/tags', { name: 'phishing', weight: 4 });
    await call('post', '/api/v1/tags', { name: 'c2', weight: 5 });
    await call('post', '/api/v1/suppliers', {
      name: 'AcmeFeed',
      vendor: 'Acme',
      confidence: 80,
      actionableFields: ['threat'],
    });
    await call('post', '/api/v1/suppliers', { name: 'OtherFeed', vendor: 'Other', confidence: 40 });
    await call('post', '/api/v1/suppliers', { name: 'DisabledFeed', vendor: 'Off' });
    await call('put', '/api/v1/suppliers/AcmeFeed/indicators', [
      { indicator: '198.51.100.7', tags: ['C2'] },
      { indicator: '10.0.0.0/8' },
      { indicator: '10.1.2.3/16', confidence: 90 },
      { indicator: '2001:db8::/32' },
      {
        indicator: 'evil.com',
        context: { threat: 'phishing', note: 'seen in campaign' },
        tags: ['PHISHING'],
      },
      { indicator: 'http://evil.com/kit/' },
      { indicator: MD5.toUpperCase() },
      { indicator: SHA256 },
      { indicator: 'Bad@Evil.org' },
      { indicator: 'expired.com', expiresAt: '2020-01-01T00:00:00Z' },
    ]);
    await call('put', '/api/v1/suppliers/OtherFeed/indicators', [
      { indicator: 'evil.com', context: { threat: 'malware' } },
    ]);
    await call('put', '/api/v1/suppliers/DisabledFeed/indicators', [
      { indicator: 'disabled.com' },
      { indicator: '203.0.113.0/24' },
    ]);
    await call('patch', '/api/v1/suppliers/DisabledFeed', { status: 'disabled' });
    await call('put', '/api/v1/suppliers/FalsePositive/indicators', [
      { indicator: 'good.evil.com' },
      { indicator: '10.9.0.0/16' },
      { indicator: '10.1.2.99' },
    ]);
  });
  afterAll(() => t.close());

  async function one(value: string) {
    const res = await t.api().get('/api/v1/search').query({ value }).set('Authorization', admin);
    expect(res.status).toBe(200);
    return res.body;
  }
  const how = (r: { matches: Array<{ supplier: string; indicator: string; matchedBy: string }> }) =>
    r.matches.map((m) => `${m.supplier}:${m.matchedBy}:${m.indicator}`);

  it.each([
    ['198.51.100.7', 'ip', '198.51.100.7', ['AcmeFeed:exact:198.51.100.7']],
    ['10.1.2.3', 'ip', '10.1.2.3', ['AcmeFeed:cidr:10.1.0.0/16', 'AcmeFeed:cidr:10.0.0.0/8']],
    ['::ffff:10.200.0.1', 'ip', '10.200.0.1', ['AcmeFeed:cidr:10.0.0.0/8']],
    ['2001:DB8:0:0::1', 'ip', '2001:db8::1', ['AcmeFeed:cidr:2001:db8::/32']],
    [
      '10.1.0.0/16',
      'cidr',
      '10.1.0.0/16',
      ['AcmeFeed:exact:10.1.0.0/16', 'AcmeFeed:cidr:10.0.0.0/8'],
    ],
    [
      '10.0.0.0/8',
      'cidr',
      '10.0.0.0/8',
      ['AcmeFeed:exact:10.0.0.0/8', 'AcmeFeed:within:10.1.0.0/16'],
    ],
    [
      'a.b.evil.com',
      'domain',
      'a.b.evil.com',
      ['AcmeFeed:parent_domain:evil.com', 'OtherFeed:parent_domain:evil.com'],
    ],
    ['EVIL.com.', 'domain', 'evil.com', ['AcmeFeed:exact:evil.com', 'OtherFeed:exact:evil.com']],
    [
      'HTTP://www.Evil.COM:8080/kit/./a.php?x=1#frag',
      'url',
      'evil.com/kit/a.php?x=1',
      ['AcmeFeed:url_prefix:evil.com/kit', 'AcmeFeed:host:evil.com', 'OtherFeed:host:evil.com'],
    ],
    [
      'evil.com/kitten',
      'url',
      'evil.com/kitten',
      ['AcmeFeed:host:evil.com', 'OtherFeed:host:evil.com'],
    ],
    [
      'http://10.1.2.3/x',
      'url',
      '10.1.2.3/x',
      ['AcmeFeed:host:10.1.0.0/16', 'AcmeFeed:host:10.0.0.0/8'],
    ],
    [MD5, 'md5', MD5, [`AcmeFeed:exact:${MD5}`]],
    [SHA256.toUpperCase(), 'sha256', SHA256, [`AcmeFeed:exact:${SHA256}`]],
    ['bad@evil.ORG', 'email', 'bad@evil.org', ['AcmeFeed:exact:bad@evil.org']],
    [
      'someone@mail.evil.com',
      'email',
      'someone@mail.evil.com',
      ['AcmeFeed:host:evil.com', 'OtherFeed:host:evil.com'],
    ],
  ])('%s is detected as %s %s by %j', async (value, type, normalized, expected) => {
    const r = await one(value);
    expect(r).toMatchObject({
      value,
      type,
      normalized,
      result: 'detected',
      falsePositive: null,
      matchesTruncated: false,
    });
    expect(how(r)).toEqual(expected);
  });

  it.each([
    ['notbad.com', 'domain'],
    ['com.evil', 'domain'],
    ['expired.com', 'domain'],
    ['disabled.com', 'domain'],
    ['203.0.113.9', 'ip'],
    ['11.0.0.1', 'ip'],
    ['evil.org', 'domain'],
    ['a'.repeat(40), 'sha1'],
  ])('%s (%s) is not detected: no rule, expired, or a disabled supplier', async (value, type) => {
    const r = await one(value);
    expect(r).toMatchObject({
      value,
      type,
      result: 'not_detected',
      matches: [],
      falsePositive: null,
    });
  });

  it.each([
    ['good.evil.com', 'exact', 'good.evil.com'],
    ['x.good.evil.com', 'parent_domain', 'good.evil.com'],
    ['http://www.x.good.evil.com/path', 'host', 'good.evil.com'],
    ['10.9.1.1', 'cidr', '10.9.0.0/16'],
    ['10.1.2.99', 'exact', '10.1.2.99'],
    ['10.9.0.0/24', 'cidr', '10.9.0.0/16'],
  ])(
    '%s is a false positive (%s %s) and reports no matches',
    async (value, matchedBy, indicator) => {
      const r = await one(value);
      expect(r).toMatchObject({ result: 'false_positive', matches: [] });
      expect(r.falsePositive).toMatchObject({ supplier: 'FalsePositive', matchedBy, indicator });
    },
  );

  it('a false-positive sub-range does not suppress a wider network query', async () => {
    const r = await one('10.0.0.0/8');
    expect(r.result).toBe('detected');
    expect(how(r)).not.toContain('FalsePositive:within:10.9.0.0/16');
  });

  it('within: exactly the networks strictly inside the query, at both edges, per family', async () => {
    await call('post', '/api/v1/suppliers', { name: 'EdgeFeed', vendor: 'Edge' });
    await call('put', '/api/v1/suppliers/EdgeFeed/indicators', [
      { indicator: '172.16.0.0' }, // first address of 172.16.0.0/12
      { indicator: '172.31.255.255' }, // last address
      { indicator: '172.31.255.0/24' },
      { indicator: '172.15.255.255' }, // just below
      { indicator: '172.32.0.0' }, // just above
      { indicator: '172.0.0.0/8' }, // wider: contains the query, not within it
      { indicator: '2001:db9::1' },
      { indicator: '2001:db9:ffff:ffff:ffff:ffff:ffff:ffff' },
      { indicator: '2001:dba::' }, // just above 2001:db9::/32
    ]);
    try {
      const edge = (r: Parameters<typeof how>[0]) =>
        how(r)
          .filter((m) => m.startsWith('EdgeFeed:'))
          .sort();
      expect(edge(await one('172.16.0.0/12'))).toEqual([
        'EdgeFeed:cidr:172.0.0.0/8',
        'EdgeFeed:within:172.16.0.0',
        'EdgeFeed:within:172.31.255.0/24',
        'EdgeFeed:within:172.31.255.255',
      ]);
      expect(edge(await one('172.31.255.0/24'))).toEqual([
        'EdgeFeed:cidr:172.0.0.0/8',
        'EdgeFeed:exact:172.31.255.0/24',
        'EdgeFeed:within:172.31.255.255',
      ]);
      expect(edge(await one('2001:db9::/32'))).toEqual([
        'EdgeFeed:within:2001:db9::1',
        'EdgeFeed:within:2001:db9:ffff:ffff:ffff:ffff:ffff:ffff',
      ]);
      // The whole IPv4 space holds no IPv6 network, and the other way round.
      const v4 = edge(await one('0.0.0.0/0'));
      expect(v4).toHaveLength(6);
      expect(v4.every((m) => m.startsWith('EdgeFeed:within:172.'))).toBe(true);
      const v6 = edge(await one('::/0'));
      expect(v6).toHaveLength(3);
      expect(v6.every((m) => m.startsWith('EdgeFeed:within:2001:'))).toBe(true);
    } finally {
      await call('delete', '/api/v1/suppliers/EdgeFeed', undefined, [204]);
    }
  });

  it('reports supplier context, actionable fields, confidence and tags', async () => {
    const r = await one('evil.com');
    const acme = r.matches.find((m: { supplier: string }) => m.supplier === 'AcmeFeed');
    expect(acme).toEqual({
      supplier: 'AcmeFeed',
      vendor: 'Acme',
      indicator: 'evil.com',
      indicatorType: 'domain',
      matchedBy: 'exact',
      confidence: 80,
      context: { threat: 'phishing', note: 'seen in campaign' },
      actionable: { threat: 'phishing' },
      tags: [{ name: 'PHISHING', weight: 4 }],
      firstSeen: null,
      lastSeen: null,
      updatedAt: expect.any(String),
    });
    expect(r.matches.find((m: { supplier: string }) => m.supplier === 'OtherFeed')).toMatchObject({
      confidence: 40,
      actionable: {},
      tags: [],
    });
    const ip = await one('10.1.2.3');
    expect(ip.matches[0]).toMatchObject({ indicator: '10.1.0.0/16', confidence: 90 });
    expect((await one('198.51.100.7')).matches[0].tags).toEqual([{ name: 'C2', weight: 5 }]);
  });

  it('bulk: one result per value, in input order, duplicates answered each time, invalid values inline', async () => {
    const values = [
      'evil.com',
      '',
      'notbad.com',
      12345,
      'evil.com',
      'good.evil.com',
      'com',
      '10.1.2.3',
    ];
    const res = await asUser(t, admin).post('/api/v1/search').send({ values });
    expect(res.status).toBe(200);
    expect(
      res.body.results.map((r: { value: unknown; result: string }) => [r.value, r.result]),
    ).toEqual([
      ['evil.com', 'detected'],
      ['', 'invalid'],
      ['notbad.com', 'not_detected'],
      [12345, 'invalid'],
      ['evil.com', 'detected'],
      ['good.evil.com', 'false_positive'],
      ['com', 'invalid'],
      ['10.1.2.3', 'detected'],
    ]);
    expect(res.body.results[1].reason).toEqual(expect.any(String));
    expect(res.body.results[3].reason).toBe('value must be a string');
    expect(res.body.results[6]).toMatchObject({
      type: null,
      normalized: null,
      matches: [],
      falsePositive: null,
      reason: expect.stringMatching(/domain/),
    });
    expect(res.body.results[4]).toEqual(res.body.results[0]);
  });

  it('refangs defanged values before detection, keeping the value as sent', async () => {
    const values = [
      'evil[.]com',
      'hxxp://evil(.)com/kit/x',
      'HXXPS://EVIL{.}COM',
      '198[.]51[.]100[.]7',
      'bad[at]evil[.]org',
      'Bad[@]Evil.org',
      'notbad[.]com',
    ];
    const res = await asUser(t, admin).post('/api/v1/search').send({ values });
    expect(res.status).toBe(200);
    expect(
      res.body.results.map(
        (r: { value: string; type: string; normalized: string; result: string }) => [
          r.value,
          r.type,
          r.normalized,
          r.result,
        ],
      ),
    ).toEqual([
      ['evil[.]com', 'domain', 'evil.com', 'detected'],
      ['hxxp://evil(.)com/kit/x', 'url', 'evil.com/kit/x', 'detected'],
      ['HXXPS://EVIL{.}COM', 'url', 'evil.com', 'detected'],
      ['198[.]51[.]100[.]7', 'ip', '198.51.100.7', 'detected'],
      ['bad[at]evil[.]org', 'email', 'bad@evil.org', 'detected'],
      ['Bad[@]Evil.org', 'email', 'bad@evil.org', 'detected'],
      ['notbad[.]com', 'domain', 'notbad.com', 'not_detected'],
    ]);
    const single = await t
      .api()
      .get('/api/v1/search')
      .query({ value: 'evil[.]com' })
      .set('Authorization', admin);
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({
      value: 'evil[.]com',
      normalized: 'evil.com',
      result: 'detected',
    });
  });

  it('caps matches per value with matchesLimit and says so', async () => {
    const r = await t
      .api()
      .get('/api/v1/search')
      .query({ value: '10.0.0.0/8', matchesLimit: 1 })
      .set('Authorization', admin);
    expect(r.body.matches).toHaveLength(1);
    expect(r.body.matchesTruncated).toBe(true);
    const bad = await t
      .api()
      .get('/api/v1/search')
      .query({ value: 'x.com', matchesLimit: 0 })
      .set('Authorization', admin);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/matchesLimit/);
  });

  it('validates the request itself', async () => {
    for (const body of [{}, { values: [] }, { values: 'evil.com' }, { values: ['x'], extra: 1 }]) {
      const res = await asUser(t, admin).post('/api/v1/search').send(body);
      expect(res.status).toBe(400);
    }
    const missing = await asUser(t, admin).get('/api/v1/search');
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/value/);
    for (const [query, message] of [
      ['value=a.com&extra=1', 'property extra should not exist'],
      ['value=a.com&value=b.com', 'value must be a string'],
      ['value=a.com&matchesLimit=abc', 'matchesLimit must be an integer number'],
      ['value=a.com&matchesLimit=2.5', 'matchesLimit must be an integer number'],
      ['value=a.com&matchesLimit=1001', 'matchesLimit must not be greater than 1000'],
      ['matchesLimit=-1', 'value must be a string; matchesLimit must not be less than 1'],
    ]) {
      const res = await asUser(t, admin).get(`/api/v1/search?${query}`);
      expect({ query, status: res.status, message: res.body.message }).toEqual({
        query,
        status: 400,
        message,
      });
    }
    const ok = await asUser(t, admin).get('/api/v1/search?value=a.com&matchesLimit=1000');
    expect(ok.status).toBe(200);
    const tooMany = await asUser(t, admin)
      .post('/api/v1/search')
      .send({ values: Array(100_001).fill('a.com') });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/100000/);
  });

  it('plans many addresses with the prefix lengths present, a few with every length: same answers', async () => {
    // A single lookup of a few IPv4 addresses tries every prefix length; more addresses (or
    // any IPv6) ask the database which lengths exist. Both must find the same matches.
    const values = ['10.1.2.3', '10.200.0.1', '10.9.1.1', '11.0.0.1', '10.1.255.255', '10.0.0.1'];
    const bulk = await asUser(t, admin).post('/api/v1/search').send({ values });
    expect(bulk.status).toBe(200);
    for (const [i, value] of values.entries())
      expect(bulk.body.results[i]).toEqual(await one(value));
    expect(how(bulk.body.results[0])).toEqual([
      'AcmeFeed:cidr:10.1.0.0/16',
      'AcmeFeed:cidr:10.0.0.0/8',
    ]);
  });

  it('answers concurrent single searches, merged into shared lookups, each with its own result', async () => {
    const values = [
      '198.51.100.7',
      '10.1.2.3',
      'www.evil.com',
      'http://evil.com/kit/deeper?x=1',
      MD5,
      'clean.example.org',
      'bad@evil.org',
      '192.0.2.1',
      'someone@sub.evil.com',
      SHA256,
      '2001:db8::1',
      'disabled.com',
    ];
    const expected = new Map<string, unknown>();
    for (const v of values) expected.set(v, await one(v));
    // Hold the table so the first SEARCH_LOOKUP_CONCURRENCY (2) lookups block in Postgres and
    // the rest of the burst queues behind them: it is then answered by merged queries, and
    // every response must still be exactly its own value's answer.
    const holder = t.app.get(DataSource).createQueryRunner();
    await holder.startTransaction();
    await holder.query('LOCK TABLE indicators IN ACCESS EXCLUSIVE MODE');
    const burst = Array.from({ length: 4 }, (_, round) =>
      values.map((_, i) => values[(i * 5 + round) % values.length]),
    ).flat();
    const pending = Promise.all(burst.map((v) => one(v)));
    await new Promise((r) => setTimeout(r, 500));
    await holder.rollbackTransaction();
    await holder.release();
    const answers = await pending;
    answers.forEach((answer, i) => expect(answer).toEqual(expected.get(burst[i])));
  });

  it('accepts 100,000 values in one request', async () => {
    const values = Array.from(
      { length: 100_000 },
      (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    );
    values[99_999] = 'evil.com';
    const res = await asUser(t, admin).post('/api/v1/search').send({ values });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(100_000);
    expect(res.body.results[5]).toMatchObject({ value: '10.0.0.5', result: 'detected' });
    expect(res.body.results[99_999]).toMatchObject({ value: 'evil.com', result: 'detected' });
  }, 120_000);

  /** POSTs `chunks` as one body (chunked when no Content-Length is given): status and body. */
  async function postRaw(
    chunks: Buffer[],
    headers: Record<string, string | number>,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    if (!t.http.address()) await new Promise<void>((r) => t.http.listen(0, '127.0.0.1', r));
    const { port } = t.http.address() as AddressInfo;
    return new Promise((done, fail) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/search',
          method: 'POST',
          agent: false,
          headers: { Authorization: admin, ...headers },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => {
            const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<
              string,
              unknown
            >;
            delete body.requestId;
            done({ status: res.statusCode!, body });
          });
        },
      );
      req.on('error', fail);
      for (const c of chunks) req.write(c);
      req.end();
    });
  }

  it('parses bodies over 1 MiB a slice at a time: the same answers and refusals as express.json()', async () => {
    const values: unknown[] = Array.from({ length: 50_000 }, (_, i) => `h${i}.example.com`);
    values[7] = 'evil.com';
    values[8] = { not: 'a string' };
    const big = JSON.stringify({ values, matchesLimit: 2 }, null, 1);
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const bodies: Array<[string, string | Buffer]> = [
      ['spaced out, with a byte order mark', `\ufeff ${big}\n`],
      ['malformed near the end', big.replace(/"h49998.example.com"/, '"h29998" "x"')],
      ['malformed near the start', big.replace('"values"', '"values" [')],
      ['cut short', big.slice(0, -10)],
      ['a string at the top level', JSON.stringify('x'.repeat(1_100_000))],
      ['only spaces', ' '.repeat(1024 * 1024 + 1)],
      ['an unknown field', big.replace('"matchesLimit"', '"limit"')],
      ['an own __proto__ field', big.replace('"matchesLimit"', '"__proto__"')],
      ['a value array too long', JSON.stringify({ values: Array(100_001).fill('aa.example.com') })],
      [
        'invalid UTF-8 in a value',
        Buffer.concat([
          Buffer.from(big.slice(0, 40)),
          Buffer.from([0xe2, 0x22]),
          Buffer.from(big.slice(41)),
        ]),
      ],
    ];
    for (const [what, text] of bodies) {
      const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
      // A parameter besides the charset sends the same body through express.json() as before.
      const before = await postRaw([bytes], {
        'Content-Type': 'application/json; profile=whole',
        'Content-Length': bytes.length,
      });
      const sliced = await postRaw([bytes], {
        'Content-Type': 'application/json',
        'Content-Length': bytes.length,
      });
      const chunked = await postRaw([bytes.subarray(0, 1000), bytes.subarray(1000)], {
        'Content-Type': 'application/json; charset=utf-8',
      });
      expect({ what, ...sliced }).toEqual({ what, ...before });
      expect({ what, ...chunked }).toEqual({ what, ...before });
    }
    const ok = await postRaw([Buffer.from(big)], { 'Content-Type': 'application/json' });
    expect(ok.status).toBe(200);
    const results = ok.body.results as Array<Record<string, unknown>>;
    expect(results).toHaveLength(50_000);
    expect(results[7]).toMatchObject({ value: 'evil.com', result: 'detected' });
    expect(results[8]).toMatchObject({ value: { not: 'a string' }, result: 'invalid' });
    // Bodies over the limit: 413, declared or not.
    const huge = Buffer.alloc(64 * 1024 * 1024 + 1, 0x20);
    for (const headers of [{ 'Content-Length': huge.length }, {}] as Array<
      Record<string, number>
    >) {
      const refused = await postRaw([huge], { 'Content-Type': 'application/json', ...headers });
      expect(refused).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
    }
  }, 120_000);

  it('Analysts and custom search-only roles may search; a role without search may not', async () => {
    await call('post', '/api/v1/users', {
      username: 'analyst.s',
      password: 'correct horse battery',
      role: 'Analyst',
    });
    await call('post', '/api/v1/roles', { name: 'Searcher', privileges: ['search'] });
    await call('post', '/api/v1/roles', { name: 'NoSearch', privileges: ['tags.read'] });
    const client = await call('post', '/api/v1/api-clients', { name: 'siem', role: 'Searcher' });
    await call('post', '/api/v1/users', {
      username: 'nosearch',
      password: 'correct horse battery',
      role: 'NoSearch',
    });
    await t
      .api()
      .get('/api/v1/search?value=evil.com')
      .set('Authorization', basic('analyst.s', 'correct horse battery'))
      .expect(200);
    await t
      .api()
      .get('/api/v1/search?value=evil.com')
      .set('Authorization', basic(client.clientId, client.clientSecret))
      .expect(200);
    const denied = await t
      .api()
      .post('/api/v1/search')
      .set('Authorization', basic('nosearch', 'correct horse battery'))
      .send({ values: ['evil.com'] });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toMatch(/"search"/);
    await t.api().get('/api/v1/search?value=evil.com').expect(401);
  });

  it('counts values and verdicts in the metrics', async () => {
    const m = await asUser(t, admin).get('/metrics');
    expect(m.text).toMatch(/indicium_search_verdicts_total\{result="detected"\} \d+/);
    expect(m.text).toMatch(/indicium_search_values_total\{type="domain"\} \d+/);
    expect(m.text).toMatch(/indicium_search_duration_seconds_count\{mode="single"\} \d+/);
  });
});
