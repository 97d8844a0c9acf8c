import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect as netConnect, isIPv6, isIP, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AuditRecord } from '../audit/audit-chain';
import {
  DetectionEvent,
  detectionToJson,
  detectionToSyslog,
  octetCounted,
  SIEM_FORMATS,
  toJson,
  toSyslog,
} from './siem-formats';
import { SiemTarget, SyslogTarget, unreachable, WebhookTarget } from './siem-target';

/** `delivered`: the receiver took it (TCP/TLS write flushed, HTTP 2xx); `sent`: UDP, unconfirmed. */
export type SendResult = 'delivered' | 'sent';

const CONNECT_TIMEOUT_MS = 5_000;
const WEBHOOK_TIMEOUT_MS = 10_000;
export const SIGNATURE_HEADER = 'X-Indicium-Signature';

export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Sends audit records (and detection events) to one integration's receiver. A TCP/TLS connection is kept open
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
    const target = this.target;
    switch (target.type) {
      case 'webhook':
        return this.sendWebhook(target, `[${records.map(toJson).join(',')}]`);
      case 'syslog': {
        const { encode } = SIEM_FORMATS[target.format];
        return this.sendSyslog(
          target,
          records.map((r) => toSyslog(r, encode(r, this.version), this.hostname)),
        );
      }
      default:
        return unreachable(target);
    }
  }

  /** Detection events (the detections stream), over the same connection and rules. */
  async sendDetections(events: DetectionEvent[]): Promise<SendResult> {
    const target = this.target;
    switch (target.type) {
      case 'webhook':
        return this.sendWebhook(target, `[${events.map(detectionToJson).join(',')}]`);
      case 'syslog': {
        const { detection } = SIEM_FORMATS[target.format];
        return this.sendSyslog(
          target,
          events.map((d) => detectionToSyslog(d, detection(d, this.version), this.hostname)),
        );
      }
      default:
        return unreachable(target);
    }
  }

  close(): void {
    this.alive = false;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private async sendSyslog(target: SyslogTarget, lines: string[]): Promise<SendResult> {
    switch (target.transport) {
      case 'udp':
        return this.sendUdp(target, lines);
      case 'tcp':
      case 'tls': {
        const socket = await this.stream(target);
        const payload = Buffer.concat(lines.map(octetCounted));
        await new Promise<void>((resolve, reject) =>
          socket.write(payload, (err) => (err ? reject(err) : resolve())),
        );
        return 'delivered';
      }
      default:
        return unreachable(target);
    }
  }

  private async sendWebhook(target: WebhookTarget, body: string): Promise<SendResult> {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        [SIGNATURE_HEADER]: webhookSignature(target.secret, body),
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

  private sendUdp({ host, port }: SyslogTarget, lines: string[]): Promise<SendResult> {
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    const sendOne = (line: string): Promise<void> =>
      new Promise((resolve, reject) =>
        socket.send(Buffer.from(line, 'utf8'), port, host, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    return lines
      .reduce((chain, line) => chain.then(() => sendOne(line)), Promise.resolve())
      .then(() => 'sent' as const)
      .finally(() => socket.close());
  }

  /** The open connection, or a new one once the previous failed or was closed by the peer. */
  private stream(target: SyslogTarget): Promise<Socket> {
    if (this.socket && this.alive && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.close();
    const { host, port, transport } = target;
    return new Promise((resolve, reject) => {
      const socket =
        target.transport === 'tls'
          ? tlsConnect({
              host,
              port,
              servername: isIP(host) ? undefined : host,
              rejectUnauthorized: !target.tlsInsecure,
              ca: target.caCert ? [target.caCert] : undefined,
            })
          : netConnect({ host, port });
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
