import {
  createDatabase,
  killAll,
  ServerProcess,
  serverProblems,
  TestDatabase,
  waitFor,
  withDatabase,
} from './support/server-process';

/**
 * The in-memory search key index over real server processes on one database: A and B hold
 * an index (SEARCH_INDEX=on), C does not. A write answered by A is searchable on A at once
 * and on B within 1 s (docs/api.md §5), also after B lost its LISTEN connection or restarted
 * while writes went on; misses cost no query.
 */

const FOLLOW_MS = 1_000;

describe('search key index (SEARCH_INDEX=on) across instances', () => {
  let db: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let c: ServerProcess;

  beforeAll(async () => {
    db = await createDatabase();
    [a, b, c] = await Promise.all([
      ServerProcess.start({ databaseUrl: db.url, env: { SEARCH_INDEX: 'on' } }),
      ServerProcess.start({ databaseUrl: db.url, env: { SEARCH_INDEX: 'on' } }),
      ServerProcess.start({ databaseUrl: db.url, env: { SEARCH_INDEX: 'off' } }),
    ]);
    expect(
      (await a.request('POST', '/api/v1/suppliers', { name: 'IndexFeed', vendor: 'Idx' })).status,
    ).toBe(201);
  }, 240_000);

  afterAll(async () => {
    const problems = serverProblems();
    if (problems) process.stderr.write(`${problems}\n`);
    await killAll([a, b, c]);
    await db?.drop();
  });

  async function upload(server: ServerProcess, lines: object[]): Promise<void> {
    const res = await server.request(
      'PUT',
      '/api/v1/suppliers/IndexFeed/indicators',
      lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
      server.adminAuth,
      'application/x-ndjson',
    );
    expect(res).toMatchObject({ status: 200, body: { created: lines.length, failed: [] } });
  }

  async function verdict(server: ServerProcess, value: string): Promise<string> {
    const res = await server.request('GET', `/api/v1/search?value=${encodeURIComponent(value)}`);
    expect(res.status).toBe(200);
    return res.body.result as string;
  }

  /** Resolves once `server` reports `value` detected; fails after FOLLOW_MS. */
  async function followed(server: ServerProcess, value: string, since: number): Promise<void> {
    await waitFor(async () => (await verdict(server, value)) === 'detected', FOLLOW_MS * 3, value);
    expect(Date.now() - since).toBeLessThan(FOLLOW_MS + 500);
  }

  async function metric(server: ServerProcess, name: string): Promise<number> {
    const res = await server.request('GET', '/metrics');
    expect(res.status).toBe(200);
    const line = (res.body as string).split('\n').find((l) => l.startsWith(name));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }

  it('a write answered by A is searchable on A at once, on B within 1 s, on C (no index) at once', async () => {
    await upload(a, [
      { indicator: 'key-index.example', context: { threat: 'c2' } },
      { indicator: '198.51.100.0/25' },
    ]);
    const answered = Date.now();
    expect(await verdict(a, 'https://cdn.key-index.example/x')).toBe('detected');
    expect(await verdict(a, '198.51.100.7')).toBe('detected');
    expect(await verdict(c, '198.51.100.7')).toBe('detected');
    await followed(b, '198.51.100.7', answered);
    expect(await verdict(b, 'https://cdn.key-index.example/x')).toBe('detected');
    for (const server of [a, b, c]) {
      expect(await verdict(server, '198.51.100.200')).toBe('not_detected');
      expect(await verdict(server, 'index.example')).toBe('not_detected');
    }
  });

  it('a miss costs no query: only keys the index may hold reach Postgres', async () => {
    const maybe = 'indicium_search_index_lookups_total{answer="maybe"}';
    const miss = 'indicium_search_index_lookups_total{answer="miss"}';
    const before = { maybe: await metric(a, maybe), miss: await metric(a, miss) };
    const res = await a.request('POST', '/api/v1/search', {
      values: [
        'clean-1.example',
        'https://clean-2.example/a/b?c',
        'a@clean-3.example',
        '192.0.2.1',
      ],
    });
    expect(res.body.results.map((r: { result: string }) => r.result)).toEqual([
      'not_detected',
      'not_detected',
      'not_detected',
      'not_detected',
    ]);
    // Not one key was a maybe: the repository got no key to look up, so ran no query.
    expect(await metric(a, maybe)).toBe(before.maybe);
    expect(await metric(a, miss)).toBeGreaterThan(before.miss);
    expect(await metric(a, 'indicium_search_index_keys')).toBeGreaterThanOrEqual(2);
    expect(await metric(a, 'indicium_search_index_bytes')).toBeGreaterThan(0);
  });

  it('B follows by polling when its LISTEN connection is killed', async () => {
    const killed = await withDatabase(db.url, async (pg) => {
      const r = await pg.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN search_key_changes%'`,
      );
      return r.rows.length;
    });
    expect(killed).toBeGreaterThanOrEqual(2); // A's and B's
    await upload(a, [{ indicator: 'after-kill.example' }]);
    const answered = Date.now();
    expect(await verdict(a, 'after-kill.example')).toBe('detected');
    await followed(b, 'www.after-kill.example', answered);
  });

  it('B restarted while writes went on comes back with all of them', async () => {
    await b.kill('SIGKILL');
    await upload(a, [{ indicator: 'while-down.example' }, { indicator: '2001:db8:77::/48' }]);
    const writing = upload(a, [{ indicator: 'during-start.example' }]);
    b = await b.restart();
    await writing;
    const answered = Date.now();
    expect(await verdict(b, 'while-down.example')).toBe('detected');
    expect(await verdict(b, '2001:db8:77::1')).toBe('detected');
    await followed(b, 'during-start.example', answered);
    expect(await metric(b, 'indicium_search_index_rebuilds_total{reason="start"}')).toBe(1);
  });

  it('a write on B reaches A, and C answers the same', async () => {
    await upload(b, [{ indicator: 'from-b.example' }]);
    const answered = Date.now();
    expect(await verdict(b, 'from-b.example')).toBe('detected');
    expect(await verdict(c, 'from-b.example')).toBe('detected');
    await followed(a, 'from-b.example', answered);
  });
});
