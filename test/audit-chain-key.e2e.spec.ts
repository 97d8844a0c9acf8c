import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  type AuditRecord,
  chainHash,
  GENESIS_HASH,
  keyedChainHash,
} from '../src/audit/audit-chain';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditRepository } from '../src/audit/audit.repository';
import { AuditService } from '../src/audit/audit.service';
import { AppConfig } from '../src/config/app-config';
import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

/**
 * Issue 14: the chain was an unkeyed hash, so whoever owns the database could rewrite a record,
 * recompute every hash after it and still get `valid: true`. These tests do what that
 * attacker does, as a Postgres superuser outside the application.
 */
describe('audit chain keyed with AUDIT_CHAIN_KEY, against a database superuser', () => {
  let t: TestApp;
  let admin: string;
  let su: Client;
  const KEY = randomBytes(32).toString('base64');

  beforeAll(async () => {
    t = await createTestApp({ AUDIT_CHAIN_KEY: KEY });
    admin = basic(t.admin.username, t.admin.password);
    su = new Client({ connectionString: t.config.env.DATABASE_URL });
    await su.connect();
  });
  afterAll(async () => {
    await su?.end();
    await t?.close();
  });

  async function createUsers(...names: string[]): Promise<void> {
    for (const username of names) {
      await asUser(t, admin)
        .post('/api/v1/users')
        .send({ username, password: 'correct horse battery', role: 'Analyst' })
        .expect(201);
    }
  }

  async function chain(): Promise<AuditRecord[]> {
    const res = await asUser(t, admin).get('/api/v1/audit-logs?limit=1000');
    expect(res.status).toBe(200);
    return (res.body.items as AuditRecord[]).reverse();
  }

  async function verify(): Promise<unknown> {
    const res = await asUser(t, admin).get('/api/v1/audit-logs/verify');
    expect(res.status).toBe(200);
    return res.body;
  }

  /** As the attacker: triggers off, rewrite one record, recompute every hash from there on. */
  async function rewrite(
    sequence: number,
    entityName: string,
    link: (previous: string, record: Omit<AuditRecord, 'hash'>) => string,
    from = sequence,
  ): Promise<void> {
    const records = await chain();
    await su.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
    try {
      let previous = from === 1 ? GENESIS_HASH : records[from - 2].hash;
      for (const r of records.filter((x) => x.sequence >= from)) {
        const { hash: _old, ...rest } = r;
        const forged = r.sequence === sequence ? { ...rest, entityName } : rest;
        const hash = link(previous, forged);
        await su.query('UPDATE audit_log SET entity_name = $2, hash = $3 WHERE sequence = $1', [
          r.sequence,
          forged.entityName,
          hash,
        ]);
        previous = hash;
      }
    } finally {
      await su.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    }
  }

  async function withAnchorTriggersOff(sql: string, params: unknown[] = []): Promise<void> {
    await su.query('ALTER TABLE audit_chain_anchor DISABLE TRIGGER USER');
    try {
      await su.query(sql, params);
    } finally {
      await su.query('ALTER TABLE audit_chain_anchor ENABLE TRIGGER USER');
    }
  }

  it('the hashes are HMACs under the key: recomputable with it, not without', async () => {
    await createUsers('chain.one', 'chain.two');
    const records = await chain();
    let previous = GENESIS_HASH;
    for (const { hash, ...rest } of records) {
      expect(hash).toBe(keyedChainHash(Buffer.from(KEY), previous, rest));
      expect(hash).not.toBe(chainHash(previous, rest));
      previous = hash;
    }
    expect(await verify()).toEqual({ valid: true, checked: records.length });
  });

  it('a record rewritten with unkeyed hashes recomputed after it is detected', async () => {
    await createUsers('victim.unkeyed', 'after.unkeyed');
    const [target] = (await chain()).filter((r) => r.entityName === 'victim.unkeyed');
    await rewrite(target.sequence, 'someone.else', chainHash);
    expect(await verify()).toEqual({ valid: false, brokenAt: target.sequence });
  });

  it('a record rewritten under a guessed key is detected', async () => {
    // The previous test broke the chain at an earlier record; repair it the honest way first.
    const [first] = await chain();
    await rewrite(first.sequence, first.entityName ?? '', (p, r) =>
      keyedChainHash(Buffer.from(KEY), p, r),
    );
    expect(await verify()).toMatchObject({ valid: true });
    await createUsers('victim.wrongkey');
    const [target] = (await chain()).filter((r) => r.entityName === 'victim.wrongkey');
    const guessed = Buffer.from(randomBytes(32).toString('base64'));
    await rewrite(target.sequence, 'someone.else', (p, r) => keyedChainHash(guessed, p, r));
    expect(await verify()).toEqual({ valid: false, brokenAt: target.sequence });
  });

  it('moving the keyed/unkeyed boundary, or deleting it, to pass off an unkeyed rewrite is detected', async () => {
    const records = await chain();
    const head = records[records.length - 1];
    // Everything rewritten unkeyed, and the anchor moved past the end: "all legacy".
    await rewrite(1, records[0].entityName ?? '', chainHash, 1);
    await withAnchorTriggersOff('UPDATE audit_chain_anchor SET keyed_from = $1, legacy_head = $2', [
      head.sequence + 1,
      (await chain())[records.length - 1].hash,
    ]);
    expect(await verify()).toEqual({ valid: false, brokenAt: 1 });
    await withAnchorTriggersOff('DELETE FROM audit_chain_anchor');
    expect(await verify()).toEqual({ valid: false, brokenAt: 1 });
  });

  it('a database written before the chain was keyed stays verifiable after the upgrade', async () => {
    // The state an older version left: no anchor, every record hashed unkeyed (the previous
    // test left exactly that). Starting this version anchors the chain at the current head.
    const before = await chain();
    expect(await su.query('SELECT count(*)::int AS n FROM audit_chain_anchor')).toMatchObject({
      rows: [{ n: 0 }],
    });
    await t.app.get(AuditService).onModuleInit();
    expect(await verify()).toEqual({ valid: true, checked: before.length });
    await createUsers('after.upgrade');
    const after = await chain();
    const { hash, ...newest } = after[after.length - 1];
    expect(hash).toBe(keyedChainHash(Buffer.from(KEY), after[after.length - 2].hash, newest));
    expect(await verify()).toEqual({ valid: true, checked: after.length });

    // A legacy record rewritten (unkeyed, as those were) still breaks the chain.
    await rewrite(2, 'someone.else', chainHash, 2);
    expect(await verify()).toMatchObject({ valid: false });
  });

  it('an instance started with another key says so at start-up', async () => {
    const other = new AuditService(
      t.app.get(DataSource),
      t.app.get(AuditRepository),
      AppConfig.load({ DATA_DIR: t.config.env.DATA_DIR, AUDIT_CHAIN_KEY: 'x'.repeat(32) }),
    );
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      await other.onModuleInit();
      expect(errors).toHaveBeenCalledWith(expect.stringMatching(/different audit chain key/));
      errors.mockClear();
      await t.app.get(AuditService).onModuleInit();
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });

  it('the anchor is append-only, like the log', async () => {
    await expect(su.query('UPDATE audit_chain_anchor SET keyed_from = 1')).rejects.toThrow(
      /append-only/,
    );
    await expect(su.query('TRUNCATE audit_chain_anchor')).rejects.toThrow(/append-only/);
  });
});
