import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** What the proxy does with traffic now. */
type Mode = 'forward' | 'pause' | 'drop' | 'refuse';

/** One client connection and its connection to the target. */
interface Link {
  client: Socket;
  upstream: Socket;
}

/**
 * A loopback TCP proxy in front of a real server (Postgres) that can fail the way networks
 * and databases do: `pause` stops forwarding bytes (the sockets stay open, like a stopped
 * process or a black-holed route), `drop` destroys every connection and each new one,
 * `refuse` closes the listener (connections are refused, the old ones destroyed); `resume`
 * undoes any of them.
 */
export class TcpProxy {
  private mode: Mode = 'forward';
  private readonly links = new Set<Link>();
  private server: Server;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {
    this.server = this.listener();
  }

  /** A proxy on a free loopback port forwarding to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const probe = createServer();
    const port = await new Promise<number>((done, fail) => {
      probe.once('error', fail);
      probe.listen(0, '127.0.0.1', () => done((probe.address() as { port: number }).port));
    });
    await new Promise<void>((done) => probe.close(() => done()));
    const proxy = new TcpProxy(port, target);
    await proxy.listen();
    return proxy;
  }

  /** `url` (postgres://…) with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.links.size;
  }

  pause(): void {
    this.mode = 'pause';
    for (const { client, upstream } of this.links) {
      client.pause();
      upstream.pause();
    }
  }

  drop(): void {
    this.mode = 'drop';
    this.destroyAll();
  }

  async refuse(): Promise<void> {
    this.mode = 'refuse';
    this.destroyAll();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  async resume(): Promise<void> {
    const was = this.mode;
    this.mode = 'forward';
    if (was === 'refuse') {
      this.server = this.listener();
      await this.listen();
    }
    for (const { client, upstream } of this.links) {
      client.resume();
      upstream.resume();
    }
  }

  async close(): Promise<void> {
    this.mode = 'drop';
    this.destroyAll();
    if (this.server.listening) await new Promise<void>((done) => this.server.close(() => done()));
  }

  private listener(): Server {
    return createServer((client) => this.accept(client));
  }

  private listen(): Promise<void> {
    return new Promise((done, fail) => {
      this.server.once('error', fail);
      this.server.listen(this.port, '127.0.0.1', () => done());
    });
  }

  private accept(client: Socket): void {
    if (this.mode === 'drop') {
      client.destroy();
      return;
    }
    const upstream = createConnection(this.target);
    const link: Link = { client, upstream };
    this.links.add(link);
    const end = (): void => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.on('data', (chunk: Buffer) => to.write(chunk));
      from.on('error', end);
      from.on('close', end);
    }
    if (this.mode === 'pause') {
      client.pause();
      upstream.pause();
    }
  }

  private destroyAll(): void {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    this.links.clear();
  }
}
