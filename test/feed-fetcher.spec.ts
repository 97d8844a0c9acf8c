import { FeedServer, selfSignedCert } from './support/feed-server';
import { fetchFeed, FetchOptions, FetchResult, USER_AGENT } from '../src/feeds/feed-fetcher';

async function text(result: FetchResult): Promise<string> {
  if (result.status !== 'ok') throw new Error(result.status);
  const chunks: Buffer[] = [];
  for await (const c of result.body) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

describe('fetchFeed', () => {
  let server: FeedServer;
  let tls: FeedServer;
  let cert: { key: string; cert: string };
  const opts = (extra: Partial<FetchOptions> = {}): FetchOptions => ({
    headers: {},
    tlsVerify: true,
    signal: AbortSignal.timeout(5_000),
    allowPrivateNetworks: true,
    ...extra,
  });

  beforeAll(async () => {
    server = await new FeedServer().start();
    cert = await selfSignedCert();
    tls = await new FeedServer(cert).start();
    server.static('/list.txt', '1.2.3.4\n');
    tls.static('/list.txt', '5.6.7.8\n');
  });
  afterAll(async () => {
    await server.stop();
    await tls.stop();
  });

  it('GETs with the User-Agent and the given headers', async () => {
    expect(
      await text(await fetchFeed(server.url('/list.txt'), opts({ headers: { 'X-A': '1' } }))),
    ).toBe('1.2.3.4\n');
    const seen = server.requests.at(-1)!;
    expect(seen.headers['user-agent']).toBe(USER_AGENT);
    expect(USER_AGENT).toMatch(/^Indicium\/\d+\.\d+\.\d+/);
    expect(seen.headers['x-a']).toBe('1');
  });

  it('answers 304 with not_modified', async () => {
    server.routes.set('/304', (_req, res) => res.writeHead(304).end());
    expect(await fetchFeed(server.url('/304'), opts())).toEqual({ status: 'not_modified' });
  });

  it('follows up to 5 redirects, not more, and only to http/https', async () => {
    for (let i = 0; i < 6; i++) {
      server.routes.set(`/r${i}`, (_req, res) =>
        res.writeHead(302, { Location: i === 5 ? '/list.txt' : `/r${i + 1}` }).end(),
      );
    }
    expect(await text(await fetchFeed(server.url('/r1'), opts()))).toBe('1.2.3.4\n');
    await expect(fetchFeed(server.url('/r0'), opts())).rejects.toThrow(
      'too many redirects (more than 5)',
    );
    server.routes.set('/loop', (_req, res) => res.writeHead(301, { Location: '/loop' }).end());
    await expect(fetchFeed(server.url('/loop'), opts())).rejects.toThrow('too many redirects');
    server.routes.set('/to-file', (_req, res) =>
      res.writeHead(302, { Location: 'file:///etc/passwd' }).end(),
    );
    await expect(fetchFeed(server.url('/to-file'), opts())).rejects.toThrow(
      'URL scheme file is not allowed (http or https only)',
    );
    await expect(fetchFeed('ftp://127.0.0.1/x', opts())).rejects.toThrow(
      'URL scheme ftp is not allowed',
    );
  });

  it('sends credentials only to the configured origin', async () => {
    server.routes.set('/away', (_req, res) =>
      res.writeHead(302, { Location: `${tls.base}/list.txt` }).end(),
    );
    await text(
      await fetchFeed(
        server.url('/away'),
        opts({ caCertificate: cert.cert, credentialHeaders: { Authorization: 'Bearer t' } }),
      ),
    );
    expect(server.requests.at(-1)!.headers.authorization).toBe('Bearer t');
    expect(tls.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('fails on HTTP errors, a dropped connection and a stall', async () => {
    await expect(fetchFeed(server.url('/missing'), opts())).rejects.toThrow(/HTTP 404 Not Found$/);
    server.routes.set('/drop', (_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write('1.2.3.4\n');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await expect(text(await fetchFeed(server.url('/drop'), opts()))).rejects.toThrow(
      /the (connection broke|body ended) after 8 /,
    );
    server.routes.set('/stall', (_req, res) => {
      res.writeHead(200);
      res.write('1.2.3.4\n');
    });
    await expect(
      text(await fetchFeed(server.url('/stall'), opts({ signal: AbortSignal.timeout(300) }))),
    ).rejects.toThrow(/aborted|timeout/i);
  });

  it('caps the body', async () => {
    server.routes.set('/big', (_req, res) => res.end('x'.repeat(5000)));
    await expect(
      text(await fetchFeed(server.url('/big'), opts({ maxBytes: 1000 }))),
    ).rejects.toThrow('the feed is larger than 1000 bytes');
  });

  it('verifies TLS by default, trusts a given CA, or skips verification when told', async () => {
    await expect(fetchFeed(tls.url('/list.txt'), opts())).rejects.toThrow(
      /self.signed|certificate/i,
    );
    expect(
      await text(await fetchFeed(tls.url('/list.txt'), opts({ caCertificate: cert.cert }))),
    ).toBe('5.6.7.8\n');
    expect(await text(await fetchFeed(tls.url('/list.txt'), opts({ tlsVerify: false })))).toBe(
      '5.6.7.8\n',
    );
  });

  it('refuses private and loopback addresses unless allowed', async () => {
    await expect(
      fetchFeed(server.url('/list.txt'), opts({ allowPrivateNetworks: false })),
    ).rejects.toThrow(
      '127.0.0.1 is a private or loopback address (FEED_ALLOW_PRIVATE_NETWORKS is false)',
    );
    await expect(
      fetchFeed(
        server.url('/list.txt').replace('127.0.0.1', 'localhost'),
        opts({ allowPrivateNetworks: false }),
      ),
    ).rejects.toThrow('localhost resolves only to private or loopback addresses');
  });
});
