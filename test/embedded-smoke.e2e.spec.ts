import { DataSource } from 'typeorm';
import {
  basic,
  createEmbeddedTestApp,
  EMBEDDED_BOOT_TIMEOUT_MS,
  TestApp,
} from './support/test-app';
import { asUser } from './api/client';

/**
 * The embedded Postgres (PGlite) path: `npm start` on a machine without a database server.
 * It unsets DATABASE_URL itself, so every `npm test` runs it on PGlite.
 */
describe('embedded database smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createEmbeddedTestApp();
  }, EMBEDDED_BOOT_TIMEOUT_MS);
  afterAll(() => t.close());

  it('runs migrations, seeds admin, and serves users and roles', async () => {
    expect(t.config.usesEmbeddedDatabase).toBe(true);
    const admin = basic(t.admin.username, t.admin.password);
    await t.api().get('/health/ready').expect(200);
    await asUser(t, admin)
      .post('/api/v1/roles')
      .send({ name: 'Embedded', privileges: ['search'] })
      .expect(201);
    const created = await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username: 'embedded.user', password: 'correct horse battery', role: 'Embedded' });
    expect(created.status).toBe(201);
    const me = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('embedded.user', 'correct horse battery'));
    expect(me.body).toMatchObject({
      name: 'embedded.user',
      role: 'Embedded',
      privileges: ['search'],
    });
  });

  it('uploads (new rows, then upserts) and searches: exact, cidr, within, parent domain', async () => {
    const admin = basic(t.admin.username, t.admin.password);
    const api = (method: 'post' | 'put', path: string, body: object) =>
      t.api()[method](path).set('Authorization', admin).send(body);
    await api('post', '/api/v1/tags', { name: 'C2', weight: 5 }).expect(201);
    await api('post', '/api/v1/suppliers', { name: 'EmbeddedFeed', vendor: 'Smoke' }).expect(201);
    const entries = [
      { indicator: '10.0.0.0/8', tags: ['C2'] },
      { indicator: '10.1.2.3', context: { note: 'say "hi" \\ {a,b}' } },
      { indicator: 'evil.example' },
    ];
    const first = await api('put', '/api/v1/suppliers/EmbeddedFeed/indicators', entries);
    expect(first.body).toEqual({ processed: 3, created: 3, updated: 0, failed: [] });
    const again = await api('put', '/api/v1/suppliers/EmbeddedFeed/indicators', entries);
    expect(again.body).toEqual({ processed: 3, created: 0, updated: 3, failed: [] });

    const res = await api('post', '/api/v1/search', {
      values: ['10.9.9.9', '10.0.0.0/8', 'a.evil.example', '10.1.2.3', 'clean.example'],
    }).expect(200);
    const how = (r: { matches: Array<{ matchedBy: string; indicator: string }> }) =>
      r.matches.map((m) => `${m.matchedBy}:${m.indicator}`).sort();
    expect(res.body.results.map(how)).toEqual([
      ['cidr:10.0.0.0/8'],
      ['exact:10.0.0.0/8', 'within:10.1.2.3'],
      ['parent_domain:evil.example'],
      ['cidr:10.0.0.0/8', 'exact:10.1.2.3'],
      [],
    ]);
    const ip = res.body.results[3].matches.find(
      (m: { matchedBy: string }) => m.matchedBy === 'exact',
    );
    expect(ip.context).toEqual({ note: 'say "hi" \\ {a,b}' });
  });

  it('keeps transactions of concurrent requests apart on the single embedded connection', async () => {
    const admin = basic(t.admin.username, t.admin.password);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        asUser(t, admin)
          .post('/api/v1/users')
          .send({
            username: i % 2 ? `conc.${i}` : 'conc.same',
            password: 'correct horse battery',
            role: 'Analyst',
          }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(7);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    const list = await asUser(t, admin).get('/api/v1/users?limit=1000');
    expect(
      list.body.items.filter((u: { username: string }) => u.username.startsWith('conc.')),
    ).toHaveLength(7);
  });

  it('keeps tenants apart on the embedded database too: its own rows only, and none without a tenant', async () => {
    const admin = basic(t.admin.username, t.admin.password);
    await asUser(t, admin).post('/api/v1/tenants').send({ name: 'pglite-t' }).expect(201);
    await asUser(t, admin)
      .post('/api/v1/users')
      .set('X-Indicium-Tenant', 'pglite-t')
      .send({ username: 'pglite-admin', password: 'correct horse battery', role: 'Administrator' })
      .expect(201);
    const other = basic('pglite-admin', 'correct horse battery');
    // The default tenant's evil.example (uploaded above) is not there for the other tenant.
    const res = await asUser(t, other).get('/api/v1/search?value=evil.example');
    expect([res.status, res.body.result]).toEqual([200, 'not_detected']);
    const suppliers = await asUser(t, other).get('/api/v1/suppliers').expect(200);
    expect(suppliers.body.items.map((x: { name: string }) => x.name).sort()).toEqual([
      'FalsePositive',
      'InternalTI',
    ]);
    // Row-level security binds the embedded application role as well.
    const ds = t.app.get(DataSource);
    await expect(ds.query('SELECT count(*) FROM suppliers')).rejects.toThrow(/no tenant is set/);
  });
});
