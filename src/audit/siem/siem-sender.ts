import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect as netConnect, isIPv6, isIP, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AuditRecord } from '../audit-chain';
import { octetCounted, toCef, toJson, toSyslog } from './siem-formats';

/** Where and how an integration sends (its delivery-relevant configuration). */
export interface SiemTarget {
  type: 'syslog' | 'webhook';
  transport: 'udp' | 'tcp' | 'tls' | null;
  host: string | null;
  port: number | null;
  format: 'cef' | 'json' | null;
  tlsInsecure: boolean;
  caCert: string | null;
  url: string | null;
  secret: string | null;
}

/** `delivered`: the receiver took it (TCP/TLS write flushed, HTTP 2xx); `sent`: UDP, unconfirmed. */
export type SendResult = 'delivered' | 'sent';

const CONNECT_TIMEOUT_MS = 5_000;
const WEBHOOK_TIMEOUT_MS = 10_000;
export const SIGNATURE_HEADER = 'X-Indicium-Signature';

export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Sends audit records to one integration's receiver. A TCP/TLS connection is kept open
 * between batches and replaced as soon as it errors or the peer closes it; each batch of
 * frames goes out in one write.
 */
export class SiemSender {
  private socket?: Socket;
  private alive = false;

  constructor(
    private readonly target: SiemTarget,
    private readonly version: string,
    private readonly hostname: string,
  ) {}

  async send(records: AuditRecord[]): Promise<SendResult> {
    if (this.target.type === 'webhook') return this.sendWebhook(records);
    const lines = records.map((r) => this.syslogLine(r));
    if (this.target.transport === 'udp') return this.sendUdp(lines);
    const socket = await this.stream();
    const payload = Buffer.concat(lines.map(octetCounted));
    await new Promise<void>((resolve, reject) =>
      socket.write(payload, (err) => (err ? reject(err) : resolve())),
    );
    return 'delivered';
  }

  close(): void {
    this.alive = false;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private syslogLine(r: AuditRecord): string {
    return toSyslog(
      r,
      this.target.format === 'json' ? toJson(r) : toCef(r, this.version),
      this.hostname,
    );
  }

  private async sendWebhook(records: AuditRecord[]): Promise<SendResult> {
    const body = `[${records.map(toJson).join(',')}]`;
    const res = await fetch(this.target.url!, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        [SIGNATURE_HEADER]: webhookSignature(this.target.secret!, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299)
      throw new Error(`webhook answered HTTP ${res.status}`);
    return 'delivered';
  }

  private sendUdp(lines: string[]): Promise<SendResult> {
    const socket = createSocket(isIPv6(this.target.host!) ? 'udp6' : 'udp4');
    const sendOne = (line: string): Promise<void> =>
      new Promise((resolve, reject) =>
        socket.send(Buffer.from(line, 'utf8'), this.target.port!, this.target.host!, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    return lines
      .reduce((chain, line) => chain.then(() => sendOne(line)), Promise.resolve())
      .then(() => 'sent' as const)
      .finally(() => socket.close());
  }

  /** The open connection, or a new one once the previous failed or was closed by the peer. */
  private stream(): Promise<Socket> {
    if (this.socket && this.alive && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.close();
    const { host, port, transport, tlsInsecure, caCert } = this.target;
    return new Promise((resolve, reject) => {
      const socket =
        transport === 'tls'
          ? tlsConnect({
              host: host!,
              port: port!,
              servername: isIP(host!) ? undefined : host!,
              rejectUnauthorized: !tlsInsecure,
              ca: caCert ? [caCert] : undefined,
            })
          : netConnect({ host: host!, port: port! });
      const fail = (err: Error): void => {
        socket.destroy();
        reject(err);
      };
      socket.setTimeout(CONNECT_TIMEOUT_MS, () =>
        fail(new Error(`connect to ${host}:${port} timed out`)),
      );
      socket.once('error', fail);
      socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => {
        socket.setTimeout(0);
        socket.off('error', fail);
        socket.setKeepAlive(true, 30_000);
        const dead = (): void => {
          if (this.socket === socket) this.alive = false;
        };
        socket.on('error', dead);
        socket.on('end', dead);
        socket.on('close', dead);
        socket.resume();
        this.socket = socket;
        this.alive = true;
        resolve(socket);
      });
    });
  }
}
