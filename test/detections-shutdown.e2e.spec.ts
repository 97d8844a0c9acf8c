import {
  createDatabase,
  ServerProcess,
  serverProblems,
  TestDatabase,
  waitFor,
  withDatabase,
} from './support/server-process';

/**
 * Hit counters live in memory between flushes (docs/api.md §11): the real server as a child
 * process writes them on SIGTERM, and a SIGKILL loses at most what arrived since the last flush.
 */
describe('detections across shutdown and crash (docs/api.md §11)', () => {
  let db: TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    db = await createDatabase();
    server = await ServerProcess.start({ databaseUrl: db.url });
    expect((await server.request('POST', '/api/v1/suppliers', { name: 'AcmeFeed' })).status).toBe(
      201,
    );
    const up = await server.request('PUT', '/api/v1/suppliers/AcmeFeed/indicators', [
      { indicator: 'evil.com' },
    ]);
    expect(up.status).toBe(200);
  }, 240_000);

  afterAll(async () => {
    const problems = serverProblems();
    if (problems) process.stderr.write(`${problems}\n`);
    await server?.kill('SIGKILL');
    await db?.drop();
  });

  const hits = async (): Promise<{ hits: number; events: number }> =>
    withDatabase(db.url, async (c) => {
      const r = await c.query(
        `SELECT (SELECT coalesce(sum(hits), 0) FROM indicator_hits)::int AS hits,
                (SELECT count(*) FROM detections)::int AS events`,
      );
      return r.rows[0] as { hits: number; events: number };
    });

  async function search(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const res = await server.request('GET', '/api/v1/search?value=a.evil.com');
      expect(res.body.result).toBe('detected');
    }
  }

  it('SIGTERM writes the counters and events still in memory', async () => {
    await search(3);
    await server.stop();
    expect(server.exitCode).toBe(0);
    expect(await hits()).toEqual({ hits: 3, events: 3 });
  }, 120_000);

  it('SIGKILL loses at most the last flush interval: what was flushed stays', async () => {
    server = await server.restart();
    await search(2);
    // The timer flushes within DETECTION_FLUSH_MS (5 s).
    await waitFor(async () => (await hits()).hits === 5, 10_000);
    await search(4);
    await server.kill('SIGKILL');
    const after = await hits();
    // The 4 searches since the last flush are lost unless a flush ran meanwhile: never more.
    expect(after.hits).toBeGreaterThanOrEqual(5);
    expect(after.hits).toBeLessThanOrEqual(9);
    expect(after.events).toBe(after.hits);
  }, 120_000);
});
