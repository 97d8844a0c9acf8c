/**
 * The one JSON scanning approach for streamed bodies (uploads, STIX bundles, TAXII envelopes):
 * a byte scanner only finds where a value ends (depth, strings, escapes), and the value's bytes
 * are then parsed with JSON.parse, which is far faster than a token-level streaming parser and
 * rejects anything that is not JSON. Only the value being read is held, up to a byte limit.
 */

/**
 * The bytes the scanners look for; a body's bytes are read `as Byte` to compare with them. A
 * const enum: inlined as numbers, so the loops do no property loads.
 */
export const enum Byte {
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  Colon = 0x3a,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
  OpenBracket = 0x5b,
  CloseBracket = 0x5d,
  /** First byte of a UTF-8 byte order mark (EF BB BF). */
  BomStart = 0xef,
}

export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** A byte as an error message shows it. */
export function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16)}`;
}

const enum Kind {
  Container,
  String,
  Primitive,
}

/**
 * Finds the end of one JSON value that may span chunks. `begin` with the value's first byte,
 * then `find` from that byte on, chunk after chunk, until it answers an index.
 */
export class JsonValueEnd {
  private kind = Kind.Container;
  private depth = 0;
  private inString = false;
  private escaped = false;

  begin(first: Byte): void {
    this.kind =
      first === Byte.OpenBrace || first === Byte.OpenBracket
        ? Kind.Container
        : first === Byte.Quote
          ? Kind.String
          : Kind.Primitive;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  /** A number or literal has no closing byte: it also ends with the body. */
  get endsWithBody(): boolean {
    return this.kind === Kind.Primitive;
  }

  /**
   * Where the value ends in `chunk` (the index after its last byte), scanning from `from`; -1
   * when it goes on in the next chunk. A primitive ends before a ",", "]" or whitespace.
   */
  find(chunk: Buffer, from: number): number {
    return this.kind === Kind.Primitive ? primitiveEnd(chunk, from) : this.closeOf(chunk, from);
  }

  /** The byte that closes a string or container, in one tight loop. */
  private closeOf(chunk: Buffer, from: number): number {
    const n = chunk.length;
    for (let i = from; i < n; i++) {
      const b = chunk[i] as Byte;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === Byte.Backslash) this.escaped = true;
        else if (b === Byte.Quote) {
          this.inString = false;
          if (this.kind === Kind.String) return i + 1;
        }
      } else if (b === Byte.Quote) this.inString = true;
      else if (b === Byte.OpenBrace || b === Byte.OpenBracket) this.depth++;
      else if (b === Byte.CloseBrace || b === Byte.CloseBracket) {
        if (--this.depth === 0) return i + 1;
      }
    }
    return -1;
  }
}

function primitiveEnd(chunk: Buffer, from: number): number {
  for (let i = from; i < chunk.length; i++) {
    const c = chunk[i] as Byte;
    if (c === Byte.Comma || c === Byte.CloseBracket || isSpace(c)) return i;
  }
  return -1;
}

/**
 * The bytes of one value that may span chunks: the pieces before the chunk it ends in are
 * copied (the caller may reuse a chunk's memory), at most `limit` bytes in all.
 */
export class HeldValue {
  private pieces: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly limit: number,
    private readonly tooLarge: () => never,
  ) {}

  get empty(): boolean {
    return this.pieces.length === 0;
  }

  /** Keeps `chunk` from `from` on: the value goes on in the next chunk. */
  hold(chunk: Buffer, from: number): void {
    const rest = chunk.subarray(from);
    this.size += rest.length;
    if (this.size > this.limit) this.tooLarge();
    this.pieces.push(Buffer.from(rest));
  }

  /**
   * The whole value, ending at `end` of `chunk`; it began at `start` of this chunk, or at its
   * first byte when pieces are held.
   */
  take(chunk: Buffer, start: number, end: number): Buffer {
    const bytes =
      this.pieces.length === 0 ? chunk.subarray(start, end) : this.joined(chunk.subarray(0, end));
    if (bytes.length > this.limit) this.tooLarge();
    return bytes;
  }

  /** Kept apart from `take`, so its common case (one chunk) stays small enough to inline. */
  private joined(tail: Buffer): Buffer {
    if (this.size + tail.length > this.limit) this.tooLarge();
    const bytes = Buffer.concat([...this.pieces, tail]);
    this.clear();
    return bytes;
  }

  clear(): void {
    this.pieces = [];
    this.size = 0;
  }
}

/** JSON.parse of UTF-8 bytes; a failure becomes the error `fail` makes of its message. */
export function parseJson(bytes: Buffer, fail: (message: string) => Error): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw fail(e instanceof Error ? e.message : String(e));
  }
}
