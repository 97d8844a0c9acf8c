import type { Test } from 'supertest';
import { databaseWaitBoundMs } from '../src/config/app-config';
import { DetectionRecorder } from '../src/detections/detection-recorder';
import { TcpProxy } from './support/tcp-proxy';
import { basic, createTestApp, TestApp, withDatabase } from './support/test-app';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

/**
 * A database that hangs, refuses or drops connections never hangs the API nor answers 500
 * (README "Database waits", docs/security.md "Database outages"): the app's DATABASE_URL
 * points at a TCP proxy in front of the real Postgres, and the proxy fails on demand.
 */

const WAITS = {
  DATABASE_ACQUIRE_TIMEOUT_MS: 1000,
  DATABASE_STATEMENT_TIMEOUT_MS: 1000,
};
/** The documented bound for these settings (4 s), and a generous margin for a busy machine. */
const BOUND_MS = databaseWaitBoundMs(WAITS);
const DEADLINE_MS = BOUND_MS + 3000;
const HIT = 'outage-hit.example';

interface Answer {
  status: number;
  body: { message?: string; code?: string; result?: string };
  retryAfter: string | undefined;
  ms: number;
}

/** Sends `req`; fails the test when it is not answered within DEADLINE_MS. */
async function timed(req: Test): Promise<Answer> {
  const started = Date.now();
  const res = await req.timeout(DEADLINE_MS);
  return {
    status: res.status,
    body: res.body as Answer['body'],
    retryAfter: res.headers['retry-after'],
    ms: Date.now() - started,
  };
}

function expectDatabaseUnavailable(a: Answer): void {
  expect({ status: a.status, code: a.body.code }).toEqual({
    status: 503,
    code: 'database_unavailable',
  });
  expect(a.body.message).toMatch(/^The database is unavailable/);
  expect(Number(a.retryAfter)).toBeGreaterThan(0);
  expect(a.ms).toBeLessThan(DEADLINE_MS);
}

describe('database outages', () => {
  const realUrl = process.env.DATABASE_URL!;
  let proxy: TcpProxy;
  let t: TestApp;
  let admin: string;
  let analyst: string;

  beforeAll(async () => {
    const target = new URL(realUrl);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    // createTestApp clones the test database through DATABASE_URL: through the proxy too.
    process.env.DATABASE_URL = proxy.urlFor(realUrl);
    try {
      t = await createTestApp({
        DATABASE_ACQUIRE_TIMEOUT_MS: String(WAITS.DATABASE_ACQUIRE_TIMEOUT_MS),
        DATABASE_STATEMENT_TIMEOUT_MS: String(WAITS.DATABASE_STATEMENT_TIMEOUT_MS),
        DATABASE_LOCK_TIMEOUT_MS: '500',
        // Snapshots expire within the outage, so it is the outage grace that keeps them.
        AUTH_CACHE_TTL_SECONDS: '1',
      });
    } finally {
      process.env.DATABASE_URL = realUrl;
    }
    admin = basic(t.admin.username, t.admin.password);
    const ti = threatIntel(t);
    analyst = await ti.createAnalyst('outage-analyst');
    await ti.createSupplier('OutageFeed');
    const res = await ti.upload('OutageFeed', [{ indicator: HIT }]);
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    await proxy.resume();
    await t.close();
    await proxy.close();
  });

  afterEach(() => proxy.resume());

  const search = (value: string, authorization = admin): Test =>
    t.api().get('/api/v1/search').query({ value }).set('Authorization', authorization);
  const upload = (): Test =>
    asUser(t, admin)
      .put('/api/v1/suppliers/OutageFeed/indicators')
      .send([{ indicator: HIT }, { indicator: 'outage-new.example' }]);

  /** The principals verify and the paths warm while the database answers. */
  async function warm(): Promise<void> {
    await waitReady();
    expect((await search('clean.example')).status).toBe(200);
    expect((await search(HIT, analyst)).status).toBe(200);
    // Analysts may not list users: the refusal is audited (access.denied).
    expect((await asUser(t, analyst).get('/api/v1/users')).status).toBe(403);
  }

  /** Readiness polled until it answers 200 (the guard's probe noticed the database is back). */
  async function waitReady(): Promise<void> {
    let last = 0;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
      last = (await t.api().get('/health/ready')).status;
      if (last === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`not ready again within 15 s (last ${last})`);
  }

  /** What every outage must give, however the database fails. */
  async function expectDegraded(): Promise<void> {
    const [clean, hit, up, unknown, wrongPassword, denied, ready] = await Promise.all([
      timed(search('clean-during-outage.example')),
      timed(search(HIT)),
      timed(upload()),
      timed(search('clean.example', basic('nobody-known', 'some password here'))),
      timed(search('clean.example', basic(t.admin.username, 'not the admin password'))),
      timed(asUser(t, analyst).get('/api/v1/users')),
      timed(t.api().get('/health/ready')),
    ]);
    // Clean values are answered from the key index, for a principal verified before.
    expect({ status: clean.status, result: clean.body.result }).toEqual({
      status: 200,
      result: 'not_detected',
    });
    expect(clean.ms).toBeLessThan(DEADLINE_MS);
    // A hit needs its rows; an upload its transaction.
    expectDatabaseUnavailable(hit);
    expectDatabaseUnavailable(up);
    // Lockouts cannot be checked nor failures counted: no credential is judged afresh.
    expectDatabaseUnavailable(unknown);
    expectDatabaseUnavailable(wrongPassword);
    // A refusal is still a refusal when its audit record cannot be written (logged instead).
    expect(denied.status).toBe(403);
    expect(denied.ms).toBeLessThan(DEADLINE_MS);
    expect(ready.status).toBe(503);
    expect(ready.body.message).toBe('Not ready: database unreachable');
  }

  /** Everything works again without a restart. */
  async function expectRecovered(): Promise<void> {
    await waitReady();
    const hit = await search(HIT);
    expect({ status: hit.status, result: (hit.body as Answer['body']).result }).toEqual({
      status: 200,
      result: 'detected',
    });
    expect((await upload()).status).toBe(200);
    const unknown = await search('clean.example', basic('nobody-known', 'some password here'));
    expect(unknown.status).toBe(401);
  }

  it('a paused database: clean searches from memory, 503 within the bound, then recovery', async () => {
    await warm();
    proxy.pause();
    await expectDegraded();
    // Known unreachable now: a second round is answered at once, not after the bound again.
    const started = Date.now();
    await expectDegraded();
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    await proxy.resume();
    await expectRecovered();
  });

  it('300 concurrent requests on a paused database are answered within the bound; none pins a slot', async () => {
    await warm();
    proxy.pause();
    const answers = await Promise.all(Array.from({ length: 300 }, () => timed(search(HIT))));
    const statuses = new Map<number, number>();
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    // Beyond MAX_CONCURRENT_REQUESTS (256) a request may be refused as busy; nothing else.
    expect([...statuses.keys()].filter((s) => s !== 503 && s !== 429)).toEqual([]);
    expect(statuses.get(503)).toBeGreaterThanOrEqual(256);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(DEADLINE_MS);
    // The slots are free again: the admin is told about the database, not that we are busy.
    expectDatabaseUnavailable(await timed(search(HIT)));
    await proxy.resume();
    await expectRecovered();
  });

  it.each([
    ['refuses connections', (p: TcpProxy): Promise<void> => p.refuse()],
    ['drops every connection', (p: TcpProxy): Promise<void> => Promise.resolve(p.drop())],
  ])('a database that %s: the same answers, no 500', async (_name, fail) => {
    await warm();
    await fail(proxy);
    await expectDegraded();
    await proxy.resume();
    await expectRecovered();
  });

  it('detections searched before an outage are written once it is over', async () => {
    await warm();
    const recorder = t.app.get(DetectionRecorder);
    await recorder.flush();
    const before = await detectionsOf(HIT);
    expect((await search(HIT)).status).toBe(200);
    proxy.pause();
    // The flush fails within the bound and keeps what it could not write.
    const started = Date.now();
    await recorder.flush();
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS);
    await proxy.resume();
    await waitReady();
    await recorder.flush();
    expect(await detectionsOf(HIT)).toBe(before + 1);
  });

  /** Detection events of `value`, read from the real database (not through the proxy). */
  function detectionsOf(value: string): Promise<number> {
    const url = new URL(realUrl);
    url.pathname = new URL(t.config.env.DATABASE_URL!).pathname;
    return withDatabase(url.toString(), async (c) => {
      const { rows } = await c.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM detections WHERE indicator = $1',
        [value],
      );
      return rows[0].n;
    });
  }
});
