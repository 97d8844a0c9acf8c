import type { Response } from 'supertest';
import { ALL_PRIVILEGES, Privilege } from '../src/auth/privileges';
import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

/**
 * The delegation rule (docs/security.md) over every route that takes a role or acts on a
 * principal, for each delegating privilege alone and in pairs (issue 14: `clients.manage`,
 * `users.manage` and `roles.manage` each led to Administrator).
 */
const DELEGATING: Privilege[] = ['clients.manage', 'users.manage', 'roles.manage'];
const PROFILES: Privilege[][] = [
  ...DELEGATING.map((p) => [p]),
  ['clients.manage', 'users.manage'],
  ['clients.manage', 'roles.manage'],
  ['users.manage', 'roles.manage'],
];
const PASSWORD = 'correct horse battery staple';

/** What one profile's fixtures are called and hold. */
interface Actor {
  key: string;
  privileges: Privilege[];
  auth: string;
  userId: string;
  /** A role with exactly the actor's privileges, not its own, and its holders. */
  peerRole: string;
  peerUserId: string;
  peerClientId: string;
}

interface Shared {
  adminUserId: string;
  adminClientId: string;
  /** A custom role holding `audit.read`, which no profile has. */
  strongRole: string;
}

type Call = (t: TestApp, a: Actor, s: Shared) => Promise<Response>;

interface Escalation {
  route: string;
  needs: Privilege;
  what: string;
  call: Call;
  /** The message names these privileges; empty: a rule without missing privileges. */
  missing: (a: Actor) => Privilege[];
  message: RegExp;
}

const beyond = (a: Actor): Privilege[] =>
  ALL_PRIVILEGES.filter((p) => !a.privileges.includes(p)).sort();
const auditRead = (): Privilege[] => ['audit.read'];
const none = (): Privilege[] => [];

const ESCALATIONS: Escalation[] = [
  {
    route: 'POST /api/v1/api-clients',
    needs: 'clients.manage',
    what: 'creates an Administrator client',
    call: (t, a) =>
      asUser(t, a.auth)
        .post('/api/v1/api-clients')
        .send({ name: `x-${a.key}`, role: 'Administrator' }),
    missing: beyond,
    message: /^Role "Administrator" holds privileges you do not: .+; you cannot assign it$/,
  },
  {
    route: 'PATCH /api/v1/api-clients/{id}',
    needs: 'clients.manage',
    what: "raises a client's role to Administrator",
    call: (t, a) =>
      asUser(t, a.auth)
        .patch(`/api/v1/api-clients/${a.peerClientId}`)
        .send({ role: 'Administrator' }),
    missing: beyond,
    message: /^Role "Administrator" holds privileges you do not: .+; you cannot assign it$/,
  },
  {
    route: 'PATCH /api/v1/api-clients/{id}',
    needs: 'clients.manage',
    what: 'deactivates an Administrator client',
    call: (t, a, s) =>
      asUser(t, a.auth)
        .patch(`/api/v1/api-clients/${s.adminClientId}`)
        .send({ status: 'inactive' }),
    missing: beyond,
    message: /^API client "ind_[^"]+" holds privileges you do not: .+; you cannot act on it$/,
  },
  {
    route: 'POST /api/v1/api-clients/{id}/secret',
    needs: 'clients.manage',
    what: "rotates an Administrator client's secret",
    call: (t, a, s) => asUser(t, a.auth).post(`/api/v1/api-clients/${s.adminClientId}/secret`),
    missing: beyond,
    message: /you cannot act on it$/,
  },
  {
    route: 'DELETE /api/v1/api-clients/{id}',
    needs: 'clients.manage',
    what: 'deletes an Administrator client',
    call: (t, a, s) => asUser(t, a.auth).delete(`/api/v1/api-clients/${s.adminClientId}`),
    missing: beyond,
    message: /you cannot act on it$/,
  },
  {
    route: 'POST /api/v1/users',
    needs: 'users.manage',
    what: 'creates an Administrator user',
    call: (t, a) =>
      asUser(t, a.auth)
        .post('/api/v1/users')
        .send({ username: `x-${a.key}`, password: PASSWORD, role: 'Administrator' }),
    missing: beyond,
    message: /^Role "Administrator" holds privileges you do not: .+; you cannot assign it$/,
  },
  {
    route: 'PATCH /api/v1/users/{id}',
    needs: 'users.manage',
    what: 'makes itself Administrator',
    call: (t, a) =>
      asUser(t, a.auth).patch(`/api/v1/users/${a.userId}`).send({ role: 'Administrator' }),
    missing: none,
    message: /^Nobody can change their own role$/,
  },
  {
    route: 'PATCH /api/v1/users/{id}',
    needs: 'users.manage',
    what: 'makes another user Administrator',
    call: (t, a) =>
      asUser(t, a.auth).patch(`/api/v1/users/${a.peerUserId}`).send({ role: 'Administrator' }),
    missing: beyond,
    message: /you cannot assign it$/,
  },
  {
    route: 'PATCH /api/v1/users/{id}',
    needs: 'users.manage',
    what: 'deactivates an Administrator',
    call: (t, a, s) =>
      asUser(t, a.auth).patch(`/api/v1/users/${s.adminUserId}`).send({ status: 'inactive' }),
    missing: beyond,
    message: /^User "victim\.admin" holds privileges you do not: .+; you cannot act on it$/,
  },
  {
    route: 'PUT /api/v1/users/{id}/password',
    needs: 'users.manage',
    what: "resets an Administrator's password",
    call: (t, a, s) =>
      asUser(t, a.auth)
        .put(`/api/v1/users/${s.adminUserId}/password`)
        .send({ password: 'taken over at last' }),
    missing: beyond,
    message: /you cannot act on it$/,
  },
  {
    route: 'DELETE /api/v1/users/{id}',
    needs: 'users.manage',
    what: 'deletes an Administrator',
    call: (t, a, s) => asUser(t, a.auth).delete(`/api/v1/users/${s.adminUserId}`),
    missing: beyond,
    message: /you cannot act on it$/,
  },
  {
    route: 'POST /api/v1/roles',
    needs: 'roles.manage',
    what: 'creates a role with a privilege it lacks',
    call: (t, a) =>
      asUser(t, a.auth)
        .post('/api/v1/roles')
        .send({ name: `x-${a.key}`, privileges: [...a.privileges, 'audit.read'] }),
    missing: auditRead,
    message: /^You cannot grant privileges you do not hold: audit\.read$/,
  },
  {
    route: 'PATCH /api/v1/roles/{name}',
    needs: 'roles.manage',
    what: 'adds audit.read to its own role',
    call: (t, a) =>
      asUser(t, a.auth)
        .patch(`/api/v1/roles/P-${a.key}`)
        .send({ privileges: [...a.privileges, 'audit.read'] }),
    missing: none,
    message: /^Role "P-[^"]+" is your own role: you cannot change it$/,
  },
  {
    route: 'PATCH /api/v1/roles/{name}',
    needs: 'roles.manage',
    what: 'adds audit.read to a role it may otherwise edit',
    call: (t, a) =>
      asUser(t, a.auth)
        .patch(`/api/v1/roles/${a.peerRole}`)
        .send({ privileges: [...a.privileges, 'audit.read'] }),
    missing: auditRead,
    message: /^You cannot grant privileges you do not hold: audit\.read$/,
  },
  {
    route: 'PATCH /api/v1/roles/{name}',
    needs: 'roles.manage',
    what: 'edits a role stronger than itself',
    call: (t, a, s) =>
      asUser(t, a.auth).patch(`/api/v1/roles/${s.strongRole}`).send({ description: 'mine now' }),
    missing: auditRead,
    message: /^Role "Auditors" holds privileges you do not: audit\.read; you cannot change it$/,
  },
  {
    route: 'DELETE /api/v1/roles/{name}',
    needs: 'roles.manage',
    what: 'deletes a role stronger than itself',
    call: (t, a, s) => asUser(t, a.auth).delete(`/api/v1/roles/${s.strongRole}`),
    missing: auditRead,
    message: /you cannot change it$/,
  },
];

/** What each delegating privilege may still do within its bounds (each step needs the one before). */
const WITHIN: Array<{
  needs: Privilege;
  what: string;
  run: (t: TestApp, a: Actor) => Promise<void>;
}> = [
  {
    needs: 'clients.manage',
    what: 'creates, changes, rotates and deletes a client holding its own privileges',
    run: async (t, a) => {
      const created = await asUser(t, a.auth)
        .post('/api/v1/api-clients')
        .send({ name: `ok-${a.key}`, role: a.peerRole });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      await asUser(t, a.auth)
        .patch(`/api/v1/api-clients/${id}`)
        .send({ status: 'inactive' })
        .expect(200);
      await asUser(t, a.auth).post(`/api/v1/api-clients/${id}/secret`).expect(200);
      await asUser(t, a.auth).delete(`/api/v1/api-clients/${id}`).expect(204);
    },
  },
  {
    needs: 'users.manage',
    what: 'creates, changes, resets and deletes a user holding its own privileges',
    run: async (t, a) => {
      const created = await asUser(t, a.auth)
        .post('/api/v1/users')
        .send({ username: `ok-${a.key}`, password: PASSWORD, role: a.peerRole });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      await asUser(t, a.auth).patch(`/api/v1/users/${id}`).send({ status: 'inactive' }).expect(200);
      await asUser(t, a.auth)
        .put(`/api/v1/users/${id}/password`)
        .send({ password: 'another good one' })
        .expect(204);
      await asUser(t, a.auth).delete(`/api/v1/users/${id}`).expect(204);
    },
  },
  {
    needs: 'roles.manage',
    what: 'creates, changes and deletes a role within its own privileges',
    run: async (t, a) => {
      const name = `ok-${a.key}`;
      await asUser(t, a.auth)
        .post('/api/v1/roles')
        .send({ name, privileges: a.privileges })
        .expect(201);
      await asUser(t, a.auth)
        .patch(`/api/v1/roles/${name}`)
        .send({ privileges: [a.privileges[0]] })
        .expect(200);
      await asUser(t, a.auth).delete(`/api/v1/roles/${name}`).expect(204);
    },
  },
];

describe('delegation: nobody grants more than they hold (issue 14)', () => {
  let t: TestApp;
  let admin: string;
  const actors = new Map<string, Actor>();
  const shared = {} as Shared;

  async function asAdmin(method: 'post' | 'patch', path: string, body: object): Promise<Response> {
    const res = await t.api()[method](path).set('Authorization', admin).send(body);
    expect([path, res.status]).toEqual([path, method === 'post' ? 201 : 200]);
    return res;
  }

  beforeAll(async () => {
    t = await createTestApp();
    admin = basic(t.admin.username, t.admin.password);
    shared.adminUserId = (
      await asAdmin('post', '/api/v1/users', {
        username: 'victim.admin',
        password: PASSWORD,
        role: 'Administrator',
      })
    ).body.id;
    shared.adminClientId = (
      await asAdmin('post', '/api/v1/api-clients', { name: 'victim-client', role: 'Administrator' })
    ).body.id;
    shared.strongRole = (
      await asAdmin('post', '/api/v1/roles', { name: 'Auditors', privileges: ['audit.read'] })
    ).body.name;
    for (const privileges of PROFILES) {
      const key = privileges.map((p) => p.split('.')[0]).join('-');
      await asAdmin('post', '/api/v1/roles', { name: `P-${key}`, privileges });
      await asAdmin('post', '/api/v1/roles', { name: `Peer-${key}`, privileges });
      const user = await asAdmin('post', '/api/v1/users', {
        username: `actor-${key}`,
        password: PASSWORD,
        role: `P-${key}`,
      });
      const peerUser = await asAdmin('post', '/api/v1/users', {
        username: `peer-${key}`,
        password: PASSWORD,
        role: `Peer-${key}`,
      });
      const peerClient = await asAdmin('post', '/api/v1/api-clients', {
        name: `peer-${key}`,
        role: `Peer-${key}`,
      });
      actors.set(key, {
        key,
        privileges,
        auth: basic(`actor-${key}`, PASSWORD),
        userId: user.body.id,
        peerRole: `Peer-${key}`,
        peerUserId: peerUser.body.id,
        peerClientId: peerClient.body.id,
      });
    }
  });
  afterAll(() => t.close());

  const table = PROFILES.flatMap((privileges) =>
    ESCALATIONS.map(
      (e) =>
        [
          privileges.join('+'),
          e.route,
          e.what,
          privileges.map((p) => p.split('.')[0]).join('-'),
          e,
        ] as const,
    ),
  );

  it.each(table)('%s: %s %s → 403', async (_profile, _route, _what, key, e) => {
    const a = actors.get(key)!;
    const before = await asUser(t, admin).get('/api/v1/audit-logs?limit=1');
    const res = await e.call(t, a, shared);
    expect(res.status).toBe(403);
    if (!a.privileges.includes(e.needs)) {
      expect(res.body.message).toBe(`This operation needs the privilege "${e.needs}"`);
      return;
    }
    expect(res.body.message).toMatch(e.message);
    const missing = e.missing(a);
    for (const p of missing) expect(res.body.message).toContain(p);
    const log = await t
      .api()
      .get('/api/v1/audit-logs')
      .query({ action: 'access.denied', limit: 1 })
      .set('Authorization', admin);
    const [record] = log.body.items;
    expect(record.sequence).toBeGreaterThan(before.body.items[0].sequence);
    expect(record).toMatchObject({
      actorType: 'user',
      actorName: `actor-${key}`,
      operation: 'access',
      outcome: 'denied',
      newValue: { reason: res.body.message, missingPrivileges: missing },
    });
  });

  it.each(
    PROFILES.flatMap((privileges) =>
      WITHIN.filter((w) => privileges.includes(w.needs)).map(
        (w) => [privileges.join('+'), w.what, privileges, w] as const,
      ),
    ),
  )('%s %s', async (_profile, _what, privileges, w) => {
    await w.run(t, actors.get(privileges.map((p) => p.split('.')[0]).join('-'))!);
  });

  it('refused acts change nothing: the Administrator targets are intact and nothing was created', async () => {
    const user = await asUser(t, admin).get(`/api/v1/users/${shared.adminUserId}`);
    expect(user.body).toMatchObject({
      username: 'victim.admin',
      role: 'Administrator',
      status: 'active',
    });
    await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('victim.admin', PASSWORD))
      .expect(200);
    const client = await asUser(t, admin).get(`/api/v1/api-clients/${shared.adminClientId}`);
    expect(client.body).toMatchObject({ role: 'Administrator', status: 'active' });
    const role = await asUser(t, admin).get('/api/v1/roles?limit=1000');
    const names = role.body.items.map((r: { name: string }) => r.name);
    expect(names.filter((n: string) => n.startsWith('x-'))).toEqual([]);
    expect(role.body.items.find((r: { name: string }) => r.name === 'Auditors')).toMatchObject({
      description: '',
      privileges: ['audit.read'],
    });
    for (const a of actors.values()) {
      const own = role.body.items.find((r: { name: string }) => r.name === `P-${a.key}`);
      expect(own.privileges).toEqual([...a.privileges].sort());
      const me = await asUser(t, a.auth).get('/api/v1/me');
      expect(me.body).toMatchObject({ role: `P-${a.key}`, privileges: [...a.privileges].sort() });
    }
    const users = await asUser(t, admin).get('/api/v1/users?limit=1000');
    expect(
      users.body.items.filter((u: { username: string }) => u.username.startsWith('x-')),
    ).toEqual([]);
    const clients = await asUser(t, admin).get('/api/v1/api-clients?limit=1000');
    expect(clients.body.items.filter((c: { name: string }) => c.name.startsWith('x-'))).toEqual([]);
  });

  it('an Administrator still does all of it', async () => {
    const c = await asUser(t, admin)
      .post('/api/v1/api-clients')
      .send({ name: 'adm-made', role: 'Administrator' });
    expect(c.status).toBe(201);
    await asUser(t, admin).post(`/api/v1/api-clients/${c.body.id}/secret`).expect(200);
    await asUser(t, admin)
      .patch('/api/v1/roles/Auditors')
      .send({ privileges: ['audit.read', 'search'] })
      .expect(200);
    await asUser(t, admin)
      .put(`/api/v1/users/${shared.adminUserId}/password`)
      .send({ password: PASSWORD })
      .expect(204);
  });
});
