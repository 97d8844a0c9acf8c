import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Test } from 'supertest';
import { DetectionRecorder } from '../src/detections/detection-recorder';
import type { ExportFormat } from '../src/sharing/export/export-formats';
import { EXPORT_BATCH, ExportService } from '../src/sharing/export/export.service';
import { SharingRepository } from '../src/sharing/sharing.repository';
import { appDb, basic, createTestApp, TestApp, withDatabase } from './support/test-app';
import { DEFAULT_TENANT_ID } from '../src/database/tenant-context';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

/** RFC 4180 records (quoted fields, doubled quotes, CRLF and embedded newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

/** The whole body as a string, whatever its media type. */
const text = (req: Test) =>
  req.buffer(true).parse((r, cb) => {
    let s = '';
    r.setEncoding('utf8');
    r.on('data', (c: string) => (s += c));
    r.on('end', () => cb(null, s));
  });

describe('GET /api/v1/suppliers/{name}/indicators/export (docs/api.md §10)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;
  const url = (format: string, supplier = 'Acme') =>
    `/api/v1/suppliers/${supplier}/indicators/export?format=${format}`;

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    await ti.createSupplier('Acme', { confidence: 70 });
    await ti.createTag('PHISHING', { weight: 4 });
    await ti
      .upload('Acme', [
        { indicator: 'evil.com', context: { note: 'a "quoted", comma\nline' }, tags: ['PHISHING'] },
        { indicator: '10.0.0.0/8', confidence: 90 },
        { indicator: "http://bad.org/it's?q=a\\b" },
        { indicator: 'old.com', expiresAt: '2020-01-01T00:00:00Z' },
      ])
      .expect(200);
    // Four hits on evil.com by two principals (two in one bulk request), summed over them,
    // written by a flush (docs/api.md §11).
    const analyst = await ti.createAnalyst('hunter');
    await t
      .api()
      .get('/api/v1/search')
      .query({ value: 'www.evil.com' })
      .set('Authorization', analyst)
      .expect(200);
    await t
      .api()
      .get('/api/v1/search')
      .query({ value: 'evil.com' })
      .set('Authorization', ti.admin)
      .expect(200);
    await asUser(t, ti.admin)
      .post('/api/v1/search')
      .send({ values: ['evil.com', 'evil.com'] })
      .expect(200);
    await t.app.get(DetectionRecorder).flush();
    lastHitAt = (
      (await ti.listAll('Acme')).find((i) => i.indicator === 'evil.com') as unknown as {
        lastHitAt: string;
      }
    ).lastHitAt;
    expect(lastHitAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });
  afterAll(() => t.close());
  let lastHitAt: string;

  it('streams NDJSON: one indicator-list item per line, expired ones left out', async () => {
    const res = await text(asUser(t, ti.admin).get(url('ndjson')));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="Acme-indicators.ndjson"',
    );
    const items = (res.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(items.map((i) => i.indicator).sort()).toEqual(
      ["bad.org/it's?q=a\\b", '10.0.0.0/8', 'evil.com'].sort(),
    );
    expect(items.find((i) => i.indicator === 'evil.com')).toMatchObject({
      type: 'domain',
      context: { note: 'a "quoted", comma\nline' },
      tags: [{ name: 'PHISHING', weight: 4 }],
      confidence: null,
      createdAt: expect.stringMatching(/Z$/),
      hits: 4,
      lastHitAt,
    });
    expect(items.find((i) => i.indicator === '10.0.0.0/8')).toMatchObject({
      hits: 0,
      lastHitAt: null,
    });
  });

  it('streams RFC 4180 CSV with a header row and context as JSON', async () => {
    const res = await text(asUser(t, ti.admin).get(url('csv')));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers['content-disposition']).toBe('attachment; filename="Acme-indicators.csv"');
    const [header, ...rows] = parseCsv(res.body as string);
    expect(header).toEqual([
      'id',
      'indicator',
      'type',
      'context',
      'tags',
      'confidence',
      'firstSeen',
      'lastSeen',
      'expiresAt',
      'createdAt',
      'updatedAt',
      'hits',
      'lastHitAt',
    ]);
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r[1] === 'evil.com')!.slice(11)).toEqual(['4', lastHitAt]);
    expect(rows.find((r) => r[1] === '10.0.0.0/8')!.slice(11)).toEqual(['0', '']);
    const evil = rows.find((r) => r[1] === 'evil.com')!;
    expect(JSON.parse(evil[3])).toEqual({ note: 'a "quoted", comma\nline' });
    expect(evil[4]).toBe('PHISHING');
    expect(rows.find((r) => r[1] === '10.0.0.0/8')![5]).toBe('90');
  });

  it('streams a STIX 2.1 bundle that validates against the schema', async () => {
    const res = await text(asUser(t, ti.admin).get(url('stix21')));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/stix+json;version=2.1');
    const bundle = JSON.parse(res.body as string);
    const ajv = new Ajv({ allErrors: true, strict: false });
    const root = join(__dirname, 'fixtures', 'stix21');
    for (const dir of ['common', 'sdos'])
      for (const f of readdirSync(join(root, dir)))
        ajv.addSchema(JSON.parse(readFileSync(join(root, dir, f), 'utf8')));
    const validate = ajv.getSchema('https://indicium.test/stix21/common/bundle.json')!;
    expect(validate(bundle) ? [] : validate.errors).toEqual([]);
    expect(bundle.objects).toHaveLength(3);
    const badUrl = bundle.objects.find((o: { name: string }) => o.name.startsWith('bad.org'));
    expect(badUrl.pattern).toBe("[url:value = 'bad.org/it\\'s?q=a\\\\b']");
    const evil = bundle.objects.find((o: { name: string }) => o.name === 'evil.com');
    expect(evil.confidence).toBe(70);
    expect(evil).toMatchObject({ x_indicium_hits: 4, x_indicium_last_hit_at: lastHitAt });
    expect(badUrl.x_indicium_hits).toBe(0);
    expect(badUrl).not.toHaveProperty('x_indicium_last_hit_at');
  });

  it('exports an empty supplier as an empty body, a header row or an empty bundle', async () => {
    await ti.createSupplier('Empty');
    const get = (format: string) => text(asUser(t, ti.admin).get(url(format, 'Empty')));
    const ndjson = await get('ndjson');
    expect([ndjson.status, ndjson.body]).toEqual([200, '']);
    const csv = await get('csv');
    expect(csv.status).toBe(200);
    expect(parseCsv(csv.body as string)).toHaveLength(1);
    const stix = await get('stix21');
    expect(stix.status).toBe(200);
    expect(JSON.parse(stix.body as string).objects).toEqual([]);
  });

  it('refuses an unknown format (400), supplier (404), Accept (406), no privilege (403)', async () => {
    const bad = await asUser(t, ti.admin).get(url('xml')).expect(400);
    expect(bad.body.message).toContain('format must be one of ndjson, csv, stix21');
    const missing = await asUser(t, ti.admin).get(url('csv', 'Nobody')).expect(404);
    expect(missing.body).toMatchObject({
      code: 'supplier_not_found',
      message: 'Supplier "Nobody" does not exist',
    });
    const wrong = await t
      .api()
      .get(url('csv'))
      .set('Accept', 'application/json')
      .set('Authorization', ti.admin);
    expect(wrong.status).toBe(406);
    expect(wrong.body.message).toContain('text/csv');
    await t.api().get(url('csv')).expect(401);
    const analyst = await ti.createAnalyst('export.analyst');
    const denied = await asUser(t, analyst).get(url('csv')).expect(403);
    expect(denied.body.message).toContain('indicators.read');
  });

  /**
   * Backpressure and disconnects, observed where they act, per path: a keyset path (the
   * embedded database, or COPY off) counts calls of the
   * repository method that path really uses, and the response's own buffer; a COPY path
   * (every format on a Postgres server) watches its backend in pg_stat_activity.
   */
  describe('with 100,000 indicators over a real socket', () => {
    const N = 100_000;
    const BATCHES = Math.floor(N / EXPORT_BATCH) + 1; // the last, short (empty) batch included
    let port: number;
    let auth: string;
    let exports: ExportService;
    /** The server side of the latest export response. */
    let served: ServerResponse | undefined;
    const dbUrl = (): string | undefined => t.config.env.DATABASE_URL;

    beforeAll(async () => {
      await ti.createSupplier('Big');
      // Seeded in one statement (the upload path has its own tests and benchmark). Each row
      // carries ~600 bytes of context, so every format's export (60+ MB) is far larger than
      // what loopback socket buffers can hold for a paused client (tcp_rmem grows to 32 MB
      // here): with the export small enough to fit, the whole body could be produced while
      // the client pauses, and backpressure would be unobservable.
      const seed = `INSERT INTO indicators (supplier_id, type, value, context)
        SELECT s.id, 'domain', 'host' || g || '.example.org',
               jsonb_build_object('campaign', 'bulk', 'note', repeat('x', 600))
          FROM suppliers s CROSS JOIN generate_series(1, ${N}) g WHERE s.name = 'Big'`;
      const url = dbUrl();
      // As the owner on a connection of its own: the rows go to the default tenant.
      if (url)
        await withDatabase(url, (c) =>
          c.query(`SET indicium.tenant = '${DEFAULT_TENANT_ID}'; ${seed}`),
        );
      else await appDb(t).query(seed);
      exports = t.app.get(ExportService);
      await t.app.listen(0, '127.0.0.1');
      const http = t.app.getHttpServer();
      http.on('request', (req: IncomingMessage, res: ServerResponse) => {
        if (req.url?.includes('/Big/indicators/export')) served = res;
      });
      port = (http.address() as AddressInfo).port;
      auth = basic(t.admin.username, t.admin.password);
    });
    /** Responses opened by the test; one a failed test left paused must not outlive it. */
    const opened: IncomingMessage[] = [];
    afterEach(() => {
      jest.restoreAllMocks();
      exports.viaCopy = true;
      for (const res of opened.splice(0)) res.destroy();
    });

    const open = (format: ExportFormat): Promise<IncomingMessage> =>
      new Promise((resolve, reject) =>
        httpGet(
          { host: '127.0.0.1', port, path: url(format, 'Big'), headers: { Authorization: auth } },
          (res) => {
            opened.push(res);
            resolve(res);
          },
        ).on('error', reject),
      );
    /** Reads the rest of a response; resolves to its length in bytes. */
    const drain = (res: IncomingMessage): Promise<number> =>
      new Promise((resolve, reject) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
        res.resume();
      });
    /** Bytes of the whole export, read at full speed (the reference for a paused one). */
    const sizes = new Map<ExportFormat, number>();
    const fullSize = async (format: ExportFormat): Promise<number> => {
      if (!sizes.has(format)) sizes.set(format, await drain(await open(format)));
      return sizes.get(format)!;
    };
    /** The COPY statements running on the test database (none on the embedded one). */
    const copies = async (): Promise<Array<{ wait: string | null }>> => {
      const url = dbUrl();
      if (!url) return [];
      const { rows } = await withDatabase(url, (c) =>
        c.query(`SELECT wait_event AS wait FROM pg_stat_activity
                  WHERE datname = current_database() AND query LIKE 'COPY (%'
                    AND backend_type = 'client backend'
                    AND pid <> pg_backend_pid()`),
      );
      return rows as Array<{ wait: string | null }>;
    };
    const tick = () => new Promise((r) => setTimeout(r, 50));
    const until = async (check: () => Promise<boolean>, ms = 30_000): Promise<boolean> => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (await check()) return true;
        await tick();
      }
      return check();
    };
    /**
     * Resolves to `sample()` once it has given the same value, with `holds` true, 20 times in a
     * row 50 ms apart: a state the server stays in, not a moment of it. Each sample is its own
     * event-loop turn, so a socket that took more data (a 'drain', the next batch query) is
     * seen between two of them however slow the machine; a count, not a pause, decides.
     */
    const steady = async <T>(
      sample: () => T | Promise<T>,
      holds: (value: T) => boolean,
    ): Promise<T> => {
      const deadline = Date.now() + 30_000;
      let last = JSON.stringify(await sample());
      for (let same = 0; same < 20;) {
        if (Date.now() > deadline) throw new Error(`no steady state in 30 s (last: ${last})`);
        await tick();
        const value = await sample();
        const now = JSON.stringify(value);
        same = now === last && holds(value) ? same + 1 : 0;
        last = now;
        if (same === 20) return value;
      }
      throw new Error('unreachable');
    };

    describe.each(['ndjson', 'csv', 'stix21'] as const)('%s on a keyset path', (format) => {
      beforeEach(() => {
        exports.viaCopy = false;
      });

      it('honours backpressure: a client that stops reading stops the batch queries', async () => {
        const total = await fullSize(format);
        const batches = jest.spyOn(SharingRepository.prototype, 'exportBatch');
        const res = await open(format);
        expect(res.statusCode).toBe(200);
        res.pause();
        // Stalled: the server waits for 'drain' and reads no more batches (the kernel's socket
        // buffers fill first, as fast as the machine lets them).
        const reads = () => batches.mock.calls.length;
        const whilePaused = await steady(reads, () => served!.writableNeedDrain);
        expect(whilePaused).toBeGreaterThan(0); // the spy watches the path that runs
        expect(whilePaused).toBeLessThan(BATCHES); // the body was not produced ahead of it
        // …and stays so while the client waits.
        expect(await steady(reads, () => served!.writableNeedDrain)).toBe(whilePaused);
        // Node holds no more than a piece or two of it: the rest waits in the database.
        expect(served!.writableLength).toBeLessThan(256 * 1024);
        expect(await drain(res)).toBe(total);
        expect(batches.mock.calls.length).toBe(BATCHES);
      });

      it('stops querying when the client disconnects', async () => {
        const batches = jest.spyOn(SharingRepository.prototype, 'exportBatch');
        const res = await open(format);
        await new Promise((r) => res.once('data', r));
        res.destroy();
        const reads = () => batches.mock.calls.length;
        const after = await steady(reads, () => served!.destroyed);
        expect(after).toBeGreaterThan(0);
        expect(after).toBeLessThan(BATCHES);
        expect(await steady(reads, () => served!.destroyed)).toBe(after);
      });
    });

    describe.each(['ndjson', 'csv', 'stix21'] as const)(
      '%s through COPY (a Postgres server)',
      (format) => {
        it('a client that stops reading holds Postgres on its send, not Node', async () => {
          if (!dbUrl()) return; // the embedded database has no COPY: the keyset path serves it
          const total = await fullSize(format);
          const keyset = jest.spyOn(SharingRepository.prototype, 'exportBatch');
          const res = await open(format);
          expect(res.statusCode).toBe(200);
          res.pause();
          // Backpressure reaches Postgres: the COPY waits to write to the server's socket…
          // …and stays so.
          const waits = async () => (await copies()).map((c) => c.wait);
          expect(await steady(waits, (w) => w.length === 1)).toEqual(['ClientWrite']);
          expect(served!.writableLength).toBeLessThan(256 * 1024);
          expect(await drain(res)).toBe(total);
          expect(keyset).not.toHaveBeenCalled();
          expect(await until(async () => (await copies()).length === 0)).toBe(true);
        });

        it('a client that disconnects ends the COPY', async () => {
          if (!dbUrl()) return;
          const res = await open(format);
          await new Promise((r) => res.once('data', r));
          // (The first bytes may be a header written before the COPY starts.)
          expect(await until(async () => (await copies()).length === 1)).toBe(true);
          res.destroy();
          expect(await until(async () => (await copies()).length === 0)).toBe(true);
        });
      },
    );
  });
});
