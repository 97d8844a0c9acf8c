import { IncomingMessage, ServerResponse } from 'node:http';
import { FeedServer, selfSignedCert } from './support/feed-server';
import { feedHelpers } from './support/feed-helpers';
import { createTestApp, TestApp } from './support/test-app';
import { threatIntel } from './support/threat-intel';

const TAXII = 'application/taxii+json;version=2.1';

function indicator(id: string, pattern: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${id}`,
    created: '2026-11-01T00:00:00.000Z',
    modified: '2026-11-01T00:00:00.000Z',
    pattern_type: 'stix',
    pattern,
    valid_from: '2026-11-01T00:00:00Z',
    ...extra,
  };
}

describe('Feeds: STIX 2.1 over HTTPS, TAXII 2.1, MISP (docs/api.md §9)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;
  let f: ReturnType<typeof feedHelpers>;
  let http: FeedServer;
  let https: FeedServer;
  let ca: string;

  beforeAll(async () => {
    t = await createTestApp({ FEED_POLL_SECONDS: '1', FEED_ALLOW_PRIVATE_NETWORKS: 'true' });
    ti = threatIntel(t);
    f = feedHelpers(t);
    http = await new FeedServer().start();
    const cert = await selfSignedCert();
    ca = cert.cert;
    https = await new FeedServer(cert).start();
  });
  afterAll(async () => {
    await http.stop();
    await https.stop();
    await t.close();
  });

  async function search(value: string) {
    const res = await t.api().get('/api/v1/search').query({ value }).set('Authorization', f.admin);
    expect(res.status).toBe(200);
    return res.body as { result: string; matches: Array<{ supplier: string; context: unknown }> };
  }

  describe('stix21 bundle over HTTPS with a private CA', () => {
    let objects: unknown[];
    beforeAll(async () => {
      objects = [
        { type: 'identity', id: 'identity--1', name: 'ACME CERT', identity_class: 'organization' },
        indicator(
          'a1',
          "[ipv4-addr:value = '198.51.100.20'] OR [domain-name:value = 'c2.example']",
          {
            name: 'C2',
            description: 'Botnet C2',
            indicator_types: ['malicious-activity'],
            labels: ['botnet'],
            confidence: 85,
            valid_until: '2099-01-01T00:00:00Z',
          },
        ),
        indicator('a2', "[file:hashes.'SHA-256' = '" + 'ab'.repeat(32) + "']"),
        indicator('a3', "[domain-name:value = 'x.example' AND url:value = 'x.example/a']"),
        indicator('a4', "[url:value LIKE '%evil%']"),
        indicator('a5', "[ipv4-addr:value = '203.0.113.99'] WITHIN 60 SECONDS"),
        indicator('a6', "[url:value = 'http://revoked.example/x']", { revoked: true }),
      ];
      https.static(
        '/bundle.json',
        () => JSON.stringify({ type: 'bundle', id: 'bundle--1', objects }),
        'application/stix+json',
      );
      await ti.createSupplier('StixFeed');
    });

    it('refuses a server whose certificate it cannot verify (TLS verification on by default)', async () => {
      await f.put('StixFeed', { url: https.url('/bundle.json'), format: 'stix21' });
      const run = await f.waitForRuns('StixFeed', 1);
      expect(run.outcome).toBe('failed');
      expect(run.error).toMatch(/self.signed|certificate/i);
    });

    it('with caCertificate: one indicator per OR branch, context and expiry, unsupported patterns rejected', async () => {
      expect(
        (
          await f.put('StixFeed', {
            url: https.url('/bundle.json'),
            format: 'stix21',
            caCertificate: ca,
          })
        ).status,
      ).toBe(200);
      // A new configuration is due at once.
      const run = await f.waitForRuns('StixFeed', 2);
      expect(run).toMatchObject({
        outcome: 'applied',
        counts: { fetched: 7, created: 3, updated: 0, removed: 0, rejected: 3 },
      });
      expect(run.rejectedSample.map((r) => r.reason)).toEqual([
        'AND is not supported (only OR)',
        'operator LIKE is not supported (only =)',
        'qualifier WITHIN is not supported',
      ]);
      const items = await ti.listAll('StixFeed');
      expect(items.map((i) => i.indicator).sort()).toEqual([
        '198.51.100.20',
        'ab'.repeat(32),
        'c2.example',
      ]);
      expect(items.find((i) => i.indicator === 'c2.example')).toMatchObject({
        type: 'domain',
        confidence: 85,
        expiresAt: '2099-01-01T00:00:00.000Z',
        context: {
          stixId: 'indicator--a1',
          name: 'C2',
          description: 'Botnet C2',
          indicator_types: ['malicious-activity'],
          labels: ['botnet'],
        },
      });
      const hit = await search('http://c2.example/login');
      expect(hit.result).toBe('detected');
      expect(hit.matches[0].supplier).toBe('StixFeed');
    });

    it('a changed bundle is applied on the next run (replace; revoked indicators go)', async () => {
      objects.splice(1, 1, indicator('a1', "[ipv4-addr:value = '198.51.100.20']"));
      objects.push(indicator('a7', "[email-addr:value = 'Boss@Phish.Example']"));
      const run = await f.runNow('StixFeed');
      expect(run.counts).toMatchObject({ created: 1, updated: 2, removed: 1 });
      expect((await ti.listAll('StixFeed')).map((i) => i.indicator).sort()).toEqual(
        ['198.51.100.20', 'ab'.repeat(32), 'boss@phish.example'].sort(),
      );
      expect((await search('c2.example')).result).toBe('not_detected');
    });

    it('merge: revoked indicators are removed', async () => {
      await ti.createSupplier('StixMerge');
      await ti.upload('StixMerge', [
        { indicator: 'http://revoked.example/x' },
        { indicator: 'stays.example' },
      ]);
      await f.put('StixMerge', {
        url: https.url('/bundle.json'),
        format: 'stix21',
        mode: 'merge',
        caCertificate: ca,
      });
      const run = await f.waitForRuns('StixMerge', 1);
      expect(run.counts).toMatchObject({ created: 3, removed: 1 });
      const values = (await ti.listAll('StixMerge')).map((i) => i.indicator);
      expect(values).toContain('stays.example');
      expect(values).not.toContain('revoked.example/x');
    });
  });

  describe('taxii21 collection', () => {
    const collection = '91a7b528-80eb-42ed-a74d-c6fbd5a26116';
    const added: Array<{ at: string; obj: unknown }> = [
      {
        at: '2026-11-20T10:00:00.000Z',
        obj: indicator('t1', "[domain-name:value = 'taxii-one.example']"),
      },
      {
        at: '2026-11-20T11:00:00.000Z',
        obj: indicator('t2', "[ipv4-addr:value = '203.0.113.50']"),
      },
      {
        at: '2026-11-20T12:00:00.000Z',
        obj: indicator('t3', "[url:value = 'http://taxii-three.example/p']"),
      },
    ];
    const seen: Array<{
      addedAfter: string | null;
      next: string | null;
      accept: string | undefined;
    }> = [];

    beforeAll(async () => {
      http.routes.set(
        `/taxii/api1/collections/${collection}/objects/`,
        (req: IncomingMessage, res: ServerResponse) => {
          const q = new URL(req.url ?? '/', 'http://x').searchParams;
          const addedAfter = q.get('added_after');
          const next = q.get('next');
          seen.push({ addedAfter, next, accept: req.headers.accept });
          if (req.headers.accept !== TAXII) {
            res.writeHead(406).end();
            return;
          }
          const fresh = added.filter((a) => !addedAfter || a.at > addedAfter);
          // Two objects a page: the first page says more and gives next.
          const start = next === 'page-2' ? 2 : 0;
          const page = fresh.slice(start, start + 2);
          const more = start + 2 < fresh.length;
          const headers: Record<string, string> = { 'Content-Type': TAXII };
          if (page.length > 0) {
            headers['X-TAXII-Date-Added-First'] = page[0].at;
            headers['X-TAXII-Date-Added-Last'] = page[page.length - 1].at;
          }
          res.writeHead(200, headers);
          res.end(
            JSON.stringify({
              more,
              ...(more ? { next: 'page-2' } : {}),
              objects: page.map((p) => p.obj),
            }),
          );
        },
      );
      await ti.createSupplier('TaxiiFeed');
    });

    it('reads every page with the TAXII media type; the next run asks only for what was added after', async () => {
      const put = await f.put('TaxiiFeed', {
        url: http.url('/taxii/api1/'),
        format: 'taxii21',
        taxii: { collectionId: collection },
        auth: { type: 'bearer', token: 'taxii-token' },
      });
      expect(put.status).toBe(200);
      expect(put.body.mode).toBe('merge');
      const run = await f.waitForRuns('TaxiiFeed', 1);
      expect(run).toMatchObject({ outcome: 'applied', counts: { fetched: 3, created: 3 } });
      expect(seen).toEqual([
        { addedAfter: null, next: null, accept: TAXII },
        { addedAfter: null, next: 'page-2', accept: TAXII },
      ]);
      expect(http.requests.at(-1)!.headers.authorization).toBe('Bearer taxii-token');

      added.push({
        at: '2026-11-21T09:00:00.000Z',
        obj: indicator('t4', "[domain-name:value = 'taxii-four.example']"),
      });
      const second = await f.runNow('TaxiiFeed');
      expect(second.counts).toMatchObject({ fetched: 1, created: 1 });
      expect(seen.at(-1)).toEqual({
        addedAfter: '2026-11-20T12:00:00.000Z',
        next: null,
        accept: TAXII,
      });
      expect((await ti.listAll('TaxiiFeed')).map((i) => i.indicator).sort()).toEqual(
        ['203.0.113.50', 'taxii-four.example', 'taxii-one.example', 'taxii-three.example/p'].sort(),
      );
    });
  });

  describe('misp feed', () => {
    const A = '5e1b0c1a-0000-4000-8000-00000000000a';
    const B = '5e1b0c1a-0000-4000-8000-00000000000b';
    const events: Record<string, { timestamp: number; attributes: unknown[] }> = {
      [A]: {
        timestamp: 1_700_000_100,
        attributes: [
          {
            type: 'ip-dst|port',
            value: '203.0.113.70|443',
            to_ids: true,
            category: 'Network activity',
            comment: 'C2',
          },
          { type: 'domain', value: 'not-ids.example', to_ids: false, category: 'Network activity' },
          { type: 'filename', value: 'x.exe', to_ids: true, category: 'Payload delivery' },
        ],
      },
      [B]: {
        timestamp: 1_700_000_200,
        attributes: [
          { type: 'hostname', value: 'phish.example', to_ids: true, category: 'Network activity' },
          { type: 'md5', value: 'd'.repeat(32), to_ids: true, category: 'Payload delivery' },
        ],
      },
    };

    beforeAll(async () => {
      http.static('/misp/manifest.json', () =>
        JSON.stringify(
          Object.fromEntries(
            Object.entries(events).map(([uuid, e]) => [
              uuid,
              { info: `event ${uuid.slice(-1)}`, timestamp: String(e.timestamp) },
            ]),
          ),
        ),
      );
      for (const uuid of [A, B]) {
        http.static(`/misp/${uuid}.json`, () =>
          JSON.stringify({
            Event: {
              uuid,
              info: `event ${uuid.slice(-1)}`,
              timestamp: String(events[uuid].timestamp),
              Attribute: events[uuid].attributes,
            },
          }),
        );
      }
      await ti.createSupplier('MispFeed');
    });

    it('applies to_ids attributes of changed events; an updated event is re-read, deleted attributes removed', async () => {
      await f.put('MispFeed', { url: http.url('/misp/'), format: 'misp' });
      const run = await f.waitForRuns('MispFeed', 1);
      expect(run).toMatchObject({ outcome: 'applied', counts: { fetched: 3, created: 3 } });
      const items = await ti.listAll('MispFeed');
      expect(items.map((i) => i.indicator).sort()).toEqual([
        '203.0.113.70',
        'd'.repeat(32),
        'phish.example',
      ]);
      expect(items.find((i) => i.indicator === '203.0.113.70')!.context).toEqual({
        mispEvent: A,
        info: 'event a',
        category: 'Network activity',
        comment: 'C2',
      });

      events[B] = {
        timestamp: 1_700_000_300,
        attributes: [
          {
            type: 'hostname',
            value: 'phish.example',
            to_ids: true,
            category: 'Network activity',
            deleted: true,
          },
          { type: 'md5', value: 'd'.repeat(32), to_ids: true, category: 'Payload delivery' },
          {
            type: 'url',
            value: 'http://phish.example/login',
            to_ids: true,
            category: 'Network activity',
          },
        ],
      };
      const readsOfA = http.requests.filter((r) => r.path === `/misp/${A}.json`).length;
      const second = await f.runNow('MispFeed');
      expect(second.counts).toMatchObject({ fetched: 3, created: 1, updated: 1, removed: 1 });
      expect(http.requests.filter((r) => r.path === `/misp/${A}.json`).length).toBe(readsOfA);
      expect((await ti.listAll('MispFeed')).map((i) => i.indicator).sort()).toEqual(
        ['203.0.113.70', 'd'.repeat(32), 'phish.example/login'].sort(),
      );
    });
  });
});
