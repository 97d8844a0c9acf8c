import { ByteStream, MalformedFeedError } from './feed-item';

/** One element of the streamed array; a STIX object is far smaller. */
const MAX_ELEMENT_BYTES = 8 * 1024 * 1024;
/** The top-level object without the streamed array (ids, `more`, `next`…). */
const MAX_SKELETON_BYTES = 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

const enum Mode {
  /** Inside the top-level object, outside any nested value. */
  Top,
  /** Inside a nested value of another member: skipped. */
  Skip,
  /** Inside the streamed array, between elements. */
  Array,
  /** Inside one element of the streamed array. */
  Element,
  Done,
}

/**
 * Streams a top-level JSON object such as a STIX bundle or a TAXII envelope: each element of
 * its array member `arrayKey` (e.g. `objects`) is parsed on its own and handed out, every other
 * nested value is skipped, and the object's scalar members (`more`, `next`, `type`…) are kept.
 * Only one element is held at a time, so a bundle of any size needs constant memory; a body
 * that ends early (a dropped connection) throws at `end()`.
 */
class JsonMemberStream {
  private mode = Mode.Top;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private skeleton: number[] = [];
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private offset = 0;
  private started = false;
  count = 0;

  constructor(
    private readonly arrayKey: string,
    private readonly sink: (value: unknown) => void,
  ) {}

  write(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let start = this.mode === Mode.Element ? 0 : -1;
    while (i < n) {
      const c = chunk[i];
      switch (this.mode) {
        case Mode.Element: {
          let end = -1;
          for (; i < n; i++) {
            const b = chunk[i];
            if (this.inString) {
              if (this.escaped) this.escaped = false;
              else if (b === BACKSLASH) this.escaped = true;
              else if (b === QUOTE) this.inString = false;
            } else if (b === QUOTE) this.inString = true;
            else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
            else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
              if (--this.depth === 2) {
                end = i + 1;
                break;
              }
            }
          }
          if (end === -1) break;
          this.emit(chunk, start, end);
          start = -1;
          this.mode = Mode.Array;
          i = end;
          break;
        }
        case Mode.Skip:
          if (this.inString) {
            if (this.escaped) this.escaped = false;
            else if (c === BACKSLASH) this.escaped = true;
            else if (c === QUOTE) this.inString = false;
          } else if (c === QUOTE) this.inString = true;
          else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
          else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            if (--this.depth === 1) this.mode = Mode.Top;
          }
          i++;
          break;
        case Mode.Array:
          if (isSpace(c) || c === COMMA) {
            i++;
          } else if (c === CLOSE_BRACKET) {
            this.depth = 1;
            this.mode = Mode.Top;
            i++;
          } else if (c === OPEN_BRACE) {
            this.mode = Mode.Element;
            this.depth = 3;
            this.inString = false;
            this.escaped = false;
            this.pieces = [];
            this.pieceBytes = 0;
            start = i;
            i++;
          } else {
            throw this.error(`each item of "${this.arrayKey}" must be a JSON object`, i);
          }
          break;
        case Mode.Top:
          i++;
          if (this.inString) {
            this.keep(c);
            if (this.escaped) this.escaped = false;
            else if (c === BACKSLASH) this.escaped = true;
            else if (c === QUOTE) this.inString = false;
          } else if (c === QUOTE) {
            this.keep(c);
            this.inString = true;
          } else if (this.depth === 0) {
            if (c === OPEN_BRACE) {
              this.depth = 1;
              this.started = true;
              this.keep(c);
            } else if (!isSpace(c) && !(c === 0xef && this.offset + i === 1)) {
              throw this.error('the body is not a JSON object', i - 1);
            } else if (c === 0xef) {
              i += 2; // UTF-8 byte order mark
            }
          } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
            this.depth = 2;
            this.mode =
              c === OPEN_BRACKET && this.lastKey() === this.arrayKey ? Mode.Array : Mode.Skip;
            for (const b of Buffer.from('null')) this.keep(b);
          } else if (c === CLOSE_BRACE) {
            this.keep(c);
            this.depth = 0;
            this.mode = Mode.Done;
          } else if (!isSpace(c)) {
            this.keep(c);
          }
          break;
        case Mode.Done:
          if (!isSpace(c)) throw this.error('unexpected data after the closing "}"', i);
          i++;
          break;
      }
    }
    if (this.mode === Mode.Element) {
      const rest = chunk.subarray(start === -1 ? 0 : start);
      this.pieceBytes += rest.length;
      if (this.pieceBytes > MAX_ELEMENT_BYTES) this.tooLarge();
      this.pieces.push(Buffer.from(rest));
    }
    this.offset += n;
  }

  /** The scalar members of the object; throws when the body ended before the object did. */
  end(): Record<string, unknown> {
    if (!this.started) throw new MalformedFeedError('the body is empty; expected a JSON object');
    if (this.mode !== Mode.Done) {
      throw new MalformedFeedError(
        `the body ended at byte ${this.offset} before the JSON object was complete (after ${this.count} items)`,
      );
    }
    try {
      return JSON.parse(Buffer.from(this.skeleton).toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new MalformedFeedError(`the body is not valid JSON: ${(e as Error).message}`);
    }
  }

  private keep(c: number): void {
    if (this.skeleton.length >= MAX_SKELETON_BYTES) {
      throw new MalformedFeedError(
        `the top-level members other than "${this.arrayKey}" exceed ${MAX_SKELETON_BYTES} bytes`,
      );
    }
    this.skeleton.push(c);
  }

  /** The member name just before a nested value opens at depth 1. */
  private lastKey(): string | null {
    const text = Buffer.from(this.skeleton.slice(-4096)).toString('utf8');
    const m = /"((?:[^"\\]|\\.)*)"\s*:\s*$/.exec(text);
    return m ? (JSON.parse(`"${m[1]}"`) as string) : null;
  }

  private error(message: string, at: number): MalformedFeedError {
    return new MalformedFeedError(`${message} (byte ${this.offset + at})`);
  }

  private tooLarge(): never {
    throw new MalformedFeedError(
      `item ${this.count} of "${this.arrayKey}" is larger than ${MAX_ELEMENT_BYTES} bytes`,
    );
  }

  private emit(chunk: Buffer, start: number, end: number): void {
    let bytes = chunk.subarray(start === -1 ? 0 : start, end);
    if (this.pieces.length > 0) {
      bytes = Buffer.concat([...this.pieces, chunk.subarray(0, end)]);
      this.pieces = [];
      this.pieceBytes = 0;
    }
    if (bytes.length > MAX_ELEMENT_BYTES) this.tooLarge();
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new MalformedFeedError(
        `item ${this.count} of "${this.arrayKey}" is not valid JSON: ${(e as Error).message}`,
      );
    }
    this.count++;
    this.sink(value);
  }
}

/**
 * The items of `arrayKey` in a streamed JSON object, one at a time; `onEnd` receives the
 * object's other scalar members once the body is complete.
 */
export async function* jsonMembers(
  body: ByteStream,
  arrayKey: string,
  onEnd?: (scalars: Record<string, unknown>) => void,
): AsyncGenerator<unknown> {
  const queue: unknown[] = [];
  const stream = new JsonMemberStream(arrayKey, (v) => queue.push(v));
  for await (const chunk of body) {
    stream.write(chunk);
    for (const v of queue) yield v;
    queue.length = 0;
  }
  const scalars = stream.end();
  onEnd?.(scalars);
}
