import { Byte, HeldValue, isSpace, JsonValueEnd, parseJson } from '../../common/json-scan';
import { ByteStream, MalformedFeedError } from './feed-item';

/** One element of the streamed array; a STIX object is far smaller. */
const MAX_ELEMENT_BYTES = 8 * 1024 * 1024;
/** The top-level object without the streamed array (ids, `more`, `next`…). */
const MAX_SKELETON_BYTES = 1024 * 1024;
/** Stands in the skeleton for every nested value, so it stays valid JSON. */
const NULL = Buffer.from('null');

const enum Mode {
  /** Before or inside the top-level object, outside any nested value. */
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
  private started = false;
  /** String state of the top level (nested values have theirs in `nested`). */
  private inString = false;
  private escaped = false;
  private skeleton: number[] = [];
  private readonly nested = new JsonValueEnd();
  private readonly element = new HeldValue(MAX_ELEMENT_BYTES, () => this.tooLarge());
  /** Where the element being read starts in the current chunk (0: in an earlier one). */
  private elementAt = 0;
  /** Bytes of the body consumed before the current chunk. */
  private offset = 0;
  count = 0;

  constructor(
    private readonly arrayKey: string,
    private readonly sink: (value: unknown) => void,
  ) {}

  write(chunk: Buffer): void {
    this.elementAt = 0;
    let i = 0;
    while (i < chunk.length) i = this.step(chunk, i);
    if (this.mode === Mode.Element) this.element.hold(chunk, this.elementAt);
    this.offset += chunk.length;
  }

  /** The scalar members of the object; throws when the body ended before the object did. */
  end(): Record<string, unknown> {
    if (!this.started) throw new MalformedFeedError('the body is empty; expected a JSON object');
    if (this.mode !== Mode.Done) {
      throw new MalformedFeedError(
        `the body ended at byte ${this.offset} before the JSON object was complete (after ${this.count} items)`,
      );
    }
    return parseJson(
      Buffer.from(this.skeleton),
      (message) => new MalformedFeedError(`the body is not valid JSON: ${message}`),
    ) as Record<string, unknown>;
  }

  /** Reads from `chunk[i]` in the current mode; returns where to go on. */
  private step(chunk: Buffer, i: number): number {
    switch (this.mode) {
      case Mode.Element:
        return this.inElement(chunk, i);
      case Mode.Skip:
        return this.skipping(chunk, i);
      case Mode.Array:
        return this.betweenElements(chunk[i], i);
      case Mode.Top:
        return this.top(chunk[i], i);
      case Mode.Done:
        if (!isSpace(chunk[i])) throw this.error('unexpected data after the closing "}"', i);
        return i + 1;
    }
  }

  private inElement(chunk: Buffer, i: number): number {
    const end = this.nested.find(chunk, i);
    if (end === -1) return chunk.length;
    this.emit(this.element.take(chunk, this.elementAt, end));
    this.mode = Mode.Array;
    return end;
  }

  private skipping(chunk: Buffer, i: number): number {
    const end = this.nested.find(chunk, i);
    if (end === -1) return chunk.length;
    this.mode = Mode.Top;
    return end;
  }

  private betweenElements(c: Byte, i: number): number {
    if (isSpace(c) || c === Byte.Comma) return i + 1;
    if (c === Byte.CloseBracket) {
      this.mode = Mode.Top;
      return i + 1;
    }
    if (c !== Byte.OpenBrace)
      throw this.error(`each item of "${this.arrayKey}" must be a JSON object`, i);
    this.mode = Mode.Element;
    this.nested.begin(c);
    this.elementAt = i;
    return i; // the scanner reads the "{" too
  }

  /** The top level: its bytes are kept (nested values as null) to parse the scalars at the end. */
  private top(c: Byte, i: number): number {
    if (this.inString) {
      this.keep(c);
      if (this.escaped) this.escaped = false;
      else if (c === Byte.Backslash) this.escaped = true;
      else if (c === Byte.Quote) this.inString = false;
    } else if (c === Byte.Quote) {
      this.keep(c);
      this.inString = true;
    } else if (!this.started) {
      return this.opening(c, i);
    } else if (c === Byte.OpenBrace || c === Byte.OpenBracket) {
      return this.nestedValue(c, i);
    } else if (c === Byte.CloseBrace) {
      this.keep(c);
      this.mode = Mode.Done;
    } else if (!isSpace(c)) {
      this.keep(c);
    }
    return i + 1;
  }

  /** Before the object: whitespace, a byte order mark at byte 0, then "{". */
  private opening(c: Byte, i: number): number {
    if (c === Byte.OpenBrace) {
      this.started = true;
      this.keep(c);
    } else if (c === Byte.BomStart && this.offset + i === 0) {
      return i + 3;
    } else if (!isSpace(c)) {
      throw this.error('the body is not a JSON object', i);
    }
    return i + 1;
  }

  /** A member's nested value opens: the streamed array, or a value to skip. */
  private nestedValue(c: Byte, i: number): number {
    const streamed = c === Byte.OpenBracket && this.lastKey() === this.arrayKey;
    for (const b of NULL) this.keep(b);
    if (streamed) {
      this.mode = Mode.Array;
      return i + 1;
    }
    this.mode = Mode.Skip;
    this.nested.begin(c);
    return i; // the scanner reads the opening byte too
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

  /** Made once, not per item; reads the item's number when it fails. */
  private readonly notJson = (message: string): Error =>
    new MalformedFeedError(
      `item ${this.count} of "${this.arrayKey}" is not valid JSON: ${message}`,
    );

  private emit(bytes: Buffer): void {
    const value = parseJson(bytes, this.notJson);
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
