import {
  basic,
  createEmbeddedTestApp,
  EMBEDDED_BOOT_TIMEOUT_MS,
  TestApp,
} from './support/test-app';
import { asUser } from './api/client';

/**
 * SEARCH_INDEX=on on the embedded database (PGlite, one process, no LISTEN across processes):
 * the index builds, readiness waits for it, and this instance's writes are searchable at once.
 * Runs with and without DATABASE_URL (it forces the embedded path).
 */
describe('search key index on the embedded database', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await createEmbeddedTestApp({ SEARCH_INDEX: 'on' });
    admin = basic(t.admin.username, t.admin.password);
  }, EMBEDDED_BOOT_TIMEOUT_MS);
  afterAll(() => t.close());

  async function metric(name: string): Promise<number> {
    const res = await asUser(t, admin).get('/metrics').expect(200);
    const line = res.text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }

  it('becomes ready once the index is loaded; writes are searchable at once, misses query nothing', async () => {
    expect(t.config.usesEmbeddedDatabase).toBe(true);
    const deadline = Date.now() + 10_000;
    while ((await t.api().get('/health/ready')).status !== 200) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    await t.api().get('/health/live').expect(200);
    await asUser(t, admin)
      .post('/api/v1/suppliers')
      .send({ name: 'EmbeddedFeed', vendor: 'Emb' })
      .expect(201);
    const upload = await asUser(t, admin)
      .put('/api/v1/suppliers/EmbeddedFeed/indicators')
      .send([{ indicator: 'embedded-index.example' }, { indicator: '192.0.2.0/28' }]);
    expect(upload.body).toMatchObject({ created: 2, failed: [] });
    const res = await asUser(t, admin)
      .post('/api/v1/search')
      .send({ values: ['www.embedded-index.example', '192.0.2.9', '192.0.2.99', 'clean.example'] })
      .expect(200);
    expect(res.body.results.map((r: { result: string }) => r.result)).toEqual([
      'detected',
      'detected',
      'not_detected',
      'not_detected',
    ]);
    expect(res.body.results[1].matches[0]).toMatchObject({
      indicator: '192.0.2.0/28',
      matchedBy: 'cidr',
    });
    expect(await metric('indicium_search_index_keys')).toBe(2);
    expect(await metric('indicium_search_index_rebuilds_total{reason="start"}')).toBe(1);
    const maybes = await metric('indicium_search_index_lookups_total{answer="maybe"}');
    await asUser(t, admin).get('/api/v1/search?value=other.example').expect(200);
    expect(await metric('indicium_search_index_lookups_total{answer="maybe"}')).toBe(maybes);
  });
});
