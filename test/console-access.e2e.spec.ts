import type { Locator, Page } from 'playwright-core';
import { asBasic, asRoot, TENANT_HEADER } from './api/client';
import { CONSOLE_BUILD_TIMEOUT_MS } from './support/console-build';
import {
  checkScreen,
  confirm,
  confirmIfAsked,
  consoleBrowserAvailable,
  eventually,
  navigate,
  inConsole,
  signIn,
  type ConsoleRig,
  startConsoleRig,
} from './support/console-browser';
import { basic } from './support/test-app';
import { threatIntel } from './support/threat-intel';

const run = consoleBrowserAvailable('the console browser tests');
const READER_PASSWORD = 'feed-reader-password-1';
const ANALYST_PASSWORD = 'correct horse battery'; // threatIntel().createAnalyst's

const row = (page: Page, text: string): Locator => page.getByRole('row').filter({ hasText: text });

/** The text an element shows: a form control's value, else its text. */
const shownText = (l: Locator): Promise<string> =>
  l.evaluate((e) => {
    const el = e as unknown as { tagName: string; value?: string; textContent: string | null };
    return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA'
      ? (el.value ?? '')
      : (el.textContent ?? '');
  });

/**
 * A `Role` field: a select, or a text box (with suggestions); it may turn from one into the
 * other once the roles have loaded, so the choice is made until it holds.
 */
async function chooseRole(field: Locator, role: string): Promise<void> {
  await eventually(async () => {
    const tag = await field.evaluate((e) => (e as unknown as { tagName: string }).tagName);
    if (tag === 'SELECT') await field.selectOption(role, { timeout: 2_000 });
    else await field.fill(role, { timeout: 2_000 });
    return (await field.inputValue()) === role;
  });
}

const ADMIN_ONLY_LINKS = [
  'Suppliers',
  'Shared suppliers',
  'Tags',
  'Detections',
  'API clients',
  'Users',
  'Roles',
  'SIEM integrations',
  'Audit log',
  'Tenants',
];

/**
 * The console's access screens in a real Chromium: API clients (the one-time secret), Users,
 * Roles, Tenants with the tenant switcher, and what a principal without a privilege does not
 * see. Each asserts its flow on the page and in the API, then axe, 390×844 and screenshots.
 */
(run ? describe : describe.skip)('Console: access screens', () => {
  let rig: ConsoleRig;
  let admin: { username: string; password: string };

  beforeAll(async () => {
    rig = await startConsoleRig();
    const { t } = rig;
    admin = t.admin;
    const ti = threatIntel(t);
    await ti.createSupplier('RootOnlyFeed', { vendor: 'Operator' });
    await ti.createAnalyst('ui-analyst');
    await asRoot(t)
      .post('/api/v1/roles', {
        name: 'FeedReader',
        privileges: ['search', 'suppliers.read', 'indicators.read'],
      })
      .expect(201);
    await asRoot(t)
      .post('/api/v1/users', {
        username: 'feed-reader',
        password: READER_PASSWORD,
        role: 'FeedReader',
      })
      .expect(201);
  }, CONSOLE_BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await rig?.close();
  });

  it('API clients: New API client shows the secret once (copyable, with the warning); it authenticates over Basic; gone after reload', async () => {
    const { t, base } = rig;
    await inConsole(rig, 'api-clients', async (cp) => {
      const { page } = cp;
      await signIn(page, base, admin.username, admin.password);
      await navigate(page, 'API clients');
      for (const h of [
        'Name',
        'Client ID',
        'Role',
        'IP restriction',
        'Status',
        'Created',
        'Last used',
      ]) {
        await page.getByRole('columnheader', { name: h, exact: true }).waitFor();
      }
      await page.getByRole('button', { name: 'New API client' }).click();
      await page.getByLabel('Name', { exact: true }).fill('ui-siem-connector');
      await chooseRole(page.getByLabel('Role', { exact: true }), 'Analyst');
      await page.getByLabel('IP restriction', { exact: true }).waitFor();
      await page.getByLabel('Allowed IPs', { exact: true }).waitFor({ state: 'attached' });
      await page.getByRole('button', { name: 'Create', exact: true }).click();

      const secretEl = page.getByLabel('Client secret', { exact: true });
      await secretEl.waitFor();
      const secret = (await shownText(secretEl)).trim();
      expect(secret.length).toBeGreaterThanOrEqual(32);
      // Copy answers in words, whether the browser grants the clipboard or not (this origin is
      // plain HTTP, not a secure context: navigator.clipboard does not exist here).
      // (A miss is recorded, failing the test at its end, and the flow goes on.)
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /cop(y|ied)/i })
        .waitFor({ timeout: 3_000 })
        .catch(() => cp.problems.push('Copy: no status in words after pressing it'));
      await page.getByText(/not be shown again/i).waitFor();
      await checkScreen(cp, 'api-client-secret');

      // The API holds the client; the shown secret authenticates it (Basic over plain HTTP).
      const list = await asRoot(t).get('/api/v1/api-clients').expect(200);
      const client = list.body.items.find((c: { name: string }) => c.name === 'ui-siem-connector');
      expect(client).toMatchObject({ role: 'Analyst', status: 'active' });
      expect(client.clientSecret).toBeUndefined();
      const me = await t
        .api()
        .get('/api/v1/me')
        .set('Authorization', basic(client.clientId, secret))
        .expect(200);
      expect(me.body).toMatchObject({ type: 'client', id: client.id, role: 'Analyst' });

      // Listed with its client id; after a reload the secret is nowhere on the page.
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'API clients' }).waitFor();
      const listed = row(page, 'ui-siem-connector');
      await listed.waitFor();
      expect(await listed.innerText()).toContain(client.clientId);
      expect(await page.getByLabel('Client secret', { exact: true }).count()).toBe(0);
      expect(await page.content()).not.toContain(secret);

      await listed.getByRole('button', { name: 'Deactivate', exact: true }).click();
      await confirmIfAsked(page, listed.getByRole('button', { name: 'Activate', exact: true }));
      const after = await asRoot(t).get(`/api/v1/api-clients/${client.id}`).expect(200);
      expect(after.body.status).toBe('inactive');
      await checkScreen(cp, 'api-clients');
    });
  });

  it('users: create a person (who can then sign in), deactivate, delete after confirming', async () => {
    const { t, base } = rig;
    await inConsole(rig, 'users', async (cp) => {
      const { page } = cp;
      await signIn(page, base, admin.username, admin.password);
      await navigate(page, 'Users');
      await page.getByRole('button', { name: 'New user' }).click();
      await page.getByLabel('Username', { exact: true }).fill('ui-person');
      await page.getByLabel('Password', { exact: true }).fill('ui-person-password-1');
      await chooseRole(page.getByLabel('Role', { exact: true }), 'Analyst');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const person = row(page, 'ui-person');
      await person.waitFor();
      const me = await asBasic(t, 'ui-person', 'ui-person-password-1')
        .get('/api/v1/me')
        .expect(200);
      expect(me.body).toMatchObject({ type: 'user', role: 'Analyst' });
      await checkScreen(cp, 'users');

      await person.getByRole('button', { name: 'Deactivate', exact: true }).click();
      await confirmIfAsked(page, person.getByRole('button', { name: 'Activate', exact: true }));
      const user = await asRoot(t).get(`/api/v1/users/${me.body.id}`).expect(200);
      expect(user.body.status).toBe('inactive');

      await person.getByRole('button', { name: 'Delete', exact: true }).click();
      await confirm(page);
      await eventually(async () => (await person.count()) === 0);
      await asRoot(t).get(`/api/v1/users/${me.body.id}`).expect(404);
    });
  });

  it('roles: a custom role from privilege checkboxes (exactly those in the API), then deleted', async () => {
    const { t, base } = rig;
    await inConsole(rig, 'roles', async (cp) => {
      const { page } = cp;
      await signIn(page, base, admin.username, admin.password);
      await navigate(page, 'Roles');
      await row(page, 'Administrator').waitFor();
      await page.getByRole('button', { name: 'New role' }).click();
      await page.getByLabel('Name', { exact: true }).fill('UiAuditor');
      await page.getByRole('checkbox', { name: 'audit.read', exact: true }).check();
      await page.getByRole('checkbox', { name: 'search', exact: true }).check();
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const role = row(page, 'UiAuditor');
      await role.waitFor();
      const roles = await asRoot(t).get('/api/v1/roles').expect(200);
      const items = Array.isArray(roles.body) ? roles.body : roles.body.items;
      const made = items.find((r: { name: string }) => r.name === 'UiAuditor');
      expect([...made.privileges].sort()).toEqual(['audit.read', 'search']);
      // Built-in roles cannot be deleted: no Delete on their rows.
      expect(await row(page, 'Administrator').getByRole('button', { name: 'Delete' }).count()).toBe(
        0,
      );
      await checkScreen(cp, 'roles');

      await role.getByRole('button', { name: 'Delete', exact: true }).click();
      await confirm(page);
      await eventually(async () => (await role.count()) === 0);
      const left = await asRoot(t).get('/api/v1/roles').expect(200);
      const names = (Array.isArray(left.body) ? left.body : left.body.items).map(
        (r: { name: string }) => r.name,
      );
      expect(names).not.toContain('UiAuditor');
    });
  });

  it('tenants: create one, switch to it (the console acts there), suspend it', async () => {
    const { t, base } = rig;
    await inConsole(rig, 'tenants', async (cp) => {
      const { page } = cp;
      await signIn(page, base, admin.username, admin.password);
      await navigate(page, 'Tenants');
      await page.getByRole('button', { name: 'New tenant' }).click();
      await page.getByLabel('Name', { exact: true }).fill('ui-tenant');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const tenant = row(page, 'ui-tenant');
      await tenant.waitFor();
      const made = await asRoot(t).get('/api/v1/tenants/ui-tenant').expect(200);
      expect(made.body).toMatchObject({ status: 'active', parent: 'default' });
      await checkScreen(cp, 'tenants');

      // The switcher: the console's requests then name the tenant; its suppliers are its own.
      // (The switcher lists the tenants it found when the page loaded.)
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Tenants' }).waitFor();
      const switcher = page.getByLabel('Tenant', { exact: true });
      await eventually(async () =>
        (await switcher.locator('option').allInnerTexts()).some((o) => o.includes('ui-tenant')),
      );
      await switcher.selectOption('ui-tenant');
      const sent = page.waitForRequest((r) => r.url().includes('/api/v1/suppliers'));
      await navigate(page, 'Suppliers');
      expect((await sent).headers()[TENANT_HEADER.toLowerCase()]).toBe('ui-tenant');
      await row(page, 'InternalTI').waitFor();
      expect(await row(page, 'RootOnlyFeed').count()).toBe(0);
      await page.getByRole('button', { name: 'New supplier' }).click();
      await page.getByLabel('Name', { exact: true }).fill('TenantFeed');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await row(page, 'TenantFeed').waitFor();
      await asRoot(t, 'ui-tenant').get('/api/v1/suppliers/TenantFeed').expect(200);
      await asRoot(t).get('/api/v1/suppliers/TenantFeed').expect(404);

      // Back home, suspend it.
      const home = (await switcher.locator('option').allInnerTexts()).find((o) =>
        /default|home/i.test(o),
      );
      expect(home).toBeDefined();
      await switcher.selectOption({ label: home! });
      await navigate(page, 'Tenants');
      await tenant.getByRole('button', { name: 'Suspend', exact: true }).click();
      await confirmIfAsked(page, tenant.getByRole('button', { name: 'Resume', exact: true }));
      const suspended = await asRoot(t).get('/api/v1/tenants/ui-tenant').expect(200);
      expect(suspended.body.status).toBe('suspended');
    });
  });

  it('privileges: an Analyst sees only what it may use, a read-only feed role no write controls, and neither gets a refused call', async () => {
    const { base } = rig;
    await inConsole(rig, 'privileges-analyst', async (analyst) => {
      const { page } = analyst;
      await signIn(page, base, 'ui-analyst', ANALYST_PASSWORD);
      const nav = page.getByRole('navigation');
      await nav.getByRole('link', { name: 'Search', exact: true }).waitFor();
      for (const name of ADMIN_ONLY_LINKS) {
        expect({ name, count: await nav.getByRole('link', { name, exact: true }).count() }).toEqual(
          {
            name,
            count: 0,
          },
        );
      }
      expect(await page.getByLabel('Tenant', { exact: true }).count()).toBe(0);
      await navigate(page, 'Search');
      await page.getByLabel('Values').fill('nothing-here.example');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await row(page, 'nothing-here.example')
        .getByRole('cell', { name: 'not_detected', exact: true })
        .waitFor();
      // A screen it may not use, by its address: not drawn (no list, no write controls).
      await page.goto(`${base}/console/api-clients`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      expect(await page.getByRole('button', { name: 'New API client' }).count()).toBe(0);
    });

    await inConsole(rig, 'privileges-reader', async (reader) => {
      const { page } = reader;
      await signIn(page, base, 'feed-reader', READER_PASSWORD);
      const nav = page.getByRole('navigation');
      for (const name of ['API clients', 'Users', 'Roles', 'Tenants', 'Audit log']) {
        expect({ name, count: await nav.getByRole('link', { name, exact: true }).count() }).toEqual(
          {
            name,
            count: 0,
          },
        );
      }
      await navigate(page, 'Suppliers');
      const feed = row(page, 'RootOnlyFeed');
      await feed.waitFor();
      expect(await page.getByRole('button', { name: 'New supplier' }).count()).toBe(0);
      for (const name of ['Enable', 'Disable', 'Delete']) {
        expect({ name, count: await feed.getByRole('button', { name }).count() }).toEqual({
          name,
          count: 0,
        });
      }
      await feed.getByRole('link', { name: 'RootOnlyFeed', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'RootOnlyFeed' }).waitFor();
      await page.getByRole('link', { name: 'Export CSV', exact: true }).waitFor();
      expect(await page.getByRole('button', { name: 'Add', exact: true }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Save', exact: true }).count()).toBe(0);
      expect(await page.getByLabel('Indicators', { exact: true }).count()).toBe(0);
    });
  });
});
