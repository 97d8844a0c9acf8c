import type { Socket } from 'node:net';
import { ReceiverGone } from './receiver-gone';

/**
 * The client side of RELP, the Reliable Event Logging Protocol rsyslog's `imrelp` speaks:
 * every frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`; each command the client sends
 * (`open`, `syslog`, `close`) is answered by an `rsp` frame with the same transaction
 * number, in order, whose data starts with a status (`200` ok, anything else an error).
 * An acknowledged `syslog` command is a message the receiver has taken over.
 */

export interface RelpFrame {
  txnr: number;
  command: string;
  data: string;
}

/** Highest transaction number; the next one after it is 1 again. */
const MAX_TXNR = 999_999_999;
/** Longest possible header: 9-digit txnr, 32-letter command, 9-digit length, separators. */
const MAX_HEADER = 53;
/** Answers are short (a status and at most the offers); anything longer is not a receiver. */
const MAX_ANSWER_BYTES = 64 * 1024;
const HEADER = /^(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})([ \n])/;
/** Unanswered commands at most: librelp's default window. */
const RELP_WINDOW = 128;

/**
 * The first complete frame in `buf` and its size, or undefined while more bytes are needed.
 * @internal exported for tests
 */
export function parseFrame(buf: Buffer): { frame: RelpFrame; size: number } | undefined {
  const head = buf.subarray(0, MAX_HEADER + 1).toString('latin1');
  const m = HEADER.exec(head);
  if (!m) {
    if (buf.length > MAX_HEADER || head.includes('\n') || !/^[\dA-Za-z ]*$/.test(head))
      throw new Error(`malformed RELP frame header ${JSON.stringify(head.slice(0, 40))}`);
    return undefined;
  }
  const [header, txnr, command, lengthText, separator] = m;
  const length = Number(lengthText);
  if (length > MAX_ANSWER_BYTES) throw new Error(`RELP frame of ${length} bytes is too large`);
  if ((length === 0) !== (separator === '\n'))
    throw new Error(`malformed RELP frame header ${JSON.stringify(header)}`);
  if (length === 0)
    return { frame: { txnr: Number(txnr), command, data: '' }, size: header.length };
  const size = header.length + length + 1;
  if (buf.length < size) return undefined;
  if (buf[size - 1] !== 0x0a) throw new Error('RELP frame does not end in LF');
  const data = buf.subarray(header.length, size - 1).toString('utf8');
  return { frame: { txnr: Number(txnr), command, data }, size };
}

/** @internal exported for tests */
export function encodeFrame(txnr: number, command: string, data: string): Buffer {
  const body = Buffer.from(data, 'utf8');
  const head = `${txnr} ${command} ${body.length}`;
  return body.length === 0
    ? Buffer.from(`${head}\n`, 'latin1')
    : Buffer.concat([Buffer.from(`${head} `, 'latin1'), body, Buffer.from('\n')]);
}

/** A run of commands being answered: `answers` collects each `rsp`'s data, in order. */
interface Exchange {
  commands: Array<[string, string]>;
  written: number;
  answers: string[];
  window: number;
  resolve(answers: string[]): void;
  reject(err: Error): void;
}

/** One RELP session over a connected socket; unusable (`failure` set) once anything went wrong. */
export class RelpSession {
  failure?: Error;
  private buf: Buffer = Buffer.alloc(0);
  private txnr = 0;
  private exchange?: Exchange;

  private constructor(
    private readonly socket: Socket,
    private readonly answerTimeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(new ReceiverGone(err.message, { cause: err })));
    socket.on('end', () => this.fail(new ReceiverGone('the RELP receiver closed the connection')));
    socket.on('close', () => this.fail(new ReceiverGone('the RELP connection closed')));
    // Armed only while answers are due (run); an idle session between batches is normal.
    socket.on('timeout', () => {
      this.fail(new Error(`the RELP receiver did not answer within ${answerTimeoutMs} ms`));
      socket.destroy();
    });
  }

  /**
   * Opens the session: offers version 0 (what librelp speaks) and the `syslog` command. A
   * receiver silent for `answerTimeoutMs` while answers are due fails the session.
   */
  static async open(
    socket: Socket,
    software: string,
    answerTimeoutMs: number,
  ): Promise<RelpSession> {
    const session = new RelpSession(socket, answerTimeoutMs);
    const offers = `relp_version=0\nrelp_software=${software}\ncommands=syslog`;
    const [answer] = await session.run([['open', offers]], 1);
    if (!/^commands=(.*,)?syslog(,|$)/m.test(answer)) {
      session.destroy();
      throw new Error('the RELP receiver does not accept the syslog command');
    }
    return session;
  }

  /** Resolves once the receiver acknowledged every message, at most `window` unanswered. */
  async send(messages: string[], window = RELP_WINDOW): Promise<void> {
    await this.run(
      messages.map((m) => ['syslog', m]),
      window,
    );
  }

  /** The orderly end: `close`, its answer, then the connection closes. */
  async close(): Promise<void> {
    await this.run([['close', '']], 1);
    this.socket.end();
  }

  destroy(): void {
    this.fail(new Error('the RELP session was closed'));
    this.socket.destroy();
  }

  private run(commands: Array<[string, string]>, window: number): Promise<string[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.exchange) return Promise.reject(new Error('a RELP exchange is already running'));
    if (commands.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.exchange = { commands, written: 0, answers: [], window, resolve, reject };
      this.socket.setTimeout(this.answerTimeoutMs);
      this.pump();
    });
  }

  /** Writes commands while fewer than the window are unanswered. */
  private pump(): void {
    const x = this.exchange;
    if (!x) return;
    const chunks: Buffer[] = [];
    while (x.written < x.commands.length && x.written - x.answers.length < x.window) {
      const [command, data] = x.commands[x.written++];
      this.txnr = this.txnr === MAX_TXNR ? 1 : this.txnr + 1;
      chunks.push(encodeFrame(this.txnr, command, data));
    }
    if (chunks.length > 0) this.socket.write(Buffer.concat(chunks));
  }

  private receive(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    try {
      for (let parsed = parseFrame(this.buf); parsed; parsed = parseFrame(this.buf)) {
        this.buf = this.buf.subarray(parsed.size);
        this.answer(parsed.frame);
      }
    } catch (err) {
      this.fail(err as Error);
      this.socket.destroy();
    }
  }

  /** Responses come in command order, so each must answer the oldest unanswered command. */
  private answer({ txnr, command, data }: RelpFrame): void {
    if (txnr === 0 && command === 'serverclose')
      throw new ReceiverGone('the RELP receiver closed the session');
    const x = this.exchange;
    if (command !== 'rsp' || !x) throw new Error(`unexpected RELP frame "${txnr} ${command}"`);
    const unanswered = x.written - x.answers.length;
    const expected = ((this.txnr - unanswered + MAX_TXNR) % MAX_TXNR) + 1;
    if (unanswered === 0 || txnr !== expected)
      throw new Error(`RELP answer for transaction ${txnr}, expected ${expected}`);
    const [asked] = x.commands[x.answers.length];
    // librelp answers `close` with an empty rsp; every other answer starts with its status.
    if (!data.startsWith('200') && !(asked === 'close' && data === ''))
      throw new Error(`the RELP receiver refused ${asked}: ${data.split('\n')[0]}`);
    x.answers.push(data.slice(data.indexOf('\n') + 1 || data.length));
    if (x.answers.length === x.commands.length) {
      this.exchange = undefined;
      this.socket.setTimeout(0);
      x.resolve(x.answers);
    } else {
      this.pump();
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const x = this.exchange;
    this.exchange = undefined;
    x?.reject(this.failure);
  }
}
