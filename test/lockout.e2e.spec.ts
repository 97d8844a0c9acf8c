import crypto from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { AuthRefusalsService } from '../src/auth/auth-refusals.service';
import { LockoutService } from '../src/auth/lockout.service';
import {
  createDatabase,
  killAll,
  ServerProcess,
  serverProblems,
  TestDatabase,
  withDatabase,
} from './support/server-process';
import { appDb, basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

/**
 * Lockouts shared by every instance and kept across restarts (docs/api.md §2), and the
 * rate-limited audit of refused requests (§6).
 */

const PASSWORD = 'correct horse battery staple';

/** GET /api/v1/me on a fresh connection (a killed process must not leave a reused socket). */
function me(
  server: ServerProcess,
  authorization: string,
): Promise<{ status: number; retryAfter: number | null; body: { message?: string } }> {
  return new Promise((done, fail) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/api/v1/me',
        agent: false,
        headers: { Authorization: authorization },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', fail);
        res.on('end', () => {
          const header = res.headers['retry-after'];
          done({
            status: res.statusCode!,
            retryAfter: header === undefined ? null : Number(header),
            body: JSON.parse(text) as { message?: string },
          });
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/** Seconds the principal's lock has left, by the database clock; null when there is none. */
async function lockSeconds(url: string, principal: string): Promise<number | null> {
  return withDatabase(url, async (c) => {
    const { rows } = await c.query<{ s: number }>(
      `SELECT extract(epoch FROM locked_until - now())::float8 AS s
         FROM auth_lockouts WHERE kind = 'principal' AND subject = $1 AND locked_until > now()`,
      [principal],
    );
    return rows[0]?.s ?? null;
  });
}

describe('lockout across instances and restarts', () => {
  let db: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let restarted: ServerProcess | undefined;

  beforeAll(async () => {
    db = await createDatabase();
    [a, b] = await Promise.all([
      ServerProcess.start({ databaseUrl: db.url }),
      ServerProcess.start({ databaseUrl: db.url }),
    ]);
    const created = await a.request('POST', '/api/v1/users', {
      username: 'victim',
      password: PASSWORD,
      role: 'Analyst',
    });
    expect(created.status).toBe(201);
  }, 240_000);

  afterAll(async () => {
    const problems = serverProblems();
    if (problems) process.stderr.write(`${problems}\n`);
    await killAll([a, b, restarted]);
    await db?.drop();
  });

  it('6 failures on A and 5 on B lock the principal on both, with the real time left', async () => {
    for (let i = 0; i < 6; i++) {
      expect((await me(a, basic('victim', `wrong-on-a-${i}`))).status).toBe(401);
    }
    // The limit is 10 (the default): B's 4th failure is the 10th and starts the lock.
    for (let i = 0; i < 4; i++) {
      expect((await me(b, basic('victim', `wrong-on-b-${i}`))).status).toBe(401);
    }
    const fifth = await me(b, basic('victim', 'wrong-on-b-4'));
    expect(fifth.status).toBe(429);
    expect(fifth.body.message).toMatch(/locked for \d+ more seconds/);

    // The right password is refused on both instances, at once.
    for (const server of [a, b]) {
      const res = await me(server, basic('victim', PASSWORD));
      const left = await lockSeconds(db.url, 'victim');
      expect(res.status).toBe(429);
      expect(left).not.toBeNull();
      expect(left!).toBeGreaterThan(14 * 60);
      expect(Math.abs(res.retryAfter! - left!)).toBeLessThanOrEqual(2);
    }
    // One lockout, audited once; the IP (11 failures of 100) and other principals are not locked.
    const lockouts = await a.request('GET', '/api/v1/audit-logs?action=auth.lockout');
    expect(lockouts.status).toBe(200);
    expect(lockouts.body.items).toEqual([
      expect.objectContaining({
        entityName: 'victim',
        outcome: 'denied',
        newValue: { principal: 'victim', ip: null },
      }),
    ]);
    expect((await b.request('GET', '/api/v1/me')).status).toBe(200);
  });

  it('a restart keeps the lock, and Retry-After keeps counting down', async () => {
    const before = await me(a, basic('victim', PASSWORD));
    expect(before.status).toBe(429);
    await Promise.all([a.stop(), b.stop()]);
    restarted = await a.restart();
    const after = await me(restarted, basic('victim', PASSWORD));
    const left = await lockSeconds(db.url, 'victim');
    expect(after.status).toBe(429);
    expect(after.retryAfter!).toBeLessThanOrEqual(before.retryAfter!);
    expect(after.retryAfter!).toBeGreaterThan(14 * 60);
    expect(Math.abs(after.retryAfter! - left!)).toBeLessThanOrEqual(2);
    expect((await restarted.request('GET', '/api/v1/me')).status).toBe(200);
  }, 120_000);
});

describe('lockout state and refusal audit (one instance)', () => {
  let t: TestApp;
  const admin = (): string => basic(t.admin.username, t.admin.password);
  const sql = <R = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> =>
    appDb(t).query(text, params);
  const refusals = (): AuthRefusalsService => t.app.get(AuthRefusalsService);

  beforeAll(async () => {
    t = await createTestApp({ LOCKOUT_PRINCIPAL_FAILURES: '3', LOCKOUT_IP_FAILURES: '1000' });
    // These tests flush the refusal tallies themselves, at the moments they choose.
    await refusals().onModuleDestroy();
    for (const username of ['refused.user', 'recovering.user']) {
      await t
        .api()
        .post('/api/v1/users')
        .set('Authorization', admin())
        .send({ username, password: PASSWORD, role: 'Analyst' })
        .expect(201);
    }
  });
  afterAll(() => t.close());

  /** Audit records of `action`, newest first. */
  const records = async (action: string): Promise<Array<Record<string, unknown>>> => {
    const res = await t
      .api()
      .get(`/api/v1/audit-logs?action=${action}&limit=100`)
      .set('Authorization', admin())
      .expect(200);
    return res.body.items as Array<Record<string, unknown>>;
  };
  const minutes = (from: number, to: number): number =>
    Math.floor(to / 60_000) - Math.floor(from / 60_000) + 1;

  it('answers a burst of 32 first requests with one credential with one scrypt', async () => {
    const created = await t
      .api()
      .post('/api/v1/api-clients')
      .set('Authorization', admin())
      .send({ name: 'burst', role: 'Analyst' })
      .expect(201);
    const credentials = basic(created.body.clientId, created.body.clientSecret);
    const scrypts = jest.spyOn(crypto, 'scrypt');
    try {
      const burst = await Promise.all(
        Array.from({ length: 32 }, () => asUser(t, credentials).get('/api/v1/me')),
      );
      expect(burst.map((r) => [r.status, r.body.name])).toEqual(
        Array(32).fill([200, created.body.clientId]),
      );
      expect(scrypts).toHaveBeenCalledTimes(1);
    } finally {
      scrypts.mockRestore();
    }
  });

  it('counts failures in one row per principal and IP, and a success clears only the principal', async () => {
    for (let i = 0; i < 2; i++) {
      await t
        .api()
        .get('/api/v1/me')
        .set('Authorization', basic('recovering.user', `wrong-${i}`))
        .expect(401);
    }
    const rows = () =>
      sql<{ kind: string; subject: string; failures: number; locked: boolean }>(
        `SELECT kind, subject, failures, locked_until IS NOT NULL AS locked FROM auth_lockouts
          WHERE subject IN ('recovering.user', '127.0.0.1', '::ffff:127.0.0.1') ORDER BY kind`,
      );
    expect(await rows()).toEqual([
      { kind: 'ip', subject: expect.stringMatching(/127\.0\.0\.1$/), failures: 2, locked: false },
      { kind: 'principal', subject: 'recovering.user', failures: 2, locked: false },
    ]);
    await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('recovering.user', PASSWORD))
      .expect(200);
    // The delete runs off the request path.
    for (let i = 0; i < 100 && (await rows()).length > 1; i++) await sleep(20);
    expect(await rows()).toEqual([expect.objectContaining({ kind: 'ip', failures: 2 })]);
    // A clean principal's successful logins write nothing.
    for (let i = 0; i < 3; i++) {
      await t
        .api()
        .get('/api/v1/me')
        .set('Authorization', basic('recovering.user', PASSWORD))
        .expect(200);
    }
    expect(await rows()).toEqual([expect.objectContaining({ kind: 'ip', failures: 2 })]);
  });

  it('audits refusals during a lockout once per IP and minute, with their count', async () => {
    for (let i = 0; i < 3; i++) {
      await t
        .api()
        .get('/api/v1/me')
        .set('Authorization', basic('refused.user', `wrong-${i}`))
        .expect(401);
    }
    const start = Date.now();
    for (let i = 0; i < 7; i++) {
      const res = await t
        .api()
        .get('/api/v1/me')
        .set('Authorization', basic('refused.user', PASSWORD))
        .set('User-Agent', 'refusal-test');
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(800);
    }
    const end = Date.now();
    // Nothing is audited per request; the open minute is only counted.
    expect(await records('auth.refused')).toEqual([]);
    const written = await refusals().flush(new Date(end + 60_000));
    const refused = await records('auth.refused');
    expect(refused.length).toBe(written);
    expect(refused.length).toBeLessThanOrEqual(minutes(start, end));
    expect(refused.reduce((n, r) => n + (r.newValue as { count: number }).count, 0)).toBe(7);
    expect(refused[0]).toMatchObject({
      actorType: 'anonymous',
      actorName: 'refused.user',
      action: 'auth.refused',
      entityName: 'refused.user',
      operation: 'auth',
      outcome: 'denied',
      ip: expect.stringMatching(/127\.0\.0\.1$/),
      userAgent: 'refusal-test',
      newValue: { reason: 'locked_out', count: expect.any(Number) },
    });
    // Taken once: the tallies are gone, a second flush writes nothing.
    expect(await sql('SELECT * FROM auth_refusals')).toEqual([]);
    expect(await refusals().flush(new Date(end + 60_000))).toBe(0);
    const chain = await t
      .api()
      .get('/api/v1/audit-logs/verify')
      .set('Authorization', admin())
      .expect(200);
    expect(chain.body).toMatchObject({ valid: true });
  });

  it('audits malformed Authorization headers the same way, but not a missing one', async () => {
    const malformed = ['Basic !!!not-base64', 'Basic ' + btoa('no-colon'), 'Digest x', 'Bearer'];
    const start = Date.now();
    for (const header of malformed) {
      const res = await asUser(t, header).get('/api/v1/me');
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(/Authentication required/);
    }
    await t.api().get('/api/v1/me').expect(401);
    const end = Date.now();
    await refusals().flush(new Date(end + 60_000));
    const refused = (await records('auth.refused')).filter(
      (r) => (r.newValue as { reason: string }).reason === 'malformed_authorization',
    );
    expect(refused.length).toBeLessThanOrEqual(minutes(start, end));
    expect(refused.reduce((n, r) => n + (r.newValue as { count: number }).count, 0)).toBe(4);
    expect(refused[0]).toMatchObject({ actorName: null, entityName: null, outcome: 'denied' });
    expect(JSON.stringify(refused)).not.toContain('not-base64');
  });

  it('leaves tallies of the current minute for later', async () => {
    await t.api().get('/api/v1/me').set('Authorization', 'Negotiate abc').expect(401);
    expect(await refusals().flush()).toBe(0);
    expect(await sql('SELECT count FROM auth_refusals')).toEqual([{ count: 1 }]);
  });

  it('keys a name no principal could have by a digest, never by what was typed', async () => {
    const typed = 'correct horse battery staple typed as the name';
    await t.api().get('/api/v1/me').set('Authorization', basic(typed, 'x')).expect(401);
    const rows = await sql<{ subject: string; failures: number }>(
      `SELECT subject, failures FROM auth_lockouts WHERE kind = 'principal' AND subject LIKE 'sha256:%'`,
    );
    expect(rows).toEqual([{ subject: expect.stringMatching(/^sha256:[0-9a-f]{8}$/), failures: 1 }]);
    expect(JSON.stringify(await sql('SELECT * FROM auth_lockouts'))).not.toContain('horse');
  });

  it('prunes rows whose window and lock are over, and only those', async () => {
    await sql(
      `INSERT INTO auth_lockouts (kind, subject, failures, window_started_at, locked_until, expires_at)
       VALUES ('principal', 'long.gone', 3, now() - interval '1 hour', now() - interval '30 minutes',
               now() - interval '30 minutes'),
              ('ip', '192.0.2.1', 1, now() - interval '1 hour', NULL, now() - interval '45 minutes'),
              ('principal', 'still.locked', 3, now() - interval '1 hour', now() + interval '5 minutes',
               now() + interval '5 minutes')`,
    );
    await t.app.get(LockoutService).sweep();
    const left = await sql<{ subject: string }>(
      `SELECT subject FROM auth_lockouts WHERE subject IN ('long.gone', '192.0.2.1', 'still.locked')`,
    );
    expect(left).toEqual([{ subject: 'still.locked' }]);
    const res = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('still.locked', 'anything'))
      .expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(290);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(300);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
