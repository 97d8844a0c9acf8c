import { Readable } from 'node:stream';
import type { Connection, Submittable } from 'pg';

/** Bytes per pushed piece: COPY sends a protocol message per row; we forward 64 KiB writes. */
const PIECE = 64 * 1024;

// Backend messages that may arrive while COPY data flows (PostgreSQL protocol §55.2.6).
const COPY_DATA = 0x64; // 'd'
const COPY_OUT_RESPONSE = 0x48; // 'H'
const NOTICE = 0x4e; // 'N'
const PARAMETER_STATUS = 0x53; // 'S'
const NOTIFICATION = 0x41; // 'A'
const ERROR = 0x45; // 'E'

const inCopy = (code: number): boolean =>
  code === COPY_DATA ||
  code === COPY_OUT_RESPONSE ||
  code === NOTICE ||
  code === PARAMETER_STATUS ||
  code === NOTIFICATION;

/**
 * `COPY … TO STDOUT` as a readable stream of the COPY data bytes, for node-postgres
 * (`client.query(new CopyOutStream(sql))`). The COPY data of each row is its own protocol
 * message; this reads them straight off the connection's socket, copies the payloads into
 * 64 KiB pieces and pushes those, so a 1M-row export is ~5,000 pushes and response writes
 * rather than one per row or per socket read — the row-by-row parsing of pg-copy-streams
 * cost more Node CPU than everything else the server does for an export.
 *
 * It takes the socket over while the COPY runs, the way pg-copy-streams does, and gives it
 * back to the driver's parser at the first message that is not COPY traffic: CopyDone (then
 * CommandComplete and ReadyForQuery finish the query normally) or an ErrorResponse (which the
 * driver turns into `handleError`, so the stream fails with the server's error). Backpressure:
 * when the consumer stops reading, the socket is no longer read, and Postgres blocks on send.
 */
export class CopyOutStream extends Readable implements Submittable {
  private connection: Connection | undefined;
  private driverOnData: ((chunk: Buffer) => void) | undefined;
  private readonly onReadable = (): void => this.pump();
  /** The current message's code and payload bytes still to come. */
  private code = -1;
  private remaining = 0;
  /** A message header split across socket reads. */
  private readonly header = Buffer.alloc(5);
  private headerLength = 0;
  private piece = Buffer.allocUnsafe(PIECE);
  private pieceLength = 0;
  private wanted = false;
  private detached = false;

  constructor(private readonly text: string) {
    super({ highWaterMark: PIECE });
  }

  submit(connection: Connection): void {
    this.connection = connection;
    const socket = connection.stream as unknown as NodeJS.ReadableStream & {
      read(): Buffer | null;
    };
    const handlers = socket.listeners('data');
    if (handlers.length !== 1) throw new Error('unexpected socket listeners: cannot COPY');
    this.driverOnData = handlers[0] as (chunk: Buffer) => void;
    socket.removeListener('data', this.driverOnData);
    socket.pause();
    socket.on('readable', this.onReadable);
    (connection as unknown as { query(text: string): void }).query(this.text);
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // The consumer gave up (client gone): stop reading; the owner cancels and closes the
    // connection, which is in no state to be reused.
    this.connection?.stream.removeListener('readable', this.onReadable);
    callback(err);
  }

  /** Driver callbacks once it has the socket back. */
  handleError(err: Error): void {
    this.destroy(err);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {}

  private pump(): void {
    if (!this.connection || this.detached || this.destroyed) return;
    const socket = this.connection.stream as unknown as { read(): Buffer | null };
    let chunk: Buffer | null;
    while (this.wanted && !this.detached && (chunk = socket.read()) !== null) this.parse(chunk);
  }

  private parse(buf: Buffer): void {
    const length = buf.length;
    let i = 0;
    while (i < length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, length - i);
        if (this.code === COPY_DATA) this.append(buf, i, i + take);
        i += take;
        this.remaining -= take;
        continue;
      }
      if (this.headerLength === 0 && length - i >= 5) {
        const code = buf[i];
        if (!inCopy(code)) return this.detach(buf.subarray(i));
        this.code = code;
        this.remaining = buf.readUInt32BE(i + 1) - 4;
        i += 5;
      } else {
        const n = Math.min(5 - this.headerLength, length - i);
        buf.copy(this.header, this.headerLength, i, i + n);
        this.headerLength += n;
        i += n;
        if (this.headerLength < 5) break;
        this.headerLength = 0;
        const code = this.header[0];
        if (!inCopy(code)) return this.detach(Buffer.concat([this.header, buf.subarray(i)]));
        this.code = code;
        this.remaining = this.header.readUInt32BE(1) - 4;
      }
    }
    if (this.pieceLength >= PIECE) this.flush();
  }

  private append(buf: Buffer, from: number, to: number): void {
    while (from < to) {
      const n = Math.min(to - from, PIECE - this.pieceLength);
      buf.copy(this.piece, this.pieceLength, from, from + n);
      this.pieceLength += n;
      from += n;
      if (this.pieceLength === PIECE) this.flush();
    }
  }

  private flush(): void {
    if (this.pieceLength === 0) return;
    const out = this.piece.subarray(0, this.pieceLength);
    this.piece = Buffer.allocUnsafe(PIECE);
    this.pieceLength = 0;
    if (!this.push(out)) this.wanted = false;
  }

  /** Hands the socket back to the driver from the first message after the COPY data. */
  private detach(rest: Buffer): void {
    this.detached = true;
    const socket = this.connection!.stream;
    socket.removeListener('readable', this.onReadable);
    socket.on('data', this.driverOnData!);
    const failed = rest[0] === ERROR;
    if (!failed) {
      this.flush();
      this.push(null);
    }
    this.driverOnData!(rest);
    process.nextTick(() => socket.resume());
  }
}
