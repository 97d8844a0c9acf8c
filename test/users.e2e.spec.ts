import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

describe('users, roles of users, /me (docs/api.md §2)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = basic(t.admin.username, t.admin.password);
  });
  afterAll(() => t.close());

  async function createUser(
    username: string,
    role = 'Analyst',
    extra: Record<string, unknown> = {},
  ) {
    const res = await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username, password: 'correct horse battery', role, ...extra });
    expect(res.status).toBe(201);
    return res.body as { id: string; username: string; role: string; status: string };
  }

  it('creates a user and never returns a password or hash', async () => {
    const res = await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username: 'jane.doe', password: 'correct horse battery', role: 'Analyst' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: 'jane.doe',
      role: 'Analyst',
      status: 'active',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      lastLoginAt: null,
    });
    const got = await asUser(t, admin).get(`/api/v1/users/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(JSON.stringify(got.body)).not.toMatch(/password|scrypt/i);
  });

  it.each([
    [{ username: 'ab', password: 'correct horse battery', role: 'Analyst' }, /username/],
    [{ username: 'bad name', password: 'correct horse battery', role: 'Analyst' }, /username/],
    [{ username: 'shortpw', password: 'short', role: 'Analyst' }, /password/],
    [{ username: 'norole', password: 'correct horse battery' }, /role/],
    [
      { username: 'badstatus', password: 'correct horse battery', role: 'Analyst', status: 'gone' },
      /status/,
    ],
    [
      { username: 'extra', password: 'correct horse battery', role: 'Analyst', isAdmin: true },
      /isAdmin/,
    ],
    [
      { username: 'ghostrole', password: 'correct horse battery', role: 'Ghost' },
      /role "Ghost" does not exist/,
    ],
  ])('rejects %j with 400 naming the problem', async (body, message) => {
    const res = await asUser(t, admin).post('/api/v1/users').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      requestId: expect.any(String),
    });
    expect(res.body.message).toMatch(message);
    expect(res.body.code).toBe(
      String(message).includes('does not exist') ? 'unknown_reference' : 'validation_failed',
    );
    const list = await asUser(t, admin).get('/api/v1/users?limit=1000');
    expect(list.body.items.map((u: { username: string }) => u.username)).not.toContain(
      body.username,
    );
  });

  it('rejects a duplicate username with 409', async () => {
    await createUser('dupe.user');
    const res = await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username: 'dupe.user', password: 'correct horse battery', role: 'Analyst' });
    expect(res.status).toBe(409);
  });

  it('lists users with keyset pagination', async () => {
    for (const n of ['page.a', 'page.b', 'page.c']) await createUser(n);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: {
        status: number;
        body: { items: Array<{ username: string }>; nextCursor: string | null };
      } = await t
        .api()
        .get('/api/v1/users')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set('Authorization', admin);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((u: { username: string }) => u.username));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['admin', 'page.a', 'page.b', 'page.c']));
    const bad = await asUser(t, admin).get('/api/v1/users?cursor=garbage');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/cursor/);
    const badLimit = await asUser(t, admin).get('/api/v1/users?limit=1001');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.message).toMatch(/limit/);
  });

  it('404 for an unknown id, 400 for a malformed one', async () => {
    const missing = await asUser(t, admin).get(
      '/api/v1/users/00000000-0000-4000-8000-000000000000',
    );
    expect(missing.status).toBe(404);
    const malformed = await asUser(t, admin).get('/api/v1/users/not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toBe('id must be a UUID');
  });

  it('authenticates a user with Basic; /me tells who and what they may do', async () => {
    await createUser('analyst.me');
    const res = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('analyst.me', 'correct horse battery'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      type: 'user',
      id: expect.any(String),
      name: 'analyst.me',
      role: 'Analyst',
      privileges: ['search'],
    });
  });

  it('reads Basic credentials as RFC 7617 does: the password runs to the end, colons and UTF-8 included', async () => {
    const password = 'pass:word:with colons ünïcødé';
    await createUser('colon.user', 'Analyst', { password });
    const res = await t.api().get('/api/v1/me').set('Authorization', basic('colon.user', password));
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('colon.user');
    // Only the full password: what lies before a colon in it is not enough.
    await t.api().get('/api/v1/me').set('Authorization', basic('colon.user', 'pass')).expect(401);
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    const lower = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('colon.user', password).replace(/^Basic/, 'basic'));
    expect(lower.status).toBe(200);
  });

  it('401 with WWW-Authenticate for missing, wrong and inactive credentials', async () => {
    const none = await t.api().get('/api/v1/me');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="indicium"');
    expect(none.body).toMatchObject({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'unauthorized',
    });
    const wrong = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('admin', 'not the password'));
    expect(wrong.status).toBe(401);
    const unknown = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('nobody.here', 'whatever-password'));
    expect(unknown.status).toBe(401);
    const garbage = await t.api().get('/api/v1/me').set('Authorization', 'Basic %%%');
    expect(garbage.status).toBe(401);
    const u = await createUser('inactive.one', 'Analyst', { status: 'inactive' });
    const inactive = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('inactive.one', 'correct horse battery'));
    expect(inactive.status).toBe(401);
    expect(inactive.body.message).toMatch(/inactive/);
    await asUser(t, admin).patch(`/api/v1/users/${u.id}`).send({ status: 'active' }).expect(200);
    await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('inactive.one', 'correct horse battery'))
      .expect(200);
  });

  it('403 when the role lacks the privilege', async () => {
    await createUser('analyst.403');
    const res = await t
      .api()
      .get('/api/v1/users')
      .set('Authorization', basic('analyst.403', 'correct horse battery'));
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
    expect(res.body.message).toMatch(/users\.manage/);
  });

  it('revokes at once: deactivation, role change and password reset apply to the next request', async () => {
    const u = await createUser('revoke.me', 'Administrator');
    const auth = basic('revoke.me', 'correct horse battery');
    await asUser(t, auth).get('/api/v1/users').expect(200);
    await asUser(t, admin).patch(`/api/v1/users/${u.id}`).send({ role: 'Analyst' }).expect(200);
    await asUser(t, auth).get('/api/v1/users').expect(403);
    await asUser(t, admin)
      .put(`/api/v1/users/${u.id}/password`)
      .send({ password: 'a brand new password' })
      .expect(204);
    await asUser(t, auth).get('/api/v1/me').expect(401);
    const fresh = basic('revoke.me', 'a brand new password');
    await asUser(t, fresh).get('/api/v1/me').expect(200);
    await asUser(t, admin).patch(`/api/v1/users/${u.id}`).send({ status: 'inactive' }).expect(200);
    await asUser(t, fresh).get('/api/v1/me').expect(401);
    await asUser(t, admin).delete(`/api/v1/users/${u.id}`).expect(204);
    await asUser(t, admin).get(`/api/v1/users/${u.id}`).expect(404);
  });

  it('PATCH validates and 404s', async () => {
    const u = await createUser('patch.me');
    const bad = await asUser(t, admin).patch(`/api/v1/users/${u.id}`).send({ username: 'renamed' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/username should not exist/);
    const ghostRole = await asUser(t, admin).patch(`/api/v1/users/${u.id}`).send({ role: 'Ghost' });
    expect(ghostRole.status).toBe(400);
    await asUser(t, admin)
      .patch('/api/v1/users/00000000-0000-4000-8000-000000000000')
      .send({ status: 'inactive' })
      .expect(404);
    await asUser(t, admin).delete('/api/v1/users/00000000-0000-4000-8000-000000000000').expect(404);
    await asUser(t, admin)
      .put('/api/v1/users/00000000-0000-4000-8000-000000000000/password')
      .send({ password: 'long enough password' })
      .expect(404);
  });

  it('keeps the last active Administrator: no delete, deactivate or demote (409)', async () => {
    const list = await asUser(t, admin).get('/api/v1/users?limit=1000');
    const others = list.body.items.filter(
      (u: { role: string; username: string }) =>
        u.role === 'Administrator' && u.username !== 'admin',
    );
    for (const o of others) await asUser(t, admin).delete(`/api/v1/users/${o.id}`).expect(204);
    const adminId = list.body.items.find((u: { username: string }) => u.username === 'admin').id;
    for (const body of [{ status: 'inactive' }, { role: 'Analyst' }]) {
      const res = await asUser(t, admin).patch(`/api/v1/users/${adminId}`).send(body);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('last_administrator');
      expect(res.body.message).toMatch(/last active Administrator/);
    }
    await asUser(t, admin).delete(`/api/v1/users/${adminId}`).expect(409);
    // With a second active admin, the first may go.
    const second = await createUser('second.admin', 'Administrator');
    await asUser(t, admin).patch(`/api/v1/users/${adminId}`).send({ status: 'active' }).expect(200);
    // Demoted by an Administrator API client: were one of the two users the actor, a demotion
    // committed first could take away its privilege before its other request authenticated.
    const created = await asUser(t, admin)
      .post('/api/v1/api-clients')
      .send({ name: 'admin-automation', role: 'Administrator' })
      .expect(201);
    const automation = basic(created.body.clientId, created.body.clientSecret);
    const concurrent = await Promise.all([
      asUser(t, automation).patch(`/api/v1/users/${adminId}`).send({ role: 'Analyst' }),
      asUser(t, automation).patch(`/api/v1/users/${second.id}`).send({ role: 'Analyst' }),
    ]);
    expect(concurrent.map((r) => r.status).sort()).toEqual([200, 409]);
    // Leave `admin` an Administrator for the other tests.
    if (concurrent[0].status === 200) {
      await t
        .api()
        .patch(`/api/v1/users/${adminId}`)
        .set('Authorization', basic('second.admin', 'correct horse battery'))
        .send({ role: 'Administrator' })
        .expect(200);
    }
  });

  it("changes one's own password with the current one", async () => {
    await createUser('self.service');
    const auth = basic('self.service', 'correct horse battery');
    const wrong = await asUser(t, auth)
      .put('/api/v1/me/password')
      .send({ currentPassword: 'nope', newPassword: 'another good password' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('validation_failed');
    expect(wrong.body.message).toMatch(/currentPassword/);
    const short = await asUser(t, auth)
      .put('/api/v1/me/password')
      .send({ currentPassword: 'correct horse battery', newPassword: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.message).toMatch(/newPassword/);
    await asUser(t, auth)
      .put('/api/v1/me/password')
      .send({ currentPassword: 'correct horse battery', newPassword: 'another good password' })
      .expect(204);
    await asUser(t, auth).get('/api/v1/me').expect(401);
    await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('self.service', 'another good password'))
      .expect(200);
  });
});
