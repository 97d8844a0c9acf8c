import { ClientRequest, request as httpRequest } from 'node:http';
import { Client } from 'pg';
import {
  createDatabase,
  ServerProcess,
  serverProblems,
  addTcpSiem,
  range,
  TestDatabase,
  waitFor,
  withDatabase,
} from './support/server-process';
import { FramedReceiver } from './support/syslog-receiver';

/**
 * The real server as a child process, killed with SIGKILL mid-work and restarted on the same
 * database (issue 7 item 2): an upload in flight leaves nothing behind, the audit chain still
 * verifies, and SIEM forwarding loses nothing (a record sent but not yet marked delivered may
 * come twice, never out of order or not at all).
 */

const MiB = 1024 * 1024;
/** One SIEM batch (siem-delivery.worker.ts): at most this many records were in flight at the kill. */
const SIEM_BATCH = 500;

interface StreamingUpload {
  /** Body bytes handed to the socket so far. */
  bytes: () => number;
  /** True once the whole body was written (the server could then commit). */
  ended: () => boolean;
  /** Stops writing without ending the body. */
  pause: () => void;
  /** How the request finished: a response, or an error (the server died first). */
  outcome: Promise<{ status?: number; error?: Error }>;
}

/**
 * PUT of `lines` NDJSON indicators, generated on the fly and streamed with back-pressure
 * (chunked, never fully buffered). Every tenth entry carries `tag`.
 */
function streamUpload(
  server: ServerProcess,
  supplier: string,
  lines: number,
  tag: string,
): StreamingUpload {
  let bytes = 0;
  let ended = false;
  let paused = false;
  let req: ClientRequest;
  const outcome = new Promise<{ status?: number; error?: Error }>((done) => {
    req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        path: `/api/v1/suppliers/${supplier}/indicators`,
        method: 'PUT',
        agent: false,
        headers: {
          Authorization: server.adminAuth,
          'Content-Type': 'application/x-ndjson',
          'Transfer-Encoding': 'chunked',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode }));
        res.on('error', (error) => done({ error }));
      },
    );
    req.on('error', (error) => done({ error }));
  });
  let next = 0;
  const pump = (): void => {
    while (!paused && next < lines) {
      const parts: string[] = [];
      for (const stop = Math.min(lines, next + 1_000); next < stop; next++) {
        const md5 = next.toString(16).padStart(32, '0');
        const tags = next % 10 === 0 ? `,"tags":["${tag}"]` : '';
        parts.push(`{"indicator":"${md5}","context":{"n":${next}}${tags}}\n`);
      }
      const chunk = parts.join('');
      bytes += Buffer.byteLength(chunk);
      if (!req.write(chunk)) {
        req.once('drain', pump);
        return;
      }
    }
    if (!paused && next >= lines) {
      ended = true;
      req.end();
    }
  };
  pump();
  return {
    bytes: () => bytes,
    ended: () => ended,
    pause: () => (paused = true),
    outcome,
  };
}

describe('crash safety: SIGKILL of the server process (issue 7)', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  const receivers: FramedReceiver[] = [];

  beforeAll(async () => {
    db = await createDatabase();
    server = await ServerProcess.start({ databaseUrl: db.url });
  }, 240_000);

  // Each test starts from a running server, whatever the previous one left.
  beforeEach(async () => {
    if (!server.alive) server = await server.restart();
  });

  afterAll(async () => {
    const problems = serverProblems();
    if (problems) process.stderr.write(`${problems}\n`);
    await server?.kill('SIGKILL');
    for (const r of receivers) await r.stop();
    await db?.drop();
  });

  async function restart(): Promise<void> {
    expect(server.exitSignal).toBe('SIGKILL');
    server = await server.restart();
  }

  async function expectChainValid(): Promise<number> {
    const verify = await server.request('GET', '/api/v1/audit-logs/verify');
    expect(verify).toEqual({
      status: 200,
      body: { valid: true, checked: expect.any(Number) },
    });
    const last = await server.request('GET', '/api/v1/audit-logs?limit=1');
    expect(verify.body.checked).toBe(last.body.items[0].sequence);
    return last.body.items[0].sequence as number;
  }

  it('an upload killed mid-stream leaves none of its entries, and the audit chain verifies', async () => {
    const supplier = 'CrashFeed';
    const tag = 'CRASHTAG';
    expect((await server.request('POST', '/api/v1/tags', { name: tag })).status).toBe(201);
    expect(
      (await server.request('POST', '/api/v1/suppliers', { name: supplier, vendor: 'Crash' }))
        .status,
    ).toBe(201);

    const upload = streamUpload(server, supplier, 1_000_000, tag);
    // Mid-upload: several MiB are in, and the upload's transaction has already written rows
    // (an INSERT into indicators ran in a transaction that holds an xid and is still open).
    const writer = await waitFor(
      () =>
        upload.bytes() >= 8 * MiB &&
        withDatabase(db.url, async (c) => {
          const rows = (
            await c.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                  AND backend_xid IS NOT NULL AND query LIKE '%INSERT INTO indicators%'`,
            )
          ).rows;
          return rows[0];
        }),
      60_000,
      'an upload transaction writing indicators',
    );
    expect(upload.ended()).toBe(false);
    const before = await withDatabase(db.url, async (c) => ({
      visible: Number(
        (
          await c.query(
            `SELECT count(*) AS n FROM indicators i JOIN suppliers s ON s.id = i.supplier_id
              WHERE s.name = $1`,
            [supplier],
          )
        ).rows[0].n,
      ),
      heapBytes: Number((await c.query(`SELECT pg_relation_size('indicators') AS b`)).rows[0].b),
    }));
    // Rows are physically written but, uncommitted, invisible to anyone else.
    expect(before.visible).toBe(0);
    expect(before.heapBytes).toBeGreaterThan(0);

    await server.kill('SIGKILL');
    upload.pause();
    const outcome = await upload.outcome;
    // Never answered: the connection died under the request.
    expect(outcome).toEqual({
      error: expect.objectContaining({ code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/) }),
    });

    await restart();
    // Postgres rolls the dead client's transaction back once it notices the closed socket.
    await waitFor(
      () =>
        withDatabase(db.url, async (c) =>
          (await c.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [writer.pid])).rows
            .length === 0
            ? true
            : undefined,
        ),
      30_000,
      'the killed upload backend to end',
    );

    const got = await server.request('GET', `/api/v1/suppliers/${supplier}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name: supplier, indicatorCount: 0 });
    const listed = await server.request('GET', `/api/v1/suppliers/${supplier}/indicators`);
    expect(listed.body).toEqual({ items: [], nextCursor: null });
    const tagged = await server.request('GET', `/api/v1/tags/${tag}`);
    expect(tagged.body).toMatchObject({ name: tag, indicatorCount: 0 });
    expect(
      await withDatabase(db.url, async (c) => ({
        indicators: Number((await c.query(`SELECT count(*) AS n FROM indicators`)).rows[0].n),
        tags: Number((await c.query(`SELECT count(*) AS n FROM indicator_tags`)).rows[0].n),
      })),
    ).toEqual({ indicators: 0, tags: 0 });
    const uploads = await server.request('GET', '/api/v1/audit-logs?action=indicator.upload');
    expect(uploads.body.items).toEqual([]);
    await expectChainValid();

    // The server works normally: a small upload to the same supplier commits.
    const small = await server.request('PUT', `/api/v1/suppliers/${supplier}/indicators`, [
      { indicator: 'crash-after.example', tags: [tag] },
      { indicator: '198.51.100.7' },
    ]);
    expect(small).toEqual({
      status: 200,
      body: { processed: 2, created: 2, updated: 0, failed: [] },
    });
    expect((await server.request('GET', `/api/v1/suppliers/${supplier}`)).body).toMatchObject({
      indicatorCount: 2,
    });
    const found = await server.request('GET', '/api/v1/search?value=www.crash-after.example');
    expect(found.body).toMatchObject({ result: 'detected', matches: [{ supplier }] });
    await expectChainValid();
  });

  it('SIEM forwarding killed mid-delivery loses nothing after the restart (at most duplicates)', async () => {
    const receiver = await new FramedReceiver().start();
    receivers.push(receiver);
    const { id, from } = await addTcpSiem(server, 'crash-siem', receiver.port);

    // A steady stream of audit records from two writers, until the server dies.
    let n = 0;
    const writer = async (): Promise<void> => {
      for (;;) {
        const res = await server
          .request('POST', '/api/v1/tags', { name: `SIEM-${n++}` })
          .catch(() => undefined);
        if (!res) return; // the server is gone
        expect(res.status).toBe(201);
      }
    };
    const writers = Promise.all([writer(), writer()]);
    await waitFor(() => receiver.frames.length >= 10, 15_000, 'deliveries under way');

    // Catch the worker between "sent" and "progress saved": hold the integration's row lock
    // until its progress UPDATE waits on it (a lease renewal waiting instead means nothing is
    // in flight: let go and try again), then SIGKILL the server there.
    const locker = new Client({ connectionString: db.url });
    await locker.connect();
    // pg_stat_activity is read outside the locker's transaction, which would freeze it.
    const watcher = new Client({ connectionString: db.url });
    await watcher.connect();
    try {
      let saving: { pid: number } | undefined;
      for (let attempt = 0; !saving; attempt++) {
        expect(attempt).toBeLessThan(100);
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM siem_integrations WHERE id = $1 FOR UPDATE', [id]);
        const waiting = await waitFor(
          async () =>
            (
              await watcher.query<{ pid: number; query: string }>(
                `SELECT pid, query FROM pg_stat_activity
                  WHERE datname = current_database() AND wait_event_type = 'Lock'
                    AND query LIKE 'UPDATE siem_integrations%'`,
              )
            ).rows[0],
          10_000,
          'the delivery worker to wait on the integration row',
        );
        if (/SET last_delivered_sequence/.test(waiting.query)) saving = waiting;
        else {
          await locker.query('ROLLBACK');
          const seen = receiver.frames.length;
          await waitFor(() => receiver.frames.length > seen, 10_000, 'the next delivery');
        }
      }
      const killedConnections = receiver.connections;
      await server.kill('SIGKILL');
      await writers;
      // The dead process's progress UPDATE never reaches the database (as if the crash came
      // just before it); then the row is free again.
      await locker.query('SELECT pg_terminate_backend($1)', [saving.pid]);
      await waitFor(
        async () =>
          (await watcher.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [saving.pid]))
            .rowCount === 0,
        10_000,
        "the dead process's database session to end",
      );
      await locker.query('ROLLBACK');
      const saved = Number(
        (
          await locker.query(
            'SELECT last_delivered_sequence AS s FROM siem_integrations WHERE id = $1',
            [id],
          )
        ).rows[0].s,
      );
      // Everything the dead process wrote has been read once its connections are closed.
      await waitFor(
        () => receiver.closed.size >= killedConnections,
        10_000,
        'the killed connections to close',
      );

      await restart();
      for (let i = 0; i < 20; i++) {
        const res = await server.request('POST', '/api/v1/tags', { name: `AFTER-${i}` });
        expect(res.status).toBe(201);
      }
      const last = await expectChainValid();
      // The dead instance's lease (15 s) runs out before the new one takes over.
      await waitFor(
        () => receiver.sequences().includes(last),
        45_000,
        `sequence ${last} delivered`,
      );

      const all = receiver.sequences().filter((s) => s > from);
      const firstSeen = all.filter((s, i) => all.indexOf(s) === i);
      expect(firstSeen).toEqual(range(from + 1, last - from));
      const before = receiver.sequences(
        receiver.frames.filter((f) => f.connection < killedConnections),
      );
      const after = receiver.sequences(
        receiver.frames.filter((f) => f.connection >= killedConnections),
      );
      // Each process sent a gapless, duplicate-free run; the new one resumes right after the
      // saved progress, so the only repeats are the batch in flight at the kill.
      expect(before).toEqual(range(from + 1, before.length));
      const lastBefore = before[before.length - 1];
      expect(lastBefore).toBeGreaterThan(saved);
      expect(lastBefore - saved).toBeLessThanOrEqual(SIEM_BATCH);
      expect(after).toEqual(range(saved + 1, last - saved));

      const state = await waitFor(async () => {
        const res = await server.request('GET', `/api/v1/siem-integrations/${id}`);
        return res.body.lastDeliveredSequence >= last ? res.body : undefined;
      });
      expect(state).toMatchObject({ lastDeliveredSequence: last, lastError: null, backlog: 0 });
    } finally {
      await locker.end();
      await watcher.end();
    }
  });
});
