// Sharing out: GET /api/v1/suppliers/{name}/indicators/export?format=ndjson and
// GET /api/v1/blocklist?types=ip,cidr,domain,url over 1,000,000 indicators (bench/dataset.mjs,
// seeded), each timed end to end by a client that reads the whole body, against the built
// server (dist/) on a fresh database of the Postgres server at DATABASE_URL. Baseline: psql's
// `\copy (SELECT …) TO STDOUT` of the same rows in the same run. Reports the rates, their
// ratio and the server's peak RSS; then the cost of the tombstone trigger on a 1M-row DELETE
// (rolled back), against the same DELETE with the trigger disabled.
//
// The rows are loaded with psql \copy straight into `indicators` (this measures reading, not
// the upload path, which bench/ingest.mjs measures).
//
// Usage: npm run build && npm run bench:export
// Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_COUNT
// (default 1000000), BENCH_SEED (default 42).
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateIndicators } from './dataset.mjs';
import { api, fmt, startServer } from './support.mjs';

const COUNT = Number(process.env.BENCH_COUNT ?? 1_000_000);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const TARGET_RATIO = 0.5;
const TARGET_RSS = 256 * 1024 * 1024;
const MiB = 1024 * 1024;

const tsv = (v) =>
  v === null
    ? '\\N'
    : String(v).replace(
        /[\\\t\n\r]/g,
        (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c],
      );

function psql(databaseUrl, command, stdout = 'ignore') {
  const started = process.hrtime.bigint();
  const r = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', databaseUrl, '-c', command], {
    stdio: ['ignore', stdout, 'inherit'],
    maxBuffer: 1024 * MiB,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`psql failed (${r.error?.message ?? r.status}): ${command}`);
  return seconds;
}

/** Loads the dataset into the supplier with one \copy; returns the number of rows. */
async function load(databaseUrl, supplierId) {
  const dir = mkdtempSync(join(tmpdir(), 'indicium-bench-'));
  try {
    const file = join(dir, 'rows.tsv');
    const out = createWriteStream(file);
    const seen = new Set();
    for (const e of generateIndicators(COUNT, SEED)) {
      const key = `${e.type}|${e.indicator}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const net = e.type === 'ip' || e.type === 'cidr';
      const len = !net
        ? null
        : e.indicator.includes('/')
          ? e.indicator.split('/')[1]
          : e.indicator.includes(':')
            ? 128
            : 32;
      const row = [
        supplierId,
        e.type,
        e.indicator,
        net ? e.indicator : null,
        len,
        JSON.stringify(e.context),
      ];
      if (!out.write(row.map(tsv).join('\t') + '\n')) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    psql(
      databaseUrl,
      `\\copy indicators (supplier_id, type, value, network, prefix_len, context) FROM '${file}'`,
    );
    psql(databaseUrl, 'ANALYZE');
    return seen.size;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** GET a path and read the whole body; resolves to seconds, bytes and lines. */
function fetchAll(server, path, accept) {
  return new Promise((resolve, reject) => {
    const url = new URL(server.base + path);
    const started = process.hrtime.bigint();
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        headers: { Authorization: server.adminAuth, Accept: accept },
      },
      (res) => {
        let bytes = 0;
        let lines = 0;
        res.on('data', (d) => {
          bytes += d.length;
          for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`${path}: ${res.statusCode}`));
          resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes, lines });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const server = await startServer();
const c = new pg.Client({ connectionString: server.databaseUrl });
await c.connect();
try {
  await api(server, 'POST', '/api/v1/suppliers', { name: 'BenchFeed', vendor: 'Bench' });
  const [{ id }] = (await c.query(`SELECT id FROM suppliers WHERE name = 'BenchFeed'`)).rows;
  console.log(`Loading ${fmt(COUNT)} indicators (seed ${SEED}) with psql \\copy…`);
  const rows = await load(server.databaseUrl, id);

  const results = [];
  const measure = async (label, path, accept, baselineSql) => {
    const got = await fetchAll(server, path, accept);
    const baseSeconds = psql(server.databaseUrl, `\\copy (${baselineSql}) TO STDOUT`);
    results.push({ label, ...got, baseSeconds, ratio: baseSeconds / got.seconds });
  };
  await measure(
    'export ndjson',
    '/api/v1/suppliers/BenchFeed/indicators/export?format=ndjson',
    'application/x-ndjson',
    `SELECT id, value, type, context, confidence, first_seen, last_seen, expires_at, created_at, updated_at
       FROM indicators WHERE supplier_id = '${id}'`,
  );
  await measure(
    'blocklist',
    '/api/v1/blocklist?types=ip,cidr,domain,url',
    'text/plain',
    `SELECT DISTINCT value FROM indicators WHERE type IN ('ip', 'cidr', 'domain', 'url')`,
  );
  const rss = server.peakRss();

  // Tombstone trigger cost: the same 1M-row DELETE with and without it, each rolled back.
  const timeDelete = async (withTrigger) => {
    await c.query('BEGIN');
    try {
      if (!withTrigger)
        await c.query('ALTER TABLE indicators DISABLE TRIGGER indicators_tombstones');
      const started = process.hrtime.bigint();
      const r = await c.query('DELETE FROM indicators WHERE supplier_id = $1', [id]);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return { seconds, n: r.rowCount };
    } finally {
      await c.query('ROLLBACK');
    }
  };
  await timeDelete(false); // warm the cache for both
  const plain = await timeDelete(false);
  const tomb = await timeDelete(true);

  const ok = (pass) => (pass ? 'ok' : 'MISSED');
  console.log(`\nIndicators   ${fmt(rows)} rows`);
  for (const r of results) {
    console.log(`${r.label.padEnd(13)}${fmt(r.lines)} lines, ${fmt(r.bytes / MiB, 1)} MiB in ${fmt(r.seconds, 2)} s = ${fmt(r.lines / r.seconds)} lines/s
             baseline psql \\copy: ${fmt(r.baseSeconds, 2)} s; ratio ${fmt(r.ratio, 2)}   target ≥ ${TARGET_RATIO}   ${ok(r.ratio >= TARGET_RATIO)}`);
  }
  console.log(`Server RSS   peak ${fmt(rss / MiB)} MiB (VmHWM)   target ≤ 256 MiB   ${ok(rss <= TARGET_RSS)}
Tombstones   DELETE of ${fmt(tomb.n)} rows: ${fmt(tomb.seconds, 2)} s with the trigger, ${fmt(plain.seconds, 2)} s without (+${fmt(((tomb.seconds - plain.seconds) / plain.seconds) * 100)}%)`);
  if (results.some((r) => r.ratio < TARGET_RATIO) || rss > TARGET_RSS) process.exitCode = 1;
} finally {
  await c.end();
  await server.stop();
}
