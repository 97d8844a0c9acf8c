import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SharingSweeper } from '../src/sharing/tombstones/sharing-sweeper';
import { appDb, basic, createTestApp, TestApp, withDatabase } from './support/test-app';
import { DEFAULT_TENANT_ID } from '../src/database/tenant-context';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

const TAXII = 'application/taxii+json;version=2.1';

/** The STIX 2.1 schema subset in test/fixtures/stix21, compiled once. */
function stixValidator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const root = join(__dirname, 'fixtures', 'stix21');
  for (const dir of ['common', 'sdos']) {
    for (const f of readdirSync(join(root, dir))) {
      ajv.addSchema(JSON.parse(readFileSync(join(root, dir, f), 'utf8')));
    }
  }
  return ajv.getSchema('https://indicium.test/stix21/sdos/indicator.json')!;
}

/** The fields of a STIX indicator these tests read. */
interface StixObject {
  id: string;
  name: string;
  pattern: string;
  created: string;
  modified: string;
  valid_from: string;
  valid_until?: string;
  revoked?: boolean;
  x_indicium_context?: Record<string, unknown>;
}

/**
 * A minimal TAXII 2.1 client written from the specification (§4 discovery, §5 API root and
 * collections, §3.6 paging with `next`/`more`, `added_after`), not from the server's code.
 */
class TaxiiClient {
  constructor(
    private readonly t: TestApp,
    private readonly auth: string,
  ) {}

  async get(path: string, query: Record<string, string | number> = {}) {
    const res = await this.t
      .api()
      .get(path)
      .query(query)
      .set('Accept', TAXII)
      .set('Authorization', this.auth);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`);
    expect(res.headers['content-type']).toBe(TAXII);
    return res;
  }

  async collectionByTitle(title: string): Promise<string> {
    const discovery = (await this.get('/taxii2/')).body;
    const root: string = discovery.default ?? discovery.api_roots[0];
    const info = (await this.get(root)).body;
    expect(info.versions).toContain(TAXII);
    const { collections } = (await this.get(`${root}collections/`)).body;
    const c = collections.find((x: { title: string }) => x.title === title);
    if (!c?.can_read) throw new Error(`no readable collection ${title}`);
    return `${root}collections/${c.id}/`;
  }

  /** Every object from `added_after` on, page by page; returns them and the last date_added. */
  async poll(collection: string, limit: number, addedAfter?: string, onPage?: () => Promise<void>) {
    const objects: StixObject[] = [];
    let pages = 0;
    let last = addedAfter;
    let next: string | undefined;
    do {
      const res = await this.get(`${collection}objects/`, {
        limit,
        ...(next ? { next } : addedAfter ? { added_after: addedAfter } : {}),
      });
      pages++;
      objects.push(...res.body.objects);
      if (res.body.objects.length > 0) last = res.headers['x-taxii-date-added-last'];
      next = res.body.more ? res.body.next : undefined;
      if (onPage) await onPage();
    } while (next);
    return { objects, pages, last };
  }
}

describe('TAXII 2.1 server (docs/api.md §10)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;
  let client: TaxiiClient;
  let collection: string;
  const validate = stixValidator();

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    client = new TaxiiClient(t, ti.admin);
    await ti.createSupplier('Acme', { confidence: 60 });
    await ti.createSupplier('Other');
    await ti.createTag('C2', { weight: 3 });
    const res = await ti.upload('Acme', [
      { indicator: 'evil.com', tags: ['C2'], context: { threat: 'c2' } },
      { indicator: '10.0.0.0/8', confidence: 90 },
      { indicator: "http://bad.org/it's" },
      { indicator: 'd41d8cd98f00b204e9800998ecf8427e' },
      { indicator: 'x@evil.com', expiresAt: '2099-01-01T00:00:00Z' },
      ...Array.from({ length: 20 }, (_, i) => ({ indicator: `host${i}.example.net` })),
    ]);
    expect(res.status).toBe(200);
    collection = await client.collectionByTitle('Acme');
  });
  afterAll(() => t.close());

  it('discovers one API root and a read-only collection per supplier (not FalsePositive)', async () => {
    const discovery = (await client.get('/taxii2/')).body;
    expect(discovery).toMatchObject({ default: '/taxii2/api/', api_roots: ['/taxii2/api/'] });
    const { collections } = (await client.get('/taxii2/api/collections/')).body;
    const titles = collections.map((c: { title: string }) => c.title);
    expect(titles).toEqual(expect.arrayContaining(['Acme', 'Other', 'InternalTI']));
    expect(titles).not.toContain('FalsePositive');
    const one = (await client.get(collection)).body;
    expect(one).toMatchObject({ title: 'Acme', can_read: true, can_write: false });
    expect(one.media_types).toEqual(['application/stix+json;version=2.1']);
  });

  it('publishes STIX 2.1 indicators that validate against the schema', async () => {
    const { objects, pages } = await client.poll(collection, 1000);
    expect(pages).toBe(1);
    expect(objects).toHaveLength(25);
    for (const o of objects) {
      expect(validate(o) ? [] : validate.errors).toEqual([]);
      if (o.valid_until)
        expect(Date.parse(o.valid_until)).toBeGreaterThan(Date.parse(o.valid_from));
    }
    const byName = new Map(objects.map((o) => [o.name, o]));
    expect(byName.get('evil.com')).toMatchObject({
      pattern: "[domain-name:value = 'evil.com']",
      pattern_type: 'stix',
      labels: ['C2'],
      confidence: 60,
      x_indicium_context: { threat: 'c2' },
    });
    expect(byName.get('10.0.0.0/8')).toMatchObject({
      pattern: "[ipv4-addr:value = '10.0.0.0/8']",
      confidence: 90,
    });
    expect(byName.get("bad.org/it's")?.pattern).toBe("[url:value = 'bad.org/it\\'s']");
    expect(byName.get('d41d8cd98f00b204e9800998ecf8427e')?.pattern).toBe(
      "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    );
    expect(byName.get('x@evil.com')?.valid_until).toBe('2099-01-01T00:00:00.000Z');
  });

  it('serves one object, the manifest and match filters', async () => {
    const { objects } = await client.poll(collection, 1000);
    const target = objects.find((o) => o.name === 'evil.com')!;
    const one = (await client.get(`${collection}objects/${target.id}/`)).body;
    expect(one.objects).toEqual([target]);
    const matched = (await client.get(`${collection}objects/`, { 'match[id]': target.id })).body;
    expect(matched.objects).toEqual([target]);
    const none = (await client.get(`${collection}objects/`, { 'match[type]': 'malware' })).body;
    expect(none).toEqual({ more: false, objects: [] });
    const manifest = (await client.get(`${collection}manifest/`, { limit: 5 })).body;
    expect(manifest.more).toBe(true);
    expect(manifest.objects).toHaveLength(5);
    expect(manifest.objects[0]).toEqual({
      id: objects[0].id,
      date_added: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      version: objects[0].modified,
      media_type: 'application/stix+json;version=2.1',
    });
    const missing = await asUser(t, ti.admin).get(
      `${collection}objects/indicator--00000000-0000-5000-8000-000000000000/`,
    );
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe(TAXII);
    expect(missing.body).toMatchObject({
      title: 'Not Found',
      http_status: '404',
      error_code: 'collection_not_found',
    });
  });

  it('pages through 3 pages stably while an upload runs, then added_after sees the upload', async () => {
    const before = await client.poll(collection, 1000);
    const upload = ti.upload(
      'Acme',
      Array.from({ length: 3000 }, (_, i) => ({ indicator: `bulk${i}.example.org` })),
    );
    const paged = await client.poll(collection, 10);
    expect(paged.pages).toBeGreaterThanOrEqual(3);
    const ids = paged.objects.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length); // nothing twice
    expect(ids).toEqual(expect.arrayContaining(before.objects.map((o) => o.id))); // nothing skipped
    expect((await upload).status).toBe(200);
    const after = await client.poll(collection, 10_000, paged.last);
    const bulk = [...paged.objects, ...after.objects].filter((o) => o.name.startsWith('bulk'));
    expect(new Set(bulk.map((o) => o.name)).size).toBe(3000);
  });

  it('added_after sees an update and a deletion (revoked version); a re-added value comes back live', async () => {
    const start = await client.poll(collection, 1000);
    await ti
      .upload('Acme', [{ indicator: 'evil.com', tags: ['C2'], context: { threat: 'c2-v2' } }])
      .expect(200);
    await asUser(t, ti.admin)
      .delete('/api/v1/suppliers/Acme/indicators')
      .send([{ indicator: 'host3.example.net' }])
      .expect(200);
    const changes = await client.poll(collection, 1000, start.last);
    expect(changes.objects.map((o) => o.name).sort()).toEqual(['evil.com', 'host3.example.net']);
    const revoked = changes.objects.find((o) => o.name === 'host3.example.net')!;
    const original = start.objects.find((o) => o.name === 'host3.example.net')!;
    expect(validate(revoked) ? [] : validate.errors).toEqual([]);
    expect(revoked).toMatchObject({ id: original.id, revoked: true, created: original.created });
    expect(Date.parse(revoked.modified)).toBeGreaterThan(Date.parse(original.modified));
    const updated = changes.objects.find((o) => o.name === 'evil.com')!;
    expect(updated.x_indicium_context).toEqual({ threat: 'c2-v2' });
    // The revoked version is what a full read shows too, and what the object endpoint returns.
    const one = (await client.get(`${collection}objects/${original.id}/`)).body;
    expect(one.objects).toEqual([revoked]);
    // Re-added: the live version is newer than the revocation; the tombstone is hidden.
    await ti.upload('Acme', [{ indicator: 'host3.example.net' }]).expect(200);
    const again = await client.poll(collection, 1000, changes.last);
    expect(again.objects).toHaveLength(1);
    expect(again.objects[0]).toMatchObject({ id: original.id, name: 'host3.example.net' });
    expect(again.objects[0]).not.toHaveProperty('revoked');
    // Deleted again: a newer revoked version; the sweep keeps only the newest tombstone.
    await asUser(t, ti.admin)
      .delete('/api/v1/suppliers/Acme/indicators')
      .send([{ indicator: 'host3.example.net' }])
      .expect(200);
    const second = await client.poll(collection, 1000, again.last);
    expect(second.objects).toHaveLength(1);
    expect(second.objects[0]).toMatchObject({ id: original.id, revoked: true });
    expect(Date.parse(second.objects[0].modified)).toBeGreaterThan(Date.parse(revoked.modified));
    await t.app.get(SharingSweeper).sweepOnce();
    const tombstones = await appDb(t).query(
      `SELECT deleted_at FROM indicator_tombstones WHERE value = 'host3.example.net'`,
    );
    expect(tombstones).toHaveLength(1);
    const all = (await client.poll(collection, 1000)).objects.filter((o) => o.id === original.id);
    expect(all).toEqual([second.objects[0]]);
  });

  it('does not publish past a transaction still open, so a late commit is not skipped', async () => {
    const url = (t.config.env as { DATABASE_URL?: string }).DATABASE_URL;
    if (!url) return; // one backend on the embedded database: no concurrent transactions
    const start = await client.poll(collection, 1000);
    await withDatabase(url, async (writer) => {
      // Another writer: its transaction starts now, stamps its row with that time, commits late.
      await writer.query('BEGIN');
      await writer.query(`SET LOCAL indicium.tenant = '${DEFAULT_TENANT_ID}'`);
      await writer.query(
        `INSERT INTO indicators (supplier_id, type, value) SELECT id, 'domain', 'late.example.com' FROM suppliers WHERE name = 'Acme'`,
      );
      await ti.upload('Acme', [{ indicator: 'early.example.com' }]).expect(200);
      const during = await client.poll(collection, 1000, start.last);
      expect(during.objects).toEqual([]); // early.example.com waits behind the open transaction
      await writer.query('COMMIT');
      const after = await client.poll(collection, 1000, start.last);
      expect(after.objects.map((o) => o.name).sort()).toEqual([
        'early.example.com',
        'late.example.com',
      ]);
    });
  });

  it('refuses a wrong Accept (406), a missing privilege or IP (403), bad input (400), in the TAXII error shape', async () => {
    const wrong = await t
      .api()
      .get('/taxii2/')
      .set('Accept', 'application/json')
      .set('Authorization', ti.admin);
    expect(wrong.status).toBe(406);
    expect(wrong.headers['content-type']).toBe(TAXII);
    expect(wrong.body).toMatchObject({ title: 'Not Acceptable', http_status: '406' });
    const v20 = await t
      .api()
      .get('/taxii2/')
      .set('Accept', 'application/taxii+json;version=2.0')
      .set('Authorization', ti.admin);
    expect(v20.status).toBe(406);

    const anon = await t.api().get('/taxii2/').set('Accept', TAXII);
    expect(anon.status).toBe(401);
    expect(anon.body).toMatchObject({ title: 'Unauthorized', http_status: '401' });

    const analyst = await ti.createAnalyst('taxii.analyst');
    const denied = await t
      .api()
      .get('/taxii2/api/collections/')
      .set('Accept', TAXII)
      .set('Authorization', analyst);
    expect(denied.status).toBe(403);
    expect(denied.body.description).toContain('indicators.read');

    await asUser(t, ti.admin)
      .post('/api/v1/roles')
      .send({ name: 'Reader', privileges: ['indicators.read'] })
      .expect(201);
    const mk = async (name: string, allowedIps: string[]) => {
      const res = await asUser(t, ti.admin)
        .post('/api/v1/api-clients')
        .send({
          name,
          role: 'Reader',
          ipRestriction: allowedIps.length
            ? { mode: 'restricted', allowedIps }
            : { mode: 'allow_all', allowedIps: [] },
        })
        .expect(201);
      return basic(res.body.clientId, res.body.clientSecret);
    };
    const reader = await mk('taxii-reader', []);
    await new TaxiiClient(t, reader).get('/taxii2/api/collections/');
    const elsewhere = await mk('taxii-remote', ['203.0.113.7']);
    const blocked = await t
      .api()
      .get('/taxii2/api/collections/')
      .set('Accept', TAXII)
      .set('Authorization', elsewhere);
    expect(blocked.status).toBe(403);
    expect(blocked.body.http_status).toBe('403');

    const badNext = await t
      .api()
      .get(`${collection}objects/`)
      .query({ next: 'bm9wZQ' })
      .set('Authorization', ti.admin);
    expect(badNext.status).toBe(400);
    expect(badNext.body.description).toContain('next');
    const badLimit = await t
      .api()
      .get(`${collection}objects/`)
      .query({ limit: 0 })
      .set('Authorization', ti.admin);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.description).toContain('limit');
    const unknown = await asUser(t, ti.admin).get('/taxii2/api/collections/not-a-uuid/');
    expect(unknown.status).toBe(404);
  });
});
