import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect as netConnect, isIPv6, isIP, Socket } from 'node:net';
import { connect as tlsConnect, ConnectionOptions } from 'node:tls';
import { Logger } from '@nestjs/common';
import type { AuditRecord } from '../audit/audit-chain';
import { ReceiverGone } from './receiver-gone';
import { RelpSession } from './relp-session';
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

/**
 * `delivered`: the receiver confirmed it (RELP acknowledgement, HTTP 2xx); `written`: written
 * on an open TCP/TLS connection, confirmed only by a later `confirm()`; `sent`: UDP, which
 * can never be confirmed.
 */
export type SendResult = 'delivered' | 'written' | 'sent';

const CONNECT_TIMEOUT_MS = 5_000;
/** How long a receiver may take to acknowledge (RELP), take our bytes, or close after us. */
const ANSWER_TIMEOUT_MS = 5_000;
const WEBHOOK_TIMEOUT_MS = 10_000;
const SIGNATURE_HEADER = 'X-Indicium-Signature';

function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** An open TCP/TLS connection; `lost` once it errored or the receiver closed it. */
interface Connection {
  socket: Socket;
  written: boolean;
  lost?: Error;
}

/**
 * Sends audit records (and detection events) to one integration's receiver. A TCP, TLS or
 * RELP connection is kept open between batches and replaced once it failed; each batch goes
 * out in one write (RELP: pipelined within its window). Plain TCP/TLS has no
 * acknowledgement, so what was written there counts only once `confirm()` closed the
 * connection cleanly; a connection lost before that fails the next call, and the caller
 * sends those records again.
 */
export class SiemSender {
  private static readonly logger = new Logger(SiemSender.name);
  private conn?: Connection;
  private relp?: RelpSession;

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

  /** `send`, then for TCP/TLS `confirm` at once: for a one-off event such as the test. */
  async sendConfirmed(records: AuditRecord[]): Promise<'delivered' | 'sent'> {
    const result = await this.send(records);
    if (result !== 'written') return result;
    await this.confirm();
    return 'delivered';
  }

  /**
   * TCP/TLS: ends the connection everything `written` went out on and resolves once the
   * receiver, having read up to our end, closed its side too. Throws when it was lost,
   * reset or not closed in time: then none of it counts as delivered.
   */
  async confirm(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    if (conn.lost) {
      conn.socket.destroy();
      throw unconfirmed(conn.lost);
    }
    await closeGracefully(conn.socket);
  }

  /**
   * Resolves when the receiver answers on a connection of its own: TCP/TLS close an empty
   * connection cleanly after us (a stalled receiver does not), RELP opens and closes a
   * session, a webhook's host accepts a TCP connection. UDP has nothing to ask.
   */
  async probe(): Promise<void> {
    const t = this.target;
    if (t.type === 'webhook') {
      const url = new URL(t.url);
      const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
      (await openSocket(url.hostname.replace(/^\[|\]$/g, ''), port)).destroy();
      return;
    }
    switch (t.transport) {
      case 'udp':
        return;
      case 'tcp':
      case 'tls':
        return closeGracefully(await connectTo(t));
      case 'relp':
        return (await this.openRelp(t)).close();
      default:
        return unreachable(t);
    }
  }

  close(): void {
    this.conn?.socket.destroy();
    this.conn = undefined;
    this.relp?.destroy();
    this.relp = undefined;
  }

  private async sendSyslog(target: SyslogTarget, lines: string[]): Promise<SendResult> {
    switch (target.transport) {
      case 'udp':
        return this.sendUdp(target, lines);
      case 'relp': {
        if (!this.relp || this.relp.failure) {
          this.relp?.destroy();
          this.relp = await this.openRelp(target);
        }
        await this.relp.send(lines);
        return 'delivered';
      }
      case 'tcp':
      case 'tls': {
        const conn = await this.connection(target);
        conn.written = true;
        await writeAll(conn.socket, Buffer.concat(lines.map(octetCounted)));
        return 'written';
      }
      default:
        return unreachable(target);
    }
  }

  private async openRelp(target: SyslogTarget): Promise<RelpSession> {
    const socket = await connectTo(target);
    try {
      return await RelpSession.open(socket, `indicium,${this.version}`, ANSWER_TIMEOUT_MS);
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  private async sendWebhook(target: WebhookTarget, body: string): Promise<SendResult> {
    const res = await this.post(target, body);
    // The status is the answer; the body is read only to free the connection, so a body
    // cut short changes nothing about it.
    await res.arrayBuffer().catch((err: Error) => {
      SiemSender.logger.debug(`webhook body after HTTP ${res.status} unread: ${err.message}`);
    });
    if (res.status < 200 || res.status > 299)
      throw new Error(`webhook answered HTTP ${res.status}`);
    return 'delivered';
  }

  /** The webhook's answer; no answer at all (refused, reset) is ReceiverGone, a timeout is not. */
  private async post(target: WebhookTarget, body: string): Promise<Response> {
    try {
      return await fetch(target.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          [SIGNATURE_HEADER]: webhookSignature(target.secret, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw err;
      throw new ReceiverGone((err as Error).message, { cause: err });
    }
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

  /**
   * The open TCP/TLS connection, or a new one when there is none. One lost after records
   * were written on it fails instead: those records must be sent again, not skipped.
   */
  private async connection(target: SyslogTarget): Promise<Connection> {
    const old = this.conn;
    if (old && !old.lost) return old;
    this.close();
    if (old?.written) throw unconfirmed(old.lost!);
    const conn: Connection = { socket: await connectTo(target), written: false };
    const lost = (err: Error): void => void (conn.lost ??= err);
    conn.socket.on('error', lost);
    conn.socket.on('end', () => lost(new Error('the receiver closed the connection')));
    conn.socket.on('close', () => lost(new Error('the connection closed')));
    conn.socket.resume(); // a syslog receiver sends nothing; whatever it does is discarded
    this.conn = conn;
    return conn;
  }
}

function unconfirmed(cause: Error): Error {
  return new ReceiverGone(`${cause.message} before the records sent on it were confirmed`);
}

function connectTo(target: SyslogTarget): Promise<Socket> {
  const { host, port } = target;
  if (target.transport !== 'tls') return openSocket(host, port);
  return openSocket(host, port, {
    servername: isIP(host) ? undefined : host,
    rejectUnauthorized: !target.tlsInsecure,
    ca: target.caCert ? [target.caCert] : undefined,
  });
}

/** A connected socket (TLS: handshake done), or the reason there is none within the timeout. */
function openSocket(host: string, port: number, tls?: ConnectionOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tls ? tlsConnect({ host, port, ...tls }) : netConnect({ host, port });
    const fail = (err: Error): void => {
      socket.destroy();
      reject(new ReceiverGone(err.message, { cause: err }));
    };
    const timedOut = (): void => fail(new Error(`connect to ${host}:${port} timed out`));
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.once('timeout', timedOut);
    socket.once('error', fail);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      socket.off('timeout', timedOut);
      socket.off('error', fail);
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
  });
}

/** Resolves once the kernel took all of `payload`; a receiver that stops reading fails it. */
function writeAll(socket: Socket, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the receiver took no records for ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    socket.write(payload, (err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
  });
}

/**
 * Ends our side and waits for the receiver to end its own. A receiver ends only after
 * reading everything up to our end (one that closes with bytes unread resets the
 * connection instead), so this clean close is the only evidence plain TCP gives that the
 * receiving program read what was written. A stalled receiver never answers: timeout.
 */
function closeGracefully(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.reject(new Error('the connection closed'));
  return new Promise((resolve, reject) => {
    let peerEnded = false;
    let failure: Error | undefined;
    const timer = setTimeout(() => {
      failure ??= new Error(`the receiver did not close after us within ${ANSWER_TIMEOUT_MS} ms`);
      socket.destroy();
    }, ANSWER_TIMEOUT_MS);
    socket.on('error', (err) => void (failure ??= new ReceiverGone(err.message, { cause: err })));
    socket.once('end', () => (peerEnded = true));
    socket.once('close', () => {
      clearTimeout(timer);
      if (peerEnded && !failure) resolve();
      else
        reject(failure ?? new ReceiverGone('the connection closed before the receiver ended it'));
    });
    socket.resume();
    socket.end();
  });
}
