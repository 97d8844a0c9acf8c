import { Client } from 'pg';
import { ExpirySweeper } from '../src/suppliers/indicators/expiry-sweeper';
import { Sql } from '../src/database/sql';
import { TenantDirectory } from '../src/tenancy/tenant-directory';
import { TenantsRepository } from '../src/tenancy/tenants.repository';
import { TenantPurge } from '../src/tenants/tenant-purge';
import { basic, createTestApp, TestApp, tenantWithAdmin } from './support/test-app';
import { asUser } from './api/client';

/**
 * Tenants (docs/api.md §12, docs/tenancy.md): the tree and who may act where, isolation of
 * every resource between tenants, suspension and offboarding, and the database's own defence
 * (row-level security, the application role, the tenant per transaction).
 */
const PASSWORD = 'correct horse battery';
const TENANT = 'X-Indicium-Tenant';

describe('tenants (docs/api.md §12)', () => {
  let t: TestApp;
  let root: string;

  /** A request as `auth`, acting in `tenant` when given. */
  const as = (auth: string, tenant?: string) => ({
    get: (path: string) => withTenant(asUser(t, auth).get(path), tenant),
    post: (path: string, body: object) => withTenant(asUser(t, auth).post(path), tenant).send(body),
    put: (path: string, body: object | string, type = 'application/json') =>
      withTenant(asUser(t, auth).put(path), tenant)
        .set('Content-Type', type)
        .send(typeof body === 'string' ? body : JSON.stringify(body)),
    patch: (path: string, body: object) =>
      withTenant(asUser(t, auth).patch(path), tenant).send(body),
    delete: (path: string) => withTenant(asUser(t, auth).delete(path), tenant),
  });
  function withTenant<R extends { set(k: string, v: string): R }>(req: R, tenant?: string): R {
    return tenant === undefined ? req : req.set(TENANT, tenant);
  }

  async function tenant(name: string, actingAs = root, parent?: string): Promise<void> {
    const res = await as(actingAs, parent).post('/api/v1/tenants', { name });
    expect([res.status, res.body]).toEqual([201, expect.objectContaining({ name })]);
  }

  /** An Administrator user of `tenantName` (created by the root admin acting there). */
  async function adminOf(tenantName: string, username: string): Promise<string> {
    const res = await as(root, tenantName).post('/api/v1/users', {
      username,
      password: PASSWORD,
      role: 'Administrator',
    });
    expect(res.status).toBe(201);
    return basic(username, PASSWORD);
  }

  async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: t.config.env.DATABASE_URL });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    t = await createTestApp();
    root = basic(t.admin.username, t.admin.password);
    await tenant('mssp');
    await tenant('acme', root, 'mssp');
    await tenant('globex', root, 'mssp');
    await tenant('acme-eu', root, 'acme');
  });
  afterAll(() => t.close());

  describe('the tree', () => {
    it('lists the descendants of the acting tenant, each with its parent', async () => {
      const res = await as(root).get('/api/v1/tenants').expect(200);
      expect(
        res.body.items.map((x: { name: string; parent: string }) => [x.name, x.parent]),
      ).toEqual([
        ['acme', 'mssp'],
        ['acme-eu', 'acme'],
        ['globex', 'mssp'],
        ['mssp', 'default'],
      ]);
      const mssp = await as(root, 'mssp').get('/api/v1/tenants').expect(200);
      expect(mssp.body.items.map((x: { name: string }) => x.name)).toEqual([
        'acme',
        'acme-eu',
        'globex',
      ]);
    });

    it('gives a new tenant its own built-in suppliers and roles', async () => {
      const suppliers = await as(root, 'globex').get('/api/v1/suppliers').expect(200);
      expect(suppliers.body.items.map((s: { name: string }) => s.name).sort()).toEqual([
        'FalsePositive',
        'InternalTI',
      ]);
      const roles = await as(root, 'globex').get('/api/v1/roles').expect(200);
      expect(roles.body.items.map((r: { name: string }) => r.name)).toEqual([
        'Administrator',
        'Analyst',
      ]);
    });

    it('refuses a name taken anywhere (409), a bad name (400), and a tenant with children (409)', async () => {
      await as(root, 'acme').post('/api/v1/tenants', { name: 'globex' }).expect(409);
      const bad = await as(root).post('/api/v1/tenants', { name: 'Not_Valid' }).expect(400);
      expect(bad.body.message).toMatch(/name must match/);
      const busy = await as(root, 'mssp').delete('/api/v1/tenants/acme').expect(409);
      expect(busy.body.code).toBe('tenant_has_children');
    });
  });

  describe('a reseller (tenants.manage in mssp)', () => {
    let reseller: string;
    let acmeAdmin: string;

    beforeAll(async () => {
      reseller = await adminOf('mssp', 'reseller');
      acmeAdmin = await adminOf('acme', 'acme-admin');
    });

    it('acts in its children and grandchildren', async () => {
      await as(reseller, 'acme').get('/api/v1/suppliers').expect(200);
      await as(reseller, 'acme-eu').get('/api/v1/suppliers').expect(200);
      await tenant('acme-labs', reseller, 'acme');
      const me = await as(reseller).get('/api/v1/tenants/acme-labs').expect(200);
      expect(me.body).toEqual(expect.objectContaining({ parent: 'acme', status: 'active' }));
    });

    it('never in its parent or its siblings: unknown and forbidden answer alike', async () => {
      const answers = await Promise.all(
        ['default', 'no-such-tenant'].map((name) => as(reseller, name).get('/api/v1/suppliers')),
      );
      for (const res of answers) {
        expect([res.status, res.body.code, res.body.message]).toEqual([
          404,
          'tenant_not_found',
          'tenant not found',
        ]);
      }
      // A customer's admin cannot name its sibling, nor its parent.
      for (const name of ['globex', 'mssp', 'no-such-tenant']) {
        const res = await as(acmeAdmin, name).get('/api/v1/suppliers');
        expect([res.status, res.body.message]).toEqual([404, 'tenant not found']);
        const viaApi = await as(acmeAdmin).get(`/api/v1/tenants/${name}`);
        expect([viaApi.status, viaApi.body.message]).toEqual([404, 'tenant not found']);
      }
    });

    it("what it does in a child is in the child's audit and in its own, naming its home", async () => {
      await as(reseller, 'acme').post('/api/v1/tags', { name: 'RESELLER-MADE' }).expect(201);
      const find = async (auth: string, tenant?: string) => {
        const res = await as(auth, tenant).get('/api/v1/audit-logs?action=tag.create&limit=50');
        expect(res.status).toBe(200);
        return (res.body.items as Array<Record<string, unknown>>).filter(
          (r) => r.entityName === 'RESELLER-MADE',
        );
      };
      const inChild = await find(root, 'acme');
      const atHome = await find(reseller);
      for (const records of [inChild, atHome]) {
        expect(records).toEqual([
          expect.objectContaining({ actorName: 'reseller', actorTenant: 'mssp' }),
        ]);
      }
      expect(await find(root, 'globex')).toEqual([]);
      for (const tenant of ['acme', 'mssp']) {
        const v = await as(root, tenant).get('/api/v1/audit-logs/verify').expect(200);
        expect(v.body.valid).toBe(true);
      }
      // A principal at home writes no actorTenant.
      const own = (await as(reseller).get('/api/v1/audit-logs?limit=5').expect(200)).body.items;
      expect(own.filter((r: { actorName: string }) => r.actorName === 'root')).toEqual([]);
    });

    it('a principal without tenants.manage can name only its home tenant', async () => {
      await as(root, 'acme')
        .post('/api/v1/users', { username: 'acme-analyst', password: PASSWORD, role: 'Analyst' })
        .expect(201);
      const analyst = basic('acme-analyst', PASSWORD);
      await as(analyst, 'acme').get('/api/v1/me').expect(200);
      const below = await as(analyst, 'acme-eu').get('/api/v1/me');
      expect([below.status, below.body.message]).toEqual([404, 'tenant not found']);
    });
  });

  describe('isolation', () => {
    let acme: string;
    let globex: string;

    beforeAll(async () => {
      acme = await adminOf('acme', 'iso-acme');
      globex = await adminOf('globex', 'iso-globex');
      for (const [auth, value] of [
        [acme, 'evil.acme.example'],
        [globex, 'evil.globex.example'],
      ]) {
        await as(auth).post('/api/v1/suppliers', { name: 'Feed' }).expect(201);
        await as(auth)
          .put('/api/v1/suppliers/Feed/indicators', [{ indicator: value }])
          .expect(200);
        await as(auth).post('/api/v1/tags', { name: 'SHARED-NAME' }).expect(201);
      }
    });

    it('two tenants may both have a supplier "Feed"; each searches only its own', async () => {
      const mine = await as(acme).get('/api/v1/search?value=evil.acme.example').expect(200);
      expect(mine.body).toEqual(
        expect.objectContaining({
          result: 'detected',
          matches: [expect.objectContaining({ supplier: 'Feed' })],
        }),
      );
      const theirs = await as(acme).get('/api/v1/search?value=evil.globex.example').expect(200);
      expect(theirs.body.result).toBe('not_detected');
      const bulk = await as(globex)
        .post('/api/v1/search', { values: ['evil.acme.example', 'evil.globex.example'] })
        .expect(200);
      expect(bulk.body.results.map((r: { result: string }) => r.result)).toEqual([
        'not_detected',
        'detected',
      ]);
    });

    it('concurrent searches of two tenants (merged lookups) each see only their own', async () => {
      const burst = Array.from({ length: 60 }, (_, i) => {
        const [auth, own, other] =
          i % 2 === 0
            ? [acme, 'evil.acme.example', 'evil.globex.example']
            : [globex, 'evil.globex.example', 'evil.acme.example'];
        return Promise.all([
          as(auth).get(`/api/v1/search?value=${own}`),
          as(auth).get(`/api/v1/search?value=${other}`),
        ]);
      });
      for (const [mine, theirs] of await Promise.all(burst)) {
        expect([mine.status, mine.body.result, theirs.status, theirs.body.result]).toEqual([
          200,
          'detected',
          200,
          'not_detected',
        ]);
      }
    });

    it("another tenant's objects answer 404, and writes change nothing", async () => {
      const user = await as(root, 'globex').get('/api/v1/users').expect(200);
      const globexUser = (user.body.items as Array<{ id: string; username: string }>).find(
        (u) => u.username === 'iso-globex',
      )!;
      for (const path of [`/api/v1/users/${globexUser.id}`]) {
        const res = await as(acme).get(path);
        expect([res.status, res.body.code]).toEqual([404, 'user_not_found']);
        await as(acme).patch(path, { status: 'inactive' }).expect(404);
        await as(acme).delete(path).expect(404);
      }
      await as(globex).get('/api/v1/me').expect(200);
      const list = await as(acme).get('/api/v1/users').expect(200);
      expect(list.body.items.map((u: { username: string }) => u.username)).not.toContain(
        'iso-globex',
      );
    });

    it('a cursor minted in one tenant is refused in another (400)', async () => {
      const page = await as(acme).get('/api/v1/suppliers?limit=1').expect(200);
      expect(page.body.nextCursor).toEqual(expect.any(String));
      const reused = await as(globex).get(
        `/api/v1/suppliers?limit=1&cursor=${page.body.nextCursor as string}`,
      );
      expect(reused.status).toBe(400);
      await as(acme)
        .get(`/api/v1/suppliers?limit=1&cursor=${page.body.nextCursor as string}`)
        .expect(200);
    });

    it('each audit log is its own chain, and verifies', async () => {
      const acmeAudit = await as(acme).get('/api/v1/audit-logs?limit=1000').expect(200);
      const names = acmeAudit.body.items.map((r: { entityName: string }) => r.entityName);
      expect(names).toContain('Feed');
      expect(JSON.stringify(acmeAudit.body)).not.toContain('evil.globex.example');
      for (const auth of [acme, globex, root]) {
        const v = await as(auth).get('/api/v1/audit-logs/verify').expect(200);
        expect(v.body.valid).toBe(true);
      }
    });

    it('background work writes only in its own tenant (the expiry sweeper, same-named suppliers)', async () => {
      for (const auth of [acme, globex]) {
        await as(auth)
          .put('/api/v1/suppliers/Feed/indicators', [
            { indicator: 'gone.example', expiresAt: new Date(Date.now() - 60_000).toISOString() },
          ])
          .expect(200);
      }
      expect(await t.app.get(ExpirySweeper).sweepOnce()).toBe(2);
      for (const [auth, own] of [
        [acme, 'evil.acme.example'],
        [globex, 'evil.globex.example'],
      ]) {
        const items = await as(auth).get('/api/v1/suppliers/Feed/indicators').expect(200);
        expect(items.body.items.map((i: { indicator: string }) => i.indicator)).toEqual([own]);
      }
    });
  });

  describe('suspension and offboarding', () => {
    it('a suspended tenant’s principals (and its descendants’) get 401; reactivated, they work', async () => {
      await tenant('initech', root, 'mssp');
      await tenant('initech-sub', root, 'initech');
      const own = await adminOf('initech', 'initech-admin');
      const sub = await adminOf('initech-sub', 'initech-sub-admin');
      await as(own).get('/api/v1/me').expect(200);
      await as(root, 'mssp').patch('/api/v1/tenants/initech', { status: 'suspended' }).expect(200);
      for (const auth of [own, sub]) {
        const res = await as(auth).get('/api/v1/me');
        expect([res.status, res.body.message]).toEqual([401, 'This tenant is suspended']);
      }
      // Its parent still manages it, and its data stays.
      await as(root, 'initech').get('/api/v1/users').expect(200);
      await as(root, 'mssp').patch('/api/v1/tenants/initech', { status: 'active' }).expect(200);
      await as(own).get('/api/v1/me').expect(200);
    });

    it('a tenant cannot suspend or delete itself', async () => {
      const res = await as(root, 'mssp').patch('/api/v1/tenants/mssp', { status: 'suspended' });
      expect(res.status).toBe(403);
    });

    it('offboarding stops its principals at once and deletes its data', async () => {
      await tenant('hooli', root, 'mssp');
      const admin = await adminOf('hooli', 'hooli-admin');
      await as(admin).post('/api/v1/suppliers', { name: 'Feed' }).expect(201);
      await as(admin)
        .put('/api/v1/suppliers/Feed/indicators', [{ indicator: '203.0.113.7' }])
        .expect(200);
      const [{ id }] = await query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'hooli'`);
      await as(root, 'mssp').delete('/api/v1/tenants/hooli').expect(204);
      const after = await as(admin).get('/api/v1/me');
      expect(after.status).toBe(401);
      await as(root, 'hooli').get('/api/v1/suppliers').expect(404);
      await t.app.get(TenantPurge).run();
      const left = await query<{ n: number }>(
        `SELECT (SELECT count(*) FROM indicators WHERE tenant_id = $1)
              + (SELECT count(*) FROM users WHERE tenant_id = $1)
              + (SELECT count(*) FROM audit_log WHERE tenant_id = $1)
              + (SELECT count(*) FROM tenants WHERE id = $1)
              + (SELECT count(*) FROM principal_names WHERE home_tenant = $1) AS n`,
        [id],
      );
      expect(Number(left[0].n)).toBe(0);
      // The name is free again.
      await tenant('hooli', root, 'mssp');
    });

    it('an instance that finds the tenant already offboarded by another finishes cleanly', async () => {
      await tenant('pied-piper', root, 'mssp');
      const admin = await adminOf('pied-piper', 'pp-admin');
      await as(admin).post('/api/v1/suppliers', { name: 'Feed' }).expect(201);
      await as(admin)
        .put('/api/v1/suppliers/Feed/indicators', [{ indicator: '198.51.100.9' }])
        .expect(200);
      await as(root, 'mssp').delete('/api/v1/tenants/pied-piper').expect(204);
      // A second instance read the list of tenants to offboard just before this one finished.
      const tenants = t.app.get(TenantsRepository);
      const stale = await tenants.deleting();
      expect(stale.map((x) => x.name)).toContain('pied-piper');
      await t.app.get(TenantPurge).run();
      let reads = 0;
      const lagging = Object.create(tenants, {
        deleting: { value: () => (reads++ === 0 ? Promise.resolve(stale) : tenants.deleting()) },
      }) as TenantsRepository;
      const other = new TenantPurge(t.app.get(Sql), lagging, t.app.get(TenantDirectory));
      await expect(other.run()).resolves.toBe(stale.length);
      const left = await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM tenants WHERE name = 'pied-piper'`,
      );
      expect(left[0].n).toBe(0);
    });
  });

  describe('the database defends itself', () => {
    it('every table with tenant_id has row-level security enabled and forced, and a policy', async () => {
      const rows = await query<{ table: string; rls: boolean; forced: boolean; policies: number }>(
        `SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
                (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r'
            AND EXISTS (SELECT 1 FROM pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
          ORDER BY 1`,
      );
      expect(rows.length).toBeGreaterThanOrEqual(19);
      expect(rows.filter((r) => !r.rls || !r.forced || r.policies < 1)).toEqual([]);
    });

    it('every index and key of those tables leads with tenant_id', async () => {
      const rows = await query<{ index: string }>(
        `SELECT i.indexrelid::regclass::text AS index
           FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
          WHERE c.relnamespace = 'public'::regnamespace AND i.indkey[0] <> a.attnum`,
      );
      expect(rows).toEqual([]);
    });

    it('the application role owns nothing and cannot bypass row-level security', async () => {
      const [role] = await query<{ super: boolean; bypass: boolean; owns: number }>(
        `SELECT r.rolsuper AS super, r.rolbypassrls AS bypass,
                (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owns
           FROM pg_roles r WHERE r.rolname = 'indicium_app'`,
      );
      expect(role).toEqual({ super: false, bypass: false, owns: 0 });
    });

    it('as the application role: no tenant set is an error, never rows; one connection serving A then B leaks nothing', async () => {
      const tenants = await query<{ id: string; name: string }>(
        `SELECT id, name FROM tenants WHERE name IN ('acme', 'globex') ORDER BY name`,
      );
      const c = new Client({ connectionString: t.config.env.DATABASE_URL });
      await c.connect();
      try {
        await c.query('SET ROLE indicium_app');
        await expect(c.query('SELECT count(*) FROM suppliers')).rejects.toThrow(/no tenant is set/);
        const seen: string[][] = [];
        for (const { id } of tenants) {
          await c.query('BEGIN');
          await c.query(`SET LOCAL indicium.tenant = '${id}'`);
          const r = await c.query<{ value: string }>(`SELECT value FROM indicators ORDER BY value`);
          seen.push(r.rows.map((x) => x.value));
          await c.query('COMMIT');
        }
        expect(seen).toEqual([['evil.acme.example'], ['evil.globex.example']]);
        // After the transaction the setting is gone again.
        await expect(c.query('SELECT count(*) FROM indicators')).rejects.toThrow(
          /no tenant is set/,
        );
        // A row of another tenant cannot be written either.
        await c.query('BEGIN');
        await c.query(`SET LOCAL indicium.tenant = '${tenants[0].id}'`);
        await expect(
          c.query(`INSERT INTO tags (tenant_id, name) VALUES ($1, 'SMUGGLED')`, [tenants[1].id]),
        ).rejects.toThrow(/row-level security/);
        await c.query('ROLLBACK');
      } finally {
        await c.end();
      }
    });
  });
});

describe('tenants on a pool of two connections', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Most requests wait for a connection another request releases.
    t = await createTestApp({ DATABASE_POOL_SIZE: '2', SEARCH_LOOKUP_CONCURRENCY: '8' });
  });
  afterAll(() => t.close());

  it('a request handed a connection released by another tenant’s request sees only its own tenant', async () => {
    const admins: string[] = [];
    for (const name of ['pool-a', 'pool-b']) {
      const auth = await tenantWithAdmin(t, name, PASSWORD);
      await asUser(t, auth)
        .post('/api/v1/suppliers')
        .send({ name: `${name}-feed` })
        .expect(201);
      await asUser(t, auth)
        .put(`/api/v1/suppliers/${name}-feed/indicators`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify([{ indicator: `${name}.example` }]))
        .expect(200);
      admins.push(auth);
    }
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const k = i % 2;
        const auth = admins[k];
        return i % 4 < 2
          ? asUser(t, auth)
              .get('/api/v1/suppliers')
              .then((res) => ({ k, res }))
          : asUser(t, auth)
              .get(`/api/v1/search?value=pool-${k === 0 ? 'a' : 'b'}.example`)
              .then((res) => ({ k, res }));
      }),
    );
    for (const { k, res } of burst) {
      expect(res.status).toBe(200);
      const own = k === 0 ? 'pool-a' : 'pool-b';
      const text = JSON.stringify(res.body);
      expect(text).toContain(own);
      expect(text).not.toContain(k === 0 ? 'pool-b' : 'pool-a');
    }
  });
});
