import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { DEFAULT_TENANT_ID } from '../src/database/tenant-context';
import {
  createDatabase,
  ServerProcess,
  serverProblems,
  TestDatabase,
  withDatabase,
} from './support/server-process';

const MiB = 1024 * 1024;
const SMALL = 40_000;
const BIG = 200_000;

/** The process's resident set (VmRSS), in bytes. */
function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * "Export of 1,000,000 indicators streamed with RSS bounded" (docs/api.md §10), at a size CI
 * can afford: the real server as a child process exports a supplier of SMALL and then one of
 * BIG indicators while its RSS is sampled every 10 ms. An export through COPY grows the server
 * by ~32 MiB over idle whatever its size (the first request's code and buffers); an export
 * whose rows or garbage pile up grows with BIG (the CSV and STIX exports formatted in Node
 * from keyset batches grew by ~110 MiB at 200k rows and ~180 MiB at 1M, until V8's heap
 * limit).
 */
describe('exports streamed with RSS bounded (docs/api.md §10)', () => {
  let db: TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    db = await createDatabase();
    server = await ServerProcess.start({ databaseUrl: db.url });
    for (const name of ['Small', 'Big']) {
      expect((await server.request('POST', '/api/v1/suppliers', { name })).status).toBe(201);
    }
    await withDatabase(db.url, async (c) => {
      await c.query(`SET indicium.tenant = '${DEFAULT_TENANT_ID}'`);
      for (const [name, n] of [
        ['Small', SMALL],
        ['Big', BIG],
      ] as const) {
        await c.query(
          `INSERT INTO indicators (supplier_id, type, value, context)
           SELECT s.id, 'domain', 'host' || g || '.' || lower(s.name) || '.example.org',
                  jsonb_build_object('campaign', 'bulk', 'n', g, 'note', 'a "quoted", comma')
             FROM suppliers s CROSS JOIN generate_series(1, $2::int) g WHERE s.name = $1`,
          [name, n],
        );
      }
      await c.query('ANALYZE indicators');
    });
  }, 240_000);

  afterAll(async () => {
    const problems = serverProblems();
    if (problems) process.stderr.write(`${problems}\n`);
    await server?.kill('SIGKILL');
    await db?.drop();
  });

  /**
   * Exports a supplier, reading at full speed; the bytes read and the peak RSS over `idle`
   * (the server's RSS before its first export).
   */
  const exportGrowth = async (
    supplier: string,
    format: string,
    idle: number,
  ): Promise<{ growth: number; bytes: number }> => {
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(server.child.pid!))), 10);
    try {
      const bytes = await new Promise<number>((resolve, reject) =>
        httpGet(
          {
            host: '127.0.0.1',
            port: server.port,
            path: `/api/v1/suppliers/${supplier}/indicators/export?format=${format}`,
            headers: { Authorization: server.adminAuth },
            agent: false,
          },
          (res) => {
            let n = 0;
            res.on('data', (c: Buffer) => (n += c.length));
            res.on('end', () =>
              res.statusCode === 200 ? resolve(n) : reject(new Error(`${res.statusCode}`)),
            );
            res.on('error', reject);
          },
        ).on('error', reject),
      );
      return { growth: Math.max(peak, rssOf(server.child.pid!)) - idle, bytes };
    } finally {
      clearInterval(sampler);
    }
  };

  /**
   * A fresh server per format (RSS, once grown, does not come back down, so an earlier export
   * would hide a later one's growth): idle, then the SMALL export, then the BIG one; the peak
   * over idle must stay small, and the BIG export may not grow it much beyond the SMALL one.
   */
  const check = async (format: string): Promise<void> => {
    await server.kill('SIGKILL');
    server = await ServerProcess.start({ databaseUrl: db.url });
    await new Promise((r) => setTimeout(r, 500)); // start-up settled
    const idle = rssOf(server.child.pid!);
    const small = await exportGrowth('Small', format, idle);
    const big = await exportGrowth('Big', format, idle);
    expect(big.bytes).toBeGreaterThan((small.bytes * BIG) / SMALL / 1.2); // it read BIG rows
    expect(big.growth / MiB).toBeLessThan(48);
    // 5x the rows may add at most 16 MiB: V8 and the allocator grow the heap by a few MiB at a
    // time, which has shown up to 12 MiB here between two runs of the same path; the path that
    // held rows grew ~80 MiB more between these sizes.
    expect((big.growth - small.growth) / MiB).toBeLessThan(16);
  };

  it.each(['ndjson', 'csv', 'stix21'])(
    '%s: RSS growth small and independent of the row count',
    (format) => check(format),
    60_000,
  );
});
