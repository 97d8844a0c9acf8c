import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { basic, createTestApp, ownerDb, TestApp } from './support/test-app';
import { asUser } from './api/client';

interface AuditRecord {
  id: string;
  sequence: number;
  timestamp: string;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  entityType: string;
  entityName: string | null;
  operation: string;
  outcome: string;
  oldValue: unknown;
  newValue: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  hash: string;
}

const PASSWORD = 'correct horse battery staple';

describe('audit log (docs/api.md §6)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = basic(t.admin.username, t.admin.password);
  });
  afterAll(() => t.close());

  async function records(query: Record<string, string | number> = {}): Promise<AuditRecord[]> {
    const res = await t
      .api()
      .get('/api/v1/audit-logs')
      .query({ limit: 1000, ...query })
      .set('Authorization', admin);
    expect(res.status).toBe(200);
    return res.body.items as AuditRecord[];
  }

  async function createUser(username: string, role = 'Analyst'): Promise<{ id: string }> {
    const res = await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username, password: PASSWORD, role });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  }

  it('records a user.create with actor, request context and the new value, never the password', async () => {
    const res = await asUser(t, admin)
      .post('/api/v1/users')
      .set('User-Agent', 'audit-test/1.0')
      .set('X-Request-Id', 'audit-req-1')
      .send({ username: 'audited.user', password: PASSWORD, role: 'Analyst' });
    expect(res.status).toBe(201);
    const [rec] = await records({ action: 'user.create', entityType: 'user', limit: 1 });
    expect(rec).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      sequence: expect.any(Number),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      actorType: 'user',
      actorId: expect.any(String),
      actorName: 'admin',
      action: 'user.create',
      entityType: 'user',
      entityName: 'audited.user',
      operation: 'create',
      outcome: 'success',
      oldValue: null,
      newValue: expect.objectContaining({
        id: res.body.id,
        username: 'audited.user',
        role: 'Analyst',
        status: 'active',
      }),
      ip: expect.any(String),
      userAgent: 'audit-test/1.0',
      requestId: 'audit-req-1',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(JSON.stringify(rec)).not.toContain(PASSWORD);
  });

  it('records updates, password resets, own password changes, deletes and role changes', async () => {
    const user = await createUser('lifecycle.user');
    const auth = basic('lifecycle.user', PASSWORD);
    expect(
      (await asUser(t, admin).patch(`/api/v1/users/${user.id}`).send({ status: 'inactive' }))
        .status,
    ).toBe(200);
    expect(
      (await asUser(t, admin).patch(`/api/v1/users/${user.id}`).send({ status: 'active' })).status,
    ).toBe(200);
    expect(
      (
        await asUser(t, auth)
          .put('/api/v1/me/password')
          .send({ currentPassword: PASSWORD, newPassword: `${PASSWORD}!` })
      ).status,
    ).toBe(204);
    expect(
      (
        await asUser(t, admin)
          .put(`/api/v1/users/${user.id}/password`)
          .send({ password: `${PASSWORD}?` })
      ).status,
    ).toBe(204);
    expect(
      (
        await asUser(t, admin)
          .post('/api/v1/roles')
          .send({ name: 'Audited Role', privileges: ['search'] })
      ).status,
    ).toBe(201);
    expect(
      (
        await asUser(t, admin)
          .patch('/api/v1/roles/Audited Role')
          .send({ privileges: ['search', 'tags.read'] })
      ).status,
    ).toBe(200);
    expect((await asUser(t, admin).delete('/api/v1/roles/Audited Role')).status).toBe(204);
    expect((await asUser(t, admin).delete(`/api/v1/users/${user.id}`)).status).toBe(204);

    const mine = (await records()).filter(
      (r) => r.entityName === 'lifecycle.user' || r.entityName === 'Audited Role',
    );
    expect(mine.map((r) => `${r.action}:${r.actorName}`).reverse()).toEqual([
      'user.create:admin',
      'user.update:admin',
      'user.update:admin',
      'user.change_password:lifecycle.user',
      'user.reset_password:admin',
      'role.create:admin',
      'role.update:admin',
      'role.delete:admin',
      'user.delete:admin',
    ]);
    const update = mine.find(
      (r) => r.action === 'user.update' && (r.newValue as { status: string }).status === 'inactive',
    );
    expect(update).toMatchObject({
      oldValue: { status: 'active' },
      newValue: { status: 'inactive' },
      operation: 'update',
    });
    expect(mine.find((r) => r.action === 'role.update')).toMatchObject({
      oldValue: { privileges: ['search'] },
      newValue: { privileges: ['search', 'tags.read'] },
    });
    expect(JSON.stringify(mine)).not.toMatch(/correct horse|scrypt/);
  });

  it('a rolled-back change leaves no record (duplicate username → 409)', async () => {
    await createUser('dup.audit');
    const res = await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username: 'dup.audit', password: PASSWORD, role: 'Analyst' });
    expect(res.status).toBe(409);
    const created = (await records({ action: 'user.create' })).filter(
      (r) => r.entityName === 'dup.audit',
    );
    expect(created).toHaveLength(1);
  });

  it('records security events: auth failure, privilege denied', async () => {
    const failed = await t
      .api()
      .get('/api/v1/users')
      .set('Authorization', basic('admin', 'wrong-password-here'));
    expect(failed.status).toBe(401);
    await createUser('denied.analyst');
    const denied = await t
      .api()
      .get('/api/v1/users')
      .set('Authorization', basic('denied.analyst', PASSWORD));
    expect(denied.status).toBe(403);

    const [failure] = await records({ action: 'auth.failure', limit: 1 });
    expect(failure).toMatchObject({
      actorType: 'anonymous',
      actorName: 'admin',
      operation: 'auth',
      outcome: 'failure',
      entityType: 'principal',
    });
    expect(JSON.stringify(failure)).not.toContain('wrong-password-here');
    const [access] = await records({ action: 'access.denied', limit: 1 });
    expect(access).toMatchObject({
      actorType: 'user',
      actorName: 'denied.analyst',
      operation: 'access',
      outcome: 'denied',
      newValue: { privilege: 'users.manage' },
    });
  });

  // Issue 14: a secret typed where a name belongs was stored verbatim, in an append-only log.
  it('never stores a secret presented as a name: such names are fingerprinted', async () => {
    const fingerprint = (s: string): string =>
      `sha256:${createHash('sha256').update(s).digest('hex').slice(0, 8)}`;
    const clientSecret = `inds_${'Zx9'.repeat(14)}Q`;
    const token = `indt_${'Kq7'.repeat(14)}W`;
    const password = 'My password! typed as the username';
    await t.api().get('/api/v1/me').set('Authorization', basic(clientSecret, 'x')).expect(401);
    await t.api().get('/api/v1/me').set('Authorization', basic(password, 'x')).expect(401);
    await t
      .api()
      .post('/api/v1/oauth/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: token, client_secret: 'whatever' })
      .expect(401);
    await t.api().get('/api/v1/me').set('Authorization', basic('no.such.user', 'x')).expect(401);

    const failures = await records({ action: 'auth.failure', limit: 4 });
    expect(failures.map((r) => [r.actorName, r.entityName]).reverse()).toEqual([
      [fingerprint(clientSecret), fingerprint(clientSecret)],
      [fingerprint(password), fingerprint(password)],
      [fingerprint(token), fingerprint(token)],
      // A name that fits the grammar but is nobody's may be a password: fingerprinted too.
      [fingerprint('no.such.user'), fingerprint('no.such.user')],
    ]);
    const everything = JSON.stringify(await records());
    for (const secret of [clientSecret, token, password, 'Zx9Zx9', 'Kq7Kq7']) {
      expect(everything).not.toContain(secret);
    }
    const metrics = await asUser(t, admin).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).not.toContain('Zx9Zx9');
  });

  it('records a lockout once the principal is locked', async () => {
    await createUser('locked.user');
    for (let i = 0; i < 10; i++) {
      await t
        .api()
        .get('/api/v1/me')
        .set('Authorization', basic('locked.user', `bad-${i}`));
    }
    const locked = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('locked.user', PASSWORD));
    expect(locked.status).toBe(429);
    const lockouts = (await records({ action: 'auth.lockout' })).filter(
      (r) => r.entityName === 'locked.user',
    );
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]).toMatchObject({
      outcome: 'denied',
      newValue: { principal: 'locked.user' },
    });
  });

  it('filters, pages newest first with a keyset cursor, and rejects bad queries', async () => {
    for (const n of ['page.one', 'page.two', 'page.three']) await createUser(n);
    const all = await records({ action: 'user.create' });
    expect(all.map((r) => r.sequence)).toEqual(
      [...all.map((r) => r.sequence)].sort((a, b) => b - a),
    );

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: AuditRecord[]; nextCursor: string | null } } =
        await t
          .api()
          .get('/api/v1/audit-logs')
          .query({ action: 'user.create', limit: 2, ...(cursor ? { cursor } : {}) })
          .set('Authorization', admin);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((r) => r.sequence));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.sequence));

    expect(
      (await records({ actor: 'admin', outcome: 'success' })).every(
        (r) => r.actorName === 'admin' && r.outcome === 'success',
      ),
    ).toBe(true);
    expect(await records({ actor: 'nobody-at-all' })).toEqual([]);
    const newest = all[0];
    const exact = await records({
      from: newest.timestamp,
      to: newest.timestamp,
      action: 'user.create',
    });
    expect(exact.map((r) => r.sequence)).toContain(newest.sequence);
    expect(await records({ to: '2000-01-01T00:00:00Z' })).toEqual([]);
    expect((await records({ entityType: 'role' })).every((r) => r.entityType === 'role')).toBe(
      true,
    );

    for (const [query, field] of [
      [{ from: 'yesterday' }, /from/],
      [{ outcome: 'maybe' }, /outcome/],
      [{ sort: 'asc' }, /sort/],
      [{ cursor: 'garbage' }, /cursor/],
    ] as const) {
      const res = await t.api().get('/api/v1/audit-logs').query(query).set('Authorization', admin);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(field);
    }
  });

  it('needs audit.read: 401 without credentials, 403 for an Analyst', async () => {
    await createUser('plain.analyst');
    expect((await t.api().get('/api/v1/audit-logs')).status).toBe(401);
    const analyst = basic('plain.analyst', PASSWORD);
    const res = await asUser(t, analyst).get('/api/v1/audit-logs');
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/audit\.read/);
    expect((await asUser(t, analyst).get('/api/v1/audit-logs/verify')).status).toBe(403);
  });

  it('verifies the chain over every record', async () => {
    const res = await asUser(t, admin).get('/api/v1/audit-logs/verify');
    expect(res.status).toBe(200);
    const newest = (await records({ limit: 1 }))[0];
    expect(res.body).toEqual({ valid: true, checked: expect.any(Number) });
    expect(res.body.checked).toBeGreaterThanOrEqual(newest.sequence - 1);
  });

  it('the database rejects UPDATE, DELETE and TRUNCATE of audit records', async () => {
    const db = ownerDb(t);
    await expect(
      db.query(`UPDATE audit_log SET actor_name = 'mallory' WHERE sequence = 1`),
    ).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_log WHERE sequence = 1`)).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
  });

  // Tampering needs a superuser session outside the app.
  it('detects a tampered record: verify reports the first broken sequence', async () => {
    await createUser('tamper.target');
    const [target] = await records({ action: 'user.create', limit: 1 });
    const client = new Client({ connectionString: t.config.env.DATABASE_URL });
    await client.connect();
    try {
      await client.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
      await client.query(`UPDATE audit_log SET entity_name = 'someone.else' WHERE sequence = $1`, [
        target.sequence,
      ]);
      await client.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    } finally {
      await client.end();
    }
    const res = await asUser(t, admin).get('/api/v1/audit-logs/verify');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false, brokenAt: target.sequence });
  });
});
