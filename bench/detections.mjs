// What hit counting and detection recording add to a search, on the built server code (dist/):
// the CPU DetectionRecorder.record spends on the search path, per request, for a single GET
// (one value) and a bulk POST (10,000 values at 10% and 1% hits); with counting off it spends
// none. The flush (every 5 s, off the request) is measured apart: building its arrays on the main
// thread, per event; the UPSERT itself runs in Postgres.
//
// The share of a search it costs is reported against the request CPU measured by
// bench:search on the reference machine (README, Benchmarks: single ~2,500 req/s with the main
// thread ~95% busy ≈ 380 µs per request; bulk 68,000 values/s ≈ 147 ms per 10,000 values).
// CPU time, not wall time: the figures hold on a loaded machine.
//
// Usage: npm run build && npm run bench:detections
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { DetectionRecorder } = require('../dist/detections/detection-recorder.js');
const { Registry } = require('prom-client');

const SINGLE_REQUEST_US = 380;
const BULK_REQUEST_US = 147_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200_000);
const BULK_ROUNDS = Number(process.env.BENCH_BULK_ROUNDS ?? 200);

function recorder() {
  // The database side is not what is measured: a flush just hands its batch over.
  const repo = { flush: async () => undefined };
  const config = { env: { RETROSCAN_DAYS: 7, DETECTION_FLUSH_MS: 5_000 } };
  return new DetectionRecorder(repo, config, { registry: new Registry() });
}

const principal = { type: 'client', id: '0190c0de-0000-7000-8000-000000000001', name: 'siem' };

function result(i, detected) {
  const value = `host${i}.example${i % 97}.com`;
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

async function bulk(hitRate) {
  const r = recorder();
  const results = Array.from({ length: 10_000 }, (_, i) =>
    result(i, i % Math.round(1 / hitRate) === 0),
  );
  let spent = 0;
  for (let k = 0; k < BULK_ROUNDS; k++) {
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
// Warm up the JIT on both paths first.
await single(0.1);
await bulk(0.1);
console.log(
  'hits   single GET µs/request (share)   bulk 10,000 values µs/request (share)   target ≤ 5%',
);
for (const hitRate of [0.1, 0.01]) {
  const s1 = await single(hitRate);
  const b = await bulk(hitRate);
  console.log(
    `${String(hitRate * 100).padStart(3)}%   ${fmt(s1).padStart(8)} (${fmt((100 * s1) / SINGLE_REQUEST_US)}%)` +
      `             ${fmt(b).padStart(10)} (${fmt((100 * b) / BULK_REQUEST_US)}%)`,
  );
}
console.log(`flush, main thread: ${fmt(await flushCost())} µs per pending event (off the request)`);
