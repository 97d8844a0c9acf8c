import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { loadAuditChainKey } from './audit-chain-key';

describe('loadAuditChainKey', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'audit-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const config = (env: Record<string, string> = {}) => AppConfig.load({ DATA_DIR: dir, ...env });

  it('takes AUDIT_CHAIN_KEY as given', () => {
    const key = 'k'.repeat(40);
    expect(loadAuditChainKey(config({ AUDIT_CHAIN_KEY: key }))).toEqual({
      key: Buffer.from(key),
      source: 'AUDIT_CHAIN_KEY',
    });
  });

  it('reads AUDIT_CHAIN_KEY_FILE, trimmed, and refuses a short one', () => {
    const file = join(dir, 'secret');
    writeFileSync(file, `${'s'.repeat(32)}\n`);
    expect(loadAuditChainKey(config({ AUDIT_CHAIN_KEY_FILE: file })).key.toString()).toBe(
      's'.repeat(32),
    );
    writeFileSync(file, 'short\n');
    expect(() => loadAuditChainKey(config({ AUDIT_CHAIN_KEY_FILE: file }))).toThrow(
      /shorter than 32 characters/,
    );
  });

  it('generates one key into DATA_DIR (mode 0600) and reuses it on the next start', () => {
    const first = loadAuditChainKey(config());
    expect(first.source).toBe('generated');
    const path = join(dir, 'audit-chain.key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(first.key.toString());
    expect(first.key.length).toBeGreaterThanOrEqual(43);
    const second = loadAuditChainKey(config());
    expect(second).toEqual({ key: first.key, source: 'DATA_DIR' });
  });

  it('rejects a short AUDIT_CHAIN_KEY, and both variables at once, at start-up', () => {
    expect(() => config({ AUDIT_CHAIN_KEY: 'too-short' })).toThrow(/AUDIT_CHAIN_KEY/);
    expect(() =>
      config({ AUDIT_CHAIN_KEY: 'k'.repeat(32), AUDIT_CHAIN_KEY_FILE: '/run/secrets/key' }),
    ).toThrow(/AUDIT_CHAIN_KEY or AUDIT_CHAIN_KEY_FILE, not both/);
  });
});
