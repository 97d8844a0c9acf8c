import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

/**
 * Client IP resolution behind a trusted proxy (docs/security.md). Issue 14: with
 * TRUST_PROXY=127.0.0.1/32, `X-Forwarded-For: 10.1.2.3, unknown` admitted a client restricted
 * to 10.0.0.0/8 and logged 10.1.2.3: a hop that did not parse handed the decision to the
 * caller-written left-most entry.
 */
describe('client IP behind a trusted proxy (TRUST_PROXY=127.0.0.1/32)', () => {
  let t: TestApp;
  let admin: string;
  let client: string;
  let clientUuid: string;
  /** Allowed from 10.1.2.3 alone: a 200 proves which hop was taken for the client. */
  let exact: string;

  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: '127.0.0.1/32' });
    admin = basic(t.admin.username, t.admin.password);
    const res = await asUser(t, admin)
      .post('/api/v1/api-clients')
      .send({
        name: 'internal only',
        role: 'Analyst',
        ipRestriction: { mode: 'restricted', allowedIps: ['10.0.0.0/8'] },
      });
    expect(res.status).toBe(201);
    client = basic(res.body.clientId, res.body.clientSecret);
    clientUuid = res.body.id;
    const one = await asUser(t, admin)
      .post('/api/v1/api-clients')
      .send({
        name: 'one address',
        role: 'Analyst',
        ipRestriction: { mode: 'restricted', allowedIps: ['10.1.2.3'] },
      });
    expect(one.status).toBe(201);
    exact = basic(one.body.clientId, one.body.clientSecret);
  });
  afterAll(() => t.close());

  async function lastDenial(): Promise<{ ip: string; newValue: { ip: string } }> {
    const res = await t
      .api()
      .get('/api/v1/audit-logs')
      .query({ action: 'auth.denied_ip', limit: 1 })
      .set('Authorization', admin);
    return res.body.items[0];
  }

  it.each([
    ['10.1.2.3, unknown', '127.0.0.1'],
    ['10.1.2.3, garbage', '127.0.0.1'],
    ['10.1.2.3, _obfuscated', '127.0.0.1'],
    ['10.1.2.3, 203.0.113.9:4711', '203.0.113.9'],
    ['10.1.2.3, [2001:db8::1]', '2001:db8::1'],
    ['10.1.2.3, [2001:db8::1]:4711', '2001:db8::1'],
    ['10.1.2.3, 198.51.100.4', '198.51.100.4'],
    ['10.1.2.3, 127.0.0.1, unknown', '127.0.0.1'],
  ])('X-Forwarded-For %j: refused and audited as %s', async (header, resolved) => {
    const res = await asUser(t, client).get('/api/v1/me').set('X-Forwarded-For', header);
    expect(res.status).toBe(403);
    expect(res.body.message).toBe(`Client IP ${resolved} is not in this API client's allow-list`);
    const denial = await lastDenial();
    expect(denial).toMatchObject({ ip: resolved, newValue: { ip: resolved } });
  });

  it.each([
    '10.1.2.3',
    '203.0.113.9, 10.1.2.3',
    '10.1.2.3:4711',
    '10.9.9.9, 10.1.2.3, 127.0.0.1',
    '10.9.9.9,10.1.2.3',
  ])('X-Forwarded-For %j: the client is 10.1.2.3', async (header) => {
    const res = await asUser(t, exact).get('/api/v1/me').set('X-Forwarded-For', header);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'client', role: 'Analyst' });
    await asUser(t, client).get('/api/v1/me').set('X-Forwarded-For', header).expect(200);
  });

  it('records the resolved address as the client last used it', async () => {
    // lastUsedAt/lastUsedIp are written at most once a minute, after the first success above.
    const res = await asUser(t, admin).get(`/api/v1/api-clients/${clientUuid}`);
    expect(res.body.lastUsedIp).toBe('10.1.2.3');
  });
});
