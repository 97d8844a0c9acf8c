import { ChildProcess, spawn } from 'node:child_process';
import { AddressInfo, createServer as createNetServer, Server, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { createServer as createTlsServer } from 'node:tls';

/** One syslog message as received, with the connection (numbered from 0) it came on. */
export interface ReceivedFrame {
  message: string;
  connection: number;
}

/**
 * A syslog receiver speaking RFC 6587 octet counting over TCP (or TLS), restartable on its
 * port. A frame cut off by a dropped connection is not a message.
 */
export class FramedReceiver {
  readonly frames: ReceivedFrame[] = [];
  raw = '';
  /** Connections accepted so far, numbered from 0 in order of arrival. */
  connections = 0;
  /** The numbers of the connections that have closed. */
  readonly closed = new Set<number>();
  /** Called for every complete message, as it arrives. */
  onMessage?: (frame: ReceivedFrame) => void;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly tls?: { key: string; cert: string }) {}

  /** Every complete message, in arrival order. */
  get messages(): string[] {
    return this.frames.map((f) => f.message);
  }

  async start(): Promise<this> {
    const onSocket = (socket: Socket): void => {
      const connection = this.connections++;
      this.sockets.add(socket);
      let buf = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        this.raw += chunk.toString('utf8');
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const space = buf.indexOf(0x20);
          if (space < 0) break;
          const len = Number(buf.subarray(0, space).toString('ascii'));
          if (buf.length < space + 1 + len) break;
          const frame = {
            message: buf.subarray(space + 1, space + 1 + len).toString('utf8'),
            connection,
          };
          this.frames.push(frame);
          buf = buf.subarray(space + 1 + len);
          this.onMessage?.(frame);
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.closed.add(connection);
      });
    };
    this.server = this.tls ? createTlsServer(this.tls, onSocket) : createNetServer(onSocket);
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The audit sequence of each message received (CEF externalId or JSON sequence), in arrival order. */
  sequences(frames: ReceivedFrame[] = this.frames): number[] {
    return frames.map((f) => sequenceOf(f.message));
  }
}

/** The audit sequence a syslog message carries: CEF `externalId=`, or the JSON payload's `sequence`. */
export function sequenceOf(message: string): number {
  const cef = /externalId=(\d+)/.exec(message);
  if (cef) return Number(cef[1]);
  const json = message.indexOf(' - {');
  if (json < 0) return NaN;
  const { sequence } = JSON.parse(message.slice(json + 3)) as { sequence?: unknown };
  return typeof sequence === 'number' ? sequence : NaN;
}

/**
 * The receiver run as a child process, so that it can really stop reading (SIGSTOP: the
 * kernel keeps accepting connections and bytes, the program reads none) and really die
 * (SIGKILL: whatever it had not read is gone). It reports each complete octet-counted
 * message on stdout as a JSON line (stdout to a pipe is synchronous on Linux, so what it
 * reported survives its death). Same framing as FramedReceiver, in plain JavaScript.
 */
const CHILD_RECEIVER = `
const net = require('node:net');
let connections = 0;
const server = net.createServer((socket) => {
  const connection = connections++;
  let buf = Buffer.alloc(0);
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const space = buf.indexOf(0x20);
      if (space < 0) break;
      const len = Number(buf.subarray(0, space).toString('ascii'));
      if (buf.length < space + 1 + len) break;
      const message = buf.subarray(space + 1, space + 1 + len).toString('utf8');
      buf = buf.subarray(space + 1 + len);
      process.stdout.write(JSON.stringify({ connection, message }) + '\\n');
    }
  });
});
server.listen(Number(process.argv[1]), '127.0.0.1', () =>
  process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\\n'));
`;

/** A received frame with the time the parent saw it. */
export interface TimedFrame extends ReceivedFrame {
  at: number;
}

export class ReceiverProcess {
  /** Every message reported, across restarts, in arrival order. */
  readonly frames: TimedFrame[] = [];
  port = 0;
  /** When the current process reported that it listens. */
  listeningAt = 0;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  /** Starts the child (on the previous port after a kill) and resolves once it listens. */
  async start(): Promise<this> {
    const child = spawn(process.execPath, ['-e', CHILD_RECEIVER, String(this.port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code, signal) =>
        reject(new Error(`receiver exited before listening (${code ?? signal})`)),
      );
      lines.on('line', (line) => {
        const parsed = JSON.parse(line) as { listening?: number } & ReceivedFrame;
        if (parsed.listening === undefined) {
          this.frames.push({
            message: parsed.message,
            connection: parsed.connection,
            at: Date.now(),
          });
          return;
        }
        this.port = parsed.listening;
        this.listeningAt = Date.now();
        resolve();
      });
    });
    return this;
  }

  /** SIGSTOP: stops reading; connections are still accepted by the kernel. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGKILL: dies with whatever sits unread in its sockets. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  sequences(): number[] {
    return this.frames.map((f) => sequenceOf(f.message));
  }
}
