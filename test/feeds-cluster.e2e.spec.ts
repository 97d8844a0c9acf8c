import { ServerResponse as HttpResponse } from 'node:http';
import { FeedServer } from './support/feed-server';
import {
  createDatabase,
  killAll,
  ServerProcess,
  TestDatabase,
  waitFor,
  withDatabase,
} from './support/server-process';

/**
 * Feeds with several instances (docs/api.md §9): real server processes on one database. A
 * due feed runs on exactly one instance; a run whose instance is SIGKILLed applies nothing
 * and is taken over once its lease expires; a graceful stop rolls the run back and frees it.
 */
describe('Feeds across instances: one run per due feed, takeover after a crash', () => {
  let db: TestDatabase;
  let feeds: FeedServer;
  const servers: ServerProcess[] = [];
  const env = {
    FEED_POLL_SECONDS: '1',
    FEED_LEASE_SECONDS: '3',
    FEED_ALLOW_PRIVATE_NETWORKS: 'true',
  };

  beforeAll(async () => {
    db = await createDatabase();
    feeds = await new FeedServer().start();
    servers.push(await ServerProcess.start({ databaseUrl: db.url, env }));
    servers.push(await ServerProcess.start({ databaseUrl: db.url, env }));
  }, 240_000);
  afterAll(async () => {
    await killAll(servers);
    await feeds.stop();
    await db?.drop();
  });

  const alive = () => servers.find((s) => s.alive)!;

  async function supplierWithFeed(name: string, path: string, existing: string[] = []) {
    const s = alive();
    expect((await s.request('POST', '/api/v1/suppliers', { name })).status).toBe(201);
    if (existing.length > 0) {
      const up = await s.request(
        'PUT',
        `/api/v1/suppliers/${name}/indicators`,
        existing.map((indicator) => ({ indicator })),
      );
      expect(up.status).toBe(200);
    }
    const put = await s.request('PUT', `/api/v1/suppliers/${name}/feed`, {
      url: feeds.url(path),
      format: 'text',
    });
    expect(put.status).toBe(200);
  }

  async function runs(name: string) {
    const res = await alive().request('GET', `/api/v1/suppliers/${name}/feed/runs`);
    expect(res.status).toBe(200);
    return res.body.items as Array<{
      outcome: string;
      counts: Record<string, number>;
      error: string | null;
    }>;
  }

  async function values(name: string): Promise<string[]> {
    const res = await alive().request('GET', `/api/v1/suppliers/${name}/indicators?limit=1000`);
    return (res.body.items as Array<{ indicator: string }>).map((i) => i.indicator).sort();
  }

  /** The server process holding the feed's lease (its owner id carries the pid). */
  async function leaseHolder(name: string): Promise<ServerProcess> {
    const owner = await waitFor(async () => {
      const rows = await withDatabase(db.url, (c) =>
        c.query<{ owner: string | null }>(
          `SELECT f.lease_owner AS owner FROM feeds f JOIN suppliers s ON s.id = f.supplier_id WHERE s.name = $1`,
          [name],
        ),
      );
      return rows.rows[0]?.owner ?? undefined;
    });
    const pid = Number(owner.split(':')[1]);
    return servers.find((s) => s.child.pid === pid)!;
  }

  it('two instances racing for due feeds: each feed runs once', async () => {
    const names = ['RaceA', 'RaceB', 'RaceC', 'RaceD'];
    for (const n of names) {
      // Slow enough that both instances poll while the runs are in flight.
      feeds.routes.set(`/${n}.txt`, (_req, res: HttpResponse) => {
        setTimeout(() => res.end(`${n.toLowerCase()}.example\n`), 1500);
      });
      await supplierWithFeed(n, `/${n}.txt`);
    }
    for (const n of names) await waitFor(async () => (await runs(n)).length === 1, 20_000);
    // Several more poll rounds on both instances: still one run and one fetch per feed.
    await new Promise((r) => setTimeout(r, 2500));
    for (const n of names) {
      expect((await runs(n)).map((r) => r.outcome)).toEqual(['applied']);
      expect(feeds.requests.filter((r) => r.path === `/${n}.txt`)).toHaveLength(1);
      expect(await values(n)).toEqual([`${n.toLowerCase()}.example`]);
    }
  }, 60_000);

  it('SIGKILL mid-run: nothing applied; another instance takes the run over after the lease expires', async () => {
    let stall = true;
    feeds.routes.set('/crash.txt', (_req, res: HttpResponse) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      if (stall) {
        res.write('203.0.113.1\n'.repeat(20_000)); // many batches' worth, then nothing more
        return;
      }
      res.end('203.0.113.2\n203.0.113.3\n');
    });
    await supplierWithFeed('CrashFeed', '/crash.txt', ['192.0.2.1', '192.0.2.2']);
    const holder = await leaseHolder('CrashFeed');
    await waitFor(() => feeds.requests.some((r) => r.path === '/crash.txt'));
    stall = false;
    await holder.kill('SIGKILL');
    expect(await values('CrashFeed')).toEqual(['192.0.2.1', '192.0.2.2']);
    const [run] = await waitFor(async () => {
      const list = await runs('CrashFeed');
      return list.length > 0 ? list : undefined;
    }, 20_000);
    expect(run).toMatchObject({ outcome: 'applied', counts: { created: 2, removed: 2 } });
    expect(await values('CrashFeed')).toEqual(['203.0.113.2', '203.0.113.3']);
    expect(feeds.requests.filter((r) => r.path === '/crash.txt')).toHaveLength(2);
    servers.push(await holder.restart());
  }, 90_000);

  it('SIGTERM mid-run: the run is rolled back and the feed freed at once', async () => {
    let stall = true;
    feeds.routes.set('/term.txt', (_req, res: HttpResponse) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      if (stall) {
        res.write('203.0.113.9\n'.repeat(30_000));
        return;
      }
      res.end('203.0.113.10\n');
    });
    await supplierWithFeed('TermFeed', '/term.txt', ['192.0.2.9']);
    const holder = await leaseHolder('TermFeed');
    await waitFor(() => feeds.requests.some((r) => r.path === '/term.txt'));
    stall = false;
    const stopped = Date.now();
    await holder.stop();
    expect(holder.exitCode).toBe(0);
    await waitFor(async () => (await runs('TermFeed')).length === 1, 20_000);
    // Taken over without waiting for the 3 s lease: the stopping instance released it.
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect(await values('TermFeed')).toEqual(['203.0.113.10']);
    // The run cut short left no trace: one applied run, one feed.run audit record.
    expect((await runs('TermFeed')).map((r) => r.outcome)).toEqual(['applied']);
    const audit = await alive().request('GET', '/api/v1/audit-logs?action=feed.run&limit=1000');
    expect(
      (audit.body.items as Array<{ entityName: string }>).filter(
        (a) => a.entityName === 'TermFeed',
      ),
    ).toHaveLength(1);
  }, 90_000);
});
