/**
 * Incremental parsers for upload bodies: a JSON array or NDJSON, fed chunk by chunk, handing
 * out one parsed entry at a time. Only the entry being read is ever held (at most
 * MAX_ENTRY_BYTES), so a 128 MiB body never sits in memory.
 *
 * The JSON array parser finds element boundaries with the shared scanner (common/json-scan.ts)
 * and parses each element with JSON.parse.
 */
import { MalformedBodyError } from '../../common/errors/domain-errors';
import {
  Byte,
  describeByte,
  HeldValue,
  isSpace,
  JsonValueEnd,
  parseJson,
} from '../../common/json-scan';

/** @internal exported for tests */
export const MAX_ENTRY_BYTES = 1024 * 1024;

type EntrySink = (value: unknown, index: number) => void;

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

const NEWLINE = 0x0a;

/**
 * Splits a top-level JSON array into its elements.
 * @internal exported for tests
 */
export class JsonArrayParser implements EntryStreamParser {
  private state = State.BeforeArray;
  private readonly valueEnd = new JsonValueEnd();
  private readonly value = new HeldValue(MAX_ENTRY_BYTES, () => this.tooLarge());
  /** Where the value being read starts in the current chunk (0: in an earlier one). */
  private valueAt = 0;
  /** Bytes of the body consumed before the current chunk. */
  private offset = 0;
  /** Where the value being read starts in the body, for messages. */
  private valueStart = 0;
  count = 0;

  constructor(private readonly sink: EntrySink) {}

  write(chunk: Buffer): void {
    this.valueAt = 0;
    let i = 0;
    while (i < chunk.length) i = this.step(chunk, i);
    if (this.state === State.InValue) this.value.hold(chunk, this.valueAt);
    this.offset += chunk.length;
  }

  end(): void {
    if (this.state === State.InValue && this.valueEnd.endsWithBody) {
      this.emit(this.value.take(Buffer.alloc(0), 0, 0));
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

  /** Reads from `chunk[i]` in the current state; returns where to go on. */
  private step(chunk: Buffer, i: number): number {
    switch (this.state) {
      case State.InValue:
        return this.inValue(chunk, i);
      case State.BeforeArray:
        return this.beforeArray(chunk[i], i);
      case State.FirstValue:
      case State.NextValue:
        return this.valueOpens(chunk[i], i);
      case State.AfterValue:
        return this.afterValue(chunk[i], i);
      case State.Done:
        if (!isSpace(chunk[i])) {
          throw this.malformed(`unexpected ${describeByte(chunk[i])} after the closing "]"`, i);
        }
        return i + 1;
    }
  }

  private inValue(chunk: Buffer, i: number): number {
    const end = this.valueEnd.find(chunk, i);
    if (end === -1) return chunk.length; // the value goes on in the next chunk
    this.emit(this.value.take(chunk, this.valueAt, end));
    this.state = State.AfterValue;
    return end; // a primitive's delimiter is read again in AfterValue
  }

  /** Whitespace, a byte order mark at byte 0, then "[". */
  private beforeArray(c: Byte, i: number): number {
    if (c === Byte.OpenBracket) {
      this.state = State.FirstValue;
    } else if (c === Byte.BomStart && this.offset + i === 0) {
      return i + 3;
    } else if (!isSpace(c)) {
      throw this.malformed(
        `expected a JSON array ("["), found ${describeByte(c)}` +
          (c === Byte.OpenBrace
            ? ' (for one object per line use Content-Type application/x-ndjson)'
            : ''),
        i,
      );
    }
    return i + 1;
  }

  /** After "[" or ",": whitespace, then a value (or "]" for an empty array). */
  private valueOpens(c: Byte, i: number): number {
    if (isSpace(c)) return i + 1;
    if (c === Byte.CloseBracket && this.state === State.FirstValue) {
      this.state = State.Done;
      return i + 1;
    }
    if (c === Byte.Comma || c === Byte.CloseBracket || c === Byte.CloseBrace || c === Byte.Colon) {
      throw this.malformed(
        `expected a value, found ${describeByte(c)}`,
        i,
        ` (entry ${this.count})`,
      );
    }
    this.state = State.InValue;
    this.valueEnd.begin(c);
    this.valueAt = i;
    this.valueStart = this.offset + i;
    return i; // the scanner reads the first byte too
  }

  private afterValue(c: Byte, i: number): number {
    if (c === Byte.Comma) this.state = State.NextValue;
    else if (c === Byte.CloseBracket) this.state = State.Done;
    else if (!isSpace(c)) {
      throw this.malformed(
        `expected "," or "]", found ${describeByte(c)}`,
        i,
        ` (after entry ${this.count - 1})`,
      );
    }
    return i + 1;
  }

  private malformed(what: string, i: number, where = ''): MalformedBodyError {
    return new MalformedBodyError(
      `Malformed JSON body at byte ${this.offset + i}${where}: ${what}`,
    );
  }

  private tooLarge(): never {
    throw new MalformedBodyError(
      `Entry ${this.count} (at byte ${this.valueStart}) is larger than ${MAX_ENTRY_BYTES} bytes`,
    );
  }

  /** Made once, not per entry; reads the entry's number when it fails. */
  private readonly notJson = (message: string): Error =>
    new MalformedBodyError(
      `Malformed JSON body: entry ${this.count} (at byte ${this.valueStart}) is not valid JSON: ${message}`,
    );

  private emit(bytes: Buffer): void {
    const value = parseJson(bytes, this.notJson);
    this.sink(value, this.count++);
  }
}

/**
 * One JSON value per line; blank lines are skipped and do not count as entries.
 * @internal exported for tests
 */
export class NdjsonParser implements EntryStreamParser {
  private readonly held = new HeldValue(MAX_ENTRY_BYTES, () => this.tooLarge());
  private line = 0;
  count = 0;

  constructor(private readonly sink: EntrySink) {}

  write(chunk: Buffer): void {
    let pos = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, pos)) {
      this.handleLine(this.held.take(chunk, pos, nl));
      pos = nl + 1;
    }
    if (pos < chunk.length) this.held.hold(chunk, pos);
  }

  end(): void {
    if (!this.held.empty) this.handleLine(this.held.take(Buffer.alloc(0), 0, 0));
  }

  /** Names the line being read (not yet counted in `line`). */
  private tooLarge(): never {
    throw new MalformedBodyError(
      `Line ${this.line + 1} (entry ${this.count}) is larger than ${MAX_ENTRY_BYTES} bytes`,
    );
  }

  private handleLine(bytes: Buffer): void {
    this.line++;
    const text = bytes.toString('utf8').trim();
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new MalformedBodyError(
        `Malformed NDJSON body: line ${this.line} (entry ${this.count}) is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
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
