// Search throughput, on the built server (dist/) over a fresh database holding the seeded
// dataset of bench/dataset.mjs plus 10,000 FalsePositive entries; every figure with
// SEARCH_INDEX=off and =on side by side (one database each, loaded by its own server).
//
// - upload: the dataset in one PUT → s (the index must cost ≤ 5% more); index bytes per
//           million keys and RSS; start-up of a second SEARCH_INDEX=on server on the loaded
//           database (the index build, readiness 503 until done).
// - bulk:   POST /api/v1/search, 10,000 mixed values per request at 10% and 1% hits, 2
//           concurrent clients → values/s; baseline: the same canonical values looked up by
//           exact (value, type) match through pg in batches of 10,000, 2 clients, no HTTP.
// - single: GET /api/v1/search?value= at 32 connections with an API client's Basic
//           credentials → req/s, p50, p99, server CPU per request; baselines: GET /api/v1/me
//           with the same credentials, and /health/live, on the same server, in BENCH_ROUNDS
//           interleaved rounds after the bulk runs' writes have settled.
// - counting: hit counting on (DETECTIONS=on, the servers above) against off (DETECTIONS=off,
//           a second server on the same loaded database), in BENCH_ROUNDS interleaved rounds
//           (the order alternating) of bulk at 10% hits (100,000 values) and single GETs
//           (BENCH_SECONDS) on each, so a loaded machine weighs on both alike; rates over all
//           rounds. Counting must cost ≤ 5%.
// - tenancy: (BENCH_TENANCY=off skips it) the bulk and single figures again, SEARCH_INDEX=on,
//           as tenant bench-a, a child of default, on one server and database where default
//           shares its supplier BenchShared (the dataset, "sharing": "descendants") and
//           bench-other holds the same BENCH_COUNT indicators in a supplier of its own.
//           bench-a subscribes to BenchShared and owns only its built-ins (its FalsePositive
//           holds the same 10,000 entries as above), so the same query mix hits the shared
//           values. Single GETs with bench-a's own API client (Analyst), bulk as the admin
//           acting in bench-a (X-Indicium-Tenant). Before measuring, a shared hit must come
//           back with "sharedBy": "default", and the measured bulk's verdicts must equal the
//           single-tenant run's. Against the single-tenant SEARCH_INDEX=on figures of the same
//           run (target ≥ 0.9×).
//
// Usage: npm run build && npm run bench:search
// Env: DATABASE_URL, BENCH_COUNT (default 1,000,000), BENCH_SECONDS (default 15), BENCH_SEED,
// BENCH_ROUNDS (default 3), BENCH_INDEX_OFF=skip (no SEARCH_INDEX=off column); BENCH_REFERENCE_MAIN: another build's main.js for the single-tenant
// servers (the tenancy mode's stays on BENCH_MAIN / dist), to hold a change against the build
// before it in one run.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import { BENCH_TAGS, generateIndicators, rng } from './dataset.mjs';
import { api, fmt, startServer } from './support.mjs';

const COUNT = Number(process.env.BENCH_COUNT ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REFERENCE_MAIN = process.env.BENCH_REFERENCE_MAIN;
const BATCH = 10_000;
const FALSE_POSITIVES = 10_000;
const TENANCY_RATIO = 0.9;
const TARGETS = {
  bulkRatio10: 0.7,
  bulkRatio1: 1.0,
  meRatio: 0.9,
  p99: 20,
  uploadSlowdown: 1.05,
  countingSlowdown: 0.95,
};

/** The dataset's values by type, and the NDJSON bodies to upload it and the false positives in. */
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
  const fpRand = rng(SEED + 2);
  const fps = Array.from({ length: FALSE_POSITIVES }, (_, i) => {
    const pool = i % 2 ? byType.domain : byType.ip;
    return JSON.stringify({ indicator: pool[Math.floor(fpRand() * pool.length)] });
  });
  return { byType, body: Buffer.from(parts.join('')), falsePositives: Buffer.from(fps.join('\n') + '\n') };
}

/** A timestamped progress line with the machine's load average. */
function phase(label) {
  const l = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`[${new Date().toISOString().slice(11, 19)} UTC, load ${l}] ${label}`);
}

async function upload(server, supplier, body, contentType = 'application/x-ndjson') {
  const res = await fetch(`${server.base}/api/v1/suppliers/${supplier}/indicators`, {
    method: 'PUT',
    headers: { ...server.tenantHeaders, Authorization: server.adminAuth, 'Content-Type': contentType },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`upload to ${supplier}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Query values as a SIEM would send them, with their canonical (type, value) for the baseline. */
function makeQueries(byType, total, hitRate) {
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
  return Array.from({ length: total }, () => (rand() < hitRate ? pick(hits) : pick(misses))());
}

/**
 * Bulk searches of `batches` by 2 clients → values/s. With `tally`, counts the results by
 * verdict, and the matches by who shares them (`sharedBy`, or `own`).
 */
async function bulk(server, batches, tally) {
  let next = 0;
  let values = 0;
  const client = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      const res = await fetch(`${server.base}/api/v1/search`, {
        method: 'POST',
        headers: { ...server.tenantHeaders, Authorization: server.adminAuth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ values: batch.map(([, v]) => v) }),
      });
      if (res.status !== 200) throw new Error(`search: ${res.status} ${(await res.text()).slice(0, 300)}`);
      const { results } = await res.json();
      if (results.length !== batch.length) throw new Error('wrong result count');
      if (tally) count(tally, results);
      values += batch.length;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all([client(), client()]);
  return values / (Number(process.hrtime.bigint() - started) / 1e9);
}

function count(tally, results) {
  for (const r of results) {
    tally[r.result] = (tally[r.result] ?? 0) + 1;
    for (const m of r.matches ?? []) {
      const by = `matches ${m.sharedBy === undefined ? 'own' : `sharedBy ${m.sharedBy}`}`;
      tally[by] = (tally[by] ?? 0) + 1;
    }
  }
}

const tallyText = (t) =>
  Object.keys(t)
    .sort()
    .map((k) => `${k} ${fmt(t[k])}`)
    .join(', ');

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

async function metric(server, name) {
  const text = await (await fetch(`${server.base}/metrics`, { headers: { Authorization: server.adminAuth } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** CPU time (user + system) the server process has used, in ms. */
function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/**
 * Waits until the server's hit counters and retro values are flushed and Postgres is idle
 * (autovacuum and ANALYZE of the freshly loaded table included), so the single-GET rounds
 * measure searches, not the aftermath of the bulk runs.
 */
async function settle(server) {
  const c = new pg.Client({ connectionString: server.databaseUrl });
  await c.connect();
  try {
    await c.query('VACUUM ANALYZE');
    for (let i = 0; i < 60; i++) {
      const { rows } = await c.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`,
      );
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 6_000)); // one detection flush interval
  } finally {
    await c.end();
  }
}

/**
 * Single GETs against `/api/v1/me` (same credentials) and `/health/live` on the same server,
 * in ROUNDS interleaved rounds (the order alternating), so drift in the machine's load weighs
 * on each alike; req/s over all rounds, p50/p99 of the worst round, and the server's CPU time
 * per request (user + system, from /proc), the cost the search adds to a request.
 */
async function single(server, headers, requests) {
  const kinds = {
    single: { url: server.base, headers, requests },
    me: { url: `${server.base}/api/v1/me`, headers },
    health: { url: `${server.base}/health/live` },
  };
  const acc = Object.fromEntries(Object.keys(kinds).map((k) => [k, { req: 0, s: 0, cpu: 0, p50: 0, p99: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ['me', 'single', 'health'] : ['single', 'me', 'health'];
    for (const k of order) {
      const c0 = cpuMs(server.pid);
      const r = await cannon(kinds[k]);
      const a = acc[k];
      a.cpu += cpuMs(server.pid) - c0;
      a.req += r.requests.total;
      a.s += r.duration;
      a.p50 = Math.max(a.p50, r.latency.p50);
      a.p99 = Math.max(a.p99, r.latency.p99);
    }
  }
  const out = {};
  for (const [k, a] of Object.entries(acc))
    out[k] = { rate: a.req / a.s, p50: a.p50, p99: a.p99, cpuUs: (1000 * a.cpu) / a.req };
  return out;
}

/**
 * Two servers (or views of one, `{server, headers}` each: bulk as `server`'s admin, single GETs
 * with `headers`) in ROUNDS interleaved rounds, the order alternating, of bulk (10 batches of
 * the 10% queries) and single GETs on each, so drift in the machine's load weighs on both
 * alike; values/s and req/s over all rounds, p50/p99 the worst round's, server CPU per GET.
 */
async function interleaved(sides, batches, requests) {
  const acc = Object.fromEntries(Object.keys(sides).map((k) => [k, { values: 0, s: 0, req: 0, rs: 0, cpu: 0, p50: 0, p99: 0 }]));
  const names = Object.keys(sides);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...names].reverse() : names;
    const slice = batches.slice((round * 10) % 30, ((round * 10) % 30) + 10);
    for (const k of order) {
      const t = process.hrtime.bigint();
      await bulk(sides[k].server, slice);
      acc[k].s += Number(process.hrtime.bigint() - t) / 1e9;
      acc[k].values += slice.length * BATCH;
    }
    for (const k of order) {
      const c0 = cpuMs(sides[k].server.pid);
      const r = await cannon({ url: sides[k].server.base, headers: sides[k].headers, requests });
      const a = acc[k];
      a.cpu += cpuMs(sides[k].server.pid) - c0;
      a.req += r.requests.total;
      a.rs += r.duration;
      a.p50 = Math.max(a.p50, r.latency.p50);
      a.p99 = Math.max(a.p99, r.latency.p99);
    }
  }
  const rates = (x) => ({ bulk: x.values / x.s, single: x.req / x.rs, p50: x.p50, p99: x.p99, cpuUs: (1000 * x.cpu) / x.req });
  return Object.fromEntries(names.map((k) => [k, rates(acc[k])]));
}

/**
 * Counting on (`server`) against off (`uncounted`, same database), interleaved: bulk and
 * single GETs with the same credentials on each.
 */
const counting = (server, uncounted, batches, headers, requests) =>
  interleaved({ on: { server, headers }, off: { server: uncounted, headers } }, batches, requests);

/**
 * Every figure for one SEARCH_INDEX setting. With `keep`, the loaded server is left running
 * and handed back (`server`, and the API client's `headers`) for the tenancy mode's rounds.
 */
async function measure(searchIndex, dataset, keep = false) {
  const env = { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', SEARCH_INDEX: searchIndex, DETECTIONS: 'on' };
  const main = REFERENCE_MAIN;
  const server = await startServer(env, { main });
  let handed = false;
  try {
    const out = {};
    for (const name of BENCH_TAGS) await api(server, 'POST', '/api/v1/tags', { name, weight: 3 });
    await api(server, 'POST', '/api/v1/suppliers', { name: 'BenchFeed', vendor: 'Bench', actionableFields: ['threat'] });
    const { byType, body } = dataset;
    const loadStart = Date.now();
    await upload(server, 'BenchFeed', body);
    out.upload = (Date.now() - loadStart) / 1000;
    await upload(server, 'FalsePositive', dataset.falsePositives);
    out.keys = await metric(server, 'indicium_search_index_keys');
    out.indexBytes = await metric(server, 'indicium_search_index_bytes');
    out.rss = server.peakRss();

    // A second server on the loaded database: start-up until ready (the index build when on).
    const startedAt = Date.now();
    const second = await startServer(env, { databaseUrl: server.databaseUrl, main });
    out.startup = (Date.now() - startedAt) / 1000;
    await second.stop();

    let batches10;
    for (const [label, rate] of [['10', 0.1], ['1', 0.01]]) {
      const queries = makeQueries(byType, 40 * BATCH, rate);
      const batches = Array.from({ length: 40 }, (_, i) => queries.slice(i * BATCH, (i + 1) * BATCH));
      await bulk(server, batches.slice(0, 2)); // warm-up
      out[`tally${label}`] = {};
      out[`bulk${label}`] = await bulk(server, batches.slice(2), out[`tally${label}`]);
      out[`base${label}`] = await baseline(server.databaseUrl, batches.slice(2));
      if (label === '10') {
        out.queries = queries;
        batches10 = batches;
      }
    }

    const client = await api(server, 'POST', '/api/v1/api-clients', { name: 'bench-siem', role: 'Analyst' });
    const headers = { Authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` };
    const requests = out.queries.slice(0, 5_000).map(([, v]) => ({ method: 'GET', path: `/api/v1/search?value=${encodeURIComponent(v)}` }));
    delete out.queries;
    await cannon({ url: server.base, headers, requests, duration: 3 }); // warm-up
    await settle(server);
    Object.assign(out, await single(server, headers, requests));
    out.maybe = await metric(server, 'indicium_search_index_lookups_total{answer="maybe"}');
    out.miss = await metric(server, 'indicium_search_index_lookups_total{answer="miss"}');

    const uncounted = await startServer({ ...env, DETECTIONS: 'off' }, { databaseUrl: server.databaseUrl, main });
    try {
      await bulk(uncounted, batches10.slice(0, 2)); // warm-up
      await cannon({ url: uncounted.base, headers, requests, duration: 3 });
      out.counting = await counting(server, uncounted, batches10, headers, requests);
    } finally {
      await uncounted.stop();
    }
    if (keep) {
      Object.assign(out, { server, headers });
      handed = true;
    }
    return out;
  } finally {
    if (!handed) await server.stop();
  }
}

/** The server as seen by the admin acting in `tenant`. */
const actingIn = (server, tenant) => ({ ...server, tenantHeaders: { 'X-Indicium-Tenant': tenant } });

/** A supplier `name` in the tenant of `view`, holding the dataset (and the bench tags it needs). */
async function loadSupplier(view, name, dataset, extra = {}) {
  const headers = view.tenantHeaders ?? {};
  for (const tag of BENCH_TAGS) await api(view, 'POST', '/api/v1/tags', { name: tag, weight: 3 }, undefined, headers);
  await api(view, 'POST', '/api/v1/suppliers', { name, vendor: 'Bench', actionableFields: ['threat'], ...extra }, undefined, headers);
  await upload(view, name, dataset.body);
}

/**
 * Before measuring: bench-a lists BenchShared as subscribed, and a value of the dataset comes
 * back detected with BenchShared's match alone, `"sharedBy": "default"` (bench-other's copy
 * never), both for the single GET of bench-a's client and the bulk of the admin acting there.
 */
async function checkShared(a, clientAuth, dataset) {
  const listed = await api(a, 'GET', '/api/v1/shared-suppliers', undefined, undefined, a.tenantHeaders);
  const entry = listed.find((s) => s.name === 'BenchShared');
  if (!entry || entry.owner !== 'default' || entry.subscribed !== true)
    throw new Error(`GET /api/v1/shared-suppliers in bench-a: ${JSON.stringify(listed)}`);
  const value = dataset.byType.md5[0];
  const expect = (r, how) => {
    const ok =
      r.result === 'detected' &&
      r.matches.length === 1 &&
      r.matches[0].supplier === 'BenchShared' &&
      r.matches[0].sharedBy === 'default';
    if (!ok) throw new Error(`${how} of a shared value in bench-a: ${JSON.stringify(r)}`);
  };
  expect(await api(a, 'GET', `/api/v1/search?value=${value}`, undefined, clientAuth), 'single GET');
  const { results } = await api(a, 'POST', '/api/v1/search', { values: [value] }, undefined, a.tenantHeaders);
  expect(results[0], 'bulk');
}

/**
 * A tenant's view of the server (docs/tenancy.md): bench-a searches the indicators default
 * shares with it, on a database where bench-other holds the same indicators too. Then
 * `reference` (the single-tenant SEARCH_INDEX=on server, still running) and bench-a in
 * interleaved rounds, so the machine's drift since the single-tenant figures weighs on both.
 */
async function measureTenancy(dataset, reference) {
  const env = { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', SEARCH_INDEX: 'on', DETECTIONS: 'on' };
  const server = await startServer(env);
  try {
    const out = {};
    await loadSupplier(server, 'BenchShared', dataset, { sharing: 'descendants' });
    for (const tenant of ['bench-other', 'bench-a']) await api(server, 'POST', '/api/v1/tenants', { name: tenant });
    await loadSupplier(actingIn(server, 'bench-other'), 'BenchOther', dataset);
    const a = actingIn(server, 'bench-a');
    await upload(a, 'FalsePositive', dataset.falsePositives);
    await api(a, 'PUT', '/api/v1/shared-suppliers/BenchShared', { subscribed: true }, undefined, a.tenantHeaders);
    const client = await api(a, 'POST', '/api/v1/api-clients', { name: 'bench-siem', role: 'Analyst' }, undefined, a.tenantHeaders);
    const auth = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
    await checkShared(a, auth, dataset);
    out.keys = await metric(server, 'indicium_search_index_keys');

    const queries = makeQueries(dataset.byType, 40 * BATCH, 0.1);
    const batches = Array.from({ length: 40 }, (_, i) => queries.slice(i * BATCH, (i + 1) * BATCH));
    await bulk(a, batches.slice(0, 2)); // warm-up
    out.tally10 = {};
    out.bulk10 = await bulk(a, batches.slice(2), out.tally10);
    const headers = { Authorization: auth };
    const requests = queries.slice(0, 5_000).map(([, v]) => ({ method: 'GET', path: `/api/v1/search?value=${encodeURIComponent(v)}` }));
    await cannon({ url: server.base, headers, requests, duration: 3 }); // warm-up
    await settle(server);
    Object.assign(out, await single(server, headers, requests));

    await bulk(reference.server, batches.slice(0, 2)); // warm-up after its idle while we loaded
    await cannon({ url: reference.server.base, headers: reference.headers, requests, duration: 3 });
    out.paired = await interleaved(
      { single: { server: reference.server, headers: reference.headers }, tenancy: { server: a, headers } },
      batches,
      requests,
    );
    return out;
  } finally {
    await server.stop();
  }
}

console.log(`Loading ${fmt(COUNT)} indicators (seed ${SEED}) and ${fmt(FALSE_POSITIVES)} false positives, per setting…`);
if (REFERENCE_MAIN) console.log(`Single-tenant servers: ${REFERENCE_MAIN}; tenancy: ${process.env.BENCH_MAIN ?? 'dist/main.js'}`);
const dataset = loadDataset();
const skipOff = process.env.BENCH_INDEX_OFF === 'skip';
if (!skipOff) phase('SEARCH_INDEX=off');
const off = skipOff ? undefined : await measure('off', dataset);
phase('SEARCH_INDEX=on');
const withTenancy = process.env.BENCH_TENANCY !== 'off';
const on = await measure('on', dataset, withTenancy);
let tenancy;
if (withTenancy) {
  phase('tenancy');
  try {
    tenancy = await measureTenancy(dataset, on);
  } finally {
    await on.server.stop();
  }
}
phase('done');

const ok = (b) => (b ? 'ok' : 'MISSED');
const MiB = 1024 * 1024;
const row = (label, f) => console.log(`${label.padEnd(58)} ${String(off ? f(off) : '-').padStart(22)} ${String(f(on)).padStart(22)}`);
console.log(`\n${''.padEnd(58)} ${'SEARCH_INDEX=off'.padStart(22)} ${'SEARCH_INDEX=on'.padStart(22)}`);
row(`Upload ${fmt(COUNT)} indicators (s)`, (r) => fmt(r.upload, 1));
row('Start-up of a second server on the loaded database (s)', (r) => fmt(r.startup, 1));
row('Peak RSS after the load (MiB)', (r) => fmt(r.rss / MiB));
row('Index keys / table MiB', (r) => `${fmt(r.keys)} / ${fmt(r.indexBytes / MiB, 1)}`);
row('Bulk 10% hits (values/s)', (r) => fmt(r.bulk10));
row('  pg exact-lookup baseline (values/s)', (r) => fmt(r.base10));
row('  ratio', (r) => fmt(r.bulk10 / r.base10, 2));
row('Bulk 1% hits (values/s)', (r) => fmt(r.bulk1));
row('  pg exact-lookup baseline (values/s)', (r) => fmt(r.base1));
row('  ratio', (r) => fmt(r.bulk1 / r.base1, 2));
row(`Single GET, 32 connections, ${ROUNDS} rounds (req/s)`, (r) => fmt(r.single.rate));
row('  worst p50 / p99 (ms)', (r) => `${r.single.p50} / ${r.single.p99}`);
row('  GET /api/v1/me, same credentials (req/s)', (r) => fmt(r.me.rate));
row('  ratio to /api/v1/me', (r) => fmt(r.single.rate / r.me.rate, 2));
row('  GET /health/live (req/s)', (r) => fmt(r.health.rate));
row('  ratio to /health/live', (r) => fmt(r.single.rate / r.health.rate, 2));
row('  server CPU per request: search / me / live (µs)', (r) => `${fmt(r.single.cpuUs)} / ${fmt(r.me.cpuUs)} / ${fmt(r.health.cpuUs)}`);
row('  CPU ratio /api/v1/me ÷ search', (r) => fmt(r.me.cpuUs / r.single.cpuUs, 2));
row('Index "maybe" rate (keys sent to Postgres)', (r) => (r.maybe + r.miss > 0 ? fmt(r.maybe / (r.maybe + r.miss), 3) : '-'));
row(`Counting off: bulk 10% hits (values/s), ${ROUNDS} rounds`, (r) => fmt(r.counting.off.bulk));
row('  counting on (values/s)', (r) => fmt(r.counting.on.bulk));
row('  on / off', (r) => fmt(r.counting.on.bulk / r.counting.off.bulk, 3));
row(`Counting off: single GET (req/s), ${ROUNDS} rounds`, (r) => fmt(r.counting.off.single));
row('  counting on (req/s)', (r) => fmt(r.counting.on.single));
row('  on / off', (r) => fmt(r.counting.on.single / r.counting.off.single, 3));
row('  worst p99 off / on (ms)', (r) => `${r.counting.off.p99} / ${r.counting.on.p99}`);
const perMillion = on.keys > 0 ? (on.indexBytes / on.keys) * 1e6 : 0;
console.log(`
Targets (SEARCH_INDEX=on):
  bulk 10% ratio ≥ ${TARGETS.bulkRatio10}: ${ok(on.bulk10 / on.base10 >= TARGETS.bulkRatio10)}; bulk 1% ratio ≥ ${TARGETS.bulkRatio1}: ${ok(on.bulk1 / on.base1 >= TARGETS.bulkRatio1)}
  single ≥ ${TARGETS.meRatio}× /api/v1/me: ${ok(on.single.rate / on.me.rate >= TARGETS.meRatio)} (CPU: ${ok(on.me.cpuUs / on.single.cpuUs >= TARGETS.meRatio)}); p99 ≤ ${TARGETS.p99} ms: ${ok(on.single.p99 <= TARGETS.p99)}
  upload ≤ ${TARGETS.uploadSlowdown}× off: ${off ? `${fmt(on.upload / off.upload, 3)}× ${ok(on.upload / off.upload <= TARGETS.uploadSlowdown)}` : '-'}
  index table per million keys: ${fmt(perMillion / MiB, 1)} MiB (budget 48); start-up ${fmt(on.startup, 1)} s (budget 10)
Targets (hit counting, DETECTIONS=on against off, each SEARCH_INDEX setting): ≥ ${TARGETS.countingSlowdown}× off
  ${[['off', off], ['on', on]]
    .filter(([, r]) => r)
    .map(([name, r]) => {
      const b = r.counting.on.bulk / r.counting.off.bulk;
      const g = r.counting.on.single / r.counting.off.single;
      return `SEARCH_INDEX=${name}: bulk ${fmt(b, 3)}× ${ok(b >= TARGETS.countingSlowdown)}, single ${fmt(g, 3)}× ${ok(g >= TARGETS.countingSlowdown)}`;
    })
    .join('\n  ')}`);
if (tenancy) {
  const ratio = (t, o) => `${fmt(t / o, 2)}×`;
  const bulkRatio = tenancy.bulk10 / on.bulk10;
  const singleRatio = tenancy.single.rate / on.single.rate;
  const t = tenancy.single;
  const o = on.single;
  const p = tenancy.paired;
  const { 'matches sharedBy default': shared, ...rest } = tenancy.tally10;
  const same = !('matches own' in rest) && shared > 0 && tallyText({ ...rest, 'matches own': shared }) === tallyText(on.tally10);
  // Figures of other verdicts than the single-tenant run's measure something else (misses).
  const okT = (r) => (same ? ok(r >= TENANCY_RATIO) : 'INVALID: not the same verdicts');
  console.log(`
Tenancy (SEARCH_INDEX=on, one server): bench-a searches ${fmt(COUNT)} indicators default shares with it
(BenchShared, subscribed), beside bench-other's own ${fmt(COUNT)}; ${fmt(tenancy.keys)} index keys. Against
the single-tenant SEARCH_INDEX=on figures above (target ≥ ${TENANCY_RATIO}×):
  bulk 10% hits: ${fmt(tenancy.bulk10)} values/s against ${fmt(on.bulk10)} = ${fmt(bulkRatio, 2)}× ${okT(bulkRatio)}
  single GET: ${fmt(t.rate)} req/s against ${fmt(o.rate)} = ${fmt(singleRatio, 2)}× ${okT(singleRatio)}
    worst p50 / p99: ${t.p50} / ${t.p99} ms against ${o.p50} / ${o.p99} ms
    server CPU per single search: ${fmt(t.cpuUs)} µs against ${fmt(o.cpuUs)} µs = ${ratio(o.cpuUs, t.cpuUs)} (single-tenant ÷ tenancy)
  the machine's drift between the two: GET /api/v1/me ${fmt(tenancy.me.rate)} against ${fmt(on.me.rate)} req/s = ${ratio(tenancy.me.rate, on.me.rate)}, /health/live ${fmt(tenancy.health.rate)} against ${fmt(on.health.rate)} = ${ratio(tenancy.health.rate, on.health.rate)}
  bulk verdicts, tenancy: ${tallyText(tenancy.tally10)}
                 single-tenant: ${tallyText(on.tally10)}
  the same verdicts and matches, the matches shared by default: ${ok(same)}
Tenancy against single-tenant in ${ROUNDS} interleaved rounds (both servers running, the order alternating):
  bulk 10% hits: ${fmt(p.tenancy.bulk)} against ${fmt(p.single.bulk)} values/s = ${ratio(p.tenancy.bulk, p.single.bulk)} ${okT(p.tenancy.bulk / p.single.bulk)}
  single GET: ${fmt(p.tenancy.single)} against ${fmt(p.single.single)} req/s = ${ratio(p.tenancy.single, p.single.single)} ${okT(p.tenancy.single / p.single.single)}
    worst p50 / p99: ${p.tenancy.p50} / ${p.tenancy.p99} ms against ${p.single.p50} / ${p.single.p99} ms
    server CPU per single search: ${fmt(p.tenancy.cpuUs)} µs against ${fmt(p.single.cpuUs)} µs = ${ratio(p.single.cpuUs, p.tenancy.cpuUs)} (single-tenant ÷ tenancy)`);
}
