// What hit counting and detection recording add to a search, on the built server code (dist/):
// the CPU DetectionRecorder.record spends on the search path, per request, for a single GET
// (one value) and a bulk POST (10,000 values at 10% and 1% hits); with counting off it spends
// none. The flush (every 5 s, off the request) is measured apart: building and encoding its rows
// on the main thread, per event; the UPSERT itself runs in Postgres.
//
// The share of a search it costs is reported against the request CPU measured by
// bench:search on the reference machine (README, Benchmarks: single ~2,500 req/s with the main
// thread ~95% busy ≈ 380 µs per request; bulk 68,000 values/s ≈ 147 ms per 10,000 values).
// CPU time, not wall time: the figures hold on a loaded machine. Bulk is measured with values
// searched for the first time ("new") and with values searched before ("again"): a clean value
// remembered within the last hour for the same principal is not remembered again.
//
// Usage: npm run build && npm run bench:detections (BENCH_DIST: another build, default dist/)
//        npm run build && npm run bench:detections -- server   (see serverBench below)
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const DIST = process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname;
const { DetectionRecorder } = require(`${DIST}/detections/detection-recorder.js`);
const { Registry } = require('prom-client');

const SINGLE_REQUEST_US = 380;
const BULK_REQUEST_US = 147_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200_000);
const BULK_ROUNDS = Number(process.env.BENCH_BULK_ROUNDS ?? 200);

const sink = [];

function recorder() {
  // The database side is not what is measured: a flush only encodes its rows as it would send
  // them (JSON, when the build has jsonRows).
  const { jsonRows } = require(`${DIST}/detections/detections.repository.js`);
  const repo = {
    flush: async (hits, events) => {
      if (jsonRows) sink.push(jsonRows(hits).length + jsonRows(events).length);
    },
  };
  const config = { env: { DETECTIONS: 'on', RETROSCAN_DAYS: 7, DETECTION_FLUSH_MS: 5_000 } };
  const r = new DetectionRecorder(repo, config, { registry: new Registry() });
  r.setRetroSink({ remember: async () => undefined });
  return r;
}

const principal = { type: 'client', id: '0190c0de-0000-7000-8000-000000000001', name: 'siem' };

function result(i, detected) {
  const value = `host${i}.example${i % 97}.com`;
  return resultOf(value, i, detected);
}

function resultOf(value, i, detected) {
  return detected
    ? {
        type: 'domain',
        normalized: value,
        result: 'detected',
        matches: [
          {
            supplier: 'AcmeFeed',
            indicator: `example${i % 97}.com`,
            indicatorType: 'domain',
            matchedBy: 'parent_domain',
            context: { threat: 'phishing' },
          },
        ],
      }
    : { type: 'domain', normalized: value, result: 'not_detected', matches: [] };
}

function cpuUs(fn) {
  const start = process.cpuUsage();
  fn();
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

async function single(hitRate) {
  const r = recorder();
  const inputs = Array.from({ length: 10_000 }, (_, i) => [result(i, i / 10_000 < hitRate)]);
  let spent = 0;
  for (let done = 0; done < ROUNDS;) {
    // 12,500 requests ≈ one 5 s flush interval at 2,500 req/s.
    const n = Math.min(12_500, ROUNDS - done);
    spent += cpuUs(() => {
      for (let k = 0; k < n; k++) r.record(principal, inputs[(done + k) % inputs.length]);
    });
    done += n;
    await r.flush();
  }
  return spent / ROUNDS;
}

async function bulk(hitRate, fresh) {
  const r = recorder();
  const make = (k) =>
    Array.from({ length: 10_000 }, (_, i) =>
      fresh
        ? resultOf(`h${i}-${k}.clean${i % 97}.example.org`, i, i % Math.round(1 / hitRate) === 0)
        : result(i, i % Math.round(1 / hitRate) === 0),
    );
  let results = make(0);
  let spent = 0;
  for (let k = 0; k < BULK_ROUNDS; k++) {
    if (fresh) results = make(k);
    spent += cpuUs(() => r.record(principal, results));
    if (k % 5 === 4) await r.flush();
  }
  return spent / BULK_ROUNDS;
}

async function flushCost() {
  const r = recorder();
  const results = Array.from({ length: 10_000 }, (_, i) => result(i, true));
  r.record(principal, results);
  const start = process.cpuUsage();
  await r.flush();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / results.length;
}

const fmt = (n) => n.toFixed(2);

async function micro() {
  // Warm up the JIT on both paths first.
  await single(0.1);
  await bulk(0.1, false);
  await bulk(0.1, true);
  console.log(
    'hits   single GET µs/request (share)   bulk 10,000 values µs/request (share): new / again   target ≤ 5%',
  );
  for (const hitRate of [0.1, 0.01]) {
    const s1 = await single(hitRate);
    const b = await bulk(hitRate, true);
    const again = await bulk(hitRate, false);
    console.log(
      `${String(hitRate * 100).padStart(3)}%   ${fmt(s1).padStart(8)} (${fmt((100 * s1) / SINGLE_REQUEST_US)}%)` +
        `             ${fmt(b).padStart(10)} (${fmt((100 * b) / BULK_REQUEST_US)}%) / ${fmt(again)} (${fmt((100 * again) / BULK_REQUEST_US)}%)`,
    );
  }
  console.log(
    `flush, main thread: ${fmt(await flushCost())} µs per pending event (off the request)`,
  );
}

// --- `node bench/detections.mjs server`: counting on against off on real servers ------------
//
// One database loaded with BENCH_COUNT indicators (default 200,000; SEARCH_INDEX as set, default
// on), then two servers on it, DETECTIONS=on and =off. Every clean value of the rounds was
// searched once before (as a SIEM repeats the same values, and as bench:search does), then
// BENCH_ROUNDS interleaved rounds (order alternating) of 10 bulk requests of 10,000 values at
// 10% hits, 2 clients, on each (BENCH_FRESH=1: values never searched before instead; with
// BENCH_ROUNDS above 2 the third round repeats the first's values). After each side's bulk the
// bench waits past one flush interval,
// so the CPU of each side includes its flush: the server's own (/proc/<pid>/stat) and that of
// its Postgres backends (told apart by application_name). CPU per value, not only values/s:
// on a shared machine the rates are noisy, CPU time much less so.
// BENCH_ON_ENV='{"NAME": "value"}' adds environment to the DETECTIONS=on server only;
// BENCH_SIGNAL_ROUNDS=SIGUSR2 sends that signal to both servers when the rounds start (e.g. for a
// profiler wrapped around them with BENCH_MAIN).

async function serverBench() {
  const { readFileSync } = await import('node:fs');
  const pg = (await import('pg')).default;
  const { BENCH_TAGS, generateIndicators, rng } = await import('./dataset.mjs');
  const { startServer, api } = await import('./support.mjs');
  const COUNT = Number(process.env.BENCH_COUNT ?? 200_000);
  const ROUNDS_S = Number(process.env.BENCH_ROUNDS ?? 4);
  const SEARCH_INDEX = process.env.SEARCH_INDEX ?? 'on';
  const FLUSH_MS = 5_000;
  const BATCH = 10_000;
  const byType = { ip: [], cidr: [], domain: [], url: [], md5: [], sha1: [], sha256: [] };
  const lines = [];
  for (const e of generateIndicators(COUNT, 42)) {
    byType[e.type].push(e.indicator);
    lines.push(JSON.stringify(e));
  }
  const env = { LOG_LEVEL: 'warn', SEARCH_INDEX, DETECTION_FLUSH_MS: String(FLUSH_MS) };
  const loader = await startServer({ ...env, DETECTIONS: 'off' });
  const withApp = (name) => {
    const u = new URL(loader.databaseUrl);
    u.searchParams.set('application_name', name);
    return u.toString();
  };
  const servers = {};
  try {
    for (const name of BENCH_TAGS) await api(loader, 'POST', '/api/v1/tags', { name, weight: 3 });
    await api(loader, 'POST', '/api/v1/suppliers', { name: 'BenchFeed' });
    const up = await fetch(`${loader.base}/api/v1/suppliers/BenchFeed/indicators`, {
      method: 'PUT',
      headers: { Authorization: loader.adminAuth, 'Content-Type': 'application/x-ndjson' },
      body: lines.join('\n') + '\n',
    });
    if (up.status !== 200) throw new Error(`upload: ${up.status}`);
    servers.on = await startServer(
      { ...env, DETECTIONS: 'on', ...JSON.parse(process.env.BENCH_ON_ENV ?? '{}') },
      { databaseUrl: withApp('bench-on') },
    );
    servers.off = await startServer(
      { ...env, DETECTIONS: 'off' },
      { databaseUrl: withApp('bench-off') },
    );

    const rand = rng(43);
    const pick = (arr) => arr[Math.floor(rand() * arr.length)];
    const hex = (n) =>
      Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
    const hits = [
      () => pick(byType.ip),
      () => `www.${pick(byType.domain)}`,
      () => pick(byType.domain),
      () => `${pick(byType.url).split('?')[0]}/deeper?x=1`,
      () => pick(byType.md5),
      () => `victim@${pick(byType.domain)}`,
    ];
    const misses = [
      () =>
        `${1 + Math.floor(rand() * 222)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`,
      () => `2001:db8:ffff:${hex(4)}::${hex(3)}`,
      () => `clean-${hex(8)}.example.org`,
      () => `clean-${hex(6)}.example.net/a/${hex(6)}.html`,
      () => hex(32),
      () => hex(64),
      () => `someone@clean-${hex(6)}.example.com`,
    ];
    const makeBatches = () =>
      Array.from({ length: 20 }, () =>
        Array.from({ length: BATCH }, () => (rand() < 0.1 ? pick(hits) : pick(misses))()),
      );
    const warm = makeBatches();
    // BENCH_FRESH=1: the rounds search clean values never searched before (each remembered anew).
    const batches = process.env.BENCH_FRESH === '1' ? makeBatches() : warm;
    const db = new pg.Client({ connectionString: loader.databaseUrl });
    await db.connect();
    const bulk = async (server, list) => {
      let next = 0;
      const client = async () => {
        while (next < list.length) {
          const res = await fetch(`${server.base}/api/v1/search`, {
            method: 'POST',
            headers: { Authorization: server.adminAuth, 'Content-Type': 'application/json' },
            body: JSON.stringify({ values: list[next++] }),
          });
          if (res.status !== 200) throw new Error(`search: ${res.status}`);
          await res.arrayBuffer();
        }
      };
      await Promise.all([client(), client()]);
    };
    const ticks = (pid) => {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks (1/100 s)
      } catch {
        return 0;
      }
    };
    const backends = async (name) =>
      (
        await db.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [name])
      ).rows.map((r) => r.pid);
    const cpu = async (k) => {
      const pids = await backends(`bench-${k}`);
      return { node: ticks(servers[k].pid), pg: new Map(pids.map((p) => [p, ticks(p)])) };
    };
    const spent = (a, b) => {
      let pgTicks = 0;
      for (const [pid, t] of b.pg) pgTicks += t - (a.pg.get(pid) ?? 0);
      return { node: b.node - a.node, pg: pgTicks };
    };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

    // Every value searched once on both (remembered by the on server), then let it flush: until
    // the remembered values stop growing.
    await bulk(servers.on, warm);
    await bulk(servers.off, warm);
    await sleep(FLUSH_MS + 1_500);
    for (let last = -1; ;) {
      const { n } = (await db.query(`SELECT count(*)::int AS n FROM retro_values`)).rows[0];
      if (n === last) break;
      last = n;
      await sleep(FLUSH_MS + 1_500); // a whole interval: the next flush may not have begun
    }

    // Rows the rounds added (counted, not from the statistics views, which may lag), and how
    // many counter updates were HOT (statistics: may lag by a few seconds).
    const writes = async () =>
      (
        await db.query(
          `SELECT (SELECT count(*) FROM detections)::int AS detections,
                  (SELECT count(*) FROM retro_values)::int AS retro_values,
                  (SELECT count(*) FROM retro_keys)::int AS retro_keys,
                  (SELECT count(*) FROM indicator_hits)::int AS indicator_hits,
                  (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'indicator_hits')::int AS upd,
                  (SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'indicator_hits')::int AS hot`,
        )
      ).rows[0];
    const writesBefore = await writes();
    // A profiler wrapped around the servers (BENCH_MAIN) may start on this signal.
    if (process.env.BENCH_SIGNAL_ROUNDS)
      for (const k of ['on', 'off']) process.kill(servers[k].pid, process.env.BENCH_SIGNAL_ROUNDS);
    const sides = {
      on: { s: 0, values: 0, node: 0, pg: 0 },
      off: { s: 0, values: 0, node: 0, pg: 0 },
    };
    for (let round = 0; round < ROUNDS_S; round++) {
      const order = round % 2 ? ['off', 'on'] : ['on', 'off'];
      const slice = batches.slice((round * 10) % 20, ((round * 10) % 20) + 10);
      for (const k of order) {
        const before = await cpu(k);
        const t = process.hrtime.bigint();
        await bulk(servers[k], slice);
        sides[k].s += Number(process.hrtime.bigint() - t) / 1e9;
        sides[k].values += slice.length * BATCH;
        await sleep(FLUSH_MS + 1_500); // the flush of what this side just searched
        const d = spent(before, await cpu(k));
        sides[k].node += d.node;
        sides[k].pg += d.pg;
      }
    }
    // Statistics reach pg_stat_user_tables within ~0.5 s of the transaction.
    await sleep(1_000);
    const writesAfter = await writes();
    const { values, bytes } = (
      await db.query(
        `SELECT (SELECT count(*) FROM retro_values)::int AS values,
                (pg_total_relation_size('retro_values') + pg_total_relation_size('retro_keys'))::float8 AS bytes`,
      )
    ).rows[0];
    await db.end();
    const row = (k) => {
      const x = sides[k];
      const us = (t) => ((t * 10_000) / x.values).toFixed(2); // ticks → µs per value
      return `${k.padEnd(4)} ${Math.round(x.values / x.s)
        .toLocaleString('en-US')
        .padStart(
          10,
        )}   ${us(x.node).padStart(8)}   ${us(x.pg).padStart(8)}   ${us(x.node + x.pg).padStart(8)}`;
    };
    console.log(
      `SEARCH_INDEX=${SEARCH_INDEX}, ${COUNT.toLocaleString('en-US')} indicators, ${ROUNDS_S} rounds of 100,000 values (10% hits), ` +
        (process.env.BENCH_FRESH === '1'
          ? 'clean values new to the servers'
          : 'each value searched before'),
    );
    console.log('DETECTIONS  values/s   node µs/value   pg µs/value   total µs/value');
    console.log(row('off'));
    console.log(row('on'));
    const d = (k) => writesAfter[k] - writesBefore[k];
    console.log(
      `rows added by the rounds: detections ${d('detections')}, indicator_hits ${d('indicator_hits')}, ` +
        `retro_values ${d('retro_values')}, retro_keys ${d('retro_keys')}; ` +
        `indicator_hits updates ${d('upd')} (${d('hot')} HOT)`,
    );
    console.log(
      `retro-scan tables: ${values.toLocaleString('en-US')} values remembered (the mix searched: addresses, ` +
        `hashes, domains, URLs, emails), ${(bytes / values).toFixed(0)} bytes each with their keys and indexes ` +
        `(${(((bytes / values) * 1e6) / 2 ** 20).toFixed(0)} MiB per million)`,
    );
    const r = (f) => (f(sides.on) / f(sides.off)).toFixed(3);
    console.log(
      `on / off: rate ${r((x) => x.values / x.s)}, CPU per value ${r((x) => (x.node + x.pg) / x.values)} (target: rate ≥ 0.95)`,
    );
  } finally {
    for (const s of Object.values(servers)) await s.stop();
    await loader.stop();
  }
}

if (process.argv[2] === 'server') await serverBench();
else await micro();
