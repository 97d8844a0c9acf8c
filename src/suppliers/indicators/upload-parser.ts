/**
 * Incremental parsers for upload bodies: a JSON array or NDJSON, fed chunk by chunk, handing
 * out one parsed entry at a time. Only the entry being read is ever held (at most
 * MAX_ENTRY_BYTES), so a 128 MiB body never sits in memory.
 *
 * The JSON array parser only finds element boundaries (depth, strings, escapes); each element
 * is then parsed with JSON.parse, which is far faster than a token-level streaming parser and
 * rejects anything that is not JSON.
 */
import { MalformedBodyError } from '../../common/errors/domain-errors';

/** @internal exported for tests */
export const MAX_ENTRY_BYTES = 1024 * 1024;

/** @internal exported for tests */
export type EntrySink = (value: unknown, index: number) => void;

interface EntryStreamParser {
  write(chunk: Buffer): void;
  /** Call when the body is complete; throws if it ended early. */
  end(): void;
  /** Entries handed out so far. */
  readonly count: number;
}

const enum State {
  BeforeArray,
  FirstValue,
  InValue,
  AfterValue,
  NextValue,
  Done,
}

const enum Kind {
  Container,
  String,
  Primitive,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const NEWLINE = 0x0a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function describe(c: number): string {
  return c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16)}`;
}

function parseError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Splits a top-level JSON array into its elements.
 * @internal exported for tests
 */
export class JsonArrayParser implements EntryStreamParser {
  private state = State.BeforeArray;
  private kind = Kind.Container;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** Bytes of the body consumed before the current chunk. */
  private offset = 0;
  private valueStart = 0;
  count = 0;

  constructor(private readonly sink: EntrySink) {}

  write(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let start = -1; // start of the current value within this chunk, -1 if it began earlier
    if (this.state === State.InValue) start = 0;
    while (i < n) {
      const c = chunk[i];
      switch (this.state) {
        case State.InValue: {
          if (this.kind === Kind.Primitive) {
            if (c === COMMA || c === CLOSE_BRACKET || isSpace(c)) {
              this.emit(chunk, start, i);
              this.state = State.AfterValue;
              continue; // re-read the delimiter in AfterValue
            }
            i++;
            break;
          }
          // Containers and strings: scan to the matching close in a tight loop.
          let end = -1;
          for (; i < n; i++) {
            const b = chunk[i];
            if (this.inString) {
              if (this.escaped) this.escaped = false;
              else if (b === BACKSLASH) this.escaped = true;
              else if (b === QUOTE) {
                this.inString = false;
                if (this.kind === Kind.String) {
                  end = i + 1;
                  break;
                }
              }
            } else if (b === QUOTE) this.inString = true;
            else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
            else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
              if (--this.depth === 0) {
                end = i + 1;
                break;
              }
            }
          }
          if (end === -1) break; // value continues in the next chunk
          this.emit(chunk, start, end);
          this.state = State.AfterValue;
          i = end;
          break;
        }
        case State.BeforeArray:
          if (c === OPEN_BRACKET) this.state = State.FirstValue;
          else if (!isSpace(c) && !(c === 0xef && this.offset + i === 0)) {
            throw new MalformedBodyError(
              `Malformed JSON body at byte ${this.offset + i}: expected a JSON array ("["), found ${describe(c)}` +
                (c === OPEN_BRACE
                  ? ' (for one object per line use Content-Type application/x-ndjson)'
                  : ''),
            );
          } else if (c === 0xef) {
            i += 2; // UTF-8 byte order mark
          }
          i++;
          break;
        case State.FirstValue:
        case State.NextValue:
          if (isSpace(c)) {
            i++;
          } else if (c === CLOSE_BRACKET && this.state === State.FirstValue) {
            this.state = State.Done;
            i++;
          } else if (c === COMMA || c === CLOSE_BRACKET || c === CLOSE_BRACE || c === 0x3a) {
            throw new MalformedBodyError(
              `Malformed JSON body at byte ${this.offset + i} (entry ${this.count}): expected a value, found ${describe(c)}`,
            );
          } else {
            this.state = State.InValue;
            this.valueStart = this.offset + i;
            start = i;
            this.pieces = [];
            this.pieceBytes = 0;
            this.depth = 0;
            this.escaped = false;
            if (c === OPEN_BRACE || c === OPEN_BRACKET) {
              this.kind = Kind.Container;
              this.inString = false;
            } else if (c === QUOTE) {
              this.kind = Kind.String;
              this.inString = true;
              i++;
            } else {
              this.kind = Kind.Primitive;
              this.inString = false;
            }
          }
          break;
        case State.AfterValue:
          if (isSpace(c)) i++;
          else if (c === COMMA) {
            this.state = State.NextValue;
            i++;
          } else if (c === CLOSE_BRACKET) {
            this.state = State.Done;
            i++;
          } else {
            throw new MalformedBodyError(
              `Malformed JSON body at byte ${this.offset + i} (after entry ${this.count - 1}): expected "," or "]", found ${describe(c)}`,
            );
          }
          break;
        case State.Done:
          if (!isSpace(c)) {
            throw new MalformedBodyError(
              `Malformed JSON body at byte ${this.offset + i}: unexpected ${describe(c)} after the closing "]"`,
            );
          }
          i++;
          break;
      }
    }
    if (this.state === State.InValue) {
      const rest = chunk.subarray(start === -1 ? 0 : start);
      this.pieceBytes += rest.length;
      if (this.pieceBytes > MAX_ENTRY_BYTES) this.tooLarge();
      // Copy: the caller may reuse the chunk's memory.
      this.pieces.push(Buffer.from(rest));
    }
    this.offset += n;
  }

  end(): void {
    if (this.state === State.InValue && this.kind === Kind.Primitive) {
      this.emit(Buffer.alloc(0), 0, 0);
      this.state = State.AfterValue;
    }
    if (this.state === State.Done) return;
    if (this.state === State.BeforeArray) {
      throw new MalformedBodyError('Malformed JSON body: the body is empty; send a JSON array');
    }
    throw new MalformedBodyError(
      `Malformed JSON body: it ended at byte ${this.offset} before the array was closed with "]" (after ${this.count} complete entries)`,
    );
  }

  private tooLarge(): never {
    throw new MalformedBodyError(
      `Entry ${this.count} (at byte ${this.valueStart}) is larger than ${MAX_ENTRY_BYTES} bytes`,
    );
  }

  /** Parses the value that ends at `end` of this chunk (and began at `start`, or earlier). */
  private emit(chunk: Buffer, start: number, end: number): void {
    let bytes: Buffer;
    if (this.pieces.length === 0) {
      bytes = chunk.subarray(start === -1 ? 0 : start, end);
    } else {
      const tail = chunk.subarray(0, end);
      if (this.pieceBytes + tail.length > MAX_ENTRY_BYTES) this.tooLarge();
      bytes = Buffer.concat([...this.pieces, tail]);
      this.pieces = [];
      this.pieceBytes = 0;
    }
    if (bytes.length > MAX_ENTRY_BYTES) this.tooLarge();
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new MalformedBodyError(
        `Malformed JSON body: entry ${this.count} (at byte ${this.valueStart}) is not valid JSON: ${parseError(e)}`,
      );
    }
    this.sink(value, this.count++);
  }
}

/**
 * One JSON value per line; blank lines are skipped and do not count as entries.
 * @internal exported for tests
 */
export class NdjsonParser implements EntryStreamParser {
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private line = 0;
  count = 0;

  constructor(private readonly sink: EntrySink) {}

  write(chunk: Buffer): void {
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl === -1) {
        const rest = chunk.subarray(pos);
        if (rest.length > 0) {
          this.pieceBytes += rest.length;
          if (this.pieceBytes > MAX_ENTRY_BYTES) this.tooLarge();
          this.pieces.push(Buffer.from(rest));
        }
        return;
      }
      let bytes = chunk.subarray(pos, nl);
      if (this.pieces.length > 0) {
        bytes = Buffer.concat([...this.pieces, bytes]);
        this.pieces = [];
        this.pieceBytes = 0;
      }
      this.handleLine(bytes);
      pos = nl + 1;
    }
  }

  end(): void {
    if (this.pieces.length > 0) {
      const bytes = Buffer.concat(this.pieces);
      this.pieces = [];
      this.handleLine(bytes);
    }
  }

  private tooLarge(): never {
    throw new MalformedBodyError(
      `Line ${this.line + 1} (entry ${this.count}) is larger than ${MAX_ENTRY_BYTES} bytes`,
    );
  }

  private handleLine(bytes: Buffer): void {
    this.line++;
    if (bytes.length > MAX_ENTRY_BYTES) this.tooLarge();
    const text = bytes.toString('utf8').trim();
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new MalformedBodyError(
        `Malformed NDJSON body: line ${this.line} (entry ${this.count}) is not valid JSON: ${parseError(e)}`,
      );
    }
    this.sink(value, this.count++);
  }
}

/**
 * The entries of a body arriving in chunks, one at a time, each parsed as soon as its chunk
 * arrives (the next chunk is read only when the consumer asks for more). Throws
 * MalformedBodyError where the body stops being a JSON array / NDJSON stream.
 */
export async function* parseEntries(
  chunks: AsyncIterable<Buffer>,
  format: 'json' | 'ndjson',
): AsyncGenerator<unknown> {
  const ready: unknown[] = [];
  const sink: EntrySink = (value) => ready.push(value);
  const parser: EntryStreamParser =
    format === 'json' ? new JsonArrayParser(sink) : new NdjsonParser(sink);
  for await (const chunk of chunks) {
    parser.write(chunk);
    yield* drain(ready);
  }
  parser.end();
  yield* drain(ready);
}

function* drain(ready: unknown[]): Generator<unknown> {
  for (let i = 0; i < ready.length; i++) yield ready[i];
  ready.length = 0;
}
