import {
  createServer as createHttpServer,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';

export type FeedHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A self-signed certificate for 127.0.0.1, which is its own CA (tests pass it as caCertificate). */
export async function selfSignedCert(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/**
 * A local feed server (HTTP, or HTTPS with the given certificate) serving routes by path.
 * Records each request's headers, so tests can assert on conditional GETs and User-Agent.
 */
export class FeedServer {
  readonly routes = new Map<string, FeedHandler>();
  readonly requests: Array<{ path: string; headers: IncomingMessage['headers'] }> = [];
  private server!: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly tls?: { key: string; cert: string }) {}

  async start(): Promise<this> {
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.requests.push({ path, headers: req.headers });
      const route = this.routes.get(path);
      if (!route) {
        res.writeHead(404).end('not found');
        return;
      }
      route(req, res);
    };
    this.server = this.tls ? createHttpsServer(this.tls, handle) : createHttpServer(handle);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this;
  }

  get base(): string {
    const { port } = this.server.address() as AddressInfo;
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  url(path: string): string {
    return `${this.base}${path}`;
  }

  /** Serves `body` with an ETag, answering 304 to a matching If-None-Match. */
  static(path: string, body: string | (() => string), contentType = 'text/plain'): void {
    this.routes.set(path, (req, res) => {
      const text = typeof body === 'function' ? body() : body;
      const etag = `"${Buffer.from(text).length}-${hash(text)}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ETag: etag }).end();
        return;
      }
      res.writeHead(200, {
        'Content-Type': contentType,
        ETag: etag,
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function hash(text: string): string {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
  return (h >>> 0).toString(16);
}
