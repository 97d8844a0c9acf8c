import { existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import {
  createDatabase,
  killAll,
  ServerProcess,
  serverProblems,
  TestDatabase,
} from './support/server-process';

const MiB = 1024 * 1024;
const VALUES = 100_000;
const BULK_CLIENTS = 20;
const BUDGET_MB = 256;
/**
 * What /health/live is held to while bulk work runs (probed from a process of its own). The
 * target is 100 ms (docs/api.md §8), which holds when the machine has the cores to spare: 20
 * concurrent 100,000-value searches gave a p99 of ~50-60 ms and a max of ~80-150 ms at a load
 * average of 2-5 on this shared 2-core machine. At a load average of 9-13 (other suites
 * running) the process waits for a core: p99 up to ~140 ms, max up to ~415 ms, for these
 * searches and for the large bodies; the bounds leave about twice that. Before bulk work
 * yielded it was 9.3 s; before it shared one slice per event-loop turn (and its bodies were
 * parsed and validated in one piece), p99 ~170-310 ms and max ~0.4-1.3 s.
 */
const LIVE_P99_BOUND_MS = 300;
const LIVE_MAX_BOUND_MS = 1_000;
/** What the process may grow by over its idle RSS: the budget, plus V8's garbage slack. */
const RSS_SLACK = 200 * MiB;

/** The process's resident set (VmRSS), in bytes. */
function rssOf(pid: number): number {
  if (!existsSync(`/proc/${pid}`))
    throw new Error(`server pid ${pid} is gone (killed: out of memory?)`);
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples RSS every 20 ms until stopped: the peak. */
function sampleRss(pid: number): { stop: () => number } {
  let peak = rssOf(pid);
  let gone: Error | undefined;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch (e) {
      gone = e as Error;
    }
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      if (gone) throw gone;
      return Math.max(peak, rssOf(pid));
    },
  };
}

/** The 99th percentile of `times`. */
function p99(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

/** What a run's liveness probes took, for the test's output. */
function described(times: readonly number[]): string {
  return `${times.length} liveness probes, p99 ${Math.round(p99(times))} ms, max ${Math.round(Math.max(...times))} ms`;
}

/** The liveness bounds (LIVE_P99_BOUND_MS, LIVE_MAX_BOUND_MS) over a run's probes. */
function expectLive(times: readonly number[], atLeast: number): void {
  expect(times.length).toBeGreaterThan(atLeast);
  expect(p99(times)).toBeLessThan(LIVE_P99_BOUND_MS);
  expect(Math.max(...times)).toBeLessThan(LIVE_MAX_BOUND_MS);
}

/**
 * GETs /health/live one after another until stdin closes, then prints every answer's time
 * (or the first status that was not 200). Run in a process of its own: timed from this test
 * process, the probes also waited for its own event loop, which sends the bulk bodies and
 * takes in the answers (a second or more on a loaded machine).
 */
const PROBE = `
const http = require('node:http');
let stop = false;
process.stdin.on('close', () => (stop = true)).resume();
const times = [];
const probe = () => {
  const started = performance.now();
  http.get({ host: '127.0.0.1', port: Number(process.argv[1]), path: '/health/live', agent: false }, (res) => {
    res.resume();
    res.on('end', () => {
      times.push(performance.now() - started);
      if (res.statusCode !== 200) return process.stdout.write(JSON.stringify({ status: res.statusCode }));
      if (stop) return process.stdout.write(JSON.stringify({ times }));
      probe();
    });
  }).on('error', (err) => process.stdout.write(JSON.stringify({ error: err.code })));
};
probe();
`;

/** /health/live probed from a process of its own until `done` settles: every answer's time. */
async function timeLiveness(server: ServerProcess, done: Promise<unknown>): Promise<number[]> {
  const child = spawn(process.execPath, ['-e', PROBE, String(server.port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await done.finally(() => child.stdin.end());
  await exited;
  const report = JSON.parse(out) as { times?: number[]; status?: number; error?: string };
  expect(report.error).toBeUndefined();
  expect(report.status ?? 200).toBe(200);
  return report.times!;
}

interface Answer {
  status: number;
  retryAfter?: string;
  /** The body, parsed once asked for: not while liveness is timed in this same process. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: () => any;
}

/** Every client socket error of post(), even one after its answer. */
const socketErrors: string[] = [];

/** A POST with a prepared body, answering status, Retry-After and the body. */
function post(server: ServerProcess, path: string, payload: Buffer): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: 'POST',
        agent: false,
        headers: {
          Authorization: server.adminAuth,
          'Content-Type': 'application/json',
          'Content-Length': payload.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          done({
            status: res.statusCode!,
            retryAfter: res.headers['retry-after'],
            json: () => JSON.parse(Buffer.concat(chunks).toString('utf8')),
          });
        });
      },
    );
    // A refusal comes before the body was read: the server reads and drops the rest before it
    // answers. Had it answered and closed at once, the rest of the body met a closed socket
    // (EPIPE, or a reset that can take the answer with it). Any failure, or a connection closed
    // with no answer, fails, as does an error after the answer (socketErrors).
    req.on('error', (err: NodeJS.ErrnoException) => {
      socketErrors.push(`${path}: ${err.code ?? err.message}`);
      fail(err);
    });
    req.on('close', () => fail(new Error(`${path}: connection closed before an answer`)));
    req.end(payload);
  });
}

/** `count` distinct addresses in 10.0.0.0/8, but every 1,000th in the uploaded 192.0.2.0/24. */
function addresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    i % 1000 === 0 ? `192.0.2.${i / 1000}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  );
}

/**
 * docs/api.md §8, work budget: bulk searches, uploads and exports take from WORK_BUDGET_MB,
 * work beyond it waits in a bounded queue or gets 429 with Retry-After, and long work yields
 * to the event loop, so the process neither outgrows its memory nor stops answering.
 */
describe('work budget: bulk work never starves the process', () => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    db = await createDatabase();
  });

  afterEach(async () => {
    const problems = serverProblems();
    if (problems) process.stderr.write(problems);
    await killAll([server]);
    server = undefined;
  });

  afterAll(() => db?.drop());

  async function start(env: Record<string, string>): Promise<ServerProcess> {
    server = await ServerProcess.start({
      databaseUrl: db.url,
      env: { DETECTIONS: 'off', WORK_BUDGET_MB: String(BUDGET_MB), ...env },
    });
    return server;
  }

  it(`${BULK_CLIENTS} concurrent bulk searches of ${VALUES.toLocaleString('en')} values: /health/live answers throughout, RSS stays within the budget`, async () => {
    // Every search is to be served: a busy shared machine may take minutes for all of them.
    const s = await start({ WORK_QUEUE_WAIT_SECONDS: '600' });
    expect((await s.request('POST', '/api/v1/suppliers', { name: 'Nets' })).status).toBe(201);
    const upload = await s.request(
      'PUT',
      '/api/v1/suppliers/Nets/indicators',
      '{"indicator":"192.0.2.0/24"}\n',
      s.adminAuth,
      'application/x-ndjson',
    );
    expect(upload.status).toBe(200);
    const values = addresses(VALUES);
    const payload = Buffer.from(JSON.stringify({ values, matchesLimit: 1 }));
    // Warm: the first request's code and buffers are not load.
    expect((await post(s, '/api/v1/search', Buffer.from('{"values":["10.0.0.1"]}'))).status).toBe(
      200,
    );
    const idle = rssOf(s.pid);
    const rss = sampleRss(s.pid);
    const searches = Promise.all(
      Array.from({ length: BULK_CLIENTS }, () => post(s, '/api/v1/search', payload)),
    );
    const live = await timeLiveness(s, searches);
    const peak = rss.stop();
    const answers = await searches;
    process.stdout.write(
      `bulk: ${described(live)}; ` +
        `RSS idle ${Math.round(idle / MiB)} MiB, peak ${Math.round(peak / MiB)} MiB\n`,
    );

    for (const a of answers) {
      expect(a.status).toBe(200);
      const results = a.json().results as Array<{ value: string; result: string }>;
      expect(results).toHaveLength(VALUES);
      expect(results[0]).toMatchObject({ value: '192.0.2.0', result: 'detected' });
      expect(results[1]).toMatchObject({ value: values[1], result: 'not_detected' });
      expect(results.filter((r) => r.result === 'detected')).toHaveLength(VALUES / 1000);
      expect(results[VALUES - 1].value).toBe(values[VALUES - 1]);
    }
    expectLive(live, BULK_CLIENTS);
    expect(peak - idle).toBeLessThan(BUDGET_MB * MiB + RSS_SLACK);
  }, 240_000);

  it('large bodies beyond the budget and its queue get 429 with Retry-After, not memory; /health/live answers throughout', async () => {
    // A budget that one such search fits (it takes ~330 MiB), two do not: they run one at a time.
    const budgetMb = 512;
    const s = await start({ WORK_BUDGET_MB: String(budgetMb), WORK_QUEUE_LENGTH: '2' });
    // 100,000 values of ~590 bytes: a 56 MiB body, within the documented 64 MiB.
    const values = Array.from(
      { length: VALUES },
      (_, i) => `http://h${i}.example.com/${'x'.repeat(560)}`,
    );
    const payload = Buffer.from(JSON.stringify({ values }));
    expect(payload.length).toBeLessThan(64 * MiB);
    const idle = rssOf(s.pid);
    const rss = sampleRss(s.pid);
    const bodies = Promise.all(
      Array.from({ length: BULK_CLIENTS }, () => post(s, '/api/v1/search', payload)),
    );
    const live = await timeLiveness(s, bodies);
    const peak = rss.stop();
    const answers = await bodies;

    const served = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    process.stdout.write(
      `bodies: ${served.length} served, ${refused.length} refused; ${described(live)}; ` +
        `RSS idle ${Math.round(idle / MiB)} MiB, peak ${Math.round(peak / MiB)} MiB\n`,
    );
    expect(socketErrors).toEqual([]);
    expect(served.length + refused.length).toBe(BULK_CLIENTS);
    expect(served.length).toBeGreaterThanOrEqual(1);
    // One runs, two wait in the queue, the others are refused at once.
    expect(refused.length).toBeGreaterThanOrEqual(BULK_CLIENTS - 4);
    for (const a of served) {
      const { results } = a.json();
      expect(results).toHaveLength(VALUES);
      expect(results[7]).toMatchObject({ value: values[7], result: 'not_detected' });
    }
    for (const a of refused) {
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(a.json()).toMatchObject({
        statusCode: 429,
        message: expect.stringContaining('WORK_BUDGET_MB'),
      });
    }
    expect(peak - idle).toBeLessThan(budgetMb * MiB + RSS_SLACK);
    expectLive(live, 1);
    // The budget came back: a small search is served at once.
    expect((await post(s, '/api/v1/search', Buffer.from('{"values":["a.example"]}'))).status).toBe(
      200,
    );
  }, 240_000);
});
