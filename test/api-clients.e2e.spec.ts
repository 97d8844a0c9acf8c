import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

interface Created {
  id: string;
  clientId: string;
  clientSecret: string;
}

/** A real HTTP request from a chosen loopback source address, to test IP allow-lists. */
function fromAddress(
  port: number,
  localAddress: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
      },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: data ? (JSON.parse(data) as Record<string, unknown>) : {},
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('API clients and OAuth2 client credentials (docs/api.md §2)', () => {
  let t: TestApp;
  let admin: string;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp();
    admin = basic(t.admin.username, t.admin.password);
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  async function createClient(body: Record<string, unknown> = {}): Promise<Created> {
    const res = await asUser(t, admin)
      .post('/api/v1/api-clients')
      .send({ name: 'integration', role: 'Analyst', ...body });
    expect(res.status).toBe(201);
    return res.body as Created;
  }

  async function token(clientId: string, secret: string): Promise<string> {
    const res = await t
      .api()
      .post('/api/v1/oauth/token')
      .type('form')
      .send(form({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }));
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  }

  it('creates a client and shows the secret exactly once', async () => {
    const res = await asUser(t, admin)
      .post('/api/v1/api-clients')
      .send({ name: 'SOAR', role: 'Analyst' });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'SOAR',
      clientId: expect.stringMatching(/^ind_[A-Za-z0-9_-]{20}$/),
      clientSecret: expect.stringMatching(/^inds_[A-Za-z0-9_-]{43}$/),
      role: 'Analyst',
      ipRestriction: { mode: 'allow_all', allowedIps: [] },
      status: 'active',
      createdAt: expect.any(String),
      lastUsedAt: null,
      lastUsedIp: null,
    });
    const one = await asUser(t, admin).get(`/api/v1/api-clients/${res.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('clientSecret');
    expect(JSON.stringify(one.body)).not.toContain(res.body.clientSecret);
    const list = await asUser(t, admin).get('/api/v1/api-clients');
    expect(list.body.items.some((c: { id: string }) => c.id === res.body.id)).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain('inds_');
  });

  it.each([
    [{ name: '', role: 'Analyst' }, /name must be longer/],
    [{ name: 'x'.repeat(129), role: 'Analyst' }, /name must be shorter/],
    [{ name: 'n', role: 'Ghost' }, /role "Ghost" does not exist/],
    [
      { name: 'n', role: 'Analyst', ipRestriction: { mode: 'restricted', allowedIps: [] } },
      /must not be empty/,
    ],
    [
      {
        name: 'n',
        role: 'Analyst',
        ipRestriction: { mode: 'restricted', allowedIps: ['10.0.0.0/8', '999.1.1.1'] },
      },
      /allowedIps\[1\]/,
    ],
    [
      { name: 'n', role: 'Analyst', ipRestriction: { mode: 'sometimes', allowedIps: [] } },
      /mode must be one of/,
    ],
    [{ name: 'n', role: 'Analyst', clientSecret: 'mine' }, /clientSecret should not exist/],
  ])('rejects %j with 400', async (body, message) => {
    const res = await asUser(t, admin).post('/api/v1/api-clients').send(body);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  });

  it('canonicalises the allow-list', async () => {
    const c = await createClient({
      ipRestriction: {
        mode: 'restricted',
        allowedIps: ['10.1.2.3/8', '2001:DB8::1/32', '::ffff:203.0.113.7', '10.0.0.0/8'],
      },
    });
    const got = await asUser(t, admin).get(`/api/v1/api-clients/${c.id}`);
    expect(got.body.ipRestriction).toEqual({
      mode: 'restricted',
      allowedIps: ['10.0.0.0/8', '2001:db8::/32', '203.0.113.7'],
    });
  });

  it('authenticates with Basic clientId:clientSecret and with Bearer tokens', async () => {
    const c = await createClient();
    const me = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic(c.clientId, c.clientSecret));
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      type: 'client',
      id: c.id,
      name: c.clientId,
      role: 'Analyst',
      privileges: ['search'],
    });
    const res = await t
      .api()
      .post('/api/v1/oauth/token')
      .type('form')
      .send(
        form({
          grant_type: 'client_credentials',
          client_id: c.clientId,
          client_secret: c.clientSecret,
        }),
      );
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.stringMatching(/^indt_/),
      token_type: 'Bearer',
      expires_in: 3600,
    });
    const viaHeader = await t
      .api()
      .post('/api/v1/oauth/token')
      .set('Authorization', basic(c.clientId, c.clientSecret))
      .type('form')
      .send('grant_type=client_credentials');
    expect(viaHeader.status).toBe(200);
    const bearer = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', `Bearer ${res.body.access_token}`);
    expect(bearer.body).toMatchObject({ type: 'client', name: c.clientId });
    await t
      .api()
      .get('/api/v1/users')
      .set('Authorization', `Bearer ${res.body.access_token}`)
      .expect(403);
    const bad = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', 'Bearer indt_not-a-real-token');
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBeDefined();
    const used = await asUser(t, admin).get(`/api/v1/api-clients/${c.id}`);
    expect(used.body.lastUsedAt).not.toBeNull();
    expect(used.body.lastUsedIp).toMatch(/127\.0\.0\.1/);
  });

  it('takes credentials from the Authorization header only, one scheme per request', async () => {
    const c = await createClient();
    const access = await token(c.clientId, c.clientSecret);
    // Scheme names are case-insensitive (RFC 9110 §11.1).
    const lower = await t.api().get('/api/v1/me').set('Authorization', `bearer ${access}`);
    expect(lower.status).toBe(200);
    expect(lower.body.name).toBe(c.clientId);
    // A token in the query string or a form body would end up in logs and proxies: refused.
    const inQuery = await t.api().get(`/api/v1/me?access_token=${access}`);
    expect(inQuery.status).toBe(401);
    expect(inQuery.body.message).toMatch(/Authentication required/);
    const inBody = await t
      .api()
      .post('/api/v1/search')
      .send({ values: ['192.0.2.1'], access_token: access });
    expect(inBody.status).toBe(401);
    for (const header of [
      'Digest username="x"',
      'Bearer',
      `Bearer ${access} extra`,
      'Basic',
      `Basic ${Buffer.from(c.clientId).toString('base64')}`,
      `Basic ${Buffer.from(`${c.clientId}:`).toString('base64')}`,
      `Basic ${Buffer.from(`:${c.clientSecret}`).toString('base64')}`,
      `Basic ${Buffer.from('nul\u0000name:password').toString('base64')}`,
    ]) {
      const res = await asUser(t, header).get('/api/v1/me');
      expect({ header, status: res.status }).toEqual({ header, status: 401 });
      expect(res.headers['www-authenticate']).toBe('Basic realm="indicium"');
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    }
  });

  it('answers token errors as RFC 6749 §5.2', async () => {
    const c = await createClient();
    const cases: Array<[string | Record<string, string>, Record<string, string>, number, string]> =
      [
        [
          form({ client_id: c.clientId, client_secret: c.clientSecret }),
          {},
          400,
          'invalid_request',
        ],
        [
          form({ grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret }),
          {},
          400,
          'unsupported_grant_type',
        ],
        [
          form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: 'wrong' }),
          {},
          401,
          'invalid_client',
        ],
        [
          form({
            grant_type: 'client_credentials',
            client_id: 'ind_nobody',
            client_secret: 'wrong',
          }),
          {},
          401,
          'invalid_client',
        ],
        [form({ grant_type: 'client_credentials' }), {}, 401, 'invalid_client'],
        [
          form({
            grant_type: 'client_credentials',
            client_id: c.clientId,
            client_secret: c.clientSecret,
          }),
          { Authorization: basic(c.clientId, c.clientSecret) },
          400,
          'invalid_request',
        ],
      ];
    for (const [body, headers, status, error] of cases) {
      const res = await t.api().post('/api/v1/oauth/token').set(headers).type('form').send(body);
      expect([res.status, res.body.error]).toEqual([status, error]);
      expect(res.body.error_description).toEqual(expect.any(String));
      if (status === 401) expect(res.headers['www-authenticate']).toBe('Basic realm="indicium"');
    }
    const json = await t.api().post('/api/v1/oauth/token').send({
      grant_type: 'client_credentials',
      client_id: c.clientId,
      client_secret: c.clientSecret,
    });
    expect([json.status, json.body.error]).toEqual([400, 'invalid_request']);
  });

  it('rotation invalidates the old secret and its tokens at once', async () => {
    const c = await createClient();
    const oldToken = await token(c.clientId, c.clientSecret);
    const rotated = await asUser(t, admin).post(`/api/v1/api-clients/${c.id}/secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    expect(rotated.body).toEqual({
      clientId: c.clientId,
      clientSecret: expect.stringMatching(/^inds_/),
    });
    expect(rotated.body.clientSecret).not.toBe(c.clientSecret);
    await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic(c.clientId, c.clientSecret))
      .expect(401);
    await t.api().get('/api/v1/me').set('Authorization', `Bearer ${oldToken}`).expect(401);
    await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic(c.clientId, rotated.body.clientSecret))
      .expect(200);
    const fresh = await token(c.clientId, rotated.body.clientSecret);
    await t.api().get('/api/v1/me').set('Authorization', `Bearer ${fresh}`).expect(200);
  });

  it('an inactive client gets 401 for Basic, tokens and token issue; deletion kills its tokens', async () => {
    const c = await createClient();
    const tok = await token(c.clientId, c.clientSecret);
    await asUser(t, admin)
      .patch(`/api/v1/api-clients/${c.id}`)
      .send({ status: 'inactive' })
      .expect(200);
    await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic(c.clientId, c.clientSecret))
      .expect(401);
    await t.api().get('/api/v1/me').set('Authorization', `Bearer ${tok}`).expect(401);
    const issue = await t
      .api()
      .post('/api/v1/oauth/token')
      .type('form')
      .send(
        form({
          grant_type: 'client_credentials',
          client_id: c.clientId,
          client_secret: c.clientSecret,
        }),
      );
    expect([issue.status, issue.body.error]).toEqual([401, 'invalid_client']);
    await asUser(t, admin)
      .patch(`/api/v1/api-clients/${c.id}`)
      .send({ status: 'active' })
      .expect(200);
    await t.api().get('/api/v1/me').set('Authorization', `Bearer ${tok}`).expect(401);
    const tok2 = await token(c.clientId, c.clientSecret);
    await t.api().get('/api/v1/me').set('Authorization', `Bearer ${tok2}`).expect(200);
    await asUser(t, admin).delete(`/api/v1/api-clients/${c.id}`).expect(204);
    await t.api().get('/api/v1/me').set('Authorization', `Bearer ${tok2}`).expect(401);
    const gone = await asUser(t, admin).get(`/api/v1/api-clients/${c.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({
      code: 'api_client_not_found',
      message: `API client ${c.id} does not exist`,
    });
    await asUser(t, admin).delete(`/api/v1/api-clients/${c.id}`).expect(404);
    await asUser(t, admin).post(`/api/v1/api-clients/${c.id}/secret`).expect(404);
  });

  it('enforces the IP allow-list for Basic, token issue and Bearer use (real source addresses)', async () => {
    const c = await createClient({
      ipRestriction: { mode: 'restricted', allowedIps: ['127.0.0.2'] },
    });
    const auth = { Authorization: basic(c.clientId, c.clientSecret) };
    const allowed = await fromAddress(port, '127.0.0.2', { path: '/api/v1/me', headers: auth });
    expect(allowed.status).toBe(200);
    const denied = await fromAddress(port, '127.0.0.1', { path: '/api/v1/me', headers: auth });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toMatch(/not in this API client's allow-list/);
    const tokenBody = form({
      grant_type: 'client_credentials',
      client_id: c.clientId,
      client_secret: c.clientSecret,
    });
    const formHeaders = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const deniedIssue = await fromAddress(port, '127.0.0.1', {
      method: 'POST',
      path: '/api/v1/oauth/token',
      headers: formHeaders,
      body: tokenBody,
    });
    expect([deniedIssue.status, deniedIssue.body.error]).toEqual([403, 'unauthorized_client']);
    const issued = await fromAddress(port, '127.0.0.2', {
      method: 'POST',
      path: '/api/v1/oauth/token',
      headers: formHeaders,
      body: tokenBody,
    });
    expect(issued.status).toBe(200);
    const bearer = { Authorization: `Bearer ${issued.body.access_token as string}` };
    expect(
      (await fromAddress(port, '127.0.0.2', { path: '/api/v1/me', headers: bearer })).status,
    ).toBe(200);
    expect(
      (await fromAddress(port, '127.0.0.1', { path: '/api/v1/me', headers: bearer })).status,
    ).toBe(403);
    // A spoofed X-Forwarded-For is ignored: no proxy is trusted.
    const spoofed = await fromAddress(port, '127.0.0.1', {
      path: '/api/v1/me',
      headers: { ...auth, 'X-Forwarded-For': '127.0.0.2' },
    });
    expect(spoofed.status).toBe(403);
    // Widening the list takes effect at once.
    await asUser(t, admin)
      .patch(`/api/v1/api-clients/${c.id}`)
      .send({ ipRestriction: { mode: 'restricted', allowedIps: ['127.0.0.0/24'] } })
      .expect(200);
    expect(
      (await fromAddress(port, '127.0.0.1', { path: '/api/v1/me', headers: auth })).status,
    ).toBe(200);
  });

  it('a custom role with only search gets 403 elsewhere; clients.manage guards the endpoints', async () => {
    await asUser(t, admin)
      .post('/api/v1/roles')
      .send({ name: 'SearchOnly', privileges: ['search'] })
      .expect(201);
    const c = await createClient({ role: 'SearchOnly' });
    const auth = basic(c.clientId, c.clientSecret);
    await asUser(t, auth).get('/api/v1/me').expect(200);
    for (const path of [
      '/api/v1/users',
      '/api/v1/roles',
      '/api/v1/api-clients',
      '/metrics',
      '/api/v1/audit-logs',
    ]) {
      const res = await asUser(t, auth).get(path);
      expect([path, res.status]).toEqual([path, 403]);
    }
    await asUser(t, admin).delete('/api/v1/roles/SearchOnly').expect(409);
  });

  it('audits create, rotation, token issue and IP denial — never the secret or token', async () => {
    const c = await createClient({
      name: 'audited',
      ipRestriction: { mode: 'restricted', allowedIps: ['127.0.0.1'] },
    });
    const tok = await token(c.clientId, c.clientSecret);
    await fromAddress(port, '127.0.0.2', {
      path: '/api/v1/me',
      headers: { Authorization: basic(c.clientId, c.clientSecret) },
    });
    const rotated = await asUser(t, admin).post(`/api/v1/api-clients/${c.id}/secret`);
    const logs = await asUser(t, admin).get('/api/v1/audit-logs?limit=1000');
    expect(logs.status).toBe(200);
    const mine = logs.body.items.filter((r: { entityName: string }) => r.entityName === c.clientId);
    const actions = mine.map((r: { action: string }) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'api_client.create',
        'api_client.token_issue',
        'auth.denied_ip',
        'api_client.rotate_secret',
      ]),
    );
    const denied = mine.find((r: { action: string }) => r.action === 'auth.denied_ip');
    expect(denied).toMatchObject({ outcome: 'denied', ip: '127.0.0.2', actorType: 'client' });
    const text = JSON.stringify(logs.body);
    for (const secret of [c.clientSecret, rotated.body.clientSecret, tok])
      expect(text).not.toContain(secret);
    const verify = await asUser(t, admin).get('/api/v1/audit-logs/verify');
    expect(verify.body).toMatchObject({ valid: true });
  });
});

describe('API clients behind a trusted proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: '127.0.0.1/32' });
  });
  afterAll(() => t.close());

  it('believes X-Forwarded-For from a trusted proxy', async () => {
    const admin = basic(t.admin.username, t.admin.password);
    const res = await asUser(t, admin)
      .post('/api/v1/api-clients')
      .send({
        name: 'behind proxy',
        role: 'Analyst',
        ipRestriction: { mode: 'restricted', allowedIps: ['198.51.100.0/24', '2001:db8::/32'] },
      });
    const auth = basic(res.body.clientId, res.body.clientSecret);
    await asUser(t, auth).get('/api/v1/me').set('X-Forwarded-For', '198.51.100.7').expect(200);
    await asUser(t, auth).get('/api/v1/me').set('X-Forwarded-For', '2001:db8::5').expect(200);
    await asUser(t, auth).get('/api/v1/me').set('X-Forwarded-For', '203.0.113.1').expect(403);
    // The right-most untrusted hop counts, not a client-supplied left-most one.
    await asUser(t, auth)
      .get('/api/v1/me')
      .set('X-Forwarded-For', '198.51.100.7, 203.0.113.1')
      .expect(403);
    await asUser(t, auth).get('/api/v1/me').expect(403);
  });
});
