import { createHmac } from 'node:crypto';
import {
  anchorMac,
  canonicalJson,
  canonicalRecord,
  chainHash,
  GENESIS_HASH,
  keyedChainHash,
} from './audit-chain';
import type { AuditRecord } from './audit-chain';
import { redact, REDACTED } from './redact';
import { AUDIT_RECORD } from './audit-record.fixture';

const { hash: _hash, ...record } = AUDIT_RECORD;

describe('canonical JSON and the hash chain', () => {
  it('sorts keys at every depth, drops undefined, keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: null }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":1}]},"b":1}',
    );
  });

  it('covers a fixed field list, missing fields as null', () => {
    const canonical = canonicalRecord({ ...record, userAgent: undefined as unknown as null });
    expect(canonical).toBe(
      '{"action":"user.create","actorId":"00000000-0000-4000-8000-0000000000aa","actorName":"admin","actorType":"user",' +
        '"entityName":"jane","entityType":"user","id":"00000000-0000-4000-8000-000000000001","ip":"127.0.0.1",' +
        '"newValue":{"role":"Analyst","username":"jane"},"oldValue":null,"operation":"create","outcome":"success",' +
        '"requestId":"req-1","sequence":1,"timestamp":"2025-01-02T03:04:05.678Z","userAgent":null}',
    );
    const withHash: AuditRecord = { ...record, hash: 'ignored' };
    expect(canonicalRecord(withHash)).toBe(canonicalRecord(record));
  });

  it('chains: hash = sha256(previous hash + canonical record); key order does not matter', () => {
    const h1 = chainHash(GENESIS_HASH, record);
    expect(h1).toMatch(/^[0-9a-f]{64}$/);
    expect(
      chainHash(GENESIS_HASH, { ...record, newValue: { role: 'Analyst', username: 'jane' } }),
    ).toBe(h1);
    expect(chainHash(GENESIS_HASH, { ...record, entityName: 'john' })).not.toBe(h1);
    expect(chainHash(h1, { ...record, sequence: 2 })).not.toBe(
      chainHash(GENESIS_HASH, { ...record, sequence: 2 }),
    );
  });
});

describe('redact', () => {
  it('replaces sensitive keys at any depth and keeps the rest', () => {
    expect(
      redact({
        username: 'a',
        password: 'p',
        nested: [{ clientSecret: 's', accessToken: 't', keep: 1 }],
        passwordHash: 'h',
      }),
    ).toEqual({
      username: 'a',
      password: REDACTED,
      nested: [{ clientSecret: REDACTED, accessToken: REDACTED, keep: 1 }],
      passwordHash: REDACTED,
    });
    expect(redact(null)).toBeNull();
    expect(redact('plain')).toBe('plain');
  });

  it('keys the link: HMAC-SHA256 over the previous hash and the canonical record', () => {
    const key = Buffer.from('k'.repeat(32));
    const h = keyedChainHash(key, GENESIS_HASH, record);
    expect(h).toBe(
      createHmac('sha256', key)
        .update(GENESIS_HASH + canonicalRecord(record))
        .digest('hex'),
    );
    expect(h).not.toBe(chainHash(GENESIS_HASH, record));
    expect(keyedChainHash(Buffer.from('j'.repeat(32)), GENESIS_HASH, record)).not.toBe(h);
  });

  it('binds the anchor to both its boundary and the legacy head', () => {
    const key = Buffer.from('k'.repeat(32));
    const mac = anchorMac(key, 5, 'a'.repeat(64));
    expect(anchorMac(key, 6, 'a'.repeat(64))).not.toBe(mac);
    expect(anchorMac(key, 5, 'b'.repeat(64))).not.toBe(mac);
    expect(anchorMac(Buffer.from('j'.repeat(32)), 5, 'a'.repeat(64))).not.toBe(mac);
  });
});
