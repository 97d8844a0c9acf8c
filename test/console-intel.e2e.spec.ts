import type { BrowserContext, Locator, Page } from 'playwright-core';
import { asBasic, asRoot } from './api/client';
import { CONSOLE_BUILD_TIMEOUT_MS } from './support/console-build';
import {
  checkScreen,
  confirm,
  consoleBrowserAvailable,
  eventually,
  fillSignIn,
  navigate,
  inConsole,
  signIn,
  type ConsoleRig,
  startConsoleRig,
} from './support/console-browser';
import { tenantWithAdmin } from './support/test-app';
import { threatIntel } from './support/threat-intel';

const run = consoleBrowserAvailable('the console browser tests');
const ACME_PASSWORD = 'acme-admin-password-1';

/** The table row that shows `text` (a value, a name). */
const row = (page: Page, text: string): Locator => page.getByRole('row').filter({ hasText: text });
/** A cell whose whole text is `text`. */
const cell = (scope: Locator | Page, text: string): Locator =>
  scope.getByRole('cell', { name: text, exact: true });
/** The part of a screen under its h2 `name` (a named region, or the heading's container). */
const section = (page: Page, name: string): Locator =>
  page
    .getByRole('region', { name, exact: true })
    .or(page.getByRole('heading', { level: 2, name, exact: true }).locator('xpath=..'))
    .first();

/** The session cookie of a browser context, as a Cookie header for the API. */
async function sessionCookie(context: BrowserContext): Promise<string> {
  const c = (await context.cookies()).find((k) => k.name === 'indicium_session');
  if (!c) throw new Error('no indicium_session cookie in the browser');
  return `indicium_session=${c.value}`;
}

/**
 * The console's intelligence screens in a real Chromium, as an analyst or feed owner uses
 * them: sign-in, Dashboard, Search, Suppliers and a supplier's page, Shared suppliers, Tags,
 * Detections. Each asserts its main flow on the page and in the API, then axe (WCAG 2.1 AA),
 * the 390×844 layout and screenshots (test-artifacts/console-*.png).
 */
(run ? describe : describe.skip)('Console: intelligence screens', () => {
  let rig: ConsoleRig;
  let admin: { username: string; password: string };

  beforeAll(async () => {
    rig = await startConsoleRig();
    const { t } = rig;
    admin = t.admin;
    const ti = threatIntel(t);
    await ti.createTag('PHISHING', { weight: 4 });
    await ti.createSupplier('ConsoleFeed', { vendor: 'Acme', confidence: 80 });
    const up = await ti.upload('ConsoleFeed', [
      { indicator: 'evil-console.example', context: { threat: 'phishing' }, tags: ['PHISHING'] },
      { indicator: 'det-console.example', context: { threat: 'c2-beacon' } },
      { indicator: 'dash-console.example', context: { threat: 'malware' } },
    ]);
    expect(up.status).toBe(200);
    // A detection for the Dashboard, made over the API.
    const hit = await asRoot(t).get('/api/v1/search?value=dash-console.example').expect(200);
    expect(hit.body.result).toBe('detected');
    // A supplier the root tenant shares with its descendants, and a customer tenant.
    await asRoot(t)
      .post('/api/v1/suppliers', { name: 'SharedFeed', vendor: 'Operator', sharing: 'descendants' })
      .expect(201);
    expect((await ti.upload('SharedFeed', [{ indicator: 'shared-bad.example' }])).status).toBe(200);
    await tenantWithAdmin(t, 'acme', ACME_PASSWORD);
  }, CONSOLE_BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await rig?.close();
  });

  it('sign-in: wrong password in words, the cookie, sign-out, and back to the screen after the session is lost', async () => {
    const { t, base } = rig;
    await inConsole(rig, 'sign-in', async (cp) => {
      const { page, context } = cp;
      await page.goto(`${base}/console/`);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      expect(await page.getByRole('navigation').count()).toBe(0);
      await checkScreen(cp, 'sign-in');

      await fillSignIn(page, admin.username, 'not-the-password-at-all');
      const alert = page.getByRole('alert');
      await alert.waitFor();
      const said = await alert.innerText();
      expect(said.trim()).not.toBe('');
      expect(said).not.toMatch(/[{}]|statusCode/); // words, not raw JSON

      await fillSignIn(page, admin.username, admin.password);
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      const cookie = (await context.cookies()).find((c) => c.name === 'indicium_session');
      expect(cookie).toMatchObject({
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure: false,
      });
      const state = await t
        .api()
        .get('/api/v1/session')
        .set('Cookie', await sessionCookie(context));
      expect(state.status).toBe(200);
      expect(state.body).toMatchObject({ csrfToken: expect.any(String), tenant: 'default' });
      const me = await t
        .api()
        .get('/api/v1/me')
        .set('Cookie', await sessionCookie(context));
      expect(me.body).toMatchObject({ type: 'user', name: 'admin' });

      // The session ends on the server (as an idle timeout would); the page does not know yet.
      await navigate(page, 'Search');
      expect(new URL(page.url()).pathname).toBe('/console/search');
      await t
        .api()
        .delete('/api/v1/session')
        .set('Cookie', await sessionCookie(context))
        .set('X-Indicium-CSRF', state.body.csrfToken)
        .expect(204);
      cp.allowFailedLoads(/\/api\/v1\//); // the request that finds the session gone: 401
      await page.getByLabel('Values').fill('evil-console.example');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await fillSignIn(page, admin.username, admin.password);
      await page.getByRole('heading', { level: 1, name: 'Search' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/console/search');

      // Sign out: back to the form, and the cookie no longer authenticates.
      const before = await sessionCookie(context);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await t.api().get('/api/v1/me').set('Cookie', before).expect(401);
    });
  });

  it('dashboard: the chart ranges and every section, with the API detection under Top suppliers', async () => {
    await inConsole(rig, 'dashboard', async (cp) => {
      const { page } = cp;
      await signIn(page, rig.base, admin.username, admin.password);
      for (const name of [
        'Detections over time',
        'Top suppliers',
        'Never hit',
        'Supplier overlap',
        'Feed health',
        'SIEM backlog',
      ]) {
        await page.getByRole('heading', { level: 2, name, exact: true }).waitFor();
      }
      for (const range of ['24 h', '7 d', '30 d']) {
        await page.getByRole('button', { name: range, exact: true }).waitFor();
      }
      await page.getByRole('button', { name: '7 d', exact: true }).click();
      // The search of beforeAll hit ConsoleFeed (counters flush every 200 ms here).
      await eventually(async () => {
        const text = await section(page, 'Top suppliers').innerText();
        if (text.includes('ConsoleFeed')) return true;
        await page.reload();
        await page.getByRole('heading', { level: 2, name: 'Top suppliers' }).waitFor();
        return false;
      });
      await checkScreen(cp, 'dashboard');
    });
  });

  it('search: pasted values get their verdicts, matches, context and tags; the query is in a link that loads directly', async () => {
    const { t, base } = rig;
    await inConsole(rig, 'search', async (cp) => {
      const { page } = cp;
      await signIn(page, base, admin.username, admin.password);
      await navigate(page, 'Search');
      await page.getByLabel('Values').fill('evil-console.example\nharmless-console.example');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const bad = row(page, 'evil-console.example');
      await cell(bad, 'detected').waitFor();
      const shown = await bad.innerText();
      expect(shown).toContain('ConsoleFeed');
      expect(shown).toContain('phishing');
      expect(shown).toContain('PHISHING');
      expect(shown).toContain('domain');
      await cell(row(page, 'harmless-console.example'), 'not_detected').waitFor();
      for (const header of ['Value', 'Verdict', 'Type', 'Suppliers', 'Context', 'Tags']) {
        await page.getByRole('columnheader', { name: header, exact: true }).waitFor();
      }
      expect(new URL(page.url()).searchParams.get('q')).toContain('evil-console.example');

      // What the API then holds: the console's search was the admin's, and it was detected.
      const events = await eventually(async () => {
        const res = await asRoot(t).get('/api/v1/detections?value=evil-console.example');
        return res.body.items?.length > 0 ? res.body.items : false;
      });
      expect(events[0]).toMatchObject({ principal: 'admin', supplier: 'ConsoleFeed' });

      // A link to a result: the server serves the console for the sub-path, the page searches.
      await page.goto(`${base}/console/search?q=${encodeURIComponent('evil-console.example')}`);
      await cell(row(page, 'evil-console.example'), 'detected').waitFor();
      expect(await page.getByLabel('Values').inputValue()).toContain('evil-console.example');
      await checkScreen(cp, 'search');
    });
  });

  it('suppliers: create (it is listed and in the API), disable, the supplier page (add, filter, delete, move to FalsePositive, exports), delete', async () => {
    const { t, base } = rig;
    const ti = threatIntel(t);
    await inConsole(rig, 'suppliers', async (cp) => {
      const { page } = cp;
      await signIn(page, base, admin.username, admin.password);
      await navigate(page, 'Suppliers');
      for (const header of ['Name', 'Status', 'Confidence', 'Retention', 'Indicators', 'Feed']) {
        await page.getByRole('columnheader', { name: header, exact: true }).waitFor();
      }
      await row(page, 'ConsoleFeed').waitFor();
      await page.getByRole('button', { name: 'New supplier' }).click();
      await page.getByLabel('Name', { exact: true }).fill('UiFeed');
      await page.getByLabel('Vendor', { exact: true }).fill('UiVendor');
      await page.getByLabel('Confidence', { exact: true }).fill('65');
      await page.getByLabel('Retention days', { exact: true }).fill('2');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const created = page
        .getByRole('row')
        .filter({ has: page.getByRole('link', { name: 'UiFeed', exact: true }) });
      await created.waitFor();
      const api = await asRoot(t).get('/api/v1/suppliers/UiFeed').expect(200);
      expect(api.body).toMatchObject({
        vendor: 'UiVendor',
        confidence: 65,
        retentionMinutes: 2 * 24 * 60,
        status: 'enabled',
      });

      await created.getByRole('button', { name: 'Disable', exact: true }).click();
      await created.getByRole('button', { name: 'Enable', exact: true }).waitFor();
      expect((await asRoot(t).get('/api/v1/suppliers/UiFeed')).body.status).toBe('disabled');
      await checkScreen(cp, 'suppliers');

      // The supplier's page.
      await created.getByRole('link', { name: 'UiFeed', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'UiFeed', exact: true }).waitFor();
      for (const name of ['Feed', 'Runs']) {
        await page.getByRole('heading', { level: 2, name, exact: true }).waitFor();
      }
      await page.getByLabel('Indicators', { exact: true }).fill('ui-bad.example\n198.51.100.23');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await row(page, 'ui-bad.example').waitFor();
      await row(page, '198.51.100.23').waitFor();
      expect((await ti.listAll('UiFeed')).map((i) => i.indicator).sort()).toEqual([
        '198.51.100.23',
        'ui-bad.example',
      ]);

      await page.getByLabel('Filter', { exact: true }).fill('198.51.100.23');
      await eventually(async () => (await row(page, 'ui-bad.example').count()) === 0);
      await row(page, '198.51.100.23').waitFor();
      await page.getByLabel('Filter', { exact: true }).fill('');
      await row(page, 'ui-bad.example').waitFor();

      // The export links work with the session (same origin, the browser's cookie).
      for (const [name, format] of [
        ['Export STIX', 'stix21'],
        ['Export CSV', 'csv'],
        ['Export text', ''],
      ]) {
        const href = await page.getByRole('link', { name, exact: true }).getAttribute('href');
        expect(href).toBeTruthy();
        if (format) expect(href).toContain(format);
        const res = await t
          .api()
          .get(new URL(href!, page.url()).pathname + new URL(href!, page.url()).search)
          .set('Cookie', await sessionCookie(cp.context))
          .buffer(true)
          .parse((r, done) => {
            let text = '';
            r.on('data', (c: Buffer) => (text += c.toString('utf8')));
            r.on('end', () => done(null, text));
          });
        expect({ name, status: res.status }).toEqual({ name, status: 200 });
        expect(res.body).toContain('ui-bad.example');
      }
      await checkScreen(cp, 'supplier');

      await row(page, '198.51.100.23').getByRole('button', { name: 'Delete', exact: true }).click();
      await confirm(page);
      await eventually(async () => (await row(page, '198.51.100.23').count()) === 0);
      expect((await ti.listAll('UiFeed')).map((i) => i.indicator)).toEqual(['ui-bad.example']);

      await row(page, 'ui-bad.example')
        .getByRole('button', { name: 'Move to FalsePositive', exact: true })
        .click();
      await eventually(async () => {
        if (await page.getByRole('dialog').isVisible()) await confirm(page);
        return (await ti.listAll('FalsePositive')).some((i) => i.indicator === 'ui-bad.example');
      });

      // Back to the list: delete it, after confirming.
      await navigate(page, 'Suppliers');
      await created.getByRole('button', { name: 'Delete', exact: true }).click();
      await confirm(page);
      await eventually(async () => (await created.count()) === 0);
      await asRoot(t).get('/api/v1/suppliers/UiFeed').expect(404);
    });
  });

  it('shared suppliers: a customer tenant subscribes to the operator’s shared supplier and its searches then match', async () => {
    const { t, base } = rig;
    const acme = asBasic(t, 'acme-admin', ACME_PASSWORD);
    expect(
      (await acme.get('/api/v1/search?value=shared-bad.example').expect(200)).body.result,
    ).toBe('not_detected');
    await inConsole(rig, 'shared-suppliers', async (cp) => {
      const { page } = cp;
      await signIn(page, base, 'acme-admin', ACME_PASSWORD);
      await navigate(page, 'Shared suppliers');
      const shared = row(page, 'SharedFeed');
      await shared.getByRole('button', { name: 'Subscribe', exact: true }).click();
      await shared.getByRole('button', { name: 'Unsubscribe', exact: true }).waitFor();
      const list = await acme.get('/api/v1/shared-suppliers').expect(200);
      const items = Array.isArray(list.body) ? list.body : list.body.items;
      expect(items.find((s: { name: string }) => s.name === 'SharedFeed')).toMatchObject({
        subscribed: true,
        owner: 'default',
      });
      const res = await acme.get('/api/v1/search?value=shared-bad.example').expect(200);
      expect(res.body).toMatchObject({ result: 'detected', matches: [{ supplier: 'SharedFeed' }] });
      await checkScreen(cp, 'shared-suppliers');
    });
  });

  it('tags: create one (stored uppercase, in the API), delete it after confirming', async () => {
    const { t, base } = rig;
    await inConsole(rig, 'tags', async (cp) => {
      const { page } = cp;
      await signIn(page, base, admin.username, admin.password);
      await navigate(page, 'Tags');
      await row(page, 'PHISHING').waitFor();
      await page.getByRole('button', { name: 'New tag' }).click();
      await page.getByLabel('Name', { exact: true }).fill('ui-tag');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const tag = page.getByRole('row').filter({ has: cell(page, 'UI-TAG') });
      await tag.waitFor();
      await asRoot(t).get('/api/v1/tags/UI-TAG').expect(200);
      await checkScreen(cp, 'tags');
      await tag.getByRole('button', { name: 'Delete', exact: true }).click();
      await confirm(page);
      await eventually(async () => (await tag.count()) === 0);
      await asRoot(t).get('/api/v1/tags/UI-TAG').expect(404);
    });
  });

  it('detections: the console’s own search is listed, and its row opens the detail with the indicator’s context', async () => {
    const { t, base } = rig;
    await inConsole(rig, 'detections', async (cp) => {
      const { page } = cp;
      await signIn(page, base, admin.username, admin.password);
      await navigate(page, 'Search');
      await page.getByLabel('Values').fill('det-console.example');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await cell(row(page, 'det-console.example'), 'detected').waitFor();
      await eventually(async () => {
        const res = await asRoot(t).get('/api/v1/detections?value=det-console.example');
        return res.body.items?.length === 1;
      });

      await navigate(page, 'Detections');
      await page.getByRole('button', { name: 'Apply', exact: true }).click();
      const detection = row(page, 'det-console.example');
      await detection.waitFor();
      expect(await detection.innerText()).toContain('ConsoleFeed');
      await detection.getByRole('cell').first().click();
      const detail = section(page, 'Detection');
      await page.getByRole('heading', { level: 2, name: 'Detection', exact: true }).waitFor();
      const text = await detail.innerText();
      expect(text).toContain('det-console.example');
      expect(text).toContain('c2-beacon');
      await checkScreen(cp, 'detections');
    });
  });
});
