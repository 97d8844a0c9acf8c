import { createServer as createHttpServer, Server as HttpServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { DetectionRecorder } from '../src/detections/detection-recorder';
import { RetroScanner } from '../src/detections/retro-scanner';
import { waitFor } from './support/server-process';
import { FramedReceiver } from './support/syslog-receiver';
import { createTestApp, TestApp } from './support/test-app';
import { threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

/** The detection id a CEF message carries. */
function detectionIdOf(message: string): number {
  return Number(/externalId=(\d+)/.exec(message)?.[1]);
}

describe('SIEM detections stream (docs/api.md §11, §7)', () => {
  let t: TestApp;
  let ti: ReturnType<typeof threatIntel>;
  let analyst: string;
  const cleanup: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    t = await createTestApp();
    ti = threatIntel(t);
    analyst = await ti.createAnalyst('hunter');
    await ti.createSupplier('AcmeFeed');
    await ti.upload('AcmeFeed', [{ indicator: 'evil.com', context: { threat: 'phish|ing=1' } }]);
  });
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn();
    await t.close();
  });

  async function createIntegration(body: Record<string, unknown>) {
    const res = await asUser(t, ti.admin).post('/api/v1/siem-integrations').send(body);
    expect(res.status).toBe(201);
    return res.body as { id: string; streams: string[] };
  }

  async function searchAndFlush(values: string[]): Promise<void> {
    const res = await asUser(t, analyst).post('/api/v1/search').send({ values });
    expect(res.status).toBe(200);
    await t.app.get(DetectionRecorder).flush();
  }

  async function allDetectionIds(): Promise<number[]> {
    const res = await t
      .api()
      .get('/api/v1/detections')
      .query({ limit: 1000 })
      .set('Authorization', ti.admin);
    return (res.body.items as Array<{ id: number }>).map((d) => d.id).reverse();
  }

  it('defaults to the audit stream and rejects unknown or empty streams with a 400 naming them', async () => {
    const plain = await createIntegration({
      name: 'plain',
      type: 'webhook',
      url: 'http://127.0.0.1:9/x',
      secret: 's',
      enabled: false,
    });
    expect(plain.streams).toEqual(['audit']);
    for (const streams of [['bogus'], [], ['audit', 'audit'], 'detections']) {
      const res = await asUser(t, ti.admin)
        .post('/api/v1/siem-integrations')
        .send({ name: 'bad', type: 'webhook', url: 'http://127.0.0.1:9/x', secret: 's', streams });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('streams');
    }
  });

  it('forwards detections, retro ones included, to a syslog TCP receiver in order, and catches up after it was down', async () => {
    const receiver = await new FramedReceiver().start();
    cleanup.push(() => receiver.stop());
    await createIntegration({
      name: 'soc',
      type: 'syslog',
      transport: 'tcp',
      host: '127.0.0.1',
      port: receiver.port,
      format: 'cef',
      streams: ['detections'],
    });
    await searchAndFlush(['a.evil.com', 'clean.example.org', 'http://b.evil.com/x']);
    await ti.upload('AcmeFeed', [{ indicator: 'example.org' }]);
    await t.app.get(RetroScanner).idle();
    let ids = await allDetectionIds();
    expect(ids).toHaveLength(3);
    await waitFor(() => receiver.messages.length >= 3);
    expect(receiver.messages.map(detectionIdOf)).toEqual(ids);
    const [first, , retro] = receiver.messages;
    expect(first).toMatch(/CEF:0\|Indicium\|Indicium\|[^|]+\|detection\|detection\|8\|/);
    expect(first).toContain('dhost=a.evil.com');
    expect(first).toContain('suser=hunter');
    expect(first).toContain('cs1Label=Supplier cs1=AcmeFeed');
    expect(first).toContain('cs2Label=MatchedBy cs2=parent_domain');
    expect(first).toContain('cs3Label=Context cs3={"threat":"phish|ing\\=1"}');
    expect(receiver.messages[1]).toContain('request=b.evil.com/x');
    expect(retro).toContain('|detection|retro detection|');
    expect(retro).toContain('dhost=clean.example.org');
    expect(receiver.messages.some((m) => m.includes('action='))).toBe(false);

    // Receiver down: events wait in the database and arrive, in order, once it is back.
    await receiver.stop();
    await searchAndFlush(['c.evil.com', 'd.evil.com']);
    await new Promise((r) => setTimeout(r, 1_500));
    await receiver.start();
    ids = await allDetectionIds();
    await waitFor(() => new Set(receiver.messages.map(detectionIdOf)).size >= ids.length);
    const received = receiver.messages.map(detectionIdOf);
    // At least once: a resend after the outage may repeat, never reorder or skip.
    expect([...new Set(received)]).toEqual(ids);
  });

  it('POSTs detection events as JSON arrays to a webhook, from the first with sendHistory', async () => {
    const bodies: string[] = [];
    const server: HttpServer = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const ids = await allDetectionIds();
    await createIntegration({
      name: 'hook',
      type: 'webhook',
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`,
      secret: 'k',
      sendHistory: true,
      streams: ['detections', 'audit'],
    });
    const events = await waitFor(() => {
      const all = bodies
        .flatMap((b) => JSON.parse(b) as Array<{ stream?: string; id: number }>)
        .filter((e) => e.stream === 'detections');
      return all.length >= ids.length ? all : false;
    });
    expect(events.map((e) => e.id)).toEqual(ids);
    expect(events[0]).toEqual({
      stream: 'detections',
      id: ids[0],
      at: expect.any(String),
      value: 'a.evil.com',
      type: 'domain',
      result: 'detected',
      principal: 'hunter',
      supplier: 'AcmeFeed',
      indicator: 'evil.com',
      indicatorType: 'domain',
      matchedBy: 'parent_domain',
      context: { threat: 'phish|ing=1' },
      retro: false,
    });
    // The audit stream comes too, in its own arrays.
    await waitFor(() => bodies.some((b) => b.includes('"sequence":1,')));
  });
});
