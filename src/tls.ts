import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { generate } from 'selfsigned';
import type { AppConfig } from './config/app-config';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  generated: boolean;
}

/**
 * The TLS key and certificate: TLS_CERT_PATH/TLS_KEY_PATH when given, else a self-signed
 * ECDSA certificate generated once into DATA_DIR/tls and reused on every start.
 */
export async function loadTlsMaterial(config: AppConfig): Promise<TlsMaterial> {
  const { TLS_CERT_PATH, TLS_KEY_PATH, DATA_DIR } = config.env;
  if (TLS_CERT_PATH && TLS_KEY_PATH) {
    return { cert: readFileSync(TLS_CERT_PATH), key: readFileSync(TLS_KEY_PATH), generated: false };
  }
  const dir = join(resolve(DATA_DIR), 'tls');
  const certPath = join(dir, 'self-signed.crt');
  const keyPath = join(dir, 'self-signed.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { cert: readFileSync(certPath), key: readFileSync(keyPath), generated: false };
  }
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'indicium.local' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 825 * 24 * 3600 * 1000),
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: hostname() },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert, { mode: 0o644 });
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), generated: true };
}
