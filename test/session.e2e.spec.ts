import type { Test } from 'supertest';
import { AuthService } from '../src/auth/auth.service';
import { PrincipalDirectory } from '../src/auth/principal-directory';
import { sessionCookie } from '../src/auth/session-tokens';
import { asRoot, asUser, TENANT_HEADER } from './api/client';
import { basic, createTestApp, ownerDb, tenantWithAdmin, TestApp } from './support/test-app';

/** Console sessions (docs/console.md, "Sessions"; docs/api.md, "Console sessions"). */
describe('console sessions', () => {
  let t: TestApp;
  const PASSWORD = 'a console password';
  const COOKIE =
    /^indicium_session=(inss_[A-Za-z0-9_-]{43}); Max-Age=(\d+); Path=\/; HttpOnly; SameSite=Strict$/;

  beforeAll(async () => {
    t = await createTestApp({ LOCKOUT_PRINCIPAL_FAILURES: '3', LOCKOUT_IP_FAILURES: '10000' });
  });
  afterAll(() => t.close());

  let users = 0;
  /** A new user of `role` in `default` (or `tenant`); resolves to its username. */
  async function newUser(role = 'Analyst', tenant?: string): Promise<{ name: string; id: string }> {
    const name = `person-${++users}`;
    const res = await asRoot(t, tenant)
      .post('/api/v1/users', { username: name, password: PASSWORD, role })
      .expect(201);
    return { name, id: res.body.id as string };
  }

  function signIn(username: string, password = PASSWORD): Test {
    return t.api().post('/api/v1/session').send({ username, password });
  }

  /** Signs in; resolves to the cookie pair to send and the session's CSRF token. */
  async function session(
    username: string,
    password = PASSWORD,
  ): Promise<{ cookie: string; id: string; csrf: string }> {
    const res = await signIn(username, password).expect(204);
    const id = COOKIE.exec(String(res.headers['set-cookie']))![1];
    const cookie = `indicium_session=${id}`;
    const state = await t.api().get('/api/v1/session').set('Cookie', cookie).expect(200);
    return { cookie, id, csrf: state.body.csrfToken as string };
  }

  const me = (cookie: string) => t.api().get('/api/v1/me').set('Cookie', cookie);
  /** Lets this instance read the database again at once (as another instance would within 5 s). */
  const forget = () => t.app.get(PrincipalDirectory).invalidate();

  it('signs in with a cookie of exactly the contract attributes; /me works with it', async () => {
    const user = await newUser();
    const res = await signIn(user.name).expect(204);
    const cookies = res.headers['set-cookie'] as unknown as string[];
    expect(cookies).toHaveLength(1);
    const [, id, maxAge] = COOKIE.exec(cookies[0])!;
    expect(Number(maxAge)).toBeGreaterThan(12 * 3600 - 60);
    expect(Number(maxAge)).toBeLessThanOrEqual(12 * 3600);
    const who = await me(`indicium_session=${id}`).expect(200);
    expect(who.headers['www-authenticate']).toBeUndefined();
    expect(who.body).toEqual(
      expect.objectContaining({ type: 'user', name: user.name, role: 'Analyst' }),
    );

    const state = await t.api().get('/api/v1/session').set('Cookie', `indicium_session=${id}`);
    expect(state.status).toBe(200);
    expect(state.body).toEqual({
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: expect.any(String),
      tenant: 'default',
    });
    const expiresIn = Date.parse(state.body.expiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(29 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(30 * 60_000);

    const audit = await ownerDb(t).query(
      `SELECT actor_name, entity_name, outcome FROM audit_log WHERE action = 'session.start' AND entity_name = $1`,
      [user.name],
    );
    expect(audit).toEqual([{ actor_name: user.name, entity_name: user.name, outcome: 'success' }]);
  });

  it('adds Secure to the cookie unless TLS=off', () => {
    expect(sessionCookie('x', 10, true)).toBe(
      'indicium_session=x; Max-Age=10; Path=/; HttpOnly; SameSite=Strict; Secure',
    );
    expect(sessionCookie('x', 10, false)).toBe(
      'indicium_session=x; Max-Age=10; Path=/; HttpOnly; SameSite=Strict',
    );
  });

  it('refuses a wrong password (401, audited as auth.failure) and locks out as Basic does', async () => {
    const user = await newUser();
    const wrong = await signIn(user.name, 'not the password');
    expect([wrong.status, wrong.body.message]).toEqual([401, 'Invalid credentials']);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.headers['www-authenticate']).toBe('Session realm="indicium"');
    const failures = await ownerDb(t).query(
      `SELECT new_value->>'reason' AS reason FROM audit_log WHERE action = 'auth.failure' AND entity_name = $1`,
      [user.name],
    );
    expect(failures).toEqual([{ reason: 'invalid_credentials' }]);
    await signIn(user.name, 'not the password either').expect(401);
    await signIn(user.name, 'still not it').expect(401);
    const locked = await signIn(user.name);
    expect([locked.status, locked.body.code]).toEqual([429, 'rate_limited']);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Basic is locked too: one lockout, whichever door.
    await t.api().get('/api/v1/me').set('Authorization', basic(user.name, PASSWORD)).expect(429);
  });

  it('refuses an inactive user, and an API client with its right secret', async () => {
    const user = await newUser();
    await asRoot(t).patch(`/api/v1/users/${user.id}`, { status: 'inactive' }).expect(200);
    const inactive = await signIn(user.name);
    expect([inactive.status, inactive.body.message]).toEqual([401, 'This account is inactive']);

    const client = await asRoot(t)
      .post('/api/v1/api-clients', { name: 'SOAR', role: 'Analyst' })
      .expect(201);
    const res = await signIn(client.body.clientId as string, client.body.clientSecret as string);
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/API clients have no sessions/);
    expect(res.headers['set-cookie']).toBeUndefined();
    const audit = await ownerDb(t).query(
      `SELECT new_value->>'reason' AS reason FROM audit_log WHERE action = 'auth.failure' AND entity_name = $1`,
      [client.body.clientId],
    );
    expect(audit).toEqual([{ reason: 'client_session' }]);
  });

  it('validates the body (400 naming the field)', async () => {
    const res = await t
      .api()
      .post('/api/v1/session')
      .send({ username: 'x'.repeat(300), password: 'y' });
    expect([res.status, res.body.message]).toEqual([400, expect.stringMatching(/username/)]);
    await t.api().post('/api/v1/session').send({ username: 'admin' }).expect(400);
  });

  it('needs the CSRF header for writes, not for reads', async () => {
    const user = await newUser('Administrator');
    const s = await session(user.name);
    const tag = () =>
      t
        .api()
        .post('/api/v1/tags')
        .set('Cookie', s.cookie)
        .send({ name: `t${users}` });
    const none = await tag();
    expect([none.status, none.body.message]).toEqual([403, 'CSRF token missing or invalid']);
    const wrong = await tag().set(
      'X-Indicium-CSRF',
      s.csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    );
    expect(wrong.status).toBe(403);
    await tag().set('X-Indicium-CSRF', 'short').expect(403);
    await tag().set('X-Indicium-CSRF', s.csrf).expect(201);
    await t.api().get('/api/v1/tags').set('Cookie', s.cookie).expect(200);
    const denied = await ownerDb(t).query(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'access.denied' AND actor_name = $1`,
      [user.name],
    );
    expect(denied).toEqual([{ n: 3 }]);
    // Sign-out is a write too.
    await t.api().delete('/api/v1/session').set('Cookie', s.cookie).expect(403);
    await me(s.cookie).expect(200);
  });

  it('signs out: the row goes, the cookie is cleared and no longer works', async () => {
    const user = await newUser();
    const s = await session(user.name);
    const res = await t
      .api()
      .delete('/api/v1/session')
      .set('Cookie', s.cookie)
      .set('X-Indicium-CSRF', s.csrf)
      .expect(204);
    expect(res.headers['set-cookie']).toEqual([
      'indicium_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict',
    ]);
    const gone = await me(s.cookie);
    expect([gone.status, gone.body.code]).toEqual([401, 'unauthorized']);
    // Not a Basic challenge: a browser would open its own password dialog.
    expect(gone.headers['www-authenticate']).toBe('Session realm="indicium"');
    const audit = await ownerDb(t).query(
      `SELECT actor_name FROM audit_log WHERE action = 'session.end' AND actor_name = $1`,
      [user.name],
    );
    expect(audit).toHaveLength(1);
  });

  it('ends after the idle time and after the absolute lifetime', async () => {
    const idle = await session((await newUser()).name);
    const old = await session((await newUser()).name);
    const db = ownerDb(t);
    await db.query(
      `UPDATE user_sessions SET last_seen_at = now() - interval '2 hours'` +
        ` WHERE id_hash = encode(sha256($1::bytea), 'hex')`,
      [idle.id],
    );
    await db.query(
      `UPDATE user_sessions SET expires_at = now() - interval '1 second'` +
        ` WHERE id_hash = encode(sha256($1::bytea), 'hex')`,
      [old.id],
    );
    forget();
    for (const s of [idle, old]) {
      const res = await me(s.cookie);
      expect([res.status, res.body.message]).toEqual([
        401,
        'This session has ended: sign in again',
      ]);
      expect(String(res.headers['set-cookie'])).toMatch(/^indicium_session=; Max-Age=0;/);
    }
    const left = await db.query(
      `SELECT count(*)::int AS n FROM user_sessions WHERE id_hash IN (encode(sha256($1::bytea), 'hex'), encode(sha256($2::bytea), 'hex'))`,
      [idle.id, old.id],
    );
    expect(left).toEqual([{ n: 0 }]);
  });

  it('the sweeper deletes ended sessions, tenant by tenant', async () => {
    const s = await session((await newUser()).name);
    const live = await session((await newUser()).name);
    const db = ownerDb(t);
    await db.query(
      `UPDATE user_sessions SET last_seen_at = now() - interval '1 hour'
        WHERE id_hash = encode(sha256($1::bytea), 'hex')`,
      [s.id],
    );
    expect(await t.app.get(AuthService).purgeEndedSessions()).toBe(1);
    forget();
    await me(s.cookie).expect(401);
    await me(live.cookie).expect(200);
  });

  it('a change another instance commits ends the session here within 5 s', async () => {
    const user = await newUser();
    const s = await session(user.name);
    await me(s.cookie).expect(200);
    // What another instance's password reset writes; this one learns of it only from the database.
    await ownerDb(t).query(`UPDATE users SET password_hash = password_hash || 'x' WHERE id = $1`, [
      user.id,
    ]);
    const start = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - start < 7_000) {
      status = (await me(s.cookie)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(401);
    expect(Date.now() - start).toBeLessThan(5_500);
  });

  it('ends on a password change, a role change and a deactivation', async () => {
    const a = await newUser();
    const b = await newUser();
    const c = await newUser();
    const [sa, sb, sc] = [await session(a.name), await session(b.name), await session(c.name)];
    await asRoot(t)
      .put(`/api/v1/users/${a.id}/password`, { password: 'another long password' })
      .expect(204);
    await asRoot(t).patch(`/api/v1/users/${b.id}`, { role: 'Administrator' }).expect(200);
    await asRoot(t).patch(`/api/v1/users/${c.id}`, { status: 'inactive' }).expect(200);
    for (const s of [sa, sb, sc]) await me(s.cookie).expect(401);
    // A new sign-in after the change works again (the role change does not lock anyone out).
    await me((await session(b.name)).cookie).expect(200);
  });

  it('ends its own session when the user changes the password through it', async () => {
    const user = await newUser();
    const s = await session(user.name);
    await t
      .api()
      .put('/api/v1/me/password')
      .set('Cookie', s.cookie)
      .set('X-Indicium-CSRF', s.csrf)
      .send({ currentPassword: PASSWORD, newPassword: 'a brand new password' })
      .expect(204);
    await me(s.cookie).expect(401);
  });

  it('ends when the tenant is suspended; another tenant neither uses nor sees it', async () => {
    const acmeAdmin = await tenantWithAdmin(t, 'acme', PASSWORD);
    const s = await session('acme-admin');
    const state = await t.api().get('/api/v1/session').set('Cookie', s.cookie).expect(200);
    expect(state.body.tenant).toBe('acme');
    // The session acts in its home only: naming a sibling is "tenant not found".
    await tenantWithAdmin(t, 'globex', PASSWORD);
    const other = await me(s.cookie).set(TENANT_HEADER, 'globex');
    expect([other.status, other.body.message]).toEqual([404, 'tenant not found']);
    // Its row is invisible from default (RLS) and from globex.
    const seen = await t
      .api()
      .get('/api/v1/audit-logs')
      .set('Authorization', basic('globex-admin', PASSWORD));
    expect(JSON.stringify(seen.body)).not.toContain('acme-admin');

    await asRoot(t).patch('/api/v1/tenants/acme', { status: 'suspended' }).expect(200);
    const suspended = await me(s.cookie);
    expect([suspended.status, suspended.body.message]).toEqual([401, 'This tenant is suspended']);
    await asRoot(t).patch('/api/v1/tenants/acme', { status: 'active' }).expect(200);
    await me(s.cookie).expect(401);
    await asUser(t, acmeAdmin).get('/api/v1/me').expect(200);
  });

  it('with tenants.manage, acts in a descendant through X-Indicium-Tenant as Basic does', async () => {
    await t
      .api()
      .post('/api/v1/tenants')
      .set('Authorization', basic(t.admin.username, t.admin.password))
      .send({ name: 'initech' })
      .expect(201);
    const s = await session(t.admin.username, t.admin.password);
    const list = await t
      .api()
      .get('/api/v1/users')
      .set('Cookie', s.cookie)
      .set(TENANT_HEADER, 'initech')
      .expect(200);
    expect(list.body.items).toEqual([]);
    await t
      .api()
      .post('/api/v1/tags')
      .set('Cookie', s.cookie)
      .set(TENANT_HEADER, 'initech')
      .set('X-Indicium-CSRF', s.csrf)
      .send({ name: 'initech-tag' })
      .expect(201);
    const tags = await asRoot(t, 'initech').get('/api/v1/tags').expect(200);
    expect(JSON.stringify(tags.body).toLowerCase()).toContain('initech-tag');
  });

  it('stores only the digest: the cookie value is nowhere in the table or the audit log', async () => {
    const user = await newUser();
    const s = await session(user.name);
    await me(s.cookie).expect(200);
    const db = ownerDb(t);
    const rows = await db.query<Array<{ row: string }>>(
      `SELECT row_to_json(s)::text AS row FROM user_sessions s`,
    );
    const audit = await db.query<Array<{ row: string }>>(
      `SELECT row_to_json(a)::text AS row FROM audit_log a`,
    );
    const names = await db.query<Array<{ row: string }>>(
      `SELECT row_to_json(p)::text AS row FROM principal_names p`,
    );
    expect(rows.length).toBeGreaterThan(0);
    const secret = s.id.slice('inss_'.length);
    for (const { row } of [...rows, ...audit, ...names]) {
      expect(row).not.toContain(secret);
      expect(row).not.toContain(s.csrf);
    }
    const mine = await db.query(
      `SELECT stamp FROM user_sessions WHERE id_hash = encode(sha256($1::bytea), 'hex')`,
      [s.id],
    );
    expect(mine).toEqual([{ stamp: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });

  it('refuses Basic and Bearer callers on the session routes: they have no session', async () => {
    const res = await asRoot(t).get('/api/v1/session');
    expect([res.status, res.body.message]).toEqual([404, expect.stringMatching(/No session/)]);
    await asRoot(t).delete('/api/v1/session').expect(404);
    const anonymous = await t.api().get('/api/v1/session').expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Session realm="indicium"');
    // Elsewhere a request with no credentials at all is still challenged for Basic.
    const plain = await t.api().get('/api/v1/me').expect(401);
    expect(plain.headers['www-authenticate']).toBe('Basic realm="indicium"');
    // ... except from a page's script, where it would open the browser's password dialog.
    for (const mode of ['cors', 'same-origin']) {
      const fetched = await t.api().get('/api/v1/me').set('Sec-Fetch-Mode', mode).expect(401);
      expect(fetched.headers['www-authenticate']).toBe('Session realm="indicium"');
    }
    const navigated = await t.api().get('/api/v1/me').set('Sec-Fetch-Mode', 'navigate').expect(401);
    expect(navigated.headers['www-authenticate']).toBe('Basic realm="indicium"');
  });

  it('answers 401, never 500, to a malformed, oversized, unknown or repeated cookie', async () => {
    const s = await session((await newUser()).name);
    for (const cookie of [
      'indicium_session=',
      'indicium_session=garbage',
      `indicium_session=inss_${'A'.repeat(42)}`,
      `indicium_session=inss_${'A'.repeat(43)}`,
      `indicium_session=${'x'.repeat(7000)}`,
      `other=1; indicium_session=${'%'.repeat(100)}`,
      `${s.cookie}; ${s.cookie}`,
      `a=${'b'.repeat(8200)}; indicium_session=x`,
    ]) {
      const res = await me(cookie);
      expect([cookie.slice(0, 40), res.status, res.body.code]).toEqual([
        cookie.slice(0, 40),
        401,
        'unauthorized',
      ]);
    }
    // An unrelated cookie alone is no credential at all.
    const none = await me('theme=dark');
    expect([none.status, none.body.message]).toEqual([
      401,
      expect.stringMatching(/Authentication required/),
    ]);
    // Basic wins over a cookie: the Authorization header is the credential.
    await me('indicium_session=garbage')
      .set('Authorization', basic(t.admin.username, t.admin.password))
      .expect(200);
  });
});

describe('console sessions: lockout by source IP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOCKOUT_IP_FAILURES: '4' });
  });
  afterAll(() => t.close());

  it('unknown session cookies count against the IP, and a locked IP is refused a valid session', async () => {
    const signedIn = await t
      .api()
      .post('/api/v1/session')
      .send({ username: t.admin.username, password: t.admin.password })
      .expect(204);
    const cookie = String(signedIn.headers['set-cookie']).split(';')[0];
    for (let i = 0; i < 4; i++) {
      await t
        .api()
        .get('/api/v1/me')
        .set('Cookie', `indicium_session=inss_${String(i).repeat(43)}`)
        .expect(401);
    }
    const res = await t.api().get('/api/v1/me').set('Cookie', cookie);
    expect([res.status, res.body.code]).toEqual([429, 'rate_limited']);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    const refused = await ownerDb(t).query(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.failure' AND new_value->>'reason' = 'invalid_session'`,
    );
    expect(refused).toEqual([{ n: 4 }]);
  });
});
