import { createTestApp, TestApp } from './support/test-app';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

describe('GET /api/v1/blocklist (docs/api.md §10)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;

  const get = (query: Record<string, string | number> = {}, etag?: string) => {
    const req = t.api().get('/api/v1/blocklist').query(query).set('Authorization', ti.admin);
    return etag ? req.set('If-None-Match', etag) : req;
  };
  const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    await ti.createSupplier('Alpha', { confidence: 50 });
    await ti.createSupplier('Beta', { confidence: 90 });
    await ti.createSupplier('Gone');
    await ti.createTag('C2');
    await ti
      .upload('FalsePositive', [
        { indicator: '10.0.0.0/8' },
        { indicator: 'example.com' },
        { indicator: 'http://good.org/safe' },
      ])
      .expect(200);
    await ti
      .upload('Alpha', [
        { indicator: '10.1.2.3' }, // inside the FP network
        { indicator: '10.20.0.0/16' }, // a network inside the FP network
        { indicator: '0.0.0.0/1' }, // wider than the FP network: stays
        { indicator: '192.0.2.1', tags: ['C2'] },
        { indicator: 'a.b.example.com' }, // subdomain of the FP domain
        { indicator: 'evil.com' },
        { indicator: 'http://good.org/safe/x.php' }, // under the FP URL
        { indicator: 'http://cdn.example.com/kit' }, // host under the FP domain
        { indicator: 'http://bad.org/x' },
        { indicator: 'old.com', expiresAt: '2020-01-01T00:00:00Z' }, // expired
        { indicator: 'd41d8cd98f00b204e9800998ecf8427e' },
      ])
      .expect(200);
    await ti
      .upload('Beta', [
        { indicator: 'evil.com' }, // the same value from a second supplier
        { indicator: '198.51.100.7', confidence: 10 },
      ])
      .expect(200);
    await ti.upload('Gone', [{ indicator: 'disabled.com' }]).expect(200);
    await asUser(t, ti.admin)
      .patch('/api/v1/suppliers/Gone')
      .send({ status: 'disabled' })
      .expect(200);
  });
  afterAll(() => t.close());

  it('lists each value once, without FP-suppressed, expired or disabled ones', async () => {
    const res = await get().expect(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const list = lines(res.text);
    expect(new Set(list).size).toBe(list.length);
    expect([...list].sort()).toEqual(
      [
        '0.0.0.0/1',
        '192.0.2.1',
        '198.51.100.7',
        'bad.org/x',
        'd41d8cd98f00b204e9800998ecf8427e',
        'evil.com',
      ].sort(),
    );
  });

  it.each<[Record<string, string | number>, string[]]>([
    [{ types: 'ip,cidr' }, ['0.0.0.0/1', '192.0.2.1', '198.51.100.7']],
    [{ types: 'domain,url' }, ['bad.org/x', 'evil.com']],
    [{ suppliers: 'beta' }, ['198.51.100.7', 'evil.com']],
    [{ minConfidence: 60 }, ['evil.com']], // Beta's 90 for evil.com; 198.51.100.7 has its own 10
    [{ tags: 'c2' }, ['192.0.2.1']],
    [{ suppliers: 'Gone' }, []],
  ])('filters %j', async (query, expected) => {
    const res = await get(query).expect(200);
    expect(lines(res.text).sort()).toEqual(expected.sort());
  });

  it.each<[Record<string, string>, string]>([
    [{ types: 'ip,hostname' }, 'types: "hostname" is not an indicator type'],
    [{ suppliers: 'Nobody' }, 'suppliers: no supplier named "nobody"'],
    [{ suppliers: 'FalsePositive' }, 'FalsePositive'],
    [{ tags: 'NOPE' }, 'tags: no tag named "NOPE"'],
    [{ minConfidence: '101' }, 'minConfidence'],
  ])('refuses %j with a 400 naming the problem', async (query, message) => {
    const res = await get(query).expect(400);
    expect(res.body.message).toContain(message);
    expect(res.body.code).toBe(
      message.includes('no supplier') || message.includes('no tag')
        ? 'unknown_reference'
        : 'validation_failed',
    );
  });

  it('answers a firewall poll with the list, then 304 until something changes', async () => {
    const first = await t
      .api()
      .get('/api/v1/blocklist')
      .set('Accept', 'text/plain')
      .set('Authorization', ti.admin);
    expect(first.status).toBe(200);
    const etag = first.headers.etag;
    const again = await get({}, etag).expect(304);
    expect(again.text).toBe('');
    expect(again.headers.etag).toBe(etag);
    // Another selection is another list: its own ETag.
    const other = await get({ types: 'ip' }, etag).expect(200);
    expect(other.headers.etag).not.toBe(etag);

    // Enabling a supplier changes the list (and the ETag).
    await asUser(t, ti.admin)
      .patch('/api/v1/suppliers/Gone')
      .send({ status: 'enabled' })
      .expect(200);
    const enabled = await get({}, etag).expect(200);
    expect(lines(enabled.text)).toContain('disabled.com');
    const etag2 = enabled.headers.etag;
    await get({}, etag2).expect(304);

    // A FalsePositive change too.
    await ti.upload('FalsePositive', [{ indicator: 'evil.com' }]).expect(200);
    const suppressed = await get({}, etag2).expect(200);
    expect(lines(suppressed.text)).not.toContain('evil.com');
    const etag3 = suppressed.headers.etag;

    // An indicator reaching its expiry changes it without any write.
    const soon = new Date(Date.now() + 1500).toISOString();
    await ti.upload('Alpha', [{ indicator: 'brief.com', expiresAt: soon }]).expect(200);
    const withBrief = await get({}, etag3).expect(200);
    expect(lines(withBrief.text)).toContain('brief.com');
    await get({}, withBrief.headers.etag).expect(304);
    await new Promise((r) => setTimeout(r, Date.parse(soon) - Date.now() + 100));
    const expired = await get({}, withBrief.headers.etag).expect(200);
    expect(lines(expired.text)).not.toContain('brief.com');
  });

  it('refuses an Accept without text/plain (406), no credentials (401), no indicators.read (403)', async () => {
    const wrong = await t
      .api()
      .get('/api/v1/blocklist')
      .set('Accept', 'application/json')
      .set('Authorization', ti.admin);
    expect(wrong.status).toBe(406);
    expect(wrong.body.message).toContain('text/plain');
    await t.api().get('/api/v1/blocklist').expect(401);
    const analyst = await ti.createAnalyst('blocklist.analyst');
    const denied = await asUser(t, analyst).get('/api/v1/blocklist').expect(403);
    expect(denied.body.message).toContain('indicators.read');
  });
});
