import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AppConfig } from '../config/app-config';

export interface AuditChainKey {
  key: Buffer;
  /** Where it came from, for the start-up log. */
  source: 'AUDIT_CHAIN_KEY' | 'AUDIT_CHAIN_KEY_FILE' | 'DATA_DIR' | 'generated';
}

const MIN_KEY_CHARS = 32;

/**
 * The audit chain key: AUDIT_CHAIN_KEY, else the file AUDIT_CHAIN_KEY_FILE names, else
 * DATA_DIR/audit-chain.key, generated on first start (256 random bits, mode 0600), as the
 * TLS certificate is. It must never be stored in the database it protects.
 */
export function loadAuditChainKey(config: AppConfig): AuditChainKey {
  const { AUDIT_CHAIN_KEY, AUDIT_CHAIN_KEY_FILE, DATA_DIR } = config.env;
  if (AUDIT_CHAIN_KEY !== undefined) {
    return { key: Buffer.from(AUDIT_CHAIN_KEY, 'utf8'), source: 'AUDIT_CHAIN_KEY' };
  }
  if (AUDIT_CHAIN_KEY_FILE !== undefined) {
    return { key: readKeyFile(AUDIT_CHAIN_KEY_FILE), source: 'AUDIT_CHAIN_KEY_FILE' };
  }
  const dir = resolve(DATA_DIR);
  const path = join(dir, 'audit-chain.key');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    // `wx`: of two processes sharing DATA_DIR, one writes the key and both read that one.
    writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    return { key: readKeyFile(path), source: 'generated' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return { key: readKeyFile(path), source: 'DATA_DIR' };
  }
}

function readKeyFile(path: string): Buffer {
  const text = readFileSync(path, 'utf8').trim();
  if (text.length < MIN_KEY_CHARS) {
    throw new Error(`The audit chain key in ${path} is shorter than ${MIN_KEY_CHARS} characters`);
  }
  return Buffer.from(text, 'utf8');
}
