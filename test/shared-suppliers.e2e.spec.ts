import { Client } from 'pg';
import { SearchKeyIndex } from '../src/key-index/search-key-index';
import { PREFIX_LENGTHS, withinSql } from '../src/search/search.repository';
import { asRoot, asUser } from './api/client';
import { basic, createTestApp, TestApp } from './support/test-app';

/**
 * Shared suppliers (docs/api.md §12, docs/tenancy.md): an ancestor offers a supplier to its
 * descendants; each subscribes for itself, with its own actionable fields and its own false
 * positives; nobody below can write it, and names stay unique in every tenant's view.
 */
const PASSWORD = 'correct horse battery';

describe('shared suppliers (docs/api.md §12)', () => {
  let t: TestApp;
  let root: string;
  const admins: Record<string, string> = {};

  const as = (auth: string, tenant?: string) => asUser(t, auth, tenant);

  /** A child of `parent` (acting as root) with an Administrator `<name>-admin`. */
  async function tenant(name: string, parent?: string): Promise<void> {
    await as(root, parent).post('/api/v1/tenants', { name }).expect(201);
    await as(root, name)
      .post('/api/v1/users', {
        username: `${name}-admin`,
        password: PASSWORD,
        role: 'Administrator',
      })
      .expect(201);
    admins[name] = basic(`${name}-admin`, PASSWORD);
  }

  const search = async (tenantName: string, value: string) =>
    (
      await as(admins[tenantName])
        .get(`/api/v1/search?value=${encodeURIComponent(value)}`)
        .expect(200)
    ).body;
  const subscribe = (tenantName: string, body: object, name = 'MsspFeed') =>
    as(admins[tenantName]).put(`/api/v1/shared-suppliers/${name}`, body);

  beforeAll(async () => {
    t = await createTestApp();
    root = basic(t.admin.username, t.admin.password);
    await tenant('mssp');
    await tenant('acme', 'mssp');
    await tenant('globex', 'mssp');
    await tenant('acme-eu', 'acme');
    await tenant('outsider');
    const mssp = as(admins.mssp);
    await mssp.post('/api/v1/tags', { name: 'C2', weight: 4 }).expect(201);
    await mssp
      .post('/api/v1/suppliers', {
        name: 'MsspFeed',
        description: 'Curated by the MSSP',
        confidence: 80,
        actionableFields: ['threat'],
        sharing: 'descendants',
      })
      .expect(201);
    await mssp
      .put('/api/v1/suppliers/MsspFeed/indicators', [
        { indicator: '203.0.113.7', context: { threat: 'c2', actor: 'fin7' }, tags: ['C2'] },
        { indicator: 'evil.mssp.example', context: { threat: 'phishing' } },
        { indicator: '198.51.100.0/24', context: { threat: 'scanner' } },
      ])
      .expect(200);
    await mssp.post('/api/v1/suppliers', { name: 'MsspPrivate' }).expect(201);
    await mssp
      .put('/api/v1/suppliers/MsspPrivate/indicators', [{ indicator: 'private.mssp.example' }])
      .expect(200);
  });
  afterAll(() => t.close());

  it('offers the supplier to every descendant, unsubscribed, and to nobody else', async () => {
    const entry = {
      name: 'MsspFeed',
      owner: 'mssp',
      description: 'Curated by the MSSP',
      confidence: 80,
      subscribed: false,
      actionableFields: ['threat'],
    };
    for (const name of ['acme', 'globex', 'acme-eu']) {
      const res = await as(admins[name]).get('/api/v1/shared-suppliers').expect(200);
      expect([name, res.body]).toEqual([name, [entry]]);
    }
    for (const name of ['mssp', 'outsider']) {
      const res = await as(admins[name]).get('/api/v1/shared-suppliers').expect(200);
      expect([name, res.body]).toEqual([name, []]);
    }
    // The owner sees its own sharing on the supplier itself.
    const own = await as(admins.mssp).get('/api/v1/suppliers/MsspFeed').expect(200);
    expect(own.body.sharing).toBe('descendants');
  });

  it('a subscription brings the shared indicators into that tenant’s search only', async () => {
    expect((await search('acme', '203.0.113.7')).result).toBe('not_detected');
    const res = await subscribe('acme', { subscribed: true }).expect(200);
    expect(res.body).toEqual(expect.objectContaining({ name: 'MsspFeed', subscribed: true }));

    const hit = await search('acme', '203.0.113.7');
    expect(hit.result).toBe('detected');
    expect(hit.matches).toEqual([
      expect.objectContaining({
        supplier: 'MsspFeed',
        sharedBy: 'mssp',
        confidence: 80,
        matchedBy: 'exact',
        actionable: { threat: 'c2' },
        tags: [{ name: 'C2', weight: 4 }],
      }),
    ]);
    // Containment and bulk read the shared rows too.
    const inside = await search('acme', '198.51.100.9');
    expect(inside.matches).toEqual([
      expect.objectContaining({
        matchedBy: 'cidr',
        sharedBy: 'mssp',
        indicator: '198.51.100.0/24',
      }),
    ]);
    const bulk = await as(admins.acme)
      .post('/api/v1/search', {
        values: ['evil.mssp.example', 'private.mssp.example', 'x.example'],
      })
      .expect(200);
    expect(bulk.body.results.map((r: { result: string }) => r.result)).toEqual([
      'detected',
      'not_detected',
      'not_detected',
    ]);
    // The owner's own matches carry no sharedBy; siblings that did not subscribe see nothing.
    const owner = await search('mssp', '203.0.113.7');
    expect(owner.matches[0]).not.toHaveProperty('sharedBy');
    expect((await search('globex', '203.0.113.7')).result).toBe('not_detected');
    expect((await search('outsider', '203.0.113.7')).result).toBe('not_detected');
  });

  it('a subscriber’s search never asks Postgres about its ancestor’s private keys', async () => {
    const maybes = async (): Promise<number> => {
      const res = await as(root).get('/metrics').expect(200);
      const m = /^indicium_search_index_lookups_total\{answer="maybe"\} (\d+)$/m.exec(res.text);
      return Number(m?.[1] ?? 0);
    };
    const start = await maybes();
    expect((await search('acme', 'private.mssp.example')).result).toBe('not_detected');
    expect(await maybes()).toBe(start);
    // The owner's own search of the same value does ask: the metric counts.
    expect((await search('mssp', 'private.mssp.example')).result).toBe('detected');
    expect(await maybes()).toBeGreaterThan(start);
  });

  it('each tenant chooses its own actionable fields and its own false positives', async () => {
    await subscribe('globex', { subscribed: true, actionableFields: ['actor'] }).expect(200);
    expect((await search('globex', '203.0.113.7')).matches[0].actionable).toEqual({
      actor: 'fin7',
    });
    expect((await search('acme', '203.0.113.7')).matches[0].actionable).toEqual({ threat: 'c2' });

    await as(admins.acme)
      .put('/api/v1/suppliers/FalsePositive/indicators', [{ indicator: '203.0.113.7' }])
      .expect(200);
    const acme = await search('acme', '203.0.113.7');
    expect([acme.result, acme.falsePositive?.supplier]).toEqual([
      'false_positive',
      'FalsePositive',
    ]);
    expect((await search('globex', '203.0.113.7')).result).toBe('detected');
    expect((await search('mssp', '203.0.113.7')).result).toBe('detected');
  });

  it('a grandchild subscribes for itself', async () => {
    expect((await search('acme-eu', 'evil.mssp.example')).result).toBe('not_detected');
    await subscribe('acme-eu', { subscribed: true }).expect(200);
    const hit = await search('acme-eu', 'evil.mssp.example');
    expect(hit.matches).toEqual([
      expect.objectContaining({ supplier: 'MsspFeed', sharedBy: 'mssp' }),
    ]);
  });

  it('is read-only below: never in the supplier list, every write 404', async () => {
    const acme = as(admins.acme);
    const list = await acme.get('/api/v1/suppliers').expect(200);
    expect(list.body.items.map((s: { name: string }) => s.name)).not.toContain('MsspFeed');
    await acme.get('/api/v1/suppliers/MsspFeed').expect(404);
    await acme.get('/api/v1/suppliers/MsspFeed/indicators').expect(404);
    await acme
      .put('/api/v1/suppliers/MsspFeed/indicators', [{ indicator: '192.0.2.1' }])
      .expect(404);
    await acme.patch('/api/v1/suppliers/MsspFeed', { confidence: 1 }).expect(404);
    await acme.delete('/api/v1/suppliers/MsspFeed').expect(404);
    const owner = await as(admins.mssp).get('/api/v1/suppliers/MsspFeed').expect(200);
    expect([owner.body.confidence, owner.body.indicatorCount]).toEqual([80, 3]);
  });

  it('even in the shared view, the database lets no tenant change another’s rows', async () => {
    const c = new Client({ connectionString: t.config.env.DATABASE_URL });
    await c.connect();
    try {
      const [acme] = (await c.query(`SELECT id FROM tenants WHERE name = 'acme'`)).rows;
      const shared = `SELECT i.value FROM indicators i JOIN suppliers s ON s.id = i.supplier_id
                       WHERE s.name = 'MsspFeed' ORDER BY i.value`;
      await c.query('SET ROLE indicium_app');
      await c.query('BEGIN');
      await c.query(`SET LOCAL indicium.tenant = '${acme.id}'`);
      await c.query(`SET LOCAL indicium.view = 'shared'`);
      // The setting alone opens nothing: the policies are the reader role's only.
      expect((await c.query(shared)).rows).toEqual([]);
      // The application role's plans keep the tenant as an index condition.
      await c.query('SET LOCAL enable_seqscan = off');
      const plan = await c.query(
        `EXPLAIN SELECT id FROM indicators WHERE value = 'x' AND type = 'domain'`,
      );
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(
        /Index Cond: \(\(tenant_id = indicium_tenant\(\)\)/,
      );
      await c.query('SET LOCAL ROLE indicium_shared_reader');
      expect((await c.query(shared)).rows.map((r) => r.value)).toEqual([
        '198.51.100.0/24',
        '203.0.113.7',
        'evil.mssp.example',
      ]);
      // The owner's private supplier stays invisible, even to the reader.
      const hidden = await c.query(
        `SELECT count(*)::int AS n FROM suppliers WHERE name = 'MsspPrivate'`,
      );
      expect(hidden.rows[0].n).toBe(0);
      await expect(c.query(`UPDATE indicators SET confidence = 1`)).rejects.toThrow(
        /permission denied/,
      );
      await c.query('ROLLBACK');
      // Back in the application role, another tenant's rows cannot be changed either.
      await c.query('BEGIN');
      await c.query(`SET LOCAL indicium.tenant = '${acme.id}'`);
      const changed = await c.query(
        `UPDATE indicators SET confidence = 1
          WHERE supplier_id IN (SELECT id FROM suppliers WHERE name = 'MsspFeed')`,
      );
      const deleted = await c.query(`DELETE FROM suppliers WHERE name = 'MsspFeed'`);
      expect([changed.rowCount, deleted.rowCount]).toEqual([0, 0]);
      await c.query('ROLLBACK');
    } finally {
      await c.end();
    }
  });

  it('range reads stay bounded under row-level security: within, own or shared; prefix lengths', async () => {
    const c = new Client({ connectionString: t.config.env.DATABASE_URL });
    await c.connect();
    try {
      const ids = Object.fromEntries(
        (await c.query(`SELECT name, id FROM tenants`)).rows.map((r) => [r.name, r.id]),
      );
      const plan = async (shared: boolean) => {
        const params = shared
          ? [['198.51.0.0/16'], 11, ids.acme, [ids.acme, ids.mssp]]
          : [['198.51.0.0/16'], 11, ids.acme];
        const rows = (await c.query(`EXPLAIN ${withinSql(shared)}`, params)).rows;
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      };
      await c.query('SET ROLE indicium_app');
      await c.query('BEGIN');
      await c.query(`SET LOCAL indicium.tenant = '${ids.acme}'`);
      await c.query('SET LOCAL enable_seqscan = off');
      // Both bounds in the index condition: the scan stops at the network's last address
      // (a bound the policy had to check first would leave it a filter, read to the end).
      const bounded = /Index Cond: .*\(network\)::inet <= \(q\.last\)::inet/;
      expect(await plan(false)).toMatch(bounded);
      // Each step of the prefix lengths' loose scan is one probe of a family's own index.
      const lengths = (await c.query(`EXPLAIN ${PREFIX_LENGTHS.text}`, [ids.acme])).rows.map(
        (r) => r['QUERY PLAN'],
      );
      expect(lengths.join('\n')).toMatch(
        /indicators_cidr4_prefix_idx[^]*indicators_cidr6_prefix_idx/,
      );
      expect(lengths.join('\n')).not.toMatch(/Filter: \(family/);
      await c.query(`SET LOCAL indicium.view = 'shared'`);
      await c.query('SET LOCAL ROLE indicium_shared_reader');
      expect(await plan(true)).toMatch(bounded);
      await c.query('ROLLBACK');
    } finally {
      await c.end();
    }
  });

  it('keeps names unique in every view: 409 naming the tenant', async () => {
    const taken = await as(admins.acme).post('/api/v1/suppliers', { name: 'msspfeed' }).expect(409);
    expect(taken.body.message).toContain('tenant "mssp" shares');
    await as(admins.globex).post('/api/v1/suppliers', { name: 'GlobexOwn' }).expect(201);
    const shared = await as(admins.mssp)
      .post('/api/v1/suppliers', { name: 'GlobexOwn', sharing: 'descendants' })
      .expect(409);
    expect(shared.body.message).toContain('Tenant "globex"');
    await as(admins.mssp).post('/api/v1/suppliers', { name: 'GlobexOwn' }).expect(201);
    const patched = await as(admins.mssp)
      .patch('/api/v1/suppliers/GlobexOwn', { sharing: 'descendants' })
      .expect(409);
    expect(patched.body.message).toContain('Tenant "globex"');
    const unchanged = await as(admins.mssp).get('/api/v1/suppliers/GlobexOwn').expect(200);
    expect(unchanged.body.sharing).toBe('none');
    // Built-ins are never shared; a bad value is a 400 naming the field.
    await as(admins.mssp)
      .patch('/api/v1/suppliers/InternalTI', { sharing: 'descendants' })
      .expect(409);
    const bad = await as(admins.mssp).patch('/api/v1/suppliers/MsspFeed', { sharing: 'everyone' });
    expect([bad.status, JSON.stringify(bad.body)]).toEqual([
      400,
      expect.stringContaining('sharing'),
    ]);
  });

  it('answers 404 for a supplier not offered, and 400 for a bad subscription body', async () => {
    await subscribe('acme', { subscribed: true }, 'MsspPrivate').expect(404);
    await subscribe('outsider', { subscribed: true }).expect(404);
    const bad = await subscribe('acme', { subscribed: 'yes' }).expect(400);
    expect(JSON.stringify(bad.body)).toContain('subscribed');
    const analyst = await as(root, 'acme')
      .post('/api/v1/users', { username: 'acme-analyst', password: PASSWORD, role: 'Analyst' })
      .expect(201);
    expect(analyst.body.username).toBe('acme-analyst');
    await as(basic('acme-analyst', PASSWORD))
      .put('/api/v1/shared-suppliers/MsspFeed', { subscribed: false })
      .expect(403);
  });

  it('a supplier shared after it was filled is found at once; unsharing hides it', async () => {
    const mssp = as(admins.mssp);
    await mssp.post('/api/v1/suppliers', { name: 'LateShare' }).expect(201);
    await mssp
      .put('/api/v1/suppliers/LateShare/indicators', [{ indicator: 'late.mssp.example' }])
      .expect(200);
    await mssp.patch('/api/v1/suppliers/LateShare', { sharing: 'descendants' }).expect(200);
    await subscribe('acme', { subscribed: true }, 'LateShare').expect(200);
    expect((await search('acme', 'late.mssp.example')).matches).toEqual([
      expect.objectContaining({ supplier: 'LateShare', sharedBy: 'mssp' }),
    ]);
    await mssp.patch('/api/v1/suppliers/LateShare', { sharing: 'none' }).expect(200);
    expect((await search('acme', 'late.mssp.example')).result).toBe('not_detected');
    const offered = await as(admins.acme).get('/api/v1/shared-suppliers').expect(200);
    expect(offered.body.map((s: { name: string }) => s.name)).toEqual(['MsspFeed']);
  });

  it('a subscription reaches the blocklist, TAXII and statistics; unsubscribing takes it out', async () => {
    const TAXII = 'application/taxii+json;version=2.1';
    const view = async (name: string) => {
      const auth = admins[name];
      const blocklist = await as(auth).get('/api/v1/blocklist').expect(200);
      const collections = await as(auth)
        .get('/taxii2/api/collections/')
        .set('Accept', TAXII)
        .expect(200);
      const stats = await as(auth).get('/api/v1/statistics/suppliers').expect(200);
      return {
        blocklist: blocklist.text.split('\n').filter(Boolean),
        etag: blocklist.headers.etag,
        collections: (collections.body.collections ?? []) as Array<{ id: string; title: string }>,
        stats: stats.body.items as Array<{ supplier: string; indicators: number }>,
      };
    };
    await subscribe('globex', { subscribed: false }).expect(200);
    const before = await view('globex');
    expect(before.blocklist).toEqual([]);
    expect(before.collections.map((c) => c.title)).not.toContain('MsspFeed');
    expect(before.stats.map((x) => x.supplier)).not.toContain('MsspFeed');

    await subscribe('globex', { subscribed: true }).expect(200);
    const after = await view('globex');
    expect(after.blocklist).toEqual(['198.51.100.0/24', '203.0.113.7', 'evil.mssp.example']);
    expect(after.etag).not.toBe(before.etag);
    const feed = after.collections.find((c) => c.title === 'MsspFeed');
    expect(feed).toBeDefined();
    const objects = await as(admins.globex)
      .get(`/taxii2/api/collections/${feed!.id}/objects/`)
      .set('Accept', TAXII)
      .expect(200);
    expect(objects.body.objects.map((o: { pattern: string }) => o.pattern).sort()).toEqual([
      "[domain-name:value = 'evil.mssp.example']",
      "[ipv4-addr:value = '198.51.100.0/24']",
      "[ipv4-addr:value = '203.0.113.7']",
    ]);
    // TAXII's `next` is a cursor of the tenant it was minted in, even on a shared collection.
    const first = await as(admins.globex)
      .get(`/taxii2/api/collections/${feed!.id}/objects/?limit=1`)
      .set('Accept', TAXII)
      .expect(200);
    expect(first.body.more).toBe(true);
    const next = encodeURIComponent(first.body.next as string);
    await as(admins.globex)
      .get(`/taxii2/api/collections/${feed!.id}/objects/?limit=1&next=${next}`)
      .set('Accept', TAXII)
      .expect(200);
    const foreign = await as(admins.acme)
      .get(`/taxii2/api/collections/${feed!.id}/objects/?limit=1&next=${next}`)
      .set('Accept', TAXII)
      .expect(400);
    expect(foreign.body.description).toContain('next');
    expect(after.stats.find((x) => x.supplier === 'MsspFeed')).toEqual(
      expect.objectContaining({ indicators: 3, hits: 0 }),
    );

    // acme's own FalsePositive keeps 203.0.113.7 off acme's blocklist only.
    expect((await view('acme')).blocklist).toEqual(['198.51.100.0/24', 'evil.mssp.example']);

    // A change to the shared supplier changes the subscriber's ETag.
    await as(admins.mssp)
      .put('/api/v1/suppliers/MsspFeed/indicators', [{ indicator: 'more.mssp.example' }])
      .expect(200);
    const grown = await view('globex');
    expect(grown.etag).not.toBe(after.etag);
    expect(grown.blocklist).toContain('more.mssp.example');

    await subscribe('globex', { subscribed: false }).expect(200);
    const gone = await view('globex');
    expect(gone.blocklist).toEqual([]);
    expect(gone.collections.map((c) => c.title)).toEqual(['GlobexOwn', 'InternalTI']);
    await as(admins.globex)
      .get(`/taxii2/api/collections/${feed!.id}/`)
      .set('Accept', TAXII)
      .expect(404);
  });

  it('a key index rebuilt from the tables puts shared keys in their own scope again', async () => {
    const index: { rebuild(reason: string): Promise<void> } = t.app.get<unknown>(
      SearchKeyIndex,
    ) as never;
    await index.rebuild('test');
    expect((await search('acme', 'evil.mssp.example')).matches).toEqual([
      expect.objectContaining({ sharedBy: 'mssp' }),
    ]);
    expect((await search('mssp', 'private.mssp.example')).result).toBe('detected');
    expect((await search('acme', 'private.mssp.example')).result).toBe('not_detected');
  });

  it('unsubscribing takes the shared indicators out again', async () => {
    await subscribe('acme-eu', { subscribed: false }).expect(200);
    expect((await search('acme-eu', 'evil.mssp.example')).result).toBe('not_detected');
    const audit = await as(admins['acme-eu']).get('/api/v1/audit-logs?limit=5').expect(200);
    expect(audit.body.items.map((r: { action: string }) => r.action)).toEqual(
      expect.arrayContaining(['shared_supplier.subscribe', 'shared_supplier.unsubscribe']),
    );
  });
});

describe('shared suppliers without the key index (SEARCH_INDEX=off)', () => {
  let t: TestApp;
  afterAll(() => t.close());

  it('a subscriber finds shared values, containment included, by the queries alone', async () => {
    t = await createTestApp({ SEARCH_INDEX: 'off' });
    const root = asRoot(t);
    const child = root.in('child');
    await root.post('/api/v1/tenants', { name: 'child' }).expect(201);
    await root.post('/api/v1/suppliers', { name: 'RootFeed', sharing: 'descendants' }).expect(201);
    await root
      .put('/api/v1/suppliers/RootFeed/indicators', [
        { indicator: '192.0.2.0/25' },
        { indicator: 'bad.root.example' },
      ])
      .expect(200);
    await child.put('/api/v1/shared-suppliers/RootFeed', { subscribed: true }).expect(200);
    const bulk = await child
      .post('/api/v1/search', {
        values: ['192.0.2.9', '192.0.2.200', 'x.bad.root.example', 'bad.root.example'],
      })
      .expect(200);
    expect(
      bulk.body.results.map((r: { result: string; matches: Array<{ matchedBy: string }> }) => [
        r.result,
        r.matches.map((m) => m.matchedBy),
      ]),
    ).toEqual([
      ['detected', ['cidr']],
      ['not_detected', []],
      ['detected', ['parent_domain']],
      ['detected', ['exact']],
    ]);
    const single = await child.get('/api/v1/search?value=192.0.2.1').expect(200);
    expect(single.body.matches[0]).toEqual(
      expect.objectContaining({ supplier: 'RootFeed', sharedBy: 'default' }),
    );
  });
});
