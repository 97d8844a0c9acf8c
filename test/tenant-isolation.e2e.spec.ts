import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, TestApp, tenantWithAdmin } from './support/test-app';
import { asUser } from './api/client';

/**
 * Tenant A against tenant B on every route of the published API (docs/api.md §12): each path
 * that names an object, called with B's identifiers by A's Administrator, answers 404 (or a
 * 400 for a body it refuses before looking) — never 2xx, 403 or 409 — and leaves B's objects
 * as they were; and no list, statistic, export or feed that A reads mentions anything of B's.
 */
const PASSWORD = 'correct horse battery';
const TAXII = 'application/taxii+json;version=2.1';
/** In every name and value of B's, so a body that mentions any of them is caught. */
const MARK = 'zq7mark';

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
}

function operations(): Operation[] {
  const doc = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops))
      out.push({ method: method as Operation['method'], path });
  }
  return out;
}

describe('tenant isolation on every route (docs/api.md §12)', () => {
  let t: TestApp;
  let a: string;
  let b: string;
  /** B's identifiers, by path parameter name. */
  const ids: Record<string, string> = {};
  const ops = operations();

  const call = (auth: string, op: Operation, path: string, tenant?: string) => {
    const req = t.api()[op.method](path).set('Authorization', auth);
    if (tenant) req.set('X-Indicium-Tenant', tenant);
    if (path.startsWith('/taxii2')) req.set('Accept', TAXII);
    return op.method === 'get' || op.method === 'delete' ? req : req.send({});
  };

  /** What B has, as B sees it: compared before and after A's attempts. */
  async function snapshotOfB(): Promise<unknown> {
    const paths = [
      '/api/v1/suppliers',
      `/api/v1/suppliers/${MARK}Feed/indicators`,
      `/api/v1/suppliers/${MARK}Feed/feed`,
      '/api/v1/tags',
      '/api/v1/roles',
      '/api/v1/users',
      '/api/v1/api-clients',
      '/api/v1/siem-integrations',
      '/api/v1/tenants',
    ];
    const out: Record<string, unknown> = {};
    for (const p of paths) {
      const res = await asUser(t, b).get(p);
      // Timestamps of use (lastLoginAt, lastUsedAt) move with B's own requests.
      out[p] = [
        res.status,
        JSON.parse(JSON.stringify(res.body, (k, v) => (/^last/.test(k) ? undefined : v))),
      ];
    }
    return out;
  }

  beforeAll(async () => {
    t = await createTestApp();
    a = await tenantWithAdmin(t, 'tenant-a', PASSWORD);
    b = await tenantWithAdmin(t, 'tenant-b', PASSWORD);
    const asB = (method: 'post' | 'put', path: string, body: unknown) =>
      t
        .api()
        [method](path)
        .set('Authorization', b)
        .send(body as object);

    await asB('post', '/api/v1/suppliers', { name: `${MARK}Feed` }).expect(201);
    await asB('put', `/api/v1/suppliers/${MARK}Feed/indicators`, [
      { indicator: `${MARK}.example`, tags: [] },
      { indicator: '198.51.100.77' },
    ]).expect(200);
    await asB('put', `/api/v1/suppliers/${MARK}Feed/feed`, {
      url: `https://${MARK}.example/list.txt`,
      format: 'text',
      enabled: false,
    }).expect((res) => expect([200, 201]).toContain(res.status));
    // Shared with B's descendants: never offered to A, a tenant outside B's tree.
    await asB('post', '/api/v1/suppliers', {
      name: `${MARK}Shared`,
      sharing: 'descendants',
    }).expect(201);
    await asB('post', '/api/v1/tags', { name: `${MARK.toUpperCase()}TAG` }).expect(201);
    await asB('post', '/api/v1/roles', { name: `${MARK} role`, privileges: ['search'] }).expect(
      201,
    );
    const user = await asB('post', '/api/v1/users', {
      username: `${MARK}-user`,
      password: PASSWORD,
      role: 'Analyst',
    }).expect(201);
    const client = await asB('post', '/api/v1/api-clients', {
      name: `${MARK} client`,
      role: 'Analyst',
    }).expect(201);
    const siem = await asB('post', '/api/v1/siem-integrations', {
      name: `${MARK}-siem`,
      type: 'webhook',
      url: 'http://127.0.0.1:9/x',
      secret: 's',
      enabled: false,
    }).expect(201);
    await asB('post', '/api/v1/tenants', { name: `${MARK}-child` }).expect(201);
    // B's own detections, so A's detection log and statistics have something to leak.
    await asUser(t, b).get(`/api/v1/search?value=${MARK}.example`).expect(200);

    const collections = await asUser(t, b)
      .get('/taxii2/api/collections/')
      .set('Accept', TAXII)
      .expect(200);
    const collection = (collections.body.collections as Array<{ id: string; title: string }>).find(
      (c) => c.title === `${MARK}Feed`,
    )!;
    const objects = await asUser(t, b)
      .get(`/taxii2/api/collections/${collection.id}/objects/`)
      .set('Accept', TAXII)
      .expect(200);
    Object.assign(ids, {
      name: `${MARK}Feed`,
      id: user.body.id as string,
      collectionId: collection.id,
      objectId: (objects.body.objects as Array<{ id: string }>)[0].id,
    });
    ids.clientId = client.body.id as string;
    ids.siemId = siem.body.id as string;
  });
  afterAll(() => t.close());

  /** The paths of an operation with B's identifiers filled in (one per kind of object it may name). */
  function pathsFor(op: Operation): string[] {
    const fill = (name: string, value: string) =>
      op.path.replace(`{${name}}`, encodeURIComponent(value));
    const p = op.path;
    if (p.startsWith('/api/v1/api-clients/')) return [fill('id', ids.clientId)];
    if (p.startsWith('/api/v1/siem-integrations/')) return [fill('id', ids.siemId)];
    if (p.startsWith('/api/v1/users/')) return [fill('id', ids.id)];
    if (p.startsWith('/api/v1/roles/')) return [fill('name', `${MARK} role`)];
    if (p.startsWith('/api/v1/tags/')) return [fill('name', `${MARK.toUpperCase()}TAG`)];
    if (p.startsWith('/api/v1/tenants/'))
      return [fill('name', 'tenant-b'), fill('name', `${MARK}-child`)];
    if (p.startsWith('/api/v1/suppliers/')) return [fill('name', ids.name)];
    if (p.startsWith('/api/v1/shared-suppliers/'))
      return [fill('name', `${MARK}Shared`), fill('name', ids.name)];
    if (p.startsWith('/taxii2/api/collections/{collectionId}'))
      return [fill('collectionId', ids.collectionId).replace('{objectId}', ids.objectId)];
    throw new Error(`no identifiers of B for ${op.path}: add them`);
  }

  /** The path with B's identifiers replaced by ones that exist in no tenant. */
  function ghostOf(path: string): string {
    let out = path.split(MARK).join('nosuch0');
    for (const v of [ids.id, ids.clientId, ids.siemId, ids.collectionId])
      out = out.split(v).join('00000000-0000-4000-8000-000000000000');
    out = out.split(ids.objectId).join('indicator--00000000-0000-4000-8000-000000000000');
    return out.replace('tenant-b', 'nosuch0-tenant');
  }

  /** An answer's body with its request id dropped and the identifiers of `path` blanked. */
  function same(body: unknown, path: string): string {
    let text = JSON.stringify(body ?? '', (k, v) =>
      k === 'requestId' || k === 'error_id' ? undefined : v,
    );
    for (const part of decodeURIComponent(path)
      .split('/')
      .filter((x) => x.length > 3))
      text = text.split(part).join('<id>');
    return text;
  }

  it("answers A's every verb on B's objects with 404 (or a 400 before looking), and changes nothing", async () => {
    const before = await snapshotOfB();
    const named = ops.filter((op) => op.path.includes('{'));
    expect(named.length).toBeGreaterThanOrEqual(20);
    const seen: string[] = [];
    for (const op of named) {
      for (const path of pathsFor(op)) {
        const res = await call(a, op, path);
        seen.push(`${op.method.toUpperCase()} ${path} → ${res.status}`);
        expect([`${op.method} ${path}`, [400, 404].includes(res.status)]).toEqual([
          `${op.method} ${path}`,
          true,
        ]);
        // The very answer an identifier that exists nowhere gets (the echoed identifier aside).
        const ghost = await call(a, op, ghostOf(path));
        expect([op.method, path, res.status, same(res.body, path)]).toEqual([
          op.method,
          path,
          ghost.status,
          same(ghost.body, ghostOf(path)),
        ]);
      }
    }
    expect(await snapshotOfB()).toEqual(before);
    // Sanity: B itself reaches every one of them (the identifiers are right).
    for (const op of named.filter((o) => o.method === 'get')) {
      for (const path of pathsFor(op)) {
        const res = await call(b, op, path);
        expect([`GET ${path}`, res.status]).toEqual([`GET ${path}`, 200]);
      }
    }
  });

  it('no list, statistic, export or feed that A reads mentions anything of B', async () => {
    const lists = ops.filter((op) => op.method === 'get' && !op.path.includes('{'));
    expect(lists.length).toBeGreaterThanOrEqual(10);
    for (const op of lists) {
      if (op.path === '/metrics') continue; // the operator's, not a tenant's (404 for A)
      const res = await call(a, op, op.path);
      expect([op.path, res.status < 500]).toEqual([op.path, true]);
      const text = typeof res.text === 'string' ? res.text : JSON.stringify(res.body);
      expect([op.path, text.includes(MARK) || text.includes('198.51.100.77')]).toEqual([
        op.path,
        false,
      ]);
    }
    const search = await asUser(t, a)
      .post('/api/v1/search')
      .send({ values: [`${MARK}.example`, '198.51.100.77'] })
      .expect(200);
    expect(search.body.results.map((r: { result: string }) => r.result)).toEqual([
      'not_detected',
      'not_detected',
    ]);
  });

  it('naming B in the header is "tenant not found" for A, on every route alike', async () => {
    for (const op of ops.filter((o) => o.method === 'get' && !o.path.includes('{')).slice(0, 12)) {
      if (!op.path.startsWith('/api/v1/') || op.path === '/api/v1/oauth/token') continue;
      const res = await call(a, op, op.path, 'tenant-b');
      expect([op.path, res.status, res.body.message]).toEqual([op.path, 404, 'tenant not found']);
    }
  });
});
