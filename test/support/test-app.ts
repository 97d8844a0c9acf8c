import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
import type { DestinationStream } from 'pino';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createApp, CreateAppOptions } from '../../src/app.factory';
import { AppConfig } from '../../src/config/app-config';
import { PglitePool } from '../../src/database/pglite-pool';
import { asSchemaOwner, DEFAULT_TENANT_ID, inTenant } from '../../src/database/tenant-context';
import { DataSource } from 'typeorm';
import { Readiness } from '../../src/health/readiness';

export const ADMIN_PASSWORD = 'admin-password-for-tests';
/** How long close() lets open requests finish before it cuts their connections. */
const CLOSE_GRACE_MS = 10_000;

export interface TestApp {
  app: NestExpressApplication;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  config: AppConfig;
  /** A supertest agent bound to the in-process server. */
  api: () => ReturnType<typeof request>;
  admin: { username: string; password: string };
  close: () => Promise<void>;
}

/**
 * Boots the real AppModule over a fresh database cloned from the migrated template on the
 * run's Postgres server (DATABASE_URL, which global-setup.ts provides). A spec of the
 * `npm start` default unsets DATABASE_URL around this call: the app then gets an embedded
 * PGlite database in a temporary directory.
 */
export async function createTestApp(
  env: Record<string, string> = {},
  options: CreateAppOptions = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'indicium-test-'));
  const baseUrl = process.env.DATABASE_URL;
  let dbName: string | undefined;
  let databaseUrl: string | undefined;
  if (baseUrl) {
    const template = process.env.INDICIUM_TEST_TEMPLATE;
    if (!template)
      throw new Error('INDICIUM_TEST_TEMPLATE missing: run through jest (globalSetup)');
    dbName = `indicium_t_${process.pid}_${randomBytes(4).toString('hex')}`;
    await withDatabase(baseUrl, (c) =>
      c.query(`CREATE DATABASE "${dbName}" TEMPLATE "${template}"`),
    );
    const u = new URL(baseUrl);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const config = AppConfig.load({
    DATA_DIR: dataDir,
    ADMIN_PASSWORD,
    LOG_LEVEL: 'error',
    TLS: 'off',
    DATABASE_POOL_SIZE: '5',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...env,
  });
  const app = await createApp(config, { logDestination: testLogDestination(), ...options });
  await app.init();
  try {
    await whenReady(app.get(Readiness));
  } catch (e) {
    await app.close(); // its timers and connections must not outlive the test file
    throw e;
  }
  const http = app.getHttpServer();
  return {
    app,
    http,
    config,
    api: () => request(http),
    admin: { username: 'admin', password: ADMIN_PASSWORD },
    close: async () => {
      // Bounded as main.ts bounds a shutdown: a response a failed test left unread would hold
      // app.close() (the HTTP server waits for it), and with it the shutdown hooks, forever.
      const force = setTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
      if (!baseUrl) await PglitePool.close();
      if (dbName && baseUrl) {
        await withDatabase(baseUrl, (c) =>
          c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`),
        );
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A PGlite database's first start runs initdb in WebAssembly: ~25 s on a busy 2-core machine,
 * over a minute on a very busy one. Hooks that boot one get this much.
 */
export const EMBEDDED_BOOT_TIMEOUT_MS = 300_000;

/** createTestApp on the `npm start` default, an embedded PGlite database (DATABASE_URL unset). */
export async function createEmbeddedTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const url = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  try {
    return await createTestApp(env);
  } finally {
    if (url !== undefined) process.env.DATABASE_URL = url;
  }
}

/**
 * Serve only once ready, as a load balancer would: the search key index loaded, so tests
 * exercise the default search path, not the database fallback used while it loads.
 */
async function whenReady(readiness: Readiness): Promise<void> {
  for (const deadline = Date.now() + 30_000; readiness.pending().length > 0;) {
    if (Date.now() > deadline)
      throw new Error(`app not ready in 30 s: ${readiness.pending().join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The per-test log buffer of test/support/quiet-environment.js (printed only when a test
 * fails), or undefined outside it.
 */
export function testLog(): ((text: string) => void) | undefined {
  return (globalThis as { __indiciumTestLog?: (text: string) => void }).__indiciumTestLog;
}

/** The app's JSON log lines into the test log buffer instead of stdout. */
function testLogDestination(): DestinationStream | undefined {
  const sink = testLog();
  return sink ? { write: (line: string) => sink(line) } : undefined;
}

/** Runs `fn` with a client connected to `url`. */
export async function withDatabase<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** `Authorization: Basic …` for a name and secret. */
export function basic(name: string, secret: string): string {
  return `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
}

/** What specs need of the app's own connection pool: statements, in one scope. */
export interface ScopedDb {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
}

/** The app's pool as the application uses it: in the default tenant, under RLS. */
export function appDb(t: TestApp): ScopedDb {
  const ds = t.app.get(DataSource);
  return { query: (sql, params) => inTenant(DEFAULT_TENANT_ID, () => ds.query(sql, params)) };
}

/** The app's pool as the schema's owner (the login role): what a DBA at a psql prompt sees. */
export function ownerDb(t: TestApp): ScopedDb {
  const ds = t.app.get(DataSource);
  return { query: (sql, params) => asSchemaOwner(() => ds.query(sql, params)) };
}

/**
 * A child tenant of `default`, made by the initial admin, with an Administrator of its own
 * (`<name>-admin`); resolves to that administrator's Basic credentials.
 */
export async function tenantWithAdmin(t: TestApp, name: string, password: string): Promise<string> {
  const root = basic(t.admin.username, t.admin.password);
  await t.api().post('/api/v1/tenants').set('Authorization', root).send({ name }).expect(201);
  await t
    .api()
    .post('/api/v1/users')
    .set('Authorization', root)
    .set('X-Indicium-Tenant', name)
    .send({ username: `${name}-admin`, password, role: 'Administrator' })
    .expect(201);
  return basic(`${name}-admin`, password);
}
