import { ALL_PRIVILEGES } from '../src/auth/privileges';
import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

describe('roles and privileges (docs/api.md §2)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = basic(t.admin.username, t.admin.password);
  });
  afterAll(() => t.close());

  it('lists the immutable built-in roles', async () => {
    const res = await asUser(t, admin).get('/api/v1/roles');
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    const byName = Object.fromEntries(res.body.items.map((r: { name: string }) => [r.name, r]));
    expect(byName.Administrator).toMatchObject({
      builtIn: true,
      privileges: [...ALL_PRIVILEGES].sort(),
    });
    expect(byName.Analyst).toMatchObject({ builtIn: true, privileges: ['search'] });
  });

  it('serves the privilege catalogue', async () => {
    const res = await asUser(t, admin).get('/api/v1/roles/privileges');
    expect(res.status).toBe(200);
    expect(res.body.map((p: { name: string }) => p.name)).toEqual(ALL_PRIVILEGES);
    expect(res.body.every((p: { description: string }) => p.description.length > 5)).toBe(true);
  });

  it('creates, changes and deletes a custom role; its holders feel changes at once', async () => {
    const created = await asUser(t, admin)
      .post('/api/v1/roles')
      .send({ name: 'SOC Tier 2', description: 'triage', privileges: ['search', 'metrics.read'] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: 'SOC Tier 2',
      description: 'triage',
      builtIn: false,
      privileges: ['metrics.read', 'search'],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username: 'tier2', password: 'correct horse battery', role: 'SOC Tier 2' })
      .expect(201);
    const tier2 = basic('tier2', 'correct horse battery');
    await asUser(t, tier2).get('/metrics').expect(200);

    const patched = await asUser(t, admin)
      .patch('/api/v1/roles/SOC Tier 2')
      .send({ privileges: ['search'] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'SOC Tier 2',
      description: 'triage',
      privileges: ['search'],
    });
    await asUser(t, tier2).get('/metrics').expect(403);
    const me = await asUser(t, tier2).get('/api/v1/me');
    expect(me.body).toMatchObject({ role: 'SOC Tier 2', privileges: ['search'] });

    const assigned = await asUser(t, admin).delete('/api/v1/roles/SOC Tier 2');
    expect(assigned.status).toBe(409);
    expect(assigned.body.code).toBe('role_in_use');
    expect(assigned.body.message).toMatch(/still assigned/);
    const users = await asUser(t, admin).get('/api/v1/users');
    const id = users.body.items.find((u: { username: string }) => u.username === 'tier2').id;
    await asUser(t, admin).delete(`/api/v1/users/${id}`).expect(204);
    await asUser(t, admin).delete('/api/v1/roles/SOC Tier 2').expect(204);
    await asUser(t, admin).delete('/api/v1/roles/SOC Tier 2').expect(404);
  });

  it.each([
    [{ name: 'bad/name', privileges: [] }, /name must match/],
    [{ name: 'x'.repeat(65), privileges: [] }, /name must match/],
    [{ name: 'NoPrivs' }, /privileges must be an array/],
    [{ name: 'Unknown', privileges: ['search', 'root'] }, /privileges must be one of/],
    [{ name: 'Dupes', privileges: ['search', 'search'] }, /privileges.*unique/],
    [{ name: 'Extra', privileges: [], builtIn: true }, /builtIn should not exist/],
  ])('rejects %j with 400', async (body, message) => {
    const res = await asUser(t, admin).post('/api/v1/roles').send(body);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  });

  it('409 on duplicates and on changing built-ins; 404 on unknown roles', async () => {
    await asUser(t, admin)
      .post('/api/v1/roles')
      .send({ name: 'Analyst', privileges: [] })
      .expect(409);
    await asUser(t, admin)
      .post('/api/v1/roles')
      .send({ name: 'Twice', privileges: [] })
      .expect(201);
    await asUser(t, admin)
      .post('/api/v1/roles')
      .send({ name: 'Twice', privileges: [] })
      .expect(409);
    const patchBuiltIn = await asUser(t, admin)
      .patch('/api/v1/roles/Analyst')
      .send({ privileges: ['search', 'users.manage'] });
    expect(patchBuiltIn.status).toBe(409);
    expect(patchBuiltIn.body.code).toBe('built_in_immutable');
    expect(patchBuiltIn.body.message).toMatch(/built in/);
    await asUser(t, admin).delete('/api/v1/roles/Administrator').expect(409);
    await asUser(t, admin).patch('/api/v1/roles/Ghost').send({ description: 'x' }).expect(404);
    const rename = await asUser(t, admin).patch('/api/v1/roles/Twice').send({ name: 'Thrice' });
    expect(rename.status).toBe(400);
    expect(rename.body.message).toMatch(/name should not exist/);
    const roles = await asUser(t, admin).get('/api/v1/roles');
    expect(roles.body.items.find((r: { name: string }) => r.name === 'Analyst').privileges).toEqual(
      ['search'],
    );
  });

  it('paginates by name', async () => {
    for (const n of ['P1', 'P2', 'P3'])
      await asUser(t, admin).post('/api/v1/roles').send({ name: n, privileges: [] }).expect(201);
    const first = await asUser(t, admin).get('/api/v1/roles?limit=2');
    expect(first.body.items).toHaveLength(2);
    const second = await asUser(t, admin).get(
      `/api/v1/roles?limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items[0].name > first.body.items[1].name).toBe(true);
  });

  it('403 for a principal without roles.manage', async () => {
    await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username: 'plain.analyst', password: 'correct horse battery', role: 'Analyst' })
      .expect(201);
    const analyst = basic('plain.analyst', 'correct horse battery');
    for (const [method, path] of [
      ['get', '/api/v1/roles'],
      ['get', '/api/v1/roles/privileges'],
      ['post', '/api/v1/roles'],
      ['patch', '/api/v1/roles/Analyst'],
      ['delete', '/api/v1/roles/Analyst'],
    ] as const) {
      const res = await t.api()[method](path).set('Authorization', analyst).send({});
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(/roles\.manage/);
    }
  });
});
