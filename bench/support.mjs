// Shared by the benchmarks: start the built server (dist/) as a child process on loopback,
// over a fresh database on the Postgres server, and measure it. BENCH_MAIN points at another
// build's main.js (default dist/main.js).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import pg from 'pg';

export const DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const ADMIN_PASSWORD = 'bench-admin-password';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function admin(sql) {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Starts `node dist/main.js` over a new database; resolves once /health/ready answers. */
/**
 * Starts dist/main.js (or `main`, another build's) on a new database, or on `databaseUrl`
 * (another server's, left in place).
 */
export async function startServer(env = {}, { databaseUrl, main } = {}) {
  const db = databaseUrl ? null : `indicium_bench_${randomBytes(4).toString('hex')}`;
  if (db) await admin(`CREATE DATABASE "${db}"`);
  const url = new URL(databaseUrl ?? DATABASE_URL);
  if (db) url.pathname = `/${db}`;
  const port = await freePort();
  const child = spawn(process.execPath, [main ?? process.env.BENCH_MAIN ?? 'dist/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: url.toString(),
      TLS: 'off',
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
      MAX_CONCURRENT_REQUESTS: '10000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not become ready in 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(child.pid));
  }, 100);
  return {
    base,
    pid: child.pid,
    databaseUrl: url.toString(),
    adminAuth: 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64'),
    peakRss: () => Math.max(peakRss, peakRssOf(child.pid)),
    async stop() {
      clearInterval(sampler);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      if (db) await admin(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    },
  };
}

function statusField(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
const rssOf = (pid) => statusField(pid, 'VmRSS');
const peakRssOf = (pid) => statusField(pid, 'VmHWM');

export async function api(server, method, path, body, auth = server.adminAuth, headers = {}) {
  const res = await fetch(server.base + path, {
    method,
    headers: { ...headers, Authorization: auth, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
