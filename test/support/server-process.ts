import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { freePort } from './free-port';
import { ADMIN_PASSWORD, basic, testLog, withDatabase } from './test-app';

export { freePort, withDatabase };

/**
 * The real server as production runs it (`node main.js`: config from the environment,
 * migrations at start), as a child process over loopback, for tests that kill or duplicate
 * it. Runs over the run's Postgres server (DATABASE_URL, which global-setup.ts provides):
 * processes cannot share an embedded PGlite database.
 */

const ROOT = resolve(__dirname, '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const OUTPUT_LIMIT = 256 * 1024;

/** Where this jest run keeps its compiled server (one per run; see global-teardown.ts). */
export function serverBuildDir(template: string): string {
  return join(tmpdir(), `indicium-server-build-${template}`);
}

/**
 * Compiles src/ once per jest run with scripts/build.js, as `npm run build` does, into
 * `<dir>/dist` (dist/ is not the tests' to touch; type errors are left to tsc and lint),
 * shared by every spec that starts servers; returns main.js.
 * A lock directory makes parallel workers wait for the one that builds.
 */
export async function buildServer(): Promise<string> {
  const template = process.env.INDICIUM_TEST_TEMPLATE;
  if (!template) throw new Error('INDICIUM_TEST_TEMPLATE missing: run through jest (globalSetup)');
  const dir = serverBuildDir(template);
  const main = join(dir, 'dist', 'main.js');
  const lock = `${dir}.lock`;
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  while (!existsSync(main)) {
    let mine = false;
    try {
      mkdirSync(lock);
      mine = true;
    } catch {
      // another worker is building
    }
    if (mine) {
      try {
        if (!existsSync(main)) await compileInto(dir);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    } else {
      if (Date.now() > deadline) throw new Error(`no server build appeared in ${dir}`);
      await sleep(200);
    }
  }
  return main;
}

async function compileInto(dir: string): Promise<void> {
  const staging = mkdtempSync(`${dir}.staging-`);
  try {
    await new Promise<void>((done, fail) => {
      execFile(
        process.execPath,
        [
          join(ROOT, 'scripts', 'build.js'),
          '--out-dir',
          join(staging, 'dist'),
          '--no-type-check',
          '--no-console',
        ],
        { cwd: ROOT, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) =>
          err ? fail(new Error(`server build failed: ${err.message}\n${stdout}${stderr}`)) : done(),
      );
    });
    // Laid out like the project (dist/ beside package.json and node_modules), which the
    // compiled code relies on to find its packages and its package.json.
    symlinkSync(join(ROOT, 'node_modules'), join(staging, 'node_modules'), 'dir');
    symlinkSync(join(ROOT, 'package.json'), join(staging, 'package.json'), 'file');
    renameSync(staging, dir);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

/** A fresh database on the Postgres server of DATABASE_URL, dropped (WITH FORCE) by drop(). */
export interface TestDatabase {
  name: string;
  url: string;
  drop: () => Promise<void>;
}

/**
 * Creates `indicium_t_<pid>_…` (so global-setup removes it if this run dies): a clone of the
 * migrated template, or, with `empty`, a database with no schema at all.
 */
export async function createDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('DATABASE_URL missing: run through jest (globalSetup)');
  const template = process.env.INDICIUM_TEST_TEMPLATE;
  if (!options.empty && !template)
    throw new Error('INDICIUM_TEST_TEMPLATE missing: run through jest (globalSetup)');
  const name = `indicium_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(
    baseUrl,
    options.empty
      ? `CREATE DATABASE "${name}"`
      : `CREATE DATABASE "${name}" TEMPLATE "${template}"`,
  );
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => adminQuery(baseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const auditChainKeys = new Map<string, string>();

/** One audit chain key per test database, shared by every server process started over it. */
function auditChainKeyFor(databaseUrl: string): string {
  let key = auditChainKeys.get(databaseUrl);
  if (!key) {
    key = randomBytes(32).toString('hex');
    auditChainKeys.set(databaseUrl, key);
  }
  return key;
}

/** Every child still running, so a failing test cannot leave one behind. */
const running = new Set<ServerProcess>();
/** Every child started by this spec file, for serverProblems(). */
const started: ServerProcess[] = [];
/** Data directories the servers created for themselves, removed when this process exits. */
const dataDirs = new Set<string>();
process.once('exit', () => {
  for (const s of running) s.child.kill('SIGKILL');
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

export interface ServerOptions {
  databaseUrl: string;
  /** Default: a free port. Pass the old one to restart in place. */
  port?: number;
  /** Default: a new temporary directory, removed when the process exits. */
  dataDir?: string;
  env?: Record<string, string>;
}

/** A response's status and body: untyped JSON (or text), read freely like supertest's `body`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ServerResponse = { status: number; body: any };

/** One `node main.js` child on 127.0.0.1, plain HTTP. */
export class ServerProcess {
  readonly base: string;
  readonly adminAuth = basic('admin', ADMIN_PASSWORD);
  private output = '';
  private readonly exited: Promise<void>;
  /** Set when the test asked the process to end. */
  private ending = false;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly options: ServerOptions,
  ) {
    this.base = `http://127.0.0.1:${port}`;
    // Also into the test log buffer, a line at a time, each saying which server wrote it.
    const sink = testLog();
    let partial = '';
    const keep = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      this.output = (this.output + text).slice(-OUTPUT_LIMIT);
      if (!sink) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) sink(`[server pid ${child.pid} :${port}] ${line}\n`);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((done) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        running.delete(this);
        done();
      }),
    );
  }

  /** Starts the server and resolves once GET /health/ready answers 200. */
  static async start(options: ServerOptions): Promise<ServerProcess> {
    const main = await buildServer();
    const port = options.port ?? (await freePort());
    const ownDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'indicium-proc-'));
    const child = spawn(process.execPath, [main], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...(process.env.npm_package_version
          ? { npm_package_version: process.env.npm_package_version }
          : {}),
        DATABASE_URL: options.databaseUrl,
        DATABASE_POOL_SIZE: '5',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        ADMIN_PASSWORD,
        TLS: 'off',
        LOG_LEVEL: 'warn',
        // Instances over one database share its audit chain key, as a deployment must.
        AUDIT_CHAIN_KEY: auditChainKeyFor(options.databaseUrl),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(child, port, { ...options, dataDir });
    running.add(server);
    started.push(server);
    // Kept until the test process exits, not just this server: restart() reuses it (the
    // generated certificate, the audit chain key).
    if (ownDataDir) dataDirs.add(dataDir);
    try {
      await server.waitReady();
    } catch (e) {
      await server.kill('SIGKILL');
      throw e;
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return running.has(this);
  }

  /** What the process wrote to stdout and stderr (the last 256 KiB). */
  log(): string {
    return this.output;
  }

  /**
   * Exited without being asked to, or logged an error (pino level ≥ 50) other than those
   * the tests cause on purpose (see expected()).
   */
  get troubled(): boolean {
    if (!this.alive && !this.ending) return true;
    return this.output
      .split('\n')
      .some((line) => /"level":(50|60)\b/.test(line) && !expected(line));
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!this.alive) {
        throw new Error(
          `server exited (${this.exitCode ?? this.exitSignal}) before ready:\n${this.output}`,
        );
      }
      try {
        const res = await fetch(`${this.base}/health/ready`, {
          signal: AbortSignal.timeout(2_000),
        });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`server not ready within ${READY_TIMEOUT_MS} ms:\n${this.output}`);
      }
      await sleep(100);
    }
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    this.ending = true;
    if (this.alive) this.child.kill(signal);
    await this.exited;
  }

  /** SIGTERM (graceful shutdown), SIGKILL if it takes longer than 20 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.ending = true;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** A second process on the same database, port and data directory (after this one died). */
  restart(): Promise<ServerProcess> {
    if (this.alive) throw new Error('restart() needs the process to have exited');
    return ServerProcess.start({ ...this.options, port: this.port });
  }

  /**
   * A request as the admin (or `auth`), on a new connection each time: a keep-alive socket to
   * a killed process must not be reused. `body` is sent as JSON unless it is a string.
   */
  request(
    method: string,
    path: string,
    body?: unknown,
    auth: string | null = this.adminAuth,
    contentType = 'application/json',
    headers: Record<string, string> = {},
  ): Promise<ServerResponse> {
    const payload =
      body === undefined
        ? undefined
        : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return new Promise((done, fail) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          method,
          agent: false,
          headers: {
            ...headers,
            ...(auth ? { Authorization: auth } : {}),
            ...(payload ? { 'Content-Type': contentType, 'Content-Length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON: keep the text
            }
            done({ status: res.statusCode!, body: parsed });
          });
        },
      );
      req.on('error', fail);
      req.end(payload);
    });
  }
}

/**
 * The output of every server of this spec file that died on its own or logged an error, for
 * afterAll to print: a failed assertion then comes with what the server said.
 */
export function serverProblems(): string {
  return started
    .filter((s) => s.troubled)
    .map((s) => `--- server pid ${s.pid} (port ${s.port}) output ---\n${s.log()}`)
    .join('\n');
}

/**
 * An error-level line the tests cause on purpose: a 4xx response, or the 503 of
 * /health/ready that waitReady() polls while the server starts.
 */
function expected(line: string): boolean {
  return (
    /"statusCode":4\d\d\b/.test(line) ||
    (/"statusCode":503\b/.test(line) && line.includes('"url":"/health/ready"'))
  );
}

/** Stops every given server (SIGKILL: tests end them for cleanup only). */
export async function killAll(servers: Iterable<ServerProcess | undefined>): Promise<void> {
  const alive = [...servers].filter((s): s is ServerProcess => s !== undefined);
  await Promise.all(alive.map((s) => s.kill('SIGKILL')));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a truthy value, or throws after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** The `length` integers from `start` on. */
export function range(start: number, length: number): number[] {
  return Array.from({ length }, (_, i) => start + i);
}

/**
 * Adds a syslog integration (TCP, JSON) delivering to a receiver on loopback `port`: its id,
 * and the audit sequence its delivery starts after.
 */
export async function addTcpSiem(
  server: ServerProcess,
  name: string,
  port: number,
): Promise<{ id: string; from: number }> {
  const created = await server.request('POST', '/api/v1/siem-integrations', {
    name,
    type: 'syslog',
    transport: 'tcp',
    host: '127.0.0.1',
    port,
    format: 'json',
  });
  expect(created.status).toBe(201);
  return { id: created.body.id as string, from: created.body.lastDeliveredSequence as number };
}
