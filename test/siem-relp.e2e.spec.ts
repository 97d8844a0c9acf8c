import { Rsyslog, rsyslogMissing } from './support/rsyslog';
import { waitFor } from './support/server-process';
import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

const missing = rsyslogMissing();
if (missing && process.env.CI) {
  throw new Error(
    `${missing}; the RELP delivery test needs Debian's rsyslog and rsyslog-relp packages ` +
      '(.ci/run installs them: apt-get install rsyslog rsyslog-relp)',
  );
}
if (missing) {
  console.warn(
    `Skipping the RELP delivery test: ${missing} (sudo apt-get install rsyslog rsyslog-relp)`,
  );
}

interface IntegrationBody {
  lastDeliveredSequence: number;
  backlog: number;
  lastError: string | null;
  transport: string;
}

/**
 * RELP (docs/api.md §7) against a real `rsyslogd -n` with `imrelp`: a record counts as
 * delivered only once rsyslogd acknowledged it, and rsyslogd writes each message to its file
 * before acknowledging it, so at every moment everything the API calls delivered is in the
 * file. Stalling, killing and restarting rsyslogd loses nothing.
 */
(missing ? describe.skip : describe)('SIEM delivery over RELP to a real rsyslogd', () => {
  let t: TestApp;
  let admin: string;
  let rsyslog: Rsyslog;
  let integrationId: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = basic(t.admin.username, t.admin.password);
    rsyslog = await Rsyslog.create();
    await rsyslog.start();
  });
  afterAll(async () => {
    await rsyslog?.remove();
    await t?.close();
  });

  async function integration(): Promise<IntegrationBody> {
    const res = await asUser(t, admin).get(`/api/v1/siem-integrations/${integrationId}`);
    expect(res.status).toBe(200);
    return res.body;
  }
  async function lastSequence(): Promise<number> {
    const res = await asUser(t, admin).get('/api/v1/audit-logs?limit=1');
    return res.body.items[0].sequence as number;
  }
  /** `pairs` tags created and deleted: two audit records each. */
  async function tagChurn(prefix: string, pairs: number): Promise<void> {
    for (let n = 0; n < pairs; n++) {
      const name = `${prefix}-${n}`;
      const created = await asUser(t, admin).post('/api/v1/tags').send({ name });
      expect(created.status).toBe(201);
      const deleted = await asUser(t, admin).delete(`/api/v1/tags/${name}`);
      expect(deleted.status).toBe(204);
    }
  }
  /** Every sequence in (from, to], once each at least, first arrivals in order. */
  function expectAllArrived(from: number, to: number): void {
    const seen = rsyslog.sequences().filter((s) => s > from && s <= to);
    const first = seen.filter((s, i) => seen.indexOf(s) === i);
    expect(first).toEqual(Array.from({ length: to - from }, (_, i) => from + 1 + i));
  }
  /**
   * Polls the API until it reports `last` delivered, checking each time that every record
   * it calls delivered is already in rsyslogd's file: progress follows acknowledgements.
   */
  async function progressFollowsAcks(from: number, last: number): Promise<IntegrationBody> {
    return waitFor(
      async () => {
        const body = await integration();
        const inFile = new Set(rsyslog.sequences());
        for (let s = from + 1; s <= body.lastDeliveredSequence; s++) expect(inFile).toContain(s);
        return body.lastDeliveredSequence >= last ? body : false;
      },
      30_000,
      `progress at ${last}`,
    );
  }

  it('delivers over RELP and reports progress only for what rsyslogd acknowledged', async () => {
    const res = await asUser(t, admin).post('/api/v1/siem-integrations').send({
      name: 'rsyslog-relp',
      type: 'syslog',
      transport: 'relp',
      host: '127.0.0.1',
      port: rsyslog.port,
      format: 'cef',
      sendHistory: true,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ transport: 'relp', port: rsyslog.port });
    integrationId = res.body.id;
    await tagChurn('RELP-FIRST', 1);
    const last = await lastSequence();

    const body = await progressFollowsAcks(0, last);
    expect(body).toMatchObject({ lastError: null, backlog: 0, transport: 'relp' });
    expectAllArrived(0, last);
    const line = rsyslog.messages().find((m) => m.includes('cs1=RELP-FIRST-0'));
    expect(line).toMatch(/^<109>1 \S+ \S+ indicium - tag\.(create|delete) - CEF:0\|Indicium\|/);
  });

  it('loses nothing when rsyslogd stops answering and then dies; progress stays at its last acknowledgement', async () => {
    const before = (
      await waitFor(async () => {
        const body = await integration();
        return body.backlog === 0 ? body : false;
      })
    ).lastDeliveredSequence;

    rsyslog.pause(); // SIGSTOP: the kernel still accepts the connection and its bytes
    await tagChurn('RELP-STALL', 50);
    const last = await lastSequence();
    expect(last - before).toBe(100);
    const stalled = await waitFor(async () => {
      const body = await integration();
      return body.lastError || body.lastDeliveredSequence > before ? body : false;
    }, 30_000);
    expect(stalled.lastDeliveredSequence).toBe(before);
    expect(stalled.backlog).toBe(last - before);
    expect(stalled.lastError).toMatch(/did not answer/);

    await rsyslog.stop('SIGKILL'); // dies with whatever it had not read
    await rsyslog.start();
    const body = await progressFollowsAcks(before, last);
    expect(body).toMatchObject({ lastError: null, backlog: 0 });
    expectAllArrived(before, last);
  });

  it('loses nothing across an orderly restart: records made while rsyslogd is down arrive once it is back', async () => {
    const before = await lastSequence();
    await waitFor(async () => (await integration()).lastDeliveredSequence >= before);

    await rsyslog.stop('SIGTERM');
    await tagChurn('RELP-DOWN', 3);
    const last = await lastSequence();
    const down = await waitFor(async () => {
      const body = await integration();
      return body.lastError ? body : false;
    });
    expect(down.lastDeliveredSequence).toBe(before);
    expect(down.lastError).toMatch(/ECONNREFUSED|closed/);

    await rsyslog.start();
    const body = await progressFollowsAcks(before, last);
    expect(body).toMatchObject({ lastError: null, backlog: 0 });
    expectAllArrived(before, last);
  });
});
