import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sequenceOf } from './syslog-receiver';

export const RSYSLOGD = '/usr/sbin/rsyslogd';

/** Debian puts rsyslog's modules in /usr/lib/<multiarch>/rsyslog (rsyslog-relp adds imrelp.so). */
function imrelpModule(): string | undefined {
  const candidates = ['/usr/lib/rsyslog/imrelp.so'];
  for (const dir of existsSync('/usr/lib') ? readdirSync('/usr/lib') : [])
    candidates.push(join('/usr/lib', dir, 'rsyslog', 'imrelp.so'));
  return candidates.find((path) => existsSync(path));
}

/** Why a real rsyslogd with imrelp cannot run here, or undefined when it can. */
export function rsyslogMissing(): string | undefined {
  if (!existsSync(RSYSLOGD)) return `${RSYSLOGD} is missing`;
  if (!imrelpModule()) return 'rsyslog’s imrelp module is missing';
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A real `rsyslogd -n` of its own (config, pid file and work directory in a temporary
 * directory) receiving RELP on a loopback port and writing each message it acknowledged,
 * as received, one per line, to a file. Its main queue is direct, so a message is in the
 * file before its acknowledgement leaves. Restartable on the same port and file.
 */
export class Rsyslog {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  /** The moment the last start() saw the port accept connections. */
  listeningAt = 0;

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<Rsyslog> {
    const dir = mkdtempSync(join(tmpdir(), 'indicium-rsyslog-'));
    const rsyslog = new Rsyslog(dir, await freePort());
    writeFileSync(join(dir, 'rsyslog.conf'), rsyslog.config());
    return rsyslog;
  }

  private get received(): string {
    return join(this.dir, 'received.log');
  }

  private config(): string {
    return [
      `global(workDirectory="${this.dir}")`,
      'main_queue(queue.type="Direct")',
      'module(load="imrelp")',
      `input(type="imrelp" address="127.0.0.1" port="${this.port}")`,
      'template(name="raw" type="string" string="%rawmsg%\\n")',
      `action(type="omfile" file="${this.received}" template="raw" asyncWriting="off" flushOnTXEnd="on")`,
      '',
    ].join('\n');
  }

  /** Starts rsyslogd and resolves once its RELP port accepts connections (within 15 s). */
  async start(): Promise<void> {
    const args = ['-n', '-f', join(this.dir, 'rsyslog.conf'), '-i', join(this.dir, 'pid')];
    const child = spawn(RSYSLOGD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${stderr}`);
      if (await accepts(this.port)) {
        this.listeningAt = Date.now();
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`rsyslogd did not listen on ${this.port} within 15 s: ${stderr}`);
  }

  /** SIGSTOP: the process stops reading and acknowledging; the kernel still accepts connections. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Ends the process with `signal` (SIGKILL: it dies with whatever it had not processed). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    await this.exited;
    this.child = undefined;
  }

  /** Every message written so far, in order. */
  messages(): string[] {
    if (!existsSync(this.received)) return [];
    return readFileSync(this.received, 'utf8').split('\n').filter(Boolean);
  }

  /** The audit sequence of each message written so far (CEF externalId), in order. */
  sequences(): number[] {
    return this.messages().map(sequenceOf);
  }

  async remove(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
