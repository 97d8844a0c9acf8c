import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { AppConfig } from '../src/config/app-config';
import { loadTlsMaterial, type TlsMaterial } from '../src/tls';
import { basic, createTestApp, TestApp } from './support/test-app';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One real request over a socket; rejects when no HTTP answer comes back. */
function fetchOver(
  scheme: 'http' | 'https',
  options: RequestOptions & { host?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const send = scheme === 'https' ? httpsRequest : httpRequest;
    const req = send({ host: '127.0.0.1', agent: false, ...options }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The TLS handshake alone, verified against `ca` for the name `servername`/host. */
function handshake(
  port: number,
  ca: Buffer,
  servername?: string,
): Promise<{ protocol: string | null; cert: PeerCertificate; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername }, () => {
      const result = {
        protocol: socket.getProtocol(),
        cert: socket.getPeerCertificate(),
        authorized: socket.authorized,
      };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
  });
}

/** Headers every response should carry, whatever the transport (helmet). */
function expectSecurityHeaders(headers: IncomingHttpHeaders): string {
  const csp = headers['content-security-policy'];
  expect(typeof csp).toBe('string');
  const directives = new Map(
    String(csp)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name, values] as const),
  );
  expect(directives.get('default-src')).toEqual(["'self'"]);
  expect(directives.get('script-src')).toEqual(["'self'"]);
  expect(directives.get('object-src')).toEqual(["'none'"]);
  expect(directives.get('frame-ancestors')).toEqual(["'self'"]);
  expect(String(csp)).not.toContain('unsafe-eval');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('SAMEORIGIN');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-powered-by']).toBeUndefined();
  // Sent over plain HTTP too: browsers ignore it there (RFC 6797 §8.1), and with TLS=off the
  // TLS-terminating proxy in front passes it on to its HTTPS clients.
  expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  return String(csp);
}

/** Transport (docs/api.md §8): HTTPS by default with a generated certificate; TLS=off serves HTTP. */
describe('transport', () => {
  describe('HTTPS with the generated self-signed certificate', () => {
    let t: TestApp;
    let tls: TlsMaterial;
    let port: number;
    let dataDir: string;
    const admin = () => basic(t.admin.username, t.admin.password);

    beforeAll(async () => {
      // As main.ts does with TLS=on and no TLS_CERT_PATH/TLS_KEY_PATH.
      dataDir = mkdtempSync(join(tmpdir(), 'indicium-tls-'));
      tls = await loadTlsMaterial(AppConfig.load({ DATA_DIR: dataDir, TLS: 'on' }));
      t = await createTestApp(
        { DATA_DIR: dataDir, TLS: 'on' },
        { httpsOptions: { key: tls.key, cert: tls.cert } },
      );
      await t.app.listen(0, '127.0.0.1');
      port = (t.app.getHttpServer().address() as AddressInfo).port;
    });
    afterAll(async () => {
      await t?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('generates the key and certificate once into DATA_DIR/tls, key private', () => {
      // main.ts loads this material whenever TLS is on, which is the default.
      expect(AppConfig.load({}).env.TLS).toBe('on');
      expect(tls.generated).toBe(true);
      expect(statSync(join(dataDir, 'tls', 'self-signed.key')).mode & 0o077).toBe(0);
      expect(statSync(join(dataDir, 'tls')).mode & 0o077).toBe(0);
      const x509 = new X509Certificate(tls.cert);
      expect(x509.subject).toBe('CN=indicium.local');
      expect(x509.subjectAltName).toEqual(expect.stringContaining('DNS:localhost'));
      expect(x509.subjectAltName).toEqual(expect.stringContaining('IP Address:127.0.0.1'));
      expect(x509.checkPrivateKey(createPrivateKey(tls.key))).toBe(true);
    });

    it('completes a verified TLS 1.2+ handshake for 127.0.0.1 and localhost', async () => {
      for (const servername of [undefined, 'localhost']) {
        const hs = await handshake(port, tls.cert, servername);
        expect(hs.authorized).toBe(true);
        expect(['TLSv1.2', 'TLSv1.3']).toContain(hs.protocol);
        expect(hs.cert.fingerprint256).toBe(new X509Certificate(tls.cert).fingerprint256);
      }
      // Pinning is real: without the generated certificate as CA the client refuses it.
      await expect(fetchOver('https', { port, path: '/health/live' })).rejects.toMatchObject({
        code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY/),
      });
    });

    it('serves the API over HTTPS with the security headers, HSTS and CSP upgrades', async () => {
      const live = await fetchOver('https', { port, path: '/health/live', ca: tls.cert });
      expect(live.status).toBe(200);
      const csp = expectSecurityHeaders(live.headers);
      expect(csp).toContain('upgrade-insecure-requests');

      const me = await fetchOver('https', {
        host: 'localhost',
        family: 4,
        port,
        path: '/api/v1/me',
        ca: tls.cert,
        headers: { Authorization: admin() },
      });
      expect(me.status).toBe(200);
      expect(JSON.parse(me.body)).toMatchObject({ type: 'user', name: 'admin' });
      expectSecurityHeaders(me.headers);

      const docs = await fetchOver('https', { port, path: '/docs', ca: tls.cert });
      expect(docs.status).toBe(200);
      expect(docs.body).toContain('swagger-ui-bundle.js');
      expectSecurityHeaders(docs.headers);
    });

    it('gives no HTTP answer to plain HTTP on the TLS port', async () => {
      // The TLS server drops the connection on a non-handshake; no HTTP status ever comes.
      await expect(fetchOver('http', { port, path: '/health/live' })).rejects.toMatchObject({
        code: 'ECONNRESET',
      });
      const after = await fetchOver('https', { port, path: '/health/live', ca: tls.cert });
      expect(after.status).toBe(200);
    });

    it('reuses the certificate on the next start instead of generating a new one', async () => {
      const again = await loadTlsMaterial(t.config);
      expect(again.generated).toBe(false);
      expect(new X509Certificate(again.cert).fingerprint256).toBe(
        new X509Certificate(tls.cert).fingerprint256,
      );
      expect(again.key.equals(tls.key)).toBe(true);
    });
  });

  describe('TLS=off', () => {
    let t: TestApp;
    let port: number;

    beforeAll(async () => {
      t = await createTestApp({ TLS: 'off' });
      await t.app.listen(0, '127.0.0.1');
      port = (t.app.getHttpServer().address() as AddressInfo).port;
    });
    afterAll(() => t?.close());

    it('serves plain HTTP, with the security headers', async () => {
      const live = await fetchOver('http', { port, path: '/health/live' });
      expect(live.status).toBe(200);
      expect(JSON.parse(live.body)).toMatchObject({ status: 'ok' });
      // Over plain HTTP the CSP must not ask browsers to upgrade /docs' assets to https.
      expect(expectSecurityHeaders(live.headers)).not.toContain('upgrade-insecure-requests');

      const me = await fetchOver('http', {
        port,
        path: '/api/v1/me',
        headers: { Authorization: basic(t.admin.username, t.admin.password) },
      });
      expect(me.status).toBe(200);
      expect(JSON.parse(me.body)).toMatchObject({ type: 'user', name: 'admin' });

      const docs = await fetchOver('http', { port, path: '/docs' });
      expect(docs.status).toBe(200);
      expect(expectSecurityHeaders(docs.headers)).not.toContain('upgrade-insecure-requests');
    });

    it('does not speak TLS', async () => {
      await expect(
        fetchOver('https', { port, path: '/health/live', rejectUnauthorized: false }),
      ).rejects.toMatchObject({ code: 'EPROTO', message: expect.stringMatching(/wrong version/i) });
    });
  });
});
