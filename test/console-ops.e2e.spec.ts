import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Locator, Page } from 'playwright-core';
import { asRoot } from './api/client';
import { CONSOLE_BUILD_TIMEOUT_MS } from './support/console-build';
import {
  checkScreen,
  consoleBrowserAvailable,
  eventually,
  navigate,
  inConsole,
  signIn,
  type ConsoleRig,
  startConsoleRig,
} from './support/console-browser';
import type { TestApp } from './support/test-app';

const run = consoleBrowserAvailable('the console browser tests');
const JS_BUDGET = 300 * 1024;

const row = (page: Page, text: string): Locator => page.getByRole('row').filter({ hasText: text });

/** Same-origin module URLs a script imports statically (`import … from`, `export … from`, bare `import "…"`). */
function staticImports(code: string): string[] {
  const found: string[] = [];
  const re = /\b(?:import|export)\s*(?:[\w$*{},\s]+?\s*from\s*)?["']([^"']+)["']/g;
  for (let m = re.exec(code); m; m = re.exec(code)) found.push(m[1]);
  return found;
}

/** A response's raw bytes, whatever its content type. */
async function bytes(t: TestApp, path: string): Promise<{ status: number; body: Buffer }> {
  const res = await t
    .api()
    .get(path)
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
  return { status: res.status, body: res.body as Buffer };
}

/**
 * The console's operations screens (SIEM integrations, Audit log) in a real Chromium, and what
 * the server does for the console: the redirect, the CSP, deep links, the first-load budget.
 */
(run ? describe : describe.skip)('Console: operations screens and serving', () => {
  let rig: ConsoleRig;
  let admin: { username: string; password: string };
  let receiver: Server;
  const received: string[] = [];

  beforeAll(async () => {
    rig = await startConsoleRig();
    const { t } = rig;
    admin = t.admin;
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    await asRoot(t)
      .post('/api/v1/siem-integrations', {
        name: 'ui-webhook',
        type: 'webhook',
        url: `http://127.0.0.1:${port}/in`,
        secret: 'webhook-hmac-key-0123456789',
        enabled: true,
      })
      .expect(201);
    await asRoot(t).post('/api/v1/suppliers', { name: 'AuditedFeed' }).expect(201);
  }, CONSOLE_BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await rig?.close();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  });

  it('SIEM integrations: listed with status, backlog and last error; Test delivers an event to the receiver', async () => {
    await inConsole(rig, 'siem-integrations', async (cp) => {
      const { page } = cp;
      await signIn(page, rig.base, admin.username, admin.password);
      await navigate(page, 'SIEM integrations');
      for (const h of ['Name', 'Status', 'Backlog', 'Last error']) {
        await page.getByRole('columnheader', { name: h, exact: true }).waitFor();
      }
      const hook = row(page, 'ui-webhook');
      await hook.waitFor();
      const before = received.filter((b) => b.includes('siem.test')).length;
      await hook.getByRole('button', { name: 'Test', exact: true }).click();
      await eventually(() => received.filter((b) => b.includes('siem.test')).length > before);
      // The page says so, in words.
      await page
        .getByText(/delivered/i)
        .first()
        .waitFor();
      expect(await page.getByRole('alert').count()).toBe(0);
      await checkScreen(cp, 'siem-integrations');
    });
  });

  it('audit log: the records (a supplier created over the API among them), and Verify chain says the chain is intact', async () => {
    const { t, base } = rig;
    await inConsole(rig, 'audit-log', async (cp) => {
      const { page } = cp;
      await signIn(page, base, admin.username, admin.password);
      await navigate(page, 'Audit log');
      await page.getByRole('button', { name: 'Apply', exact: true }).click();
      const record = page
        .getByRole('row')
        .filter({ hasText: 'supplier.create' })
        .filter({ hasText: 'AuditedFeed' });
      await record.waitFor();
      await page.getByRole('button', { name: 'Verify chain', exact: true }).click();
      const verified = await asRoot(t).get('/api/v1/audit-logs/verify').expect(200);
      expect(verified.body.valid).toBe(true);
      const verdict = page.getByText(/\bvalid\b|intact/i).first();
      await verdict.waitFor();
      expect(await verdict.innerText()).not.toMatch(/invalid|broken|not valid/i);
      await checkScreen(cp, 'audit-log');
    });
  });

  it('serving: GET / redirects to /console/, its CSP is default-src self, a deep link /console/search?q=… loads and shows the verdict', async () => {
    const { t, base } = rig;
    const root = await t.api().get('/');
    expect(root.status).toBeGreaterThanOrEqual(301);
    expect(root.status).toBeLessThanOrEqual(308);
    expect(root.headers.location).toMatch(/^(https?:\/\/[^/]+)?\/console\/$/);

    const index = await t.api().get('/console/').expect(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(index.headers['content-security-policy'] ?? '');
    expect(csp.split(';').map((d) => d.trim())).toContain("default-src 'self'");
    const deep = await t.api().get('/console/search?q=evil.example').expect(200);
    expect(deep.headers['content-type']).toMatch(/^text\/html/);
    expect(deep.text).toBe(index.text);

    await asRoot(t).post('/api/v1/suppliers', { name: 'DeepFeed' }).expect(201);
    await asRoot(t)
      .put('/api/v1/suppliers/DeepFeed/indicators', [{ indicator: 'deep-link.example' }])
      .expect(200);
    await inConsole(rig, 'deep-link', async (cp) => {
      const { page } = cp;
      // Not signed in: the link goes through sign-in and lands on the result.
      await page.goto(`${base}/console/search?q=${encodeURIComponent('deep-link.example')}`);
      await page.getByLabel('Username').fill(admin.username);
      await page.getByLabel('Password').fill(admin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Search' }).waitFor();
      await row(page, 'deep-link.example')
        .getByRole('cell', { name: 'detected', exact: true })
        .waitFor();
      // Signed in: the link loads directly.
      await page.goto(`${base}/console/search?q=${encodeURIComponent('deep-link.example')}`);
      await row(page, 'deep-link.example')
        .getByRole('cell', { name: 'detected', exact: true })
        .waitFor();
    });
  });

  it('first load: the compressed JavaScript of /console/ (its scripts, modulepreloads and their static imports) is under 300 KiB', async () => {
    const { t, base } = rig;
    const index = await t.api().get('/console/').expect(200);
    const origin = new URL(base).origin;
    const html = index.text;
    const queue: string[] = [];
    for (const m of html.matchAll(/<script\b[^>]*\bsrc=["']([^"']+)["']/g)) queue.push(m[1]);
    for (const m of html.matchAll(/<link\b[^>]*>/g)) {
      if (/\brel=["']?modulepreload/.test(m[0])) {
        const href = /\bhref=["']([^"']+)["']/.exec(m[0]);
        if (href) queue.push(href[1]);
      }
    }
    expect(queue.length).toBeGreaterThan(0);
    const sizes = new Map<string, number>();
    const resolveUrl = (ref: string, from: string) => new URL(ref, from).toString();
    const pending = queue.map((ref) => resolveUrl(ref, `${origin}/console/`));
    while (pending.length > 0) {
      const url = pending.shift()!;
      if (sizes.has(url)) continue;
      expect(new URL(url).origin).toBe(origin); // no script from elsewhere
      const { status, body } = await bytes(t, new URL(url).pathname);
      expect({ url, status }).toEqual({ url, status: 200 });
      sizes.set(url, gzipSync(body).length);
      for (const ref of staticImports(body.toString('utf8'))) {
        if (ref.startsWith('.') || ref.startsWith('/')) pending.push(resolveUrl(ref, url));
      }
    }

    // And whatever the browser itself fetched as script on first load (sign-in screen).
    await inConsole(rig, 'first-load', async (cp) => {
      const { page } = cp;
      const loaded: string[] = [];
      page.on('response', (r) => {
        if (r.request().resourceType() === 'script') loaded.push(r.url());
      });
      await page.goto(`${base}/console/`);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      for (const url of loaded) {
        if (sizes.has(url)) continue;
        const { body } = await bytes(t, new URL(url).pathname);
        sizes.set(url, gzipSync(body).length);
      }
    });
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    const report = [...sizes].map(([u, n]) => `${new URL(u).pathname} ${n} B`).join('\n');
    expect({ total, under: total < JS_BUDGET, report }).toMatchObject({ under: true });
  });
});
