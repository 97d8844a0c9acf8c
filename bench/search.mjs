// Search throughput (issue 6), on the built server (dist/) over a fresh database holding the
// seeded dataset of bench/dataset.mjs plus 10,000 FalsePositive entries.
//
// - bulk:   POST /api/v1/search, 10,000 mixed values per request (≈10% hits of every kind),
//           2 concurrent clients → values/s; baseline: the same canonical values looked up by
//           exact (value, type) match through pg in batches of 10,000, 2 clients, no HTTP.
// - single: GET /api/v1/search?value= at 32 connections with an API client's Basic
//           credentials → req/s, p50, p99; baseline: /health/live on the same server.
//
// Usage: npm run build && npm run bench:search
// Env: DATABASE_URL, BENCH_COUNT (default 1,000,000), BENCH_SECONDS (default 15), BENCH_SEED.
import autocannon from 'autocannon';
import pg from 'pg';
import { BENCH_TAGS, generateIndicators, rng } from './dataset.mjs';
import { api, fmt, startServer } from './support.mjs';

const COUNT = Number(process.env.BENCH_COUNT ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const BATCH = 10_000;
const FALSE_POSITIVES = 10_000;
const TARGETS = { bulk: 50_000, bulkRatio: 0.4, single: 3_000, singleRatio: 0.5, p99: 50 };

/** The dataset's values by type, and the NDJSON bodies to upload it in. */
function loadDataset() {
  const byType = { ip: [], cidr: [], domain: [], url: [], md5: [], sha1: [], sha256: [] };
  const parts = [];
  let chunk = [];
  for (const e of generateIndicators(COUNT, SEED)) {
    byType[e.type].push(e.indicator);
    chunk.push(JSON.stringify(e));
    if (chunk.length === 100_000) {
      parts.push(chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length > 0) parts.push(chunk.join('\n') + '\n');
  return { byType, body: Buffer.from(parts.join('')) };
}

async function upload(server, supplier, body, contentType = 'application/x-ndjson') {
  const res = await fetch(`${server.base}/api/v1/suppliers/${supplier}/indicators`, {
    method: 'PUT',
    headers: { Authorization: server.adminAuth, 'Content-Type': contentType },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`upload to ${supplier}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Query values as a SIEM would send them, with their canonical (type, value) for the baseline. */
function makeQueries(byType, total) {
  const rand = rng(SEED + 1);
  const pick = (arr) => arr[Math.floor(rand() * arr.length)];
  const hex = (n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  const v4 = byType.cidr.filter((c) => !c.includes(':'));
  const hostIn = (net) => {
    const [addr, len] = net.split('/');
    const p = addr.split('.').map(Number);
    const n = ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
    const host = (n | (Math.floor(rand() * 2 ** (32 - Number(len))) >>> 0)) >>> 0;
    return [host >>> 24, (host >>> 16) & 255, (host >>> 8) & 255, host & 255].join('.');
  };
  const hits = [
    () => ['ip', pick(byType.ip)],
    () => ['ip', hostIn(pick(v4))],
    () => ['domain', `www.${pick(byType.domain)}`],
    () => ['domain', pick(byType.domain)],
    () => ['url', `${pick(byType.url).split('?')[0]}/deeper?x=1`],
    () => ['url', pick(byType.url)],
    () => ['md5', pick(byType.md5)],
    () => ['sha256', pick(byType.sha256)],
    () => ['email', `victim@${pick(byType.domain)}`],
    () => ['cidr', pick(v4)],
  ];
  const misses = [
    () => ['ip', `${1 + Math.floor(rand() * 222)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`],
    () => ['ip', `2001:db8:ffff:${hex(4)}::${hex(3)}`],
    () => ['domain', `clean-${hex(8)}.example.org`],
    () => ['url', `clean-${hex(6)}.example.net/a/${hex(6)}.html`],
    () => ['md5', hex(32)],
    () => ['sha1', hex(40)],
    () => ['sha256', hex(64)],
    () => ['email', `someone@clean-${hex(6)}.example.com`],
  ];
  return Array.from({ length: total }, () => (rand() < 0.1 ? pick(hits) : pick(misses))());
}

async function bulk(server, batches) {
  let next = 0;
  let values = 0;
  const client = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      const res = await fetch(`${server.base}/api/v1/search`, {
        method: 'POST',
        headers: { Authorization: server.adminAuth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ values: batch.map(([, v]) => v) }),
      });
      if (res.status !== 200) throw new Error(`search: ${res.status} ${(await res.text()).slice(0, 300)}`);
      const { results } = await res.json();
      if (results.length !== batch.length) throw new Error('wrong result count');
      values += batch.length;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all([client(), client()]);
  return values / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function baseline(databaseUrl, batches) {
  const clients = await Promise.all(
    [0, 1].map(async () => {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      return c;
    }),
  );
  let next = 0;
  let values = 0;
  const run = async (c) => {
    while (next < batches.length) {
      const batch = batches[next++];
      await c.query(
        `SELECT k.value, i.id, i.context FROM unnest($1::text[], $2::text[]) AS k(type, value)
           JOIN indicators i ON i.value = k.value AND i.type = k.type`,
        [batch.map(([t]) => t), batch.map(([, v]) => v)],
      );
      values += batch.length;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(clients.map(run));
  const rate = values / (Number(process.hrtime.bigint() - started) / 1e9);
  await Promise.all(clients.map((c) => c.end()));
  return rate;
}

function cannon(opts) {
  return new Promise((resolve, reject) =>
    autocannon({ connections: 32, duration: SECONDS, ...opts }, (err, r) => {
      if (err) return reject(err);
      if (r.non2xx > 0 || r.errors > 0) return reject(new Error(`${r.non2xx} non-2xx, ${r.errors} errors`));
      resolve(r);
    }),
  );
}

const server = await startServer({ LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
try {
  for (const name of BENCH_TAGS) await api(server, 'POST', '/api/v1/tags', { name, weight: 3 });
  await api(server, 'POST', '/api/v1/suppliers', { name: 'BenchFeed', vendor: 'Bench', actionableFields: ['threat'] });
  console.log(`Loading ${fmt(COUNT)} indicators (seed ${SEED}) and ${fmt(FALSE_POSITIVES)} false positives…`);
  const { byType, body } = loadDataset();
  const loadStart = Date.now();
  await upload(server, 'BenchFeed', body);
  const fpRand = rng(SEED + 2);
  const fps = Array.from({ length: FALSE_POSITIVES }, (_, i) => {
    const pool = i % 2 ? byType.domain : byType.ip;
    return JSON.stringify({ indicator: pool[Math.floor(fpRand() * pool.length)] });
  });
  await upload(server, 'FalsePositive', Buffer.from(fps.join('\n') + '\n'));
  console.log(`Loaded in ${fmt((Date.now() - loadStart) / 1000, 1)} s`);

  const queries = makeQueries(byType, 40 * BATCH);
  const batches = Array.from({ length: 40 }, (_, i) => queries.slice(i * BATCH, (i + 1) * BATCH));
  await bulk(server, batches.slice(0, 2)); // warm-up
  const sample = await (
    await fetch(`${server.base}/api/v1/search`, {
      method: 'POST',
      headers: { Authorization: server.adminAuth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ values: batches[0].map(([, v]) => v) }),
    })
  ).json();
  const verdicts = {};
  for (const r of sample.results) verdicts[r.result] = (verdicts[r.result] ?? 0) + 1;
  const bulkRate = await bulk(server, batches.slice(2));
  const baseRate = await baseline(server.databaseUrl, batches.slice(2));

  const client = await api(server, 'POST', '/api/v1/api-clients', { name: 'bench-siem', role: 'Analyst' });
  const headers = { Authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` };
  const requests = queries.slice(0, 5_000).map(([, v]) => ({ method: 'GET', path: `/api/v1/search?value=${encodeURIComponent(v)}` }));
  await cannon({ url: server.base, headers, requests, duration: 3 }); // warm-up
  const health = await cannon({ url: `${server.base}/health/live` });
  const single = await cannon({ url: server.base, headers, requests });

  const ok = (b) => (b ? 'ok' : 'MISSED');
  const bulkRatio = bulkRate / baseRate;
  const singleRatio = single.requests.average / health.requests.average;
  console.log(`
Verdicts in one 10,000-value request: ${JSON.stringify(verdicts)}
Bulk     POST /api/v1/search (10,000 values, 2 clients)  ${fmt(bulkRate)} values/s   target ≥ ${fmt(TARGETS.bulk)}   ${ok(bulkRate >= TARGETS.bulk)}
Baseline pg exact (value, type) lookups, 10,000/batch     ${fmt(baseRate)} values/s
Ratio    ${fmt(bulkRatio, 2)}   target ≥ ${TARGETS.bulkRatio}   ${ok(bulkRatio >= TARGETS.bulkRatio)}
Single   GET /api/v1/search (32 connections, client Basic) ${fmt(single.requests.average)} req/s, p50 ${single.latency.p50} ms, p99 ${single.latency.p99} ms   target ≥ ${fmt(TARGETS.single)} req/s, p99 ≤ ${TARGETS.p99} ms   ${ok(single.requests.average >= TARGETS.single && single.latency.p99 <= TARGETS.p99)}
Baseline GET /health/live                                 ${fmt(health.requests.average)} req/s
Ratio    ${fmt(singleRatio, 2)}   target ≥ ${TARGETS.singleRatio}   ${ok(singleRatio >= TARGETS.singleRatio)}`);
} finally {
  await server.stop();
}
