// `npm run bench:console`: how long each console screen takes to become usable with 1M
// indicators loaded (docs/console.md: "every screen interactive within 1 s"), against the same
// screens over an empty database in the same run.
//
// The built server (dist/, with dist/console) runs over a fresh database; BENCH_COUNT indicators
// (default 1,000,000) are uploaded as NDJSON across two suppliers that share a tenth of their
// values (so the dashboard's overlap has work to do), a few searches make detections, and
// Debian's Chromium signs in and opens each screen. A screen counts as ready when its heading is
// drawn and the network has been quiet for 100 ms (every list, chart and count answered);
// the figure is the median of BENCH_ROUNDS (default 5) visits. "Drawn" is when the heading
// appeared (the screen's frame and navigation work; its sections fill in as answers arrive).
import { request } from 'node:http';
import { chromium } from 'playwright-core';
import { BENCH_TAGS, generateIndicators } from './dataset.mjs';
import { ADMIN_PASSWORD, api, fmt, startServer } from './support.mjs';

const COUNT = Number(process.env.BENCH_COUNT ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MiB = 1024 * 1024;
const SCREENS = [
  ['Dashboard', '/console/'],
  ['Search', '/console/search?q=' + encodeURIComponent('login-secure.example.com')],
  ['Suppliers', '/console/suppliers'],
  ['Supplier page (BenchA)', '/console/suppliers/BenchA'],
  ['Detections', '/console/detections'],
  ['API clients', '/console/api-clients'],
  ['Audit log', '/console/audit-log'],
];

function ndjson(count, seed, keep) {
  const chunks = [];
  let parts = [];
  let size = 0;
  for (const e of generateIndicators(count, seed)) {
    if (!keep(e)) continue;
    const line = JSON.stringify(e) + '\n';
    parts.push(line);
    size += line.length;
    if (size >= MiB) {
      chunks.push(Buffer.from(parts.join('')));
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) chunks.push(Buffer.from(parts.join('')));
  return chunks;
}

function upload(server, supplier, chunks) {
  return new Promise((resolve, reject) => {
    const url = new URL(`${server.base}/api/v1/suppliers/${supplier}/indicators`);
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
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`upload ${res.statusCode}`)),
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

async function load(server, count) {
  if (count === 0) return;
  // BenchA: 90% of the dataset; BenchB: the other 10% plus a tenth of BenchA's (the overlap).
  let n = 0;
  const a = ndjson(count, 42, () => n++ % 10 !== 0);
  n = 0;
  const b = ndjson(count, 42, () => n++ % 10 < 2);
  await upload(server, 'BenchA', a);
  await upload(server, 'BenchB', b);
  for (const e of generateIndicators(20, 42))
    await api(server, 'GET', `/api/v1/search?value=${encodeURIComponent(e.indicator)}`);
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function timeScreens(server) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.base}/console/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const figures = new Map();
    let lastAnswer = 0;
    page.on('requestfinished', () => (lastAnswer = performance.now()));
    for (const [name, path] of SCREENS) {
      const times = [];
      const drawnTimes = [];
      for (let r = 0; r < ROUNDS; r++) {
        const started = performance.now();
        await page.goto(server.base + path, { waitUntil: 'commit' });
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        const drawn = performance.now();
        // networkidle is 500 ms of quiet: the screen was ready at the last answer before it.
        await page.waitForLoadState('networkidle');
        times.push(Math.max(drawn, lastAnswer) - started);
        drawnTimes.push(drawn - started);
      }
      figures.set(name, { ready: median(times), drawn: median(drawnTimes) });
    }
    return figures;
  } finally {
    await browser.close();
  }
}

async function run(count) {
  const server = await startServer();
  try {
    for (const name of BENCH_TAGS) await api(server, 'POST', '/api/v1/tags', { name, weight: 3 });
    for (const name of ['BenchA', 'BenchB'])
      await api(server, 'POST', '/api/v1/suppliers', { name, vendor: 'Bench' });
    const started = performance.now();
    await load(server, count);
    if (count > 0)
      console.log(
        `Loaded ${fmt(count)} indicators in ${fmt((performance.now() - started) / 1000, 1)} s`,
      );
    return await timeScreens(server);
  } finally {
    await server.stop();
  }
}

console.log(
  `Console screens, median of ${ROUNDS} visits, ready = heading drawn and every request answered`,
);
const empty = await run(0);
const full = await run(COUNT);
console.log(
  `\n| screen | drawn, empty | drawn, ${fmt(COUNT)} | every answer, empty | every answer, ${fmt(COUNT)} | ratio |`,
);
console.log('|---|---|---|---|---|---|');
for (const [name] of SCREENS) {
  const e = empty.get(name);
  const f = full.get(name);
  console.log(
    `| ${name} | ${fmt(e.drawn)} ms | ${fmt(f.drawn)} ms | ${fmt(e.ready)} ms | ${fmt(f.ready)} ms | ${fmt(f.ready / e.ready, 2)}x |`,
  );
}
const worst = Math.max(...[...full.values()].map((f) => f.ready));
console.log(
  `\nSlowest screen with ${fmt(COUNT)} indicators: ${fmt(worst)} ms (target: under 1,000 ms)`,
);
