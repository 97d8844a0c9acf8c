// Indicator ingest: one PUT /api/v1/suppliers/{name}/indicators with 1,000,000 mixed indicators
// (bench/dataset.mjs, seeded), streamed, against the built server (dist/) on a fresh database
// of the Postgres server at DATABASE_URL. Reports indicators/s and the server's peak RSS, then
// COPYs the same rows into an empty copy of the table (LIKE indicators INCLUDING ALL: same
// indexes, no FK, no validation, no dedupe, no tags) as the baseline and prints the ratio.
//
// Baseline: a real `COPY … FROM STDIN` through psql's \copy (psql comes with every Postgres
// install) of a prepared TSV file; only the COPY is timed, not writing the file.
//
// Usage: npm run build && npm run bench:ingest
// Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_COUNT
// (default 1000000), BENCH_FORMAT (json | ndjson, default json), BENCH_SEED (default 42).
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BENCH_TAGS, generateIndicators } from './dataset.mjs';
import { api, fmt, startServer } from './support.mjs';

const COUNT = Number(process.env.BENCH_COUNT ?? 1_000_000);
const FORMAT = process.env.BENCH_FORMAT ?? 'json';
const SEED = Number(process.env.BENCH_SEED ?? 42);
const TARGET_RATE = 50_000;
const TARGET_RATIO = 0.3;
const TARGET_RSS = 512 * 1024 * 1024;
const MiB = 1024 * 1024;

/** The body, pre-generated into ~1 MiB chunks so the client's cost is not measured. */
function buildBody() {
  const chunks = [];
  let parts = [];
  let size = 0;
  let first = true;
  const push = (s) => {
    parts.push(s);
    size += s.length;
    if (size >= MiB) {
      chunks.push(Buffer.from(parts.join('')));
      parts = [];
      size = 0;
    }
  };
  if (FORMAT === 'json') push('[');
  for (const e of generateIndicators(COUNT, SEED)) {
    const line = JSON.stringify(e);
    if (FORMAT === 'json') push(first ? line : `,${line}`);
    else push(`${line}\n`);
    first = false;
  }
  if (FORMAT === 'json') push(']');
  if (parts.length > 0) chunks.push(Buffer.from(parts.join('')));
  return chunks;
}

function upload(server, path, chunks) {
  return new Promise((resolve, reject) => {
    const url = new URL(server.base + path);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'PUT',
        headers: {
          Authorization: server.adminAuth,
          'Content-Type': FORMAT === 'json' ? 'application/json' : 'application/x-ndjson',
          'Transfer-Encoding': 'chunked',
        },
      },
      (res) => {
        const body = [];
        res.on('data', (d) => body.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode, body: Buffer.concat(body).toString() }),
        );
      },
    );
    req.on('error', reject);
    let i = 0;
    const pump = () => {
      while (i < chunks.length) {
        if (!req.write(chunks[i++])) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** TSV field escaping for COPY's text format. */
const tsv = (v) =>
  v === null
    ? '\\N'
    : String(v).replace(
        /[\\\t\n\r]/g,
        (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c],
      );

async function baseline(databaseUrl) {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  const dir = mkdtempSync(join(tmpdir(), 'indicium-bench-'));
  try {
    const [{ id }] = (await c.query(`SELECT id FROM suppliers WHERE name = 'BenchFeed'`)).rows;
    await c.query(`CREATE TABLE indicators_baseline (LIKE indicators INCLUDING ALL)`);
    const file = join(dir, 'rows.tsv');
    const out = createWriteStream(file);
    const seen = new Set();
    for (const e of generateIndicators(COUNT, SEED)) {
      // The table has the unique (supplier, type, value) index: skip the dataset's few repeats.
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
        id,
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
    const started = process.hrtime.bigint();
    const copy = spawnSync(
      'psql',
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        databaseUrl,
        '-c',
        `\\copy indicators_baseline (supplier_id, type, value, network, prefix_len, context) FROM '${file}'`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (copy.status !== 0)
      throw new Error(`psql \\copy failed (${copy.error?.message ?? copy.status})`);
    const [{ n }] = (await c.query('SELECT count(*)::int AS n FROM indicators_baseline')).rows;
    if (n !== seen.size) throw new Error(`baseline copied ${n} of ${seen.size} rows`);
    return { seconds, rows: n };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await c.end();
  }
}

const server = await startServer();
try {
  for (const name of BENCH_TAGS) await api(server, 'POST', '/api/v1/tags', { name, weight: 3 });
  await api(server, 'POST', '/api/v1/suppliers', { name: 'BenchFeed', vendor: 'Bench' });

  console.log(`Generating ${fmt(COUNT)} indicators (seed ${SEED}, ${FORMAT})…`);
  const chunks = buildBody();
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  console.log(`Body: ${fmt(bytes / MiB, 1)} MiB`);

  const started = process.hrtime.bigint();
  const res = await upload(server, '/api/v1/suppliers/BenchFeed/indicators', chunks);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 200) throw new Error(`upload: ${res.status} ${res.body.slice(0, 500)}`);
  const result = JSON.parse(res.body);
  const rate = COUNT / seconds;
  const rss = server.peakRss();

  console.log('Baseline: the same rows by COPY (psql \\copy) into an empty copy of the table…');
  const base = await baseline(server.databaseUrl);
  const baseRate = base.rows / base.seconds;
  const ratio = rate / baseRate;

  const ok = (pass) => (pass ? 'ok' : 'MISSED');
  console.log(`
Upload       ${fmt(COUNT)} entries (${fmt(result.created)} created, ${fmt(result.updated)} updated, ${result.failed.length} failed) in ${fmt(seconds, 2)} s
             ${fmt(rate)} indicators/s                 target ≥ ${fmt(TARGET_RATE)}   ${ok(rate >= TARGET_RATE)}
Server RSS   peak ${fmt(rss / MiB)} MiB (VmHWM)          target ≤ 512 MiB   ${ok(rss <= TARGET_RSS)}
Baseline     ${fmt(base.rows)} rows in ${fmt(base.seconds, 2)} s = ${fmt(baseRate)} rows/s
Ratio        ${fmt(ratio, 2)} (upload rate / baseline rate)   target ≥ ${TARGET_RATIO}   ${ok(ratio >= TARGET_RATIO)}`);
  if (rate < TARGET_RATE || rss > TARGET_RSS || ratio < TARGET_RATIO) process.exitCode = 1;
} finally {
  await server.stop();
}
