import { AxeBuilder } from '@axe-core/playwright';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import { buildConsole } from './console-build';
import { createTestApp, type TestApp } from './test-app';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
/** A name that is not loopback to the browser (see swagger-ui.e2e.spec.ts). */
const HOST = 'indicium.test';
export const DESKTOP = { width: 1280, height: 800 };
const MOBILE = { width: 390, height: 844 };

/**
 * Whether the console's browser tests run: under CI a missing Chromium is an error (thrown
 * at load, failing the file), locally the tests are skipped with a warning.
 */
export function consoleBrowserAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) {
    throw new Error(
      `${CHROMIUM} is missing; ${what} needs Debian's chromium package ` +
        '(.ci/run installs it: apt-get install chromium)',
    );
  }
  console.warn(`Skipping ${what}: ${CHROMIUM} is missing (sudo apt-get install chromium)`);
  return false;
}

/** One app serving a freshly built console, and one browser, for a spec file. */
export interface ConsoleRig {
  t: TestApp;
  browser: Browser;
  /** `http://indicium.test:<port>`: the console's origin. */
  base: string;
  close: () => Promise<void>;
}

export async function startConsoleRig(env: Record<string, string> = {}): Promise<ConsoleRig> {
  const dir = await buildConsole();
  // Hit counters and detection events reach the database (and the screens) quickly.
  const t = await createTestApp({ CONSOLE_DIR: dir, DETECTION_FLUSH_MS: '200', ...env });
  let browser: Browser | undefined;
  try {
    await t.app.listen(0, '127.0.0.1');
    const base = `http://${HOST}:${(t.app.getHttpServer().address() as AddressInfo).port}`;
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
    const b = browser;
    return {
      t,
      browser: b,
      base,
      close: async () => {
        await b.close();
        await t.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await t.close();
    throw e;
  }
}

/** A page in its own browser context, and what went wrong in it. */
export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Page errors, console errors, CSP reports, failed or foreign requests, server errors. */
  problems: string[];
  /** Tolerate console messages "Failed to load resource …" for URLs matching `url`. */
  allowFailedLoads: (url: RegExp) => void;
  /** Asserts no problem, screenshots the page (also on failure) and closes the context. */
  close: (name?: string) => Promise<void>;
}

async function openConsole(rig: ConsoleRig): Promise<ConsolePage> {
  const context = await rig.browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const origin = new URL(rig.base).origin;
  const problems: string[] = [];
  // Not signed in yet (or any more), the console learns so from GET /api/v1/session → 401,
  // which Chromium reports as a failed load: expected, the UI's own answer is asserted.
  const allowed: RegExp[] = [/\/api\/v1\/session$/];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const url = r.url();
    if (/^(data|blob):/.test(url)) return;
    if (new URL(url).origin !== origin) problems.push(`request to another origin: ${url}`);
  });
  page.on('requestfailed', (r) => {
    // Navigating away cancels what the previous screen still had in flight.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500)
      problems.push(`server error: ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('console', (m) => {
    const text = m.text();
    // Plain HTTP on a non-loopback origin: Chromium says it ignores COOP there. Expected.
    if (/Cross-Origin-Opener-Policy header has been ignored/.test(text)) return;
    if (/Content[- ]Security[- ]Policy/i.test(text)) {
      problems.push(`CSP: ${text}`);
      return;
    }
    if (m.type() !== 'error') return;
    const url = m.location().url;
    if (/^Failed to load resource/.test(text) && allowed.some((a) => a.test(url))) return;
    problems.push(`console error: ${text}${url ? ` (${url})` : ''}`);
  });
  return {
    page,
    context,
    problems,
    allowFailedLoads: (url) => allowed.push(url),
    close: async (name) => {
      try {
        if (name) await screenshot(page, `${name}-final`).catch(() => undefined);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    },
  };
}

/**
 * Runs a test's browser part in a fresh page: on failure the error also names what the page
 * reported, and test-artifacts/console-<name>-final.png shows the page as it was; on success
 * the page must have reported no problem.
 */
export async function inConsole(
  rig: ConsoleRig,
  name: string,
  body: (cp: ConsolePage) => Promise<void>,
): Promise<void> {
  const cp = await openConsole(rig);
  try {
    await body(cp);
  } catch (e) {
    await screenshot(cp.page, `${name}-final`).catch(() => undefined);
    await cp.context.close();
    // (Playwright's errors come from another realm than the test's: no instanceof Error.)
    const err = e as { message?: unknown; stack?: unknown };
    if (cp.problems.length > 0 && typeof err?.message === 'string') {
      const also = `\n\nThe page also reported:\n${cp.problems.join('\n')}`;
      err.message += also;
      // Jest prints the stack, which holds the message as it was when thrown.
      if (typeof err.stack === 'string') err.stack = err.stack.replace(/\n/, `${also}\n`);
    }
    throw e;
  }
  await cp.close(name);
}

/** Signs in at /console/ (or at `path` under it) and waits for the screen. */
export async function signIn(
  page: Page,
  base: string,
  username: string,
  password: string,
  path = '',
): Promise<void> {
  await page.goto(`${base}/console/${path}`);
  await fillSignIn(page, username, password);
  if (!path) await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
}

/** The sign-in form, filled and submitted. */
export async function fillSignIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Clicks Confirm in the confirmation dialog the last action opened (destructive ones do). */
export async function confirm(page: Page): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** After an action that may ask first: Confirm if a dialog comes, then wait for `done`. */
export async function confirmIfAsked(page: Page, done: Locator): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.or(done).first().waitFor();
  if (await dialog.isVisible()) await confirm(page);
  await done.waitFor();
}

/** Goes to a screen by its navigation link and waits for its h1. */
export async function navigate(page: Page, link: string, h1 = link): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: h1, exact: true }).waitFor();
}

/** No serious or critical WCAG 2.1 A/AA violation on the page as it is. */
export async function checkA11y(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map(
    (v) =>
      `${name}: ${v.id} (${v.impact}) ${v.help} — ${v.helpUrl}\n` +
      v.nodes.map((n) => `    ${n.target.join(' ')}`).join('\n'),
  );
  if (report.length > 0)
    throw new Error(`axe: serious or critical violations\n${report.join('\n')}`);
}

/** At 390×844 the page needs no horizontal scrolling (the failure names what sticks out). */
export async function checkNoHorizontalOverflow(page: Page): Promise<void> {
  await page.setViewportSize(MOBILE);
  const { scrollWidth, clientWidth, wide } = await page.evaluate<{
    scrollWidth: number;
    clientWidth: number;
    wide: string[];
  }>(
    `(() => {
      const root = document.documentElement;
      const wide = [];
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > root.clientWidth + 1 && wide.length < 5)
          wide.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '') + ' right=' + Math.round(r.right));
      }
      return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide };
    })()`,
  );
  if (scrollWidth > clientWidth)
    throw new Error(
      `horizontal overflow at 390×844: scrollWidth ${scrollWidth} > clientWidth ${clientWidth}; ` +
        `sticking out: ${wide.join(', ')}`,
    );
}

/** test-artifacts/console-<name>.png at the current viewport. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
}

/**
 * What every screen must pass once its main flow is done: axe at 1280×800, a screenshot, then
 * at 390×844 no horizontal overflow, axe again and a `-mobile` screenshot; back to 1280×800.
 * A failure is added to the page's problems (the test fails at its end, with every screen's
 * findings, rather than stopping the flow at the first).
 */
export async function checkScreen(cp: ConsolePage, name: string): Promise<void> {
  const { page } = cp;
  const soft = async (what: string, check: () => Promise<void>) => {
    try {
      await check();
    } catch (e) {
      const message = (e as { message?: unknown })?.message;
      cp.problems.push(`${name} (${what}): ${typeof message === 'string' ? message : String(e)}`);
    }
  };
  await page.setViewportSize(DESKTOP);
  await soft('axe at 1280×800', () => checkA11y(page, name));
  await screenshot(page, name);
  await page.setViewportSize(MOBILE);
  await soft('horizontal overflow at 390×844', () => checkNoHorizontalOverflow(page));
  await soft('axe at 390×844', () => checkA11y(page, `${name} at 390×844`));
  await screenshot(page, `${name}-mobile`);
  await page.setViewportSize(DESKTOP);
}

/** Polls `fn` until it returns something truthy (or throws its last error at the deadline). */
export async function eventually<T>(
  fn: () => Promise<T | false | undefined> | T | false | undefined,
  ms = 8_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error('condition not met in time');
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
