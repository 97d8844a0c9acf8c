import { once } from 'node:events';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExpirySweeper } from '../src/suppliers/indicators/expiry-sweeper';
import { appDb, createTestApp, TestApp } from './support/test-app';
import { PageBody, threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

const MiB = 1024 * 1024;

describe('indicators of a supplier (docs/api.md §3)', () => {
  let t: TestApp;
  let h: ReturnType<typeof threatIntel>;
  let admin: string;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp();
    h = threatIntel(t);
    admin = h.admin;
    await h.createTag('phishing', { weight: 4 });
    await h.createTag('C2', { weight: 5 });
    await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
    port = (t.http.address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  /** A raw request on the listening server, for bodies supertest cannot stream. */
  function rawPut(path: string, headers: Record<string, string | number>): ClientRequest {
    return httpRequest({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path,
      headers: { Authorization: admin, 'Content-Type': 'application/json', ...headers },
    });
  }

  async function readResponse(
    res: IncomingMessage,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return { status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) };
  }

  it('creates and updates indicators (JSON array), normalised, with context and tags', async () => {
    await h.createSupplier('JsonFeed');
    const res = await h.upload('JsonFeed', [
      {
        indicator: 'HTTP://www.Evil.COM:8080/a/./b/../c//d/',
        context: { threat: 'phishing', score: 9, active: true, families: ['x', 'y'] },
        tags: ['Phishing'],
        confidence: 90,
        firstSeen: '2026-01-01T00:00:00Z',
        lastSeen: '2026-01-02T00:00:00+01:00',
      },
      { indicator: '10.1.2.3/8', type: 'cidr' },
      { indicator: '::FFFF:192.0.2.1' },
      { indicator: 'D41D8CD98F00B204E9800998ECF8427E' },
      { indicator: 'Bad.Example.COM.' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ processed: 5, created: 5, updated: 0, failed: [] });
    const items = await h.listAll('JsonFeed');
    expect(items.map((i) => [i.type, i.indicator]).sort()).toEqual(
      [
        ['url', 'evil.com/a/c/d'],
        ['cidr', '10.0.0.0/8'],
        ['ip', '192.0.2.1'],
        ['md5', 'd41d8cd98f00b204e9800998ecf8427e'],
        ['domain', 'bad.example.com'],
      ].sort(),
    );
    expect(items.find((i) => i.type === 'url')).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      indicator: 'evil.com/a/c/d',
      type: 'url',
      context: { threat: 'phishing', score: 9, active: true, families: ['x', 'y'] },
      tags: [{ name: 'PHISHING', weight: 4 }],
      confidence: 90,
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-01T23:00:00.000Z',
      expiresAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      hits: 0,
      lastHitAt: null,
    });
    expect((await h.supplier('JsonFeed')).indicatorCount).toBe(5);

    // Upsert: context replaced, tags omitted → kept; later duplicates in one body win.
    const again = await h.upload('JsonFeed', [
      { indicator: 'evil.com/a/c/d', context: { threat: 'old' } },
      { indicator: 'http://evil.com/a/c/d', context: { threat: 'malware' } },
      { indicator: 'new.example.com', tags: ['c2', 'PHISHING'] },
    ]);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ processed: 3, created: 1, updated: 1, failed: [] });
    const url = (await h.listAll('JsonFeed', { value: 'evil.com/a/c/d' }))[0];
    expect(url).toMatchObject({
      context: { threat: 'malware' },
      tags: [{ name: 'PHISHING', weight: 4 }],
      confidence: null,
    });
    // Tags read as in search results: {name, weight}, heaviest first.
    expect((await h.listAll('JsonFeed', { value: 'new.example.com' }))[0].tags).toEqual([
      { name: 'C2', weight: 5 },
      { name: 'PHISHING', weight: 4 },
    ]);
    expect(Date.parse(url.updatedAt)).toBeGreaterThan(Date.parse(url.createdAt));
    expect((await h.supplier('JsonFeed')).indicatorCount).toBe(6);

    // [] removes every tag.
    await h.upload('JsonFeed', [{ indicator: 'new.example.com', tags: [] }]).expect(200);
    expect((await h.listAll('JsonFeed', { value: 'new.example.com' }))[0].tags).toEqual([]);

    const [record] = await h.auditActions('indicator.upload');
    expect(record).toMatchObject({
      entityType: 'supplier',
      entityName: 'JsonFeed',
      operation: 'update',
      newValue: { processed: 1, created: 0, updated: 1, failed: 0 },
    });
    expect(JSON.stringify(record)).not.toContain('new.example.com');
  });

  it('context text that needs quoting round-trips through new-row inserts and upserts', async () => {
    await h.createSupplier('QuoteFeed');
    const tricky = (n: number) => ({
      quote: `say "hi" ${n}`,
      backslash: 'C:\\temp\\x\\',
      both: '\\"',
      array: ['{a,b}', 'NULL', '', ' , '],
      unicode: 'ü → 😀',
      lines: 'a\nb\tc\r',
    });
    const entries = [1, 2, 3].map((n) => ({
      indicator: `q${n}.example.com`,
      context: tricky(n),
      confidence: n === 2 ? null : n,
    }));
    // A fresh supplier: new rows; the same body again: upserts; then one new row beside them.
    const first = await h.upload('QuoteFeed', entries);
    expect(first.body).toEqual({ processed: 3, created: 3, updated: 0, failed: [] });
    const again = await h.upload('QuoteFeed', [
      ...entries.map((e) => ({ ...e, context: { ...e.context, quote: `"${e.indicator}"` } })),
      { indicator: 'q4.example.com', context: tricky(4), firstSeen: '2026-02-03T04:05:06.789Z' },
    ]);
    expect(again.body).toEqual({ processed: 4, created: 1, updated: 3, failed: [] });
    const items = await h.listAll('QuoteFeed');
    const byValue = new Map(items.map((i) => [i.indicator, i]));
    for (const n of [1, 2, 3]) {
      expect(byValue.get(`q${n}.example.com`)).toMatchObject({
        context: { ...tricky(n), quote: `"q${n}.example.com"` },
        confidence: n === 2 ? null : n,
      });
    }
    expect(byValue.get('q4.example.com')).toMatchObject({
      context: tricky(4),
      firstSeen: '2026-02-03T04:05:06.789Z',
    });
  });

  it('accepts NDJSON, skipping blank lines', async () => {
    await h.createSupplier('NdFeed');
    const body = [
      '{"indicator":"1.2.3.4","context":{"k":"v"}}',
      '',
      '{"indicator":"nd.example.com","tags":["C2"]}\r',
      '  ',
      '{"indicator":"a@Example.COM"}',
    ].join('\n');
    const res = await h.upload('NdFeed', body, true);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ processed: 3, created: 3, updated: 0, failed: [] });
    const items = await h.listAll('NdFeed');
    expect(items.map((i) => i.indicator).sort()).toEqual([
      '1.2.3.4',
      'a@example.com',
      'nd.example.com',
    ]);
    const bad = await h.upload('NdFeed', '{"indicator":"x.com"}\n{"indicator":\n', true);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('malformed_body');
    expect(bad.body.message).toMatch(/line 2 \(entry 1\) is not valid JSON.*nothing was applied/);
    expect((await h.listAll('NdFeed')).length).toBe(3);
  });

  it('202 with exact failure entries when some entries fail; the rest apply', async () => {
    await h.createSupplier('PartialFeed');
    const res = await h.upload('PartialFeed', [
      { indicator: 'ok1.example.com' },
      { indicator: 'not valid' },
      { indicator: 'ok2.example.com', severity: 'high' },
      { indicator: 'ok3.example.com', tags: ['NOPE'] },
      { indicator: 'ok4.example.com', context: { 'Bad Key': 1 } },
      { indicator: 'ok5.example.com', confidence: 101 },
      { indicator: '1.2.3.4', type: 'domain' },
      'just-a-string',
      { type: 'ip' },
      { indicator: 'ok6.example.com', expiresAt: 'soon' },
      { indicator: 'ok7.example.com' },
    ]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      processed: 11,
      created: 2,
      updated: 0,
      failed: [
        { index: 1, indicator: 'not valid', reason: 'the value contains whitespace' },
        { index: 2, indicator: 'ok2.example.com', reason: 'unknown field "severity"' },
        { index: 3, indicator: 'ok3.example.com', reason: 'unknown tag "NOPE"' },
        {
          index: 4,
          indicator: 'ok4.example.com',
          reason: 'context field name "Bad Key" must match ^[a-z0-9][a-z0-9_-]{0,254}$',
        },
        {
          index: 5,
          indicator: 'ok5.example.com',
          reason: 'confidence must be an integer from 0 to 100',
        },
        {
          index: 6,
          indicator: '1.2.3.4',
          reason: 'not a valid domain: it is an IP address (use type ip)',
        },
        { index: 7, indicator: null, reason: 'entry must be a JSON object' },
        { index: 8, indicator: null, reason: 'indicator is required' },
        {
          index: 9,
          indicator: 'ok6.example.com',
          reason: 'expiresAt must be an ISO 8601 timestamp',
        },
      ],
    });
    expect((await h.listAll('PartialFeed')).map((i) => i.indicator).sort()).toEqual([
      'ok1.example.com',
      'ok7.example.com',
    ]);
  });

  it('400 when no entry is valid, listing the failures; nothing applied', async () => {
    await h.createSupplier('AllBadFeed');
    const res = await h.upload('AllBadFeed', [
      { indicator: 'a b' },
      { indicator: 'c', tags: ['NOPE'] },
    ]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      code: 'no_valid_entries',
      message: expect.stringMatching(/No entry is valid \(2 failed\); nothing was applied/),
      details: [
        { index: 0, indicator: 'a b', reason: 'the value contains whitespace' },
        { index: 1, indicator: 'c', reason: 'unknown tag "NOPE"' },
      ],
    });
    expect(await h.listAll('AllBadFeed')).toEqual([]);
    const empty = await h.upload('AllBadFeed', []);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ processed: 0, created: 0, updated: 0, failed: [] });
  });

  it.each([
    [
      '[{"indicator":"ok.example.com"}, {"indicator": nope}]',
      /entry 1 \(at byte \d+\) is not valid JSON/,
    ],
    ['[{"indicator":"ok.example.com"}', /before the array was closed/],
    ['{"indicator":"ok.example.com"}', /expected a JSON array/],
    ['', /body is empty/],
    ['[{"indicator":"ok.example.com"}] trailing', /after the closing/],
  ])('malformed JSON %j → 400 saying where; nothing written', async (body, message) => {
    const name = `Malformed${Math.random().toString(36).slice(2, 8)}`;
    await h.createSupplier(name);
    const res = await h.upload(name, body);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
    expect(await h.listAll(name)).toEqual([]);
    expect((await h.supplier(name)).indicatorCount).toBe(0);
  });

  it('malformed JSON after several staged batches leaves nothing', async () => {
    await h.createSupplier('LateBreak');
    const entries = Array.from({ length: 12_000 }, (_, i) => ({
      indicator: `late${i}.example.com`,
    }));
    const body = `${JSON.stringify(entries).slice(0, -1)}, {"indicator": oops}]`;
    const res = await h.upload('LateBreak', body);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/entry 12000/);
    expect(await h.listAll('LateBreak')).toEqual([]);
  });

  it('415 for another Content-Type; 404 for an unknown supplier', async () => {
    const res = await asUser(t, admin)
      .put('/api/v1/suppliers/InternalTI/indicators')
      .set('Content-Type', 'text/plain')
      .send('evil.com');
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('unsupported_media_type');
    expect(res.body.message).toMatch(/application\/x-ndjson/);
    const missing = await h.upload('NoSuchFeed', [{ indicator: 'x.com' }]);
    expect(missing.status).toBe(404);
  });

  it('FalsePositive entries may not carry context', async () => {
    const res = await h.upload('falsepositive', [
      { indicator: 'good.example.com' },
      { indicator: 'also-good.example.com', context: { reason: 'cdn' } },
      { indicator: 'empty-context.example.com', context: {} },
    ]);
    expect(res.status).toBe(202);
    expect(res.body.failed).toEqual([
      {
        index: 1,
        indicator: 'also-good.example.com',
        reason: 'FalsePositive indicators may not carry context',
      },
    ]);
    expect(res.body.created).toBe(2);
  });

  it('refangs defanged values in uploads and deletes', async () => {
    await h.createSupplier('DefangFeed');
    const res = await h.upload('DefangFeed', [
      { indicator: 'hxxps://evil[.]example/kit' },
      { indicator: '203[.]0[.]113[.]9' },
      { indicator: 'phish[at]evil(.)example' },
      { indicator: 'evil{.}example', type: 'domain' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ processed: 4, created: 4, updated: 0, failed: [] });
    expect((await h.listAll('DefangFeed')).map((i) => [i.type, i.indicator]).sort()).toEqual([
      ['domain', 'evil.example'],
      ['email', 'phish@evil.example'],
      ['ip', '203.0.113.9'],
      ['url', 'evil.example/kit'],
    ]);
    const del = await asUser(t, admin)
      .delete('/api/v1/suppliers/DefangFeed/indicators')
      .send([{ indicator: '203[.]0[.]113[.]9' }]);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ deleted: 1, notFound: [] });
  });

  it('deletes by value (normalised), reporting what was not found; audited', async () => {
    await h.createSupplier('DelFeed');
    await h
      .upload('DelFeed', [
        { indicator: 'del1.example.com', tags: ['C2'] },
        { indicator: 'del2.example.com' },
        { indicator: '10.0.0.1' },
      ])
      .expect(200);
    const res = await asUser(t, admin)
      .delete('/api/v1/suppliers/delfeed/indicators')
      .send([
        { indicator: 'DEL1.example.com.' },
        { indicator: '10.0.0.1', type: 'ip' },
        { indicator: 'missing.example.com' },
        { indicator: 'not valid' },
      ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deleted: 2, notFound: ['missing.example.com', 'not valid'] });
    expect((await h.listAll('DelFeed')).map((i) => i.indicator)).toEqual(['del2.example.com']);
    expect((await h.supplier('DelFeed')).indicatorCount).toBe(1);
    const [record] = await h.auditActions('indicator.delete');
    expect(record).toMatchObject({
      entityName: 'DelFeed',
      operation: 'delete',
      newValue: { requested: 4, deleted: 2, notFound: 2 },
    });
    for (const [body, message] of [
      [{ indicator: 'x' }, /array/],
      [[{ indicator: 'x', extra: 1 }], /\[0\]\.extra/],
      [[{ indicator: 5 }], /\[0\]\.indicator/],
      [[{ indicator: 'x', type: 'host' }], /\[0\]\.type/],
    ] as const) {
      const bad = await asUser(t, admin).delete('/api/v1/suppliers/DelFeed/indicators').send(body);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(message);
    }
    const missing = await asUser(t, admin)
      .delete('/api/v1/suppliers/NoSuchFeed/indicators')
      .send([{ indicator: 'x.com' }]);
    expect(missing.status).toBe(404);
  });

  it('lists with keyset pagination and the type, tag, value and updatedSince filters', async () => {
    await h.createSupplier('ListFeed');
    const entries = Array.from({ length: 25 }, (_, i) => ({
      indicator: `list${i}.example.com`,
      ...(i % 5 === 0 ? { tags: ['PHISHING'] } : {}),
    }));
    await h.upload('ListFeed', [...entries, { indicator: '192.0.2.7' }]).expect(200);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: PageBody<{ id: string }> } = await t
        .api()
        .get('/api/v1/suppliers/ListFeed/indicators')
        .query({ limit: 7, ...(cursor ? { cursor } : {}) })
        .set('Authorization', admin);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...res.body.items.map((i: { id: string }) => i.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(26);
    expect([...seen].sort()).toEqual(seen);

    expect((await h.listAll('ListFeed', { type: 'ip' })).map((i) => i.indicator)).toEqual([
      '192.0.2.7',
    ]);
    expect((await h.listAll('ListFeed', { tag: 'phishing' })).length).toBe(5);
    expect(await h.listAll('ListFeed', { tag: 'UNKNOWN' })).toEqual([]);
    expect((await h.listAll('ListFeed', { value: 'HTTPS://LIST3.example.com' })).length).toBe(0);
    expect((await h.listAll('ListFeed', { value: 'LIST3.Example.com.' }))[0].indicator).toBe(
      'list3.example.com',
    );
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await h.upload('ListFeed', [{ indicator: 'list4.example.com' }]).expect(200);
    expect((await h.listAll('ListFeed', { updatedSince: before })).map((i) => i.indicator)).toEqual(
      ['list4.example.com'],
    );
    for (const query of [
      { type: 'hostname' },
      { value: 'not valid' },
      { updatedSince: 'yesterday' },
      { limit: 0 },
      { cursor: 'nope' },
      { tag: 'bad tag' },
    ]) {
      const res = await t
        .api()
        .get('/api/v1/suppliers/ListFeed/indicators')
        .query(query)
        .set('Authorization', admin);
      expect(res.status).toBe(400);
    }
    expect((await asUser(t, admin).get('/api/v1/suppliers/NoSuchFeed/indicators')).status).toBe(
      404,
    );
  });

  it('expired indicators (own expiresAt or retention) are hidden, then purged by the sweeper', async () => {
    await h.createSupplier('ExpFeed');
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await h
      .upload('ExpFeed', [
        { indicator: 'past.example.com', expiresAt: past, tags: ['C2'] },
        { indicator: 'future.example.com', expiresAt: future },
        { indicator: 'forever.example.com' },
      ])
      .expect(200);
    expect((await h.listAll('ExpFeed')).map((i) => i.indicator).sort()).toEqual([
      'forever.example.com',
      'future.example.com',
    ]);
    expect((await h.listAll('ExpFeed', { includeExpired: 'true' })).length).toBe(3);
    expect((await h.supplier('ExpFeed')).indicatorCount).toBe(3);

    const sweeper = t.app.get(ExpirySweeper);
    expect(await sweeper.sweepOnce()).toBeGreaterThanOrEqual(1);
    expect((await h.listAll('ExpFeed', { includeExpired: 'true' })).length).toBe(2);
    expect((await h.supplier('ExpFeed')).indicatorCount).toBe(2);

    // Retention: a tiny retention makes everything not refreshed since expire.
    await asUser(t, admin)
      .patch('/api/v1/suppliers/ExpFeed')
      .send({ retentionMinutes: 1 })
      .expect(200);
    expect((await h.listAll('ExpFeed')).length).toBe(2); // updated just now: 1 minute left
    await asUser(t, admin)
      .patch('/api/v1/suppliers/ExpFeed')
      .send({ retentionMinutes: 0 })
      .expect(200);
    // Backdate updated_at through the API is impossible; emulate time passing in SQL.
    const ds = appDb(t);
    await ds.query(
      `UPDATE indicators SET updated_at = now() - interval '2 minutes'
       WHERE supplier_id = (SELECT id FROM suppliers WHERE name = 'ExpFeed')`,
    );
    await asUser(t, admin)
      .patch('/api/v1/suppliers/ExpFeed')
      .send({ retentionMinutes: 1 })
      .expect(200);
    expect(await h.listAll('ExpFeed')).toEqual([]);
    expect(await sweeper.sweepOnce()).toBe(2);
    expect((await h.supplier('ExpFeed')).indicatorCount).toBe(0);
    expect(await h.listAll('ExpFeed', { includeExpired: 'true' })).toEqual([]);
    // A re-upload refreshes the retention clock.
    await h.upload('ExpFeed', [{ indicator: 'forever.example.com' }]).expect(200);
    expect((await h.listAll('ExpFeed')).length).toBe(1);
  });

  it('a client that disconnects mid-body leaves nothing', async () => {
    await h.createSupplier('AbortFeed');
    const req = rawPut('/api/v1/suppliers/AbortFeed/indicators', {
      'Transfer-Encoding': 'chunked',
    });
    req.on('error', () => undefined);
    req.write('[');
    // Enough entries for several staging batches, so the server has an open transaction.
    for (let part = 0; part < 6; part++) {
      const entries = Array.from({ length: 5_000 }, (_, i) =>
        JSON.stringify({ indicator: `abort${part}-${i}.example.com`, context: { n: i } }),
      );
      const chunk = `${part === 0 ? '' : ','}${entries.join(',')}`;
      if (!req.write(chunk)) await once(req, 'drain');
    }
    await new Promise<void>((resolve) => req.write(',', () => resolve()));
    req.destroy();
    // The next upload to the same supplier goes through once the aborted one rolled back.
    await h.upload('AbortFeed', [{ indicator: 'after.example.com' }]).expect(200);
    expect((await h.listAll('AbortFeed')).map((i) => i.indicator)).toEqual(['after.example.com']);
    expect((await h.supplier('AbortFeed')).indicatorCount).toBe(1);
    const uploads = (await h.auditActions('indicator.upload')).filter(
      (r) => r.entityName === 'AbortFeed',
    );
    expect(uploads).toHaveLength(1);
  });

  it('413 when Content-Length announces more than 128 MiB; nothing read', async () => {
    const req = rawPut('/api/v1/suppliers/InternalTI/indicators', {
      'Content-Length': 128 * MiB + 1,
    });
    req.on('error', () => undefined);
    req.write('[');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const { status, body } = await readResponse(res);
    req.destroy();
    expect(status).toBe(413);
    expect(body).toMatchObject({
      statusCode: 413,
      error: 'Payload Too Large',
      code: 'payload_too_large',
      requestId: expect.any(String),
    });
  });

  it('413 when a streamed body crosses 128 MiB; nothing written', async () => {
    await h.createSupplier('HugeFeed');
    const req = rawPut('/api/v1/suppliers/HugeFeed/indicators', { 'Transfer-Encoding': 'chunked' });
    req.on('error', () => undefined);
    let response: IncomingMessage | undefined;
    req.on('response', (r: IncomingMessage) => (response = r));
    const entries = Array.from({ length: 1000 }, (_, i) => ({ indicator: `huge${i}.example.com` }));
    req.write(`[${JSON.stringify(entries).slice(1, -1)}`);
    // Whitespace between elements is valid JSON: 129 MiB of it, then more entries.
    const spaces = Buffer.alloc(MiB, 0x20);
    for (let i = 0; i < 129 && !response; i++) {
      if (!req.write(spaces)) await Promise.race([once(req, 'drain'), once(req, 'response')]);
    }
    if (!response) req.end(',{"indicator":"last.example.com"}]');
    const res = response ?? ((await once(req, 'response')) as [IncomingMessage])[0];
    const { status, body } = await readResponse(res);
    req.destroy();
    expect(status).toBe(413);
    expect(body.message).toMatch(/128 MiB/);
    expect(await h.listAll('HugeFeed')).toEqual([]);
  });

  it('uploads 100,000 indicators in one request', async () => {
    await h.createSupplier('BigFeed');
    const entries = Array.from({ length: 100_000 }, (_, i) => ({
      indicator:
        i % 2 === 0 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `big${i}.example.com`,
      context: { seq: i, feed: 'big' },
      ...(i % 10 === 0 ? { tags: ['C2'] } : {}),
    }));
    const res = await h.upload('BigFeed', entries);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ processed: 100_000, created: 100_000, updated: 0, failed: [] });
    expect((await h.supplier('BigFeed')).indicatorCount).toBe(100_000);
    const tagged = await asUser(t, admin).get('/api/v1/tags/C2');
    expect(tagged.body.indicatorCount).toBeGreaterThanOrEqual(10_000);
  });

  it('401 without credentials; 403 for an Analyst on every indicator route', async () => {
    expect((await t.api().get('/api/v1/suppliers/InternalTI/indicators')).status).toBe(401);
    const analyst = await h.createAnalyst('indicator.analyst');
    const calls = [
      t.api().get('/api/v1/suppliers/InternalTI/indicators'),
      t
        .api()
        .put('/api/v1/suppliers/InternalTI/indicators')
        .set('Content-Type', 'application/json')
        .send('[{"indicator":"analyst.example.com"}]'),
      t
        .api()
        .delete('/api/v1/suppliers/InternalTI/indicators')
        .send([{ indicator: 'x.com' }]),
    ];
    for (const call of calls) {
      const res = await call.set('Authorization', analyst);
      expect(res.status).toBe(403);
    }
    expect((await h.listAll('InternalTI', { value: 'analyst.example.com' })).length).toBe(0);
  });
});
