// Feed apply: a 1,000,000-line text feed and a 200,000-indicator STIX 2.1 bundle, served from
// a local HTTP server, applied with `replace` into a supplier that already holds the previous
// day's version (10% of the values changed), against the built server (dist/) on a fresh
// database of the Postgres server at DATABASE_URL. For each, the same rows are also uploaded
// with PUT /api/v1/suppliers/{name}/indicators into another supplier holding the previous day's
// version, in the same run. Reports indicators/s of both, their ratio, and the server's peak RSS.
// Targets: feed apply ≥ 0.8× the upload rate; peak RSS ≤ 512 MiB.
//
// Feed time is the run's own startedAt → finishedAt (fetch, parse, validate, write, commit);
// upload time is the PUT's wall clock.
//
// Usage: npm run build && npm run bench:feeds
// Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_TEXT_COUNT
// (default 1000000), BENCH_STIX_COUNT (default 200000), BENCH_SEED (default 42).
import { createServer, request } from 'node:http';
import { generateIndicators } from './dataset.mjs';
import { api, fmt, startServer } from './support.mjs';

const TEXT_COUNT = Number(process.env.BENCH_TEXT_COUNT ?? 1_000_000);
const STIX_COUNT = Number(process.env.BENCH_STIX_COUNT ?? 200_000);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const CHANGED = 0.1;
const TARGET_RATIO = 0.8;
const TARGET_RSS = 512 * 1024 * 1024;
const MiB = 1024 * 1024;

/** Yesterday's and today's entries: today replaces every tenth of yesterday's values. */
function versions(count) {
  const yesterday = [...generateIndicators(count, SEED)];
  const fresh = generateIndicators(count, SEED + 1);
  const today = yesterday.map((e, i) =>
    i % Math.round(1 / CHANGED) === 0 ? fresh.next().value : e,
  );
  return { yesterday, today };
}

/** Text pieces joined into ~1 MiB buffers, so serving costs nothing measurable. */
function chunked(pieces) {
  const chunks = [];
  let parts = [];
  let size = 0;
  for (const p of pieces) {
    parts.push(p);
    size += p.length;
    if (size >= MiB) {
      chunks.push(Buffer.from(parts.join('')));
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) chunks.push(Buffer.from(parts.join('')));
  return chunks;
}

const STIX_PATH = {
  ip: (v) => (v.includes(':') ? 'ipv6-addr:value' : 'ipv4-addr:value'),
  cidr: (v) => (v.includes(':') ? 'ipv6-addr:value' : 'ipv4-addr:value'),
  domain: () => 'domain-name:value',
  url: () => 'url:value',
  md5: () => 'file:hashes.MD5',
  sha1: () => "file:hashes.'SHA-1'",
  sha256: () => "file:hashes.'SHA-256'",
};

function stixIndicator(e, i) {
  const id = `indicator--00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  const value = e.indicator.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  return {
    type: 'indicator',
    spec_version: '2.1',
    id,
    created: '2026-11-26T00:00:00.000Z',
    modified: '2026-11-26T00:00:00.000Z',
    name: `${e.context.threat} indicator`,
    indicator_types: ['malicious-activity'],
    pattern_type: 'stix',
    pattern: `[${STIX_PATH[e.type](e.indicator)} = '${value}']`,
    valid_from: '2026-11-26T00:00:00Z',
    confidence: e.context.score,
  };
}

/** What the STIX feed writes for an entry: the same row through the upload path. */
function stixUploadEntry(e, i) {
  return {
    indicator: e.indicator,
    type: e.type,
    confidence: e.context.score,
    firstSeen: '2026-11-26T00:00:00Z',
    context: {
      stix_id: `indicator--00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      name: `${e.context.threat} indicator`,
      indicator_types: ['malicious-activity'],
    },
  };
}

function put(server, path, chunks) {
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
          'Content-Type': 'application/x-ndjson',
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
      while (i < chunks.length) if (!req.write(chunks[i++])) return req.once('drain', pump);
      req.end();
    };
    pump();
  });
}

async function upload(server, supplier, entries) {
  const chunks = chunked(entries.map((e) => JSON.stringify(e) + '\n'));
  const started = process.hrtime.bigint();
  const res = await put(server, `/api/v1/suppliers/${supplier}/indicators`, chunks);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 200)
    throw new Error(`upload ${supplier}: ${res.status} ${res.body.slice(0, 300)}`);
  return { seconds, result: JSON.parse(res.body) };
}

async function waitForRun(server, supplier, n) {
  for (;;) {
    const runs = await api(server, 'GET', `/api/v1/suppliers/${supplier}/feed/runs`);
    if (runs.items.length >= n) return runs.items[0];
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function scenario(server, feeds, { label, format, count, uploadEntryOf, body }) {
  const { yesterday, today } = versions(count);
  const feedSupplier = `Feed${format}`;
  const uploadSupplier = `Upload${format}`;
  for (const name of [feedSupplier, uploadSupplier]) {
    await api(server, 'POST', '/api/v1/suppliers', { name });
    await upload(server, name, yesterday.map(uploadEntryOf));
  }
  feeds.set(`/${format}`, body(today));
  // The feed's first run applies today's version over yesterday's.
  await api(server, 'PUT', `/api/v1/suppliers/${feedSupplier}/feed`, {
    url: `${feeds.base}/${format}`,
    format,
  });
  const run = await waitForRun(server, feedSupplier, 1);
  if (run.outcome !== 'applied') throw new Error(`${label}: run ${run.outcome}: ${run.error}`);
  const feedSeconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
  const up = await upload(server, uploadSupplier, today.map(uploadEntryOf));
  const feedRate = count / feedSeconds;
  const uploadRate = count / up.seconds;
  const ratio = feedRate / uploadRate;
  console.log(`${label}: ${fmt(count)} indicators, 10% changed`);
  console.log(
    `  feed (replace):  ${fmt(feedSeconds, 1)} s  ${fmt(feedRate)} indicators/s  ` +
      `(created ${fmt(run.counts.created)}, updated ${fmt(run.counts.updated)}, removed ${fmt(run.counts.removed)}, rejected ${fmt(run.counts.rejected)})`,
  );
  console.log(`  upload (PUT):    ${fmt(up.seconds, 1)} s  ${fmt(uploadRate)} indicators/s`);
  console.log(
    `  ratio: ${fmt(ratio, 2)}× (target ≥ ${TARGET_RATIO}×) ${ratio >= TARGET_RATIO ? 'PASS' : 'FAIL'}`,
  );
  return ratio >= TARGET_RATIO;
}

async function main() {
  const routes = new Map();
  const feedServer = createServer((req, res) => {
    const chunks = routes.get(req.url);
    if (!chunks) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': chunks.reduce((n, c) => n + c.length, 0) });
    let i = 0;
    const pump = () => {
      while (i < chunks.length) if (!res.write(chunks[i++])) return res.once('drain', pump);
      res.end();
    };
    pump();
  });
  await new Promise((r) => feedServer.listen(0, '127.0.0.1', r));
  const feeds = {
    base: `http://127.0.0.1:${feedServer.address().port}`,
    set: (p, c) => routes.set(p, c),
  };
  const server = await startServer({
    FEED_ALLOW_PRIVATE_NETWORKS: 'true',
    FEED_POLL_SECONDS: '1',
    FEED_RUN_TIMEOUT_SECONDS: '3600',
  });
  let ok = true;
  try {
    ok =
      (await scenario(server, feeds, {
        label: 'text feed',
        format: 'text',
        count: TEXT_COUNT,
        uploadEntryOf: (e) => ({ indicator: e.indicator }),
        body: (today) => chunked(today.map((e) => `${e.indicator}\n`)),
      })) && ok;
    ok =
      (await scenario(server, feeds, {
        label: 'STIX 2.1 bundle',
        format: 'stix21',
        count: STIX_COUNT,
        uploadEntryOf: stixUploadEntry,
        body: (today) =>
          chunked([
            '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[',
            ...today.map((e, i) => (i === 0 ? '' : ',') + JSON.stringify(stixIndicator(e, i))),
            ']}',
          ]),
      })) && ok;
    const rss = server.peakRss();
    console.log(
      `peak RSS of the server: ${fmt(rss / MiB)} MiB (target ≤ ${TARGET_RSS / MiB} MiB) ${rss <= TARGET_RSS ? 'PASS' : 'FAIL'}`,
    );
    ok = ok && rss <= TARGET_RSS;
  } finally {
    await server.stop();
    feedServer.close();
  }
  process.exitCode = ok ? 0 : 1;
}

await main();
