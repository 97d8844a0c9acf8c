import { request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

/** docs/api.md §1 conventions and §8 operations, through the real pipeline. */
describe('conventions', () => {
  let t: TestApp;
  let admin: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    t = await createTestApp({ LOG_LEVEL: 'info' }, { logDestination: sink });
    admin = basic(t.admin.username, t.admin.password);
  });
  afterAll(() => t.close());

  describe('X-Request-Id', () => {
    it('echoes a safe incoming id', async () => {
      const res = await asUser(t, admin).get('/api/v1/me').set('X-Request-Id', 'abc-123.x:y');
      expect(res.headers['x-request-id']).toBe('abc-123.x:y');
    });

    it.each([['has spaces'], ['x'.repeat(129)], ['<script>']])(
      'replaces an unsafe id %#',
      async (id) => {
        const res = await t.api().get('/api/v1/nope').set('X-Request-Id', id);
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(res.body.requestId).toBe(res.headers['x-request-id']);
      },
    );
  });

  it('404 on an unknown path, with the error body', async () => {
    const res = await t.api().get('/api/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'not_found',
      message: 'No route GET /api/v1/nope',
      requestId: res.headers['x-request-id'],
    });
  });

  it('405 with Allow on a known path and wrong method', async () => {
    const res = await asUser(t, admin).delete('/api/v1/me');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET');
    expect(res.body).toMatchObject({
      statusCode: 405,
      error: 'Method Not Allowed',
      code: 'method_not_allowed',
      message: expect.stringContaining('DELETE'),
    });
    const users = await t.api().put('/api/v1/users');
    expect(users.status).toBe(405);
    expect(users.headers.allow).toBe('GET, POST');
  });

  it('406 when Accept excludes JSON; JSON and */* are fine', async () => {
    const res = await asUser(t, admin).get('/api/v1/me').set('Accept', 'text/html');
    expect(res.status).toBe(406);
    expect(res.body).toMatchObject({
      statusCode: 406,
      error: 'Not Acceptable',
      code: 'not_acceptable',
    });
    await asUser(t, admin).get('/api/v1/me').set('Accept', 'application/json').expect(200);
    await asUser(t, admin).get('/api/v1/me').set('Accept', '*/*').expect(200);
  });

  it('400 on malformed JSON, 413 above 1 MiB, 415 on a non-JSON body — and nothing written', async () => {
    const malformed = await asUser(t, admin)
      .post('/api/v1/roles')
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('malformed_body');
    expect(malformed.body.message).toMatch(/^Malformed JSON body/);
    const big = await asUser(t, admin)
      .post('/api/v1/roles')
      .send({ name: 'Big', description: 'x'.repeat(1024 * 1024 + 10), privileges: [] });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({
      statusCode: 413,
      error: 'Payload Too Large',
      code: 'payload_too_large',
    });
    const text = await asUser(t, admin)
      .post('/api/v1/roles')
      .set('Content-Type', 'text/plain')
      .send('name=Text');
    expect(text.status).toBe(415);
    const roles = await asUser(t, admin).get('/api/v1/roles');
    expect(roles.body.items.map((r: { name: string }) => r.name)).toEqual([
      'Administrator',
      'Analyst',
    ]);
  });

  it('400 names unknown fields and wrong types', async () => {
    const res = await asUser(t, admin)
      .post('/api/v1/roles')
      .send({ name: 'Typed', privileges: 'search', colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.message).toMatch(/property colour should not exist/);
    expect(res.body.message).toMatch(/privileges must be an array/);
    expect(res.body.details).toEqual(expect.arrayContaining(['property colour should not exist']));
  });

  it('reads bodies per route as Express routes them: any letter case, trailing slash', async () => {
    // Express matches /API/V1/… and a trailing slash to the same handler: the body rules of
    // that handler (streamed upload, form token request) must follow.
    const upload = await asUser(t, admin)
      .put('/API/v1/Suppliers/InternalTI/indicators/')
      .set('Content-Type', 'application/x-ndjson')
      .send('{"indicator":"203.0.113.77"}\n{"indicator":"case-route.example"}\n');
    expect(upload.status).toBe(200);
    expect(upload.body).toMatchObject({ processed: 2, created: 2, failed: [] });
    const found = await asUser(t, admin).get('/api/v1/search?value=case-route.example');
    expect(found.body).toMatchObject({ result: 'detected' });

    const token = await t
      .api()
      .post('/api/v1/OAuth/token/')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: 'ind_nobody', client_secret: 'x' });
    // The form was read: an RFC 6749 answer about the client, not a 415 about the media type.
    expect(token.status).toBe(401);
    expect(token.body).toMatchObject({ error: 'invalid_client' });
  });

  it('health endpoints need no credentials', async () => {
    await t.api().get('/health/live').expect(200, { status: 'ok' });
    const ready = await t.api().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('metrics need metrics.read and speak Prometheus text', async () => {
    await t.api().get('/metrics').expect(401);
    await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username: 'metrics.analyst', password: 'correct horse battery', role: 'Analyst' })
      .expect(201);
    await t
      .api()
      .get('/metrics')
      .set('Authorization', basic('metrics.analyst', 'correct horse battery'))
      .expect(403);
    const res = await asUser(t, admin).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(
      /indicium_http_requests_total\{method="POST",route="\/api\/v1\/users",status="201"\} 1/,
    );
    expect(res.text).toMatch(/indicium_http_request_duration_seconds_bucket\{/);
    expect(res.text).toMatch(/indicium_process_cpu_seconds_total/);
  });

  it('serves Swagger UI and an OpenAPI document with its security schemes', async () => {
    const ui = await t.api().get('/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toMatch(/swagger-ui/i);
    const doc = await t.api().get('/docs-json');
    expect(doc.status).toBe(200);
    expect(doc.body.components.securitySchemes).toEqual({
      basic: expect.objectContaining({ type: 'http', scheme: 'basic' }),
      oauth2: expect.objectContaining({
        type: 'oauth2',
        flows: { clientCredentials: { tokenUrl: '/api/v1/oauth/token', scopes: {} } },
      }),
      // The console's session cookie (docs/console.md), documented on its own routes.
      session: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'indicium_session' }),
    });
    const createUser = doc.body.paths['/api/v1/users'].post;
    expect(createUser.security).toEqual(expect.arrayContaining([{ basic: [] }]));
    expect(Object.keys(createUser.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '409']),
    );
    expect(doc.body.components.schemas.CreateUserDto.properties.username).toMatchObject({
      type: 'string',
    });
  });

  it('logs every request as a JSON line without credentials', async () => {
    const secret = 'super-secret-password-123';
    await asUser(t, admin)
      .post('/api/v1/users')
      .set('X-Request-Id', 'log-check-1')
      .send({ username: 'logged.user', password: secret, role: 'Analyst' })
      .expect(201);
    await t
      .api()
      .get(`/api/v1/me?password=${secret}&token=${secret}`)
      .set('Authorization', basic('logged.user', secret))
      .set('X-Request-Id', 'log-check-2')
      .expect(200);
    await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('logged.user', 'wrong-password'))
      .set('X-Request-Id', 'log-check-3')
      .expect(401);
    const all = logLines.join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain(t.admin.password);
    expect(all).not.toContain(Buffer.from(`logged.user:${secret}`).toString('base64'));
    const entry = (id: string) => logLines.map((l) => JSON.parse(l)).find((e) => e.req?.id === id);
    expect(entry('log-check-1')).toMatchObject({
      level: 30,
      req: { method: 'POST', url: '/api/v1/users' },
      ip: '127.0.0.1',
      res: { statusCode: 201 },
      principal: { type: 'user', name: 'admin' },
      responseTime: expect.any(Number),
    });
    expect(entry('log-check-2').req.url).toBe(
      '/api/v1/me?password=%5BRedacted%5D&token=%5BRedacted%5D',
    );
    expect(entry('log-check-3')).toMatchObject({ level: 50, res: { statusCode: 401 } });
  });
});

describe('requests the HTTP parser refuses', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  /** Sends raw bytes and resolves with everything the server answered before closing. */
  function raw(bytes: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
      let answer = '';
      socket.on('data', (d) => (answer += d.toString('utf8')));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
  }
  function parse(answer: string): { status: number; headers: string; body: unknown } {
    const [head, body] = answer.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), headers: head, body: JSON.parse(body) };
  }

  it('431 with the error body for a URL beyond the header limit', async () => {
    const res = parse(
      await raw(`GET /api/v1/search?value=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    );
    expect(res.status).toBe(431);
    expect(res.headers).toMatch(/content-type: application\/json/i);
    expect(res.body).toEqual({
      statusCode: 431,
      error: 'Request Header Fields Too Large',
      code: 'headers_too_large',
      message: 'The request line or headers exceed the 16 KiB limit',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(res.headers).toContain(`X-Request-Id: ${(res.body as { requestId: string }).requestId}`);
  });

  it('400 with the error body for a malformed request', async () => {
    const res = parse(await raw('GET /health/live HTTP/1.1\r\nHost x\r\n\r\n'));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      code: 'malformed_request',
      message: 'Malformed HTTP request',
    });
    await t.api().get('/health/live').expect(200);
  });
});

describe('concurrency limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ MAX_CONCURRENT_REQUESTS: '1' });
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After beyond MAX_CONCURRENT_REQUESTS; health is exempt', async () => {
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    // A request whose body never finishes keeps one slot busy.
    const slow = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/roles',
      headers: { 'Content-Type': 'application/json', 'Content-Length': '1000' },
    });
    slow.on('error', () => undefined);
    slow.write('{"name":');
    await new Promise((r) => setTimeout(r, 200));
    const busy = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic(t.admin.username, t.admin.password));
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.body.code).toBe('rate_limited');
    expect(busy.body.message).toMatch(/busy/);
    await t.api().get('/health/live').expect(200);
    slow.destroy();
    await new Promise((r) => setTimeout(r, 200));
    // Aborted and completed requests both give their slot back.
    for (let i = 0; i < 3; i++) {
      await t
        .api()
        .get('/api/v1/me')
        .set('Authorization', basic(t.admin.username, t.admin.password))
        .expect(200);
    }
  });
});

describe('lockout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOCKOUT_PRINCIPAL_FAILURES: '3', LOCKOUT_IP_FAILURES: '8' });
  });
  afterAll(() => t.close());

  it('locks a principal after repeated failures, even with the right password', async () => {
    const admin = basic(t.admin.username, t.admin.password);
    await asUser(t, admin)
      .post('/api/v1/users')
      .send({ username: 'victim', password: 'correct horse battery', role: 'Analyst' })
      .expect(201);
    for (let i = 0; i < 3; i++) {
      await t
        .api()
        .get('/api/v1/me')
        .set('Authorization', basic('victim', `wrong-${i}`))
        .expect(401);
    }
    const locked = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic('victim', 'correct horse battery'));
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    expect(locked.body.code).toBe('rate_limited');
    expect(locked.body.message).toMatch(/locked/);
    // Another principal from the same IP is not locked yet.
    await asUser(t, admin).get('/api/v1/me').expect(200);
  });

  it('locks a source IP after repeated failures across principals', async () => {
    for (let i = 0; i < 5; i++) {
      await t
        .api()
        .get('/api/v1/me')
        .set('Authorization', basic(`spray-${i}`, 'guess-password'))
        .expect(401);
    }
    const res = await t
      .api()
      .get('/api/v1/me')
      .set('Authorization', basic(t.admin.username, t.admin.password));
    expect(res.status).toBe(429);
  });
});
