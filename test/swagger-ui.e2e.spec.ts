import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage } from 'playwright-core';
import { createTestApp, TestApp } from './support/test-app';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'swagger-ui-search.png');
// A name that is not loopback to the browser: plain-HTTP pages on it get the rules real
// deployments get (no "potentially trustworthy" exemptions as for 127.0.0.1/localhost).
const HOST = 'indicium.test';

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(
    `${CHROMIUM} is missing; the Swagger UI browser test needs Debian's chromium package ` +
      '(.ci/run installs it: apt-get install chromium)',
  );
}
if (!haveChromium) {
  console.warn(
    `Skipping the Swagger UI browser test: ${CHROMIUM} is missing (sudo apt-get install chromium)`,
  );
}

/**
 * Swagger UI at /docs in a real headless Chromium, as a person uses it: Authorize with the
 * OAuth2 client-credentials flow, try GET /api/v1/search, read the verdict in the page.
 * Also proves that the security headers (CSP) leave Swagger UI working.
 */
(haveChromium ? describe : describe.skip)('Swagger UI in a real browser', () => {
  let t: TestApp;
  let browser: Browser | undefined;
  let base: string;
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    t = await createTestApp();
    const ti = threatIntel(t);
    await ti.createSupplier('BrowserFeed', { vendor: 'Acme', confidence: 70 });
    const up = await ti.upload('BrowserFeed', [
      { indicator: 'phish-kit.example', context: { threat: 'phishing' } },
    ]);
    expect(up.status).toBe(200);
    const res = await asUser(t, ti.admin)
      .post('/api/v1/api-clients')
      .send({ name: 'swagger-ui', role: 'Analyst' });
    expect(res.status).toBe(201);
    client = res.body;
    await t.app.listen(0, '127.0.0.1');
    base = `http://${HOST}:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    // A throwaway profile per launch; no network beyond the mapped loopback host.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
        `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('authorizes with client credentials and shows a detected verdict for GET /api/v1/search', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('console', (m: ConsoleMessage) => {
      // Plain HTTP on a non-loopback origin: Chromium says it ignores COOP there. Expected.
      if (/Cross-Origin-Opener-Policy header has been ignored/.test(m.text())) return;
      if (m.type() === 'error' || /Content[- ]Security[- ]Policy/i.test(m.text()))
        problems.push(`console ${m.type()}: ${m.text()}`);
    });

    try {
      await page.goto(`${base}/docs`);
      // The search operation, found by its path rather than a guessed operation id.
      const search = page.locator('.opblock.opblock-get', {
        has: page.locator('.opblock-summary-path[data-path="/api/v1/search"]'),
      });
      await search.waitFor();

      // Authorize: the OAuth2 client-credentials form of the dialog.
      await page.locator('.auth-wrapper button.authorize').click();
      // The OAuth2 part of the dialog (the HTTP Basic one comes first).
      const oauth = page
        .locator('.dialog-ux .auth-container')
        .filter({ hasText: 'OAuth2, clientCredentials' });
      await oauth.locator('#client_id_clientCredentials').fill(client.clientId);
      await oauth.locator('#client_secret_clientCredentials').fill(client.clientSecret);
      const tokenResponse = page.waitForResponse((r) => r.url().endsWith('/api/v1/oauth/token'));
      await oauth.locator('button.authorize').click();
      const token = await tokenResponse;
      expect(token.status()).toBe(200);
      expect(await token.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      await oauth.locator('button.authorize', { hasText: 'Logout' }).waitFor();
      await expect(oauth.locator('h6').innerText()).resolves.toBe('Authorized');
      await page.locator('.dialog-ux button.close-modal').click();
      await page.locator('.dialog-ux').waitFor({ state: 'detached' });

      // Try it out: GET /api/v1/search?value=… with the Bearer token Swagger UI obtained.
      await search.locator('.opblock-summary').click();
      await search.locator('button.try-out__btn').click();
      await search.locator('tr[data-param-name="value"] input').fill('phish-kit.example');
      const searchRequest = page.waitForRequest((r) => r.url().includes('/api/v1/search?'));
      await search.locator('button.execute').click();
      const sent = await searchRequest;
      expect(sent.headers()['authorization']).toMatch(/^Bearer indt_/);

      const body = search.locator(
        '.live-responses-table tr.response .response-col_description pre.microlight',
      );
      await body.first().waitFor();
      const shown = await body.first().innerText();
      expect(shown).toContain('"result": "detected"');
      const verdict = JSON.parse(shown);
      expect(verdict).toMatchObject({
        value: 'phish-kit.example',
        type: 'domain',
        result: 'detected',
        matches: [{ supplier: 'BrowserFeed', vendor: 'Acme', matchedBy: 'exact' }],
      });
      const status = search
        .locator('.live-responses-table tr.response .response-col_status')
        .first();
      expect((await status.innerText()).trim()).toBe('200');
      expect(problems).toEqual([]);
    } finally {
      // Also on failure: the page as it was is the best clue.
      mkdirSync(ARTIFACTS, { recursive: true });
      // The search operation with its live response; the whole page if it never appeared.
      const shot = page.locator('.opblock.opblock-get.is-open');
      if ((await shot.count()) === 1) await shot.screenshot({ path: SCREENSHOT });
      else await page.screenshot({ path: SCREENSHOT, fullPage: true });
      await context.close();
    }
  });
});
