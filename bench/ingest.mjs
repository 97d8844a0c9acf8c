// Indicator ingest: one PUT /api/v1/suppliers/{name}/indicators with 1,000,000 mixed indicators
// (bench/dataset.mjs, seeded), streamed, against the built server (dist/) on a fresh database
// of the Postgres server at DATABASE_URL. Reports indicators/s and the server's peak RSS, then
// bulk-inserts the same rows into an empty copy of the table (LIKE indicators INCLUDING ALL)
// as the baseline and prints the ratio.
//
// Baseline: pg-copy-streams is not installed, so the baseline is the fastest plain-SQL bulk
// path available without it: multi-row `INSERT … SELECT FROM unnest(…)` of 10,000 rows per
// statement in one transaction (same indexes, no FKs, no validation, no dedupe, no tags).
//
// Usage: npm run build && npm run bench:ingest
// Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_COUNT
// (default 1000000), BENCH_FORMAT (json | ndjson, default json), BENCH_SEED (default 42).
import { request } from 'node:http';
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

async function baseline(databaseUrl) {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const [{ id }] = (await c.query(`SELECT id FROM suppliers WHERE name = 'BenchFeed'`)).rows;
    await c.query(`CREATE TABLE indicators_baseline (LIKE indicators INCLUDING ALL)`);
    const started = process.hrtime.bigint();
    await c.query('BEGIN');
    const cols = () => ({ type: [], value: [], context: [] });
    let b = cols();
    const flush = async () => {
      await c.query(
        `INSERT INTO indicators_baseline (supplier_id, type, value, network, prefix_len, context)
         SELECT $1, t, v, n, masklen(n), c::jsonb
         FROM unnest($2::text[], $3::text[], $4::text[]) AS u(t, v, c)
         CROSS JOIN LATERAL (SELECT CASE WHEN t IN ('ip', 'cidr') THEN v::cidr END AS n) x`,
        [id, b.type, b.value, b.context],
      );
      b = cols();
    };
    const seen = new Set();
    for (const e of generateIndicators(COUNT, SEED)) {
      // The table has the unique (supplier, type, value) index: skip the dataset's few repeats.
      const key = `${e.type}|${e.indicator}`;
      if (seen.has(key)) continue;
      seen.add(key);
      b.type.push(e.type);
      b.value.push(e.indicator);
      b.context.push(JSON.stringify(e.context));
      if (b.type.length === 10_000) await flush();
    }
    if (b.type.length > 0) await flush();
    await c.query('COMMIT');
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, rows: seen.size };
  } finally {
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

  console.log(
    'Baseline: the same rows by multi-row unnest INSERT into an empty copy of the table…',
  );
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
