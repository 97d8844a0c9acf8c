import { get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { Test } from 'supertest';
import { DetectionRecorder } from '../src/detections/detection-recorder';
import { CopyOut } from '../src/sharing/copy-out';
import { ExportService } from '../src/sharing/export/export.service';
import {
  basic,
  createEmbeddedTestApp,
  createTestApp,
  EMBEDDED_BOOT_TIMEOUT_MS,
  TestApp,
  appDb,
  withDatabase,
} from './support/test-app';
import { DEFAULT_TENANT_ID, inTenant } from '../src/database/tenant-context';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

/** The whole body as a string, whatever its media type. */
const text = (req: Test) =>
  req.buffer(true).parse((r, cb) => {
    const parts: Buffer[] = [];
    r.on('data', (c: Buffer) => parts.push(c));
    r.on('end', () => cb(null, Buffer.concat(parts).toString('utf8')));
  });

/**
 * The NDJSON export through COPY on a Postgres server (docs/api.md §10): Postgres writes the
 * lines, Node forwards the bytes. Same bytes as the keyset path, backpressure down to the
 * COPY, and a client that goes away cancels the statement.
 */
describe('export through COPY', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;
  let exports: ExportService;
  const url = (format: string, supplier = 'Acme') =>
    `/api/v1/suppliers/${supplier}/indicators/export?format=${format}`;

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    exports = t.app.get(ExportService);
    await ti.createSupplier('Acme', { confidence: 70 });
    await ti.createTag('PHISHING', { weight: 4 });
    await ti.createTag('C2', { weight: 4 });
    await ti.createTag('ZED', { weight: 1 });
    await ti
      .upload('Acme', [
        {
          indicator: 'evil.com',
          context: { note: 'a "quoted", comma\nline\ttab \\ back \u0001 ctl é 𝄞 \u2028', n: 1.5 },
          tags: ['PHISHING', 'ZED', 'C2'],
          firstSeen: '2025-03-04T05:06:07.891Z',
          lastSeen: '2025-03-05T00:00:00Z',
        },
        { indicator: '10.0.0.0/8', confidence: 90, tags: ['ZED'] },
        { indicator: "http://bad.org/it's?q=a\\b", expiresAt: '2099-01-02T03:04:05.678Z' },
        { indicator: '2001:db8::1', confidence: 0, context: { list: ['x', 'y"'], ok: true } },
        { indicator: 'd41d8cd98f00b204e9800998ecf8427e' },
        { indicator: 'someone@bad.org' },
        { indicator: 'old.com', expiresAt: '2020-01-01T00:00:00Z' },
      ])
      .expect(200);
    const analyst = await ti.createAnalyst('hunter');
    for (const value of ['www.evil.com', '10.1.2.3']) {
      await t
        .api()
        .get('/api/v1/search')
        .query({ value })
        .set('Authorization', analyst)
        .expect(200);
    }
    await asUser(t, ti.admin)
      .post('/api/v1/search')
      .send({ values: ['evil.com', 'evil.com'] })
      .expect(200);
    await t.app.get(DetectionRecorder).flush();
    await ti.createSupplier('Empty');
  });
  afterAll(async () => {
    exports.viaCopy = true;
    await t.close();
  });

  const body = async (path: string, copy: boolean): Promise<string> => {
    exports.viaCopy = copy;
    const res = await text(asUser(t, ti.admin).get(path));
    expect(res.status).toBe(200);
    return res.body as string;
  };

  it('writes the same bytes as the keyset path (NDJSON, CSV, STIX)', async () => {
    expect(t.app.get(CopyOut).available).toBe(t.config.env.DATABASE_URL !== undefined);
    // (A STIX bundle's own id is random.)
    const bundleId = (s: string): string => s.replace(/"bundle--[0-9a-f-]{36}"/, '"bundle--?"');
    for (const format of ['ndjson', 'csv', 'stix21'])
      for (const supplier of ['Acme', 'Empty']) {
        const viaCopy = await body(url(format, supplier), true);
        const viaKeyset = await body(url(format, supplier), false);
        expect(bundleId(viaCopy)).toBe(bundleId(viaKeyset));
      }
    const lines = (await body(url('ndjson'), true)).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(6);
    const evil = lines.map((l) => JSON.parse(l)).find((i) => i.indicator === 'evil.com');
    expect(evil.tags.map((x: { name: string }) => x.name)).toEqual(['C2', 'PHISHING', 'ZED']);
    expect(evil.hits).toBe(3);
  });

  it('CopyOut: rows of any length arrive as written; an error in the statement fails the body', async () => {
    const copy = t.app.get(CopyOut);
    if (!copy.available) return;
    const unused = (): never => {
      throw new Error('the fallback ran while a COPY connection was free');
    };
    const read = async (select: string): Promise<string> => {
      const parts: Buffer[] = [];
      const body = inTenant(DEFAULT_TENANT_ID, () => copy.lines(select, unused));
      for await (const c of body) parts.push(Buffer.from(c));
      return Buffer.concat(parts).toString('utf8');
    };
    const big = `SELECT repeat(chr(97 + g % 26), g * 997) FROM generate_series(1, 300) g`;
    const expected = Array.from({ length: 300 }, (_, k) =>
      String.fromCharCode(97 + ((k + 1) % 26)).repeat((k + 1) * 997),
    );
    expect(await read(big)).toBe(expected.join('\n') + '\n');
    expect(
      await read(
        `SELECT 'tab\there, "quoted", back\\slash é' UNION ALL SELECT ''''` +
          ` UNION ALL SELECT E'new\\nline\\x01\\x02\\rcr' UNION ALL SELECT NULL UNION ALL SELECT ''`,
      ),
    ).toBe(`tab\there, "quoted", back\\slash é\n'\nnew\nline\x01\x02\rcr\n\n\n`);
    await expect(
      read('SELECT (1 / (g - 50000))::text FROM generate_series(1, 100000) g'),
    ).rejects.toThrow('division by zero');
  });

  it('CopyOut: with every COPY connection streaming, a body is served by its fallback', async () => {
    const copy = t.app.get(CopyOut);
    if (!copy.available) return;
    const held = Array.from({ length: copy.connections }, () =>
      inTenant(DEFAULT_TENANT_ID, () =>
        copy.lines(`SELECT repeat('x', 1000) FROM generate_series(1, 1000000)`, () =>
          Readable.from(['fallback\n']),
        ),
      ),
    );
    const iterators = held.map((b) => b[Symbol.asyncIterator]());
    const firsts = await Promise.all(iterators.map((it) => it.next()));
    expect(firsts.every((r) => Buffer.isBuffer(r.value))).toBe(true);
    const extra: string[] = [];
    for await (const c of inTenant(DEFAULT_TENANT_ID, () =>
      copy.lines(`SELECT 'copy'`, () => Readable.from(['fallback\n'])),
    ))
      extra.push(c.toString());
    expect(extra).toEqual(['fallback\n']);
    for (const [k, b] of held.entries()) {
      b.abort();
      await iterators[k].return?.(undefined);
    }
    const url = t.config.env.DATABASE_URL!;
    const deadline = Date.now() + 5000;
    let left = -1;
    while (Date.now() < deadline && left !== 0) {
      const { rows } = await withDatabase(url, (c) =>
        c.query(`SELECT count(*)::int AS n FROM pg_stat_activity
                  WHERE datname = current_database() AND query LIKE 'COPY (%'
                    AND backend_type = 'client backend'`),
      );
      left = rows[0].n;
      if (left) await new Promise((r) => setTimeout(r, 50));
    }
    expect(left).toBe(0);
    // The slots are free again.
    const again: string[] = [];
    for await (const c of inTenant(DEFAULT_TENANT_ID, () =>
      copy.lines(`SELECT 'copy'`, () => Readable.from(['fallback\n'])),
    ))
      again.push(c.toString());
    expect(again.join('')).toBe('copy\n');
  });

  describe('with 100,000 indicators over a real socket', () => {
    const N = 100_000;
    let port: number;
    let auth: string;
    const dbUrl = (): string | undefined => t.config.env.DATABASE_URL;
    /** The COPY statements running on the test database (none on the embedded one). */
    const copies = async (): Promise<Array<{ state: string; wait: string | null }>> => {
      const url = dbUrl();
      if (!url) return [];
      const { rows } = await withDatabase(url, (c) =>
        c.query(`SELECT state, wait_event AS wait FROM pg_stat_activity
                  WHERE datname = current_database() AND query LIKE 'COPY (%'
                    AND backend_type = 'client backend'
                    AND pid <> pg_backend_pid()`),
      );
      return rows as Array<{ state: string; wait: string | null }>;
    };
    const until = async (check: () => Promise<boolean>, ms = 5000): Promise<boolean> => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (await check()) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return check();
    };

    beforeAll(async () => {
      await ti.createSupplier('Big');
      const seed = `INSERT INTO indicators (supplier_id, type, value, context)
        SELECT s.id, 'domain', 'host' || g || '.example.org', '{"campaign":"bulk"}'
          FROM suppliers s CROSS JOIN generate_series(1, ${N}) g WHERE s.name = 'Big'`;
      const url = dbUrl();
      // As the owner on a connection of its own: the rows go to the default tenant.
      if (url)
        await withDatabase(url, (c) =>
          c.query(`SET indicium.tenant = '${DEFAULT_TENANT_ID}'; ${seed}`),
        );
      else await appDb(t).query(seed);
      await t.app.listen(0, '127.0.0.1');
      port = (t.app.getHttpServer().address() as AddressInfo).port;
      auth = basic(t.admin.username, t.admin.password);
    });

    const open = (): Promise<IncomingMessage> =>
      new Promise((resolve, reject) =>
        httpGet(
          { host: '127.0.0.1', port, path: url('ndjson', 'Big'), headers: { Authorization: auth } },
          resolve,
        ).on('error', reject),
      );

    it('a client that stops reading holds Postgres on its send; every line arrives after', async () => {
      exports.viaCopy = true;
      const res = await open();
      expect(res.statusCode).toBe(200);
      res.pause();
      if (dbUrl()) {
        // Backpressure reaches Postgres: the COPY waits to write to our socket.
        expect(
          await until(async () => (await copies()).some((c) => c.wait === 'ClientWrite')),
        ).toBe(true);
      }
      let lines = 0;
      let tail = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const parts = (tail + chunk).split('\n');
        tail = parts.pop()!;
        lines += parts.length;
      });
      res.resume();
      await new Promise((r) => res.on('end', r));
      expect(lines).toBe(N);
      expect(tail).toBe('');
      expect(await until(async () => (await copies()).length === 0)).toBe(true);
    });

    it('a client that disconnects cancels the COPY', async () => {
      exports.viaCopy = true;
      const res = await open();
      await new Promise((r) => res.once('data', r));
      if (dbUrl()) expect((await copies()).length).toBe(1);
      res.destroy();
      expect(await until(async () => (await copies()).length === 0)).toBe(true);
      // The server is fine: the next export runs to its end.
      const again = await text(asUser(t, ti.admin).get(url('ndjson', 'Big')));
      expect((again.body as string).split('\n')).toHaveLength(N + 1);
    });
  });
});

/** The embedded database (PGlite) has no socket to COPY over: the keyset paths serve it. */
describe('exports and blocklist on the embedded database', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;

  beforeAll(async () => {
    t = await createEmbeddedTestApp();
    ti = threatIntel(t);
    await ti.createSupplier('Acme');
    await ti.upload('FalsePositive', [{ indicator: 'example.com' }]).expect(200);
    await ti
      .upload('Acme', [{ indicator: 'evil.com' }, { indicator: 'a.example.com' }])
      .expect(200);
  }, EMBEDDED_BOOT_TIMEOUT_MS);
  afterAll(() => t.close());

  it('streams NDJSON and the blocklist without COPY', async () => {
    expect(t.config.usesEmbeddedDatabase).toBe(true);
    expect(t.app.get(CopyOut).available).toBe(false);
    const res = await text(
      t.api().get('/api/v1/suppliers/Acme/indicators/export?format=ndjson'),
    ).set('Authorization', ti.admin);
    expect(res.status).toBe(200);
    const items = (res.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(items.map((i) => i.indicator).sort()).toEqual(['a.example.com', 'evil.com']);
    const list = await asUser(t, ti.admin).get('/api/v1/blocklist').expect(200);
    expect(list.text).toBe('evil.com\n');
  });
});
