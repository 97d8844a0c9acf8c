// 1. Cold burst: a freshly started server, then CONNECTIONS connections sending their first
//    requests with one API client's credentials for 2 s. Concurrent verifications of one
//    credential share one slow hash, so p99 must stay <= 100 ms (median of BENCH_COLD_RUNS
//    fresh servers).
// 2. Authenticated throughput of GET /api/v1/me per credential scheme, against the same
//    server's public /health/live as the baseline (each ratio must be >= 0.7).
//    The load generator shares the machine with the server, and this VM's speed drifts by ±25%
//    over seconds: each round measures the baseline and then every scheme in short runs, and the
//    median of BENCH_ROUNDS rounds is reported (ratios are taken within a round).
// Usage: npm run build && npm run bench:auth   (DATABASE_URL: a Postgres server; loopback only)
import autocannon from 'autocannon';
import { api, fmt, startServer } from './support.mjs';

const DURATION = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 3);
const COLD_SECONDS = 2;
const COLD_P99_LIMIT_MS = 100;
const b64 = (s) => Buffer.from(s).toString('base64');

function run(url, headers, duration = DURATION) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, headers, connections: CONNECTIONS, duration, pipelining: 1 },
      (err, result) => {
        if (err) return reject(err);
        if (result.non2xx > 0 || result.errors > 0) {
          return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
        }
        resolve(result);
      },
    );
  });
}

/** One fresh server: create an API client, then the burst; its latency percentiles. */
async function coldBurst() {
  const server = await startServer({ LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
  try {
    const client = await api(server, 'POST', '/api/v1/api-clients', {
      name: 'cold',
      role: 'Analyst',
    });
    const headers = { Authorization: `Basic ${b64(`${client.clientId}:${client.clientSecret}`)}` };
    const { latency, requests } = await run(`${server.base}/api/v1/me`, headers, COLD_SECONDS);
    return { p50: latency.p50, p99: latency.p99, max: latency.max, total: requests.total };
  } finally {
    await server.stop();
  }
}

const bursts = [];
for (let i = 0; i < COLD_RUNS; i++) bursts.push(await coldBurst());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const coldP99 = median(bursts.map((b) => b.p99));
console.log(
  `cold burst: fresh server, ${CONNECTIONS} connections, first ${COLD_SECONDS} s, Basic (API client), ${COLD_RUNS} runs`,
);
for (const b of bursts) {
  console.log(`  ${fmt(b.total)} requests  p50 ${b.p50} ms  p99 ${b.p99} ms  max ${b.max} ms`);
}
const coldOk = coldP99 <= COLD_P99_LIMIT_MS;
console.log(
  `${coldOk ? 'PASS' : 'FAIL'}: median cold-burst p99 ${coldP99} ms (limit ${COLD_P99_LIMIT_MS} ms)`,
);

const server = await startServer({ LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
try {
  const password = 'bench-user-password';
  await api(server, 'POST', '/api/v1/users', { username: 'bench.user', password, role: 'Analyst' });
  const client = await api(server, 'POST', '/api/v1/api-clients', {
    name: 'bench',
    role: 'Analyst',
  });
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  const tokenRes = await fetch(`${server.base}/api/v1/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  const { access_token: token } = await tokenRes.json();

  // Warm-up: the first verification of each secret is a deliberate slow hash and the JIT
  // needs a moment on each path; neither is steady state.
  const schemes = {
    'Basic (API client)': {
      Authorization: `Basic ${b64(`${client.clientId}:${client.clientSecret}`)}`,
    },
    'Basic (user)': { Authorization: `Basic ${b64(`bench.user:${password}`)}` },
    Bearer: { Authorization: `Bearer ${token}` },
  };
  await run(`${server.base}/health/live`, {}, 3);
  for (const headers of Object.values(schemes)) await run(`${server.base}/api/v1/me`, headers, 5);

  console.log(
    `autocannon: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s per run, server LOG_LEVEL=${process.env.LOG_LEVEL ?? 'info'}`,
  );
  const bases = [];
  const rates = Object.fromEntries(Object.keys(schemes).map((n) => [n, []]));
  const ratios = Object.fromEntries(Object.keys(schemes).map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const base = (await run(`${server.base}/health/live`, {})).requests.average;
    bases.push(base);
    for (const [name, headers] of Object.entries(schemes)) {
      const rate = (await run(`${server.base}/api/v1/me`, headers)).requests.average;
      rates[name].push(rate);
      ratios[name].push(rate / base);
    }
  }
  const show = (xs, digits = 0) => xs.map((x) => fmt(x, digits)).join(' / ');
  console.log(
    `baseline GET /health/live          ${fmt(median(bases))} req/s  (rounds: ${show(bases)})`,
  );
  let ok = true;
  for (const name of Object.keys(schemes)) {
    const ratio = median(ratios[name]);
    ok &&= ratio >= 0.7;
    console.log(
      `GET /api/v1/me ${name.padEnd(19)} ${fmt(median(rates[name]))} req/s  ratio ${ratio.toFixed(2)}  (rounds: ${show(ratios[name], 2)})`,
    );
  }
  console.log(
    ok ? 'PASS: every scheme >= 0.70 of baseline' : 'FAIL: a scheme is below 0.70 of baseline',
  );
  process.exitCode = ok && coldOk ? 0 : 1;
} finally {
  await server.stop();
}
