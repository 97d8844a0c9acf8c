// Sharing out: GET /api/v1/suppliers/{name}/indicators/export?format=ndjson (and, informational,
// csv and stix21) and
// GET /api/v1/blocklist?types=ip,cidr,domain,url over 1,000,000 indicators (bench/dataset.mjs,
// seeded), each timed end to end by a client that reads the whole body, against the built
// server (dist/) on a fresh database of the Postgres server at DATABASE_URL. Baseline: psql's
// `\copy (SELECT …) TO STDOUT` of the same rows in the same run. After a warm-up pass (which
// also checks that both sides produce the same number of lines), BENCH_ROUNDS rounds each time
// the server and the baseline back to back (alternating which goes first); the report gives
// every round's figures and the medians, their ratio against the target (≥ 0.5 of the \copy
// rate), and the server's peak RSS (VmHWM, target ≤ 256 MiB) next to its RSS when idle. Then
// the cost of the tombstone trigger on a 1M-row DELETE (rolled back), against the same DELETE
// with the trigger disabled. The database is dropped at the end, also on failure or Ctrl-C.
//
// The rows are loaded with psql \copy straight into `indicators` (this measures reading, not
// the upload path, which bench/ingest.mjs measures).
//
// Usage: npm run build && npm run bench:export
// Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_COUNT
// (default 1000000), BENCH_SEED (default 42), BENCH_ROUNDS (default 3).
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, createWriteStream, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateIndicators } from './dataset.mjs';
import { api, fmt, startServer } from './support.mjs';

const COUNT = Number(process.env.BENCH_COUNT ?? 1_000_000);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
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

/** Lines psql writes for a command (streamed to a file, not held in memory). */
function psqlLines(databaseUrl, command) {
  const dir = mkdtempSync(join(tmpdir(), 'indicium-bench-'));
  try {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    try {
      psql(databaseUrl, command, fd);
    } finally {
      closeSync(fd);
    }
    const r = spawnSync('wc', ['-l', file], { encoding: 'utf8' });
    return Number(r.stdout.trim().split(/\s+/)[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function statusKb(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return m ? Number(m[1]) * 1024 : 0;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

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

/**
 * GET a path and read the whole body; resolves to seconds, bytes and (with countLines) lines.
 * Timed rounds only count bytes, as psql's baseline writes to /dev/null without looking at
 * its output; the warm-up counts lines.
 */
function fetchAll(server, path, accept, countLines = false) {
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
          if (countLines) for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
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
let stopping = null;
const stop = () => (stopping ??= server.stop());
process.once('SIGINT', () => {
  console.error('\nInterrupted: stopping the server and dropping its database…');
  stop().finally(() => process.exit(130));
});
const c = new pg.Client({ connectionString: server.databaseUrl });
await c.connect();
try {
  await api(server, 'POST', '/api/v1/suppliers', { name: 'BenchFeed', vendor: 'Bench' });
  const [{ id }] = (await c.query(`SELECT id FROM suppliers WHERE name = 'BenchFeed'`)).rows;
  // The server's RSS once started (VmRSS), and its peak so far (VmHWM: start-up included).
  const idleRss = statusKb(server.pid, 'VmRSS');
  const startPeak = server.peakRss();
  console.log(`Loading ${fmt(COUNT)} indicators (seed ${SEED}) with psql \\copy…`);
  const rows = await load(server.databaseUrl, id);

  const targets = [
    {
      label: 'export ndjson',
      path: '/api/v1/suppliers/BenchFeed/indicators/export?format=ndjson',
      accept: 'application/x-ndjson',
      baselineSql: `SELECT id, value, type, context, confidence, first_seen, last_seen, expires_at, created_at, updated_at
       FROM indicators WHERE supplier_id = '${id}'`,
    },
    // Informational (no rate target): the other export formats, against the same \copy.
    // Their line counts differ from it (a CSV header, one STIX bundle line), so the warm-up
    // does not compare them; the RSS peak below covers them.
    ...[
      ['csv', 'text/csv'],
      ['stix21', 'application/stix+json'],
    ].map(([format, accept]) => ({
      label: `export ${format} (informational)`,
      info: true,
      path: `/api/v1/suppliers/BenchFeed/indicators/export?format=${format}`,
      accept,
      baselineSql: `SELECT id, value, type, context, confidence, first_seen, last_seen, expires_at, created_at, updated_at
       FROM indicators WHERE supplier_id = '${id}'`,
    })),
    {
      label: 'blocklist',
      path: '/api/v1/blocklist?types=ip,cidr,domain,url',
      accept: 'text/plain',
      baselineSql: `SELECT DISTINCT value FROM indicators WHERE type IN ('ip', 'cidr', 'domain', 'url')`,
    },
  ];
  // Warm-up (caches, plans, connections), and both sides produce the same number of lines.
  for (const t of targets) {
    const got = await fetchAll(server, t.path, t.accept, true);
    t.rounds = [];
    // Rates of the informational formats are per indicator (a STIX bundle is one line).
    t.lines = t.info ? rows : got.lines;
    t.unit = t.info ? 'indicators' : 'lines';
    if (t.info) continue;
    const baseLines = psqlLines(server.databaseUrl, `\\copy (${t.baselineSql}) TO STDOUT`);
    if (got.lines !== baseLines) {
      throw new Error(`${t.label}: the server wrote ${got.lines} lines, \\copy ${baseLines}`);
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const timeServer = () => fetchAll(server, t.path, t.accept);
      const timeBase = () => psql(server.databaseUrl, `\\copy (${t.baselineSql}) TO STDOUT`);
      let got, baseSeconds;
      if (round % 2 === 0) {
        got = await timeServer();
        baseSeconds = timeBase();
      } else {
        baseSeconds = timeBase();
        got = await timeServer();
      }
      t.rounds.push({ ...got, baseSeconds, ratio: baseSeconds / got.seconds });
    }
  }
  const rss = server.peakRss();

  // Informational (no target): the blocklist again with a FalsePositive supplier of ~500
  // values drawn from the data (parent domains, addresses, /16 networks, URL prefixes), so
  // suppression has work to do; the same \\copy baseline, which suppresses nothing.
  await c.query(`
    INSERT INTO indicators (supplier_id, type, value, network)
    SELECT s.id, x.type, x.value, CASE WHEN x.type IN ('ip', 'cidr') THEN x.value::cidr END
      FROM suppliers s, (
        (SELECT DISTINCT 'domain' AS type, substring(value FROM '[^.]+\\.[^.]+$') AS value
           FROM indicators WHERE type = 'domain' LIMIT 300)
        UNION ALL (SELECT 'ip', host(network) FROM indicators
                    WHERE type = 'ip' AND family(network) = 4 LIMIT 100)
        UNION ALL (SELECT DISTINCT 'cidr', network(set_masklen(network, 16))::text FROM indicators
                    WHERE type = 'ip' AND family(network) = 4 LIMIT 50)
        UNION ALL (SELECT DISTINCT 'url', substring(value FROM '^[^/]+/[^/]+') FROM indicators
                    WHERE type = 'url' LIMIT 50)
      ) x
     WHERE s.name = 'FalsePositive' AND x.value IS NOT NULL
    ON CONFLICT DO NOTHING`);
  const [{ n: fpCount }] = (
    await c.query(`SELECT count(*)::int AS n FROM indicators i JOIN suppliers s
                    ON s.id = i.supplier_id WHERE s.name = 'FalsePositive'`)
  ).rows;
  const blocklist = targets.find((t) => t.label === 'blocklist');
  const fpLines = (await fetchAll(server, blocklist.path, blocklist.accept, true)).lines; // warm-up
  const fpRounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const got = await fetchAll(server, blocklist.path, blocklist.accept);
    const baseSeconds = psql(server.databaseUrl, `\\copy (${blocklist.baselineSql}) TO STDOUT`);
    fpRounds.push({ ...got, baseSeconds, ratio: baseSeconds / got.seconds });
  }

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
  const verdicts = [];
  console.log(
    `\nIndicators   ${fmt(rows)} rows; ${ROUNDS} rounds (server and \\copy back to back)`,
  );
  for (const t of targets) {
    const { lines } = t;
    const { bytes } = t.rounds[0];
    console.log(`${t.label}: ${fmt(lines)} ${t.unit}, ${fmt(bytes / MiB, 1)} MiB`);
    t.rounds.forEach((r, i) =>
      console.log(
        `  round ${i + 1}   server ${fmt(r.seconds, 3)} s = ${fmt(lines / r.seconds)} ${t.unit}/s   \\copy ${fmt(r.baseSeconds, 3)} s = ${fmt(lines / r.baseSeconds)} ${t.unit}/s   ratio ${fmt(r.ratio, 2)}`,
      ),
    );
    const s = median(t.rounds.map((r) => r.seconds));
    const b = median(t.rounds.map((r) => r.baseSeconds));
    const ratio = median(t.rounds.map((r) => r.ratio));
    if (!t.info) verdicts.push(ratio >= TARGET_RATIO);
    console.log(
      `  median    server ${fmt(s, 3)} s = ${fmt(lines / s)} ${t.unit}/s   \\copy ${fmt(b, 3)} s = ${fmt(lines / b)} ${t.unit}/s   ratio ${fmt(ratio, 2)}${t.info ? '' : `   target ≥ ${TARGET_RATIO}   ${ok(ratio >= TARGET_RATIO)}`}`,
    );
  }
  {
    const s = median(fpRounds.map((r) => r.seconds));
    console.log(
      `blocklist with FalsePositive of ${fmt(fpCount)} values (informational): ${fmt(fpLines)} lines; median server ${fmt(s, 3)} s = ${fmt(fpLines / s)} lines/s   ratio ${fmt(median(fpRounds.map((r) => r.ratio)), 2)} (rounds ${fpRounds.map((r) => fmt(r.ratio, 2)).join(', ')})`,
    );
  }
  verdicts.push(rss <= TARGET_RSS);
  console.log(`Server RSS   peak ${fmt(rss / MiB)} MiB (VmHWM; ${fmt(idleRss / MiB)} MiB idle before loading, peak ${fmt(startPeak / MiB)} MiB by then)   target ≤ 256 MiB   ${ok(rss <= TARGET_RSS)}
Tombstones   DELETE of ${fmt(tomb.n)} rows: ${fmt(tomb.seconds, 2)} s with the trigger, ${fmt(plain.seconds, 2)} s without (+${fmt(((tomb.seconds - plain.seconds) / plain.seconds) * 100)}%)
Targets      ${verdicts.every(Boolean) ? 'all met' : 'MISSED (see above)'}`);
  if (!verdicts.every(Boolean)) process.exitCode = 1;
} finally {
  await c.end();
  await stop();
}
