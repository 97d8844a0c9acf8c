import { get, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import request from 'supertest';
import { createTestApp, TestApp } from './support/test-app';

/**
 * How the server hands out the console's files (docs/console.md), over a build made here:
 * redirects, the single-page fallback, compression, caching and the console's own CSP. The
 * console itself is driven in a browser by the test/console-*.e2e.spec.ts specs.
 */
describe('the console files at /console/', () => {
  let t: TestApp;
  let dir: string;
  const INDEX =
    '<!doctype html><html lang="en"><title>Indicium</title><script type="module" src="/console/assets/app-1a2b.js"></script></html>';
  const SCRIPT = `export const big = ${JSON.stringify('x'.repeat(4000))};`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-1a2b.js'), SCRIPT);
    t = await createTestApp({ CONSOLE_DIR: dir });
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const http = () => request(t.app.getHttpServer());
  /** The bytes as sent (supertest would decompress them). */
  const raw = (path: string, acceptEncoding: string) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>(
      (resolve, reject) => {
        const { port } = t.app.getHttpServer().address() as AddressInfo;
        get(
          { host: '127.0.0.1', port, path, headers: { 'accept-encoding': acceptEncoding } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks),
              }),
            );
          },
        ).on('error', reject);
      },
    );

  it('GET / and /console redirect to /console/', async () => {
    const root = await http().get('/').redirects(0);
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/console/');
    const bare = await http().get('/console?q=8.8.8.8').redirects(0);
    expect(bare.status).toBe(302);
    expect(bare.headers.location).toBe('/console/?q=8.8.8.8');
  });

  it('serves index.html with a policy that allows nothing but this origin', async () => {
    const res = await http().get('/console/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe(INDEX);
    const csp = res.headers['content-security-policy'];
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining(["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]),
    );
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('answers a screen of the app (a path without a file) with index.html, so links load', async () => {
    for (const path of ['/console/search?q=evil.example', '/console/suppliers/Acme%20Feed']) {
      const res = await http().get(path);
      expect(res.status).toBe(200);
      expect(res.text).toBe(INDEX);
    }
  });

  it('serves hashed assets compressed and cached for good', async () => {
    const gz = await raw('/console/assets/app-1a2b.js', 'gzip');
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(gz.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gz.body.length).toBeLessThan(SCRIPT.length / 10);
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);
    const br = await raw('/console/assets/app-1a2b.js', 'gzip, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);
    for (const encoding of ['identity', 'br;q=0, gzip;q=0']) {
      const plain = await raw('/console/assets/app-1a2b.js', encoding);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.toString()).toBe(SCRIPT);
    }
  });

  it('answers a repeated request with 304 by its ETag', async () => {
    const first = await http().get('/console/assets/app-1a2b.js');
    const again = await http()
      .get('/console/assets/app-1a2b.js')
      .set('If-None-Match', first.headers.etag);
    expect(again.status).toBe(304);
  });

  it('names a missing file, refuses writes and never reaches outside the build', async () => {
    const missing = await http().get('/console/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('No such console file: /assets/nope.js');
    const post = await http().post('/console/').send('x');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    for (const path of [
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/..%2fpackage.json',
    ]) {
      const res = await http().get(path);
      expect(res.text).not.toContain('"name": "indicium"');
      expect([200, 404]).toContain(res.status);
      if (res.status === 200) expect(res.text).toBe(INDEX);
    }
  });

  it('leaves the API alone: unknown API paths are still JSON 404s', async () => {
    const res = await http().get('/api/v1/no-such-thing').auth('admin', 'wrong');
    expect(res.headers['content-type']).toMatch(/application\/json/);
  });
});

describe('a server whose console is not built', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ CONSOLE_DIR: join(tmpdir(), 'no-console-here') });
  });
  afterAll(() => t?.close());

  it('says so at /console/ instead of failing', async () => {
    const res = await request(t.app.getHttpServer()).get('/console/');
    expect(res.status).toBe(404);
    expect(res.text).toBe('The console is not built here: run npm run build');
  });
});
