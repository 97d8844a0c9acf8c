import { createHmac } from 'node:crypto';
import { createSocket, Socket as UdpSocket } from 'node:dgram';
import {
  createServer as createHttpServer,
  IncomingHttpHeaders,
  Server as HttpServer,
} from 'node:http';
import { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { waitFor } from './support/server-process';
import { FramedReceiver, ReceiverProcess } from './support/syslog-receiver';
import { basic, createTestApp, TestApp } from './support/test-app';

const PASSWORD = 'correct horse battery staple';

describe('SIEM integrations and real-time forwarding (docs/api.md §7)', () => {
  let t: TestApp;
  let admin: string;
  const cleanup: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    t = await createTestApp();
    admin = basic(t.admin.username, t.admin.password);
  });
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn();
    await t.close();
  });

  const api = () => t.api();
  async function createIntegration(
    body: Record<string, unknown>,
  ): Promise<{ id: string } & Record<string, unknown>> {
    const res = await api()
      .post('/api/v1/siem-integrations')
      .set('Authorization', admin)
      .send(body);
    expect(res.status).toBe(201);
    cleanup.push(
      async () =>
        void (await api()
          .delete(`/api/v1/siem-integrations/${res.body.id}`)
          .set('Authorization', admin)),
    );
    return res.body;
  }
  async function createUser(username: string): Promise<void> {
    const res = await api()
      .post('/api/v1/users')
      .set('Authorization', admin)
      .send({ username, password: PASSWORD, role: 'Analyst' });
    expect(res.status).toBe(201);
  }
  async function lastSequence(): Promise<number> {
    const res = await api().get('/api/v1/audit-logs?limit=1').set('Authorization', admin);
    return res.body.items[0].sequence as number;
  }
  async function tcpReceiver(): Promise<FramedReceiver> {
    const r = await new FramedReceiver().start();
    cleanup.push(() => r.stop());
    return r;
  }
  const syslog = (name: string, port: number, extra: Record<string, unknown> = {}) => ({
    name,
    type: 'syslog',
    transport: 'tcp',
    host: '127.0.0.1',
    port,
    format: 'cef',
    ...extra,
  });

  it('creates, reads, updates and deletes integrations; never returns the secret; audits the changes', async () => {
    const created = await createIntegration({
      name: 'crud-hook',
      type: 'webhook',
      url: 'http://127.0.0.1:9/hook',
      secret: 'top-secret-hmac-key',
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'crud-hook',
      type: 'webhook',
      enabled: true,
      sendHistory: false,
      streams: ['audit'],
      transport: null,
      host: null,
      port: null,
      format: null,
      tlsInsecure: false,
      caCert: null,
      url: 'http://127.0.0.1:9/hook',
      lastDeliveredSequence: expect.any(Number),
      lastDeliveredAt: null,
      lastError: null,
      backlog: expect.any(Number),
      lastDeliveredDetectionId: 0,
      detectionBacklog: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const patched = await api()
      .patch(`/api/v1/siem-integrations/${created.id}`)
      .set('Authorization', admin)
      .send({ enabled: false, secret: 'rotated-hmac-key' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, url: 'http://127.0.0.1:9/hook' });
    const got = await api()
      .get(`/api/v1/siem-integrations/${created.id}`)
      .set('Authorization', admin);
    expect(got.status).toBe(200);
    const list = await api().get('/api/v1/siem-integrations').set('Authorization', admin);
    expect(list.body.items.map((i: { id: string }) => i.id)).toContain(created.id);
    expect(JSON.stringify([created, patched.body, got.body, list.body])).not.toMatch(
      /secret|hmac-key/,
    );

    expect(
      (await api().delete(`/api/v1/siem-integrations/${created.id}`).set('Authorization', admin))
        .status,
    ).toBe(204);
    expect(
      (await api().get(`/api/v1/siem-integrations/${created.id}`).set('Authorization', admin))
        .status,
    ).toBe(404);

    const audit = await api()
      .get('/api/v1/audit-logs')
      .query({ entityType: 'siem_integration' })
      .set('Authorization', admin);
    expect(audit.body.items.map((r: { action: string }) => r.action)).toEqual([
      'siem_integration.delete',
      'siem_integration.update',
      'siem_integration.create',
    ]);
    expect(audit.body.items[2].newValue).toMatchObject({ name: 'crud-hook', secret: '[REDACTED]' });
    expect(JSON.stringify(audit.body)).not.toMatch(/hmac-key/);
  });

  it.each([
    [{ name: 'x', type: 'syslog', transport: 'tcp', host: '127.0.0.1', format: 'cef' }, /port/],
    [
      { name: 'x', type: 'syslog', transport: 'smtp', host: '127.0.0.1', port: 514, format: 'cef' },
      /transport/,
    ],
    [
      {
        name: 'x',
        type: 'syslog',
        transport: 'tcp',
        host: '127.0.0.1',
        port: 514,
        format: 'cef',
        url: 'http://a',
      },
      /url/,
    ],
    [
      {
        name: 'x',
        type: 'syslog',
        transport: 'tcp',
        host: '127.0.0.1',
        port: 514,
        format: 'cef',
        tlsInsecure: true,
      },
      /tls/,
    ],
    [{ name: 'x', type: 'webhook', url: 'ftp://example.org', secret: 's' }, /url/],
    [{ name: 'x', type: 'webhook', url: 'https://example.org' }, /secret/],
    [{ name: 'x', type: 'webhook', url: 'https://example.org', secret: 's', port: 1 }, /port/],
    [
      { name: 'x', type: 'webhook', url: 'https://example.org', secret: 's', colour: 'red' },
      /colour/,
    ],
    [{ type: 'webhook', url: 'https://example.org', secret: 's' }, /name/],
  ])('rejects %j with 400 naming the problem', async (body, message) => {
    const res = await api()
      .post('/api/v1/siem-integrations')
      .set('Authorization', admin)
      .send(body);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  });

  it('needs siem.manage: 403 for an Analyst, 404 for an unknown id, 409 for a duplicate name', async () => {
    await createUser('siem.analyst');
    const res = await api()
      .get('/api/v1/siem-integrations')
      .set('Authorization', basic('siem.analyst', PASSWORD));
    expect(res.status).toBe(403);
    expect(
      (
        await api()
          .get('/api/v1/siem-integrations/00000000-0000-4000-8000-000000000000')
          .set('Authorization', admin)
      ).status,
    ).toBe(404);
    await createIntegration(syslog('dupe-name', 9, { enabled: false }));
    const dupe = await api()
      .post('/api/v1/siem-integrations')
      .set('Authorization', admin)
      .send(syslog('dupe-name', 9));
    expect(dupe.status).toBe(409);
  });

  it('forwards user.create as CEF over syslog/TCP within 2 s, with actor, source and entity, no password', async () => {
    const receiver = await tcpReceiver();
    await createIntegration(syslog('tcp-cef', receiver.port));
    const started = Date.now();
    await createUser('forwarded.user');
    const line = await waitFor(
      () =>
        receiver.messages.find(
          (m) => m.includes('|user.create|') && m.includes('cs1=forwarded.user'),
        ),
      2_000,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(line).toMatch(
      /^<109>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ indicium - user\.create - CEF:0\|Indicium\|Indicium\|[^|]+\|user\.create\|user\.create\|3\|rt=\d+ /,
    );
    expect(line).toContain(' suser=admin ');
    expect(line).toMatch(/ src=(127\.0\.0\.1|::ffff:127\.0\.0\.1|::1) /);
    expect(line).toContain(' cs1Label=EntityName cs1=forwarded.user ');
    expect(line).toMatch(/cs3=\{.*"username":"forwarded.user".*\}$/);
    expect(receiver.raw).not.toContain(PASSWORD);
  });

  it('keeps records while the TCP receiver is down and delivers all of them, in order, when it is back', async () => {
    const receiver = await tcpReceiver();
    const integration = await createIntegration(syslog('tcp-outage', receiver.port));
    const from = integration.lastDeliveredSequence as number;
    await createUser('outage.before');
    await waitFor(() => receiver.messages.some((m) => m.includes('cs1=outage.before')));
    await receiver.stop();

    for (const n of [1, 2, 3, 4]) await createUser(`outage.during.${n}`);
    const during = await waitFor(async () => {
      const res = await api()
        .get(`/api/v1/siem-integrations/${integration.id}`)
        .set('Authorization', admin);
      return res.body.lastError && res.body.backlog > 0 ? res.body : false;
    });
    // The connection the receiver dropped, or the refused reconnect, whichever failed first.
    expect(during.lastError).toMatch(/ECONNREFUSED|receiver closed the connection/);

    await receiver.start();
    await createUser('outage.after');
    const last = await lastSequence();
    await waitFor(() => receiver.sequences().includes(last), 30_000);
    const seen = receiver.sequences().filter((s) => s > from);
    const firstSeen = seen.filter((s, i) => seen.indexOf(s) === i);
    expect(firstSeen).toEqual(Array.from({ length: last - from }, (_, i) => from + 1 + i));
    const after = await waitFor(async () => {
      const res = await api()
        .get(`/api/v1/siem-integrations/${integration.id}`)
        .set('Authorization', admin);
      return res.body.lastDeliveredSequence >= last ? res.body : false;
    });
    expect(after).toMatchObject({ lastError: null, backlog: 0 });
  });

  async function integrationBody(id: string): Promise<
    Record<string, unknown> & {
      lastDeliveredSequence: number;
      backlog: number;
      lastError: string | null;
    }
  > {
    const res = await api().get(`/api/v1/siem-integrations/${id}`).set('Authorization', admin);
    expect(res.status).toBe(200);
    return res.body;
  }
  /** `pairs` tags created and deleted: two audit records each. */
  async function tagChurn(prefix: string, pairs: number): Promise<void> {
    for (let n = 0; n < pairs; n++) {
      const name = `${prefix}-${n}`;
      const created = await api().post('/api/v1/tags').set('Authorization', admin).send({ name });
      expect(created.status).toBe(201);
      const deleted = await api().delete(`/api/v1/tags/${name}`).set('Authorization', admin);
      expect(deleted.status).toBe(204);
    }
  }
  async function receiverProcess(): Promise<ReceiverProcess> {
    const r = await new ReceiverProcess().start();
    cleanup.push(() => r.kill());
    return r;
  }

  it('TCP: a receiver that stops reading and then dies loses nothing, and progress never claims what it did not read', async () => {
    const receiver = await receiverProcess();
    const integration = await createIntegration(syslog('tcp-stall', receiver.port));
    await createUser('stall.before');
    const before = await lastSequence();
    await waitFor(() => receiver.sequences().includes(before));
    await waitFor(
      async () => (await integrationBody(integration.id)).lastDeliveredSequence >= before,
    );

    receiver.pause(); // SIGSTOP: the kernel still takes connections and bytes
    await tagChurn('STALL', 50);
    const last = await lastSequence();
    expect(last - before).toBeGreaterThanOrEqual(100);
    const stalled = await waitFor(async () => {
      const body = await integrationBody(integration.id);
      return body.lastError || body.lastDeliveredSequence >= last ? body : false;
    }, 30_000);
    expect(stalled.lastDeliveredSequence).toBeLessThanOrEqual(before);
    expect(stalled.backlog).toBeGreaterThanOrEqual(last - before);
    expect(stalled.lastError).toMatch(/did not close|took no records|not confirmed/);
    const arrivedBefore = receiver.frames.length;

    await receiver.kill(); // dies with the unread bytes in its socket
    await receiver.start();
    const wanted = Array.from({ length: last - before }, (_, i) => before + 1 + i);
    await waitFor(() => {
      const seen = new Set(receiver.sequences());
      return wanted.every((s) => seen.has(s));
    }, 30_000);
    const replayed = receiver
      .sequences()
      .slice(arrivedBefore)
      .filter((s) => s > before);
    expect(replayed.filter((s, i) => replayed.indexOf(s) === i).slice(0, wanted.length)).toEqual(
      wanted,
    );
    const after = await waitFor(async () => {
      const body = await integrationBody(integration.id);
      return body.lastDeliveredSequence >= last ? body : false;
    });
    expect(after.lastError).toBeNull();
  });

  it('TCP: delivery resumes within 2 s of the receiver coming back after a long outage', async () => {
    const receiver = await receiverProcess();
    const integration = await createIntegration(syslog('tcp-resume', receiver.port));
    await createUser('resume.before');
    const before = await lastSequence();
    await waitFor(() => receiver.sequences().includes(before));
    await receiver.kill();
    await createUser('resume.during');
    await waitFor(async () => (await integrationBody(integration.id)).lastError);
    // The outage itself: long enough for uncapped exponential backoff to reach 8 s.
    await new Promise((r) => setTimeout(r, 10_000));

    const arrived = receiver.frames.length;
    await receiver.start();
    const first = await waitFor(() => receiver.frames[arrived], 20_000);
    expect(first.at - receiver.listeningAt).toBeLessThan(2_000);
    await waitFor(() =>
      receiver.frames.slice(arrived).some((f) => f.message.includes('cs1=resume.during')),
    );
  });

  it('POSTs signed JSON arrays to a webhook, from the first record with sendHistory', async () => {
    const bodies: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
    const server: HttpServer = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        bodies.push({ body, headers: req.headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const secret = 'webhook-hmac-key-0123456789';
    await createIntegration({
      name: 'hook',
      type: 'webhook',
      url: `http://127.0.0.1:${port}/in`,
      secret,
      sendHistory: true,
    });
    const last = await lastSequence();
    const records = await waitFor(() => {
      const all = bodies.flatMap((b) => JSON.parse(b.body) as Array<{ sequence: number }>);
      return all.some((r) => r.sequence >= last) ? all : false;
    });
    expect(records[0]).toMatchObject({
      sequence: 1,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      action: expect.any(String),
    });
    expect(records.slice(0, last).map((r) => r.sequence)).toEqual(
      Array.from({ length: last }, (_, i) => i + 1),
    );
    for (const { body, headers } of bodies) {
      expect(headers['content-type']).toMatch(/application\/json/);
      expect(headers['x-indicium-signature']).toBe(
        `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      );
    }
  });

  it('test: UDP says sent (and the datagram arrives); a closed TCP port is a 502 with the reason', async () => {
    const udp: UdpSocket = createSocket('udp4');
    const datagrams: string[] = [];
    udp.on('message', (m) => datagrams.push(m.toString('utf8')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => udp.close(() => r())));
    const viaUdp = await createIntegration(
      syslog('udp', udp.address().port, { transport: 'udp', format: 'json', enabled: false }),
    );
    const sent = await api()
      .post(`/api/v1/siem-integrations/${viaUdp.id}/test`)
      .set('Authorization', admin);
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ delivered: false, status: 'sent' });
    const datagram = await waitFor(() => datagrams.find((d) => d.includes('siem.test')));
    expect(datagram).toMatch(/^<109>1 \S+ \S+ indicium - siem\.test - \{/);

    const closed = await new FramedReceiver().start();
    await closed.stop();
    const dead = await createIntegration(syslog('closed-port', closed.port, { enabled: false }));
    const res = await api()
      .post(`/api/v1/siem-integrations/${dead.id}/test`)
      .set('Authorization', admin);
    expect(res.status).toBe(502);
    expect(res.body.message).toMatch(/ECONNREFUSED/);
  });

  it('syslog over TLS verifies the receiver: trusted with caCert, refused without', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    const receiver = await new FramedReceiver({ key: pems.private, cert: pems.cert }).start();
    cleanup.push(() => receiver.stop());
    const untrusted = await createIntegration(
      syslog('tls-untrusted', receiver.port, { transport: 'tls', enabled: false }),
    );
    const refused = await api()
      .post(`/api/v1/siem-integrations/${untrusted.id}/test`)
      .set('Authorization', admin);
    expect(refused.status).toBe(502);
    expect(refused.body.message).toMatch(/certificate/i);

    const trusted = await createIntegration(
      syslog('tls-trusted', receiver.port, { transport: 'tls', caCert: pems.cert }),
    );
    const ok = await api()
      .post(`/api/v1/siem-integrations/${trusted.id}/test`)
      .set('Authorization', admin);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ delivered: true, status: 'delivered' });
    await createUser('tls.user');
    await waitFor(() => receiver.messages.some((m) => m.includes('cs1=tls.user')));
  });
});
