import { Slicer } from './work-budget';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** Values parsed by one JSON.parse: ~0.1 ms of work. */
const BATCH_BYTES = 32 * 1024;
/** Containers this deep or deeper are parsed whole, as one value of their parent. */
const WHOLE_FROM_DEPTH = 3;

/** Not a JSON text this parser takes apart: JSON.parse of the whole text says why. */
class NotSliceable extends Error {}

/**
 * JSON.parse of a UTF-8 JSON text whose top level is an object or array, a slice at a time:
 * the top level and the containers directly in it are taken apart here, everything deeper is
 * handed to JSON.parse in batches of ~32 KiB, yielding to the event loop between them. One
 * JSON.parse of a 56 MiB search body (and its decoding) held the event loop ~130 ms.
 *
 * Each batch is a run of whole values that JSON.parse validates and must count back exactly;
 * the punctuation between batches is checked here; so a text parses here only to what
 * JSON.parse makes of it. Anything unexpected (invalid JSON included) gives `undefined`: the
 * caller then parses the whole text, for JSON.parse's own verdict and error message.
 */
export async function parseJsonSliced(
  bytes: Buffer,
  batchBytes = BATCH_BYTES,
): Promise<{ value: unknown } | undefined> {
  const p = new SlicedParser(bytes, batchBytes);
  try {
    return { value: await p.parse() };
  } catch (e) {
    if (e instanceof NotSliceable || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** Sets `key` as JSON.parse does: an own property, also for "__proto__". */
function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

class SlicedParser {
  private pos = 0;
  private readonly slicer = new Slicer(1);

  constructor(
    private readonly b: Buffer,
    private readonly batchBytes: number,
  ) {}

  async parse(): Promise<unknown> {
    // A leading byte order mark, which the whole-text decoding drops too.
    if (this.b[0] === 0xef && this.b[1] === 0xbb && this.b[2] === 0xbf) this.pos = 3;
    this.skipSpace();
    const value = await this.container(1);
    this.skipSpace();
    if (this.pos !== this.b.length) throw new NotSliceable();
    return value;
  }

  private async container(depth: number): Promise<unknown> {
    const open = this.b[this.pos];
    if (open === OPEN_BRACKET) return this.array(depth);
    if (open === OPEN_BRACE) return this.object(depth);
    throw new NotSliceable();
  }

  private async array(depth: number): Promise<unknown[]> {
    const out: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.b[this.pos] === CLOSE_BRACKET) {
      this.pos++;
      return out;
    }
    let batchStart = -1;
    let batchEnd = -1;
    let batchCount = 0;
    const flush = async (): Promise<void> => {
      if (batchCount === 0) return;
      const parsed = JSON.parse(`[${this.b.toString('utf8', batchStart, batchEnd)}]`) as unknown[];
      if (parsed.length !== batchCount) throw new NotSliceable();
      for (let i = 0; i < parsed.length; i++) out.push(parsed[i]);
      batchCount = 0;
      await this.yieldIfDue();
    };
    for (;;) {
      this.skipSpace();
      if (this.isOpen() && depth + 1 < WHOLE_FROM_DEPTH) {
        await flush();
        out.push(await this.container(depth + 1));
      } else {
        const start = this.pos;
        this.pos = this.valueEnd(start);
        if (batchCount === 0) batchStart = start;
        batchEnd = this.pos;
        batchCount++;
        if (batchEnd - batchStart >= this.batchBytes) await flush();
      }
      this.skipSpace();
      const c = this.b[this.pos++];
      if (c === COMMA) continue;
      if (c !== CLOSE_BRACKET) throw new NotSliceable();
      await flush();
      return out;
    }
  }

  private async object(depth: number): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.skipSpace();
    if (this.b[this.pos] === CLOSE_BRACE) {
      this.pos++;
      return out;
    }
    for (let members = 0; ; members++) {
      this.skipSpace();
      if (this.b[this.pos] !== QUOTE) throw new NotSliceable();
      const keyStart = this.pos;
      this.pos = this.stringEnd(keyStart);
      const key = JSON.parse(this.b.toString('utf8', keyStart, this.pos)) as string;
      this.skipSpace();
      if (this.b[this.pos++] !== COLON) throw new NotSliceable();
      this.skipSpace();
      let value: unknown;
      if (this.isOpen() && depth + 1 < WHOLE_FROM_DEPTH) {
        value = await this.container(depth + 1);
      } else {
        const start = this.pos;
        this.pos = this.valueEnd(start);
        value = JSON.parse(this.b.toString('utf8', start, this.pos));
      }
      setMember(out, key, value);
      if (members % 256 === 255) await this.yieldIfDue();
      this.skipSpace();
      const c = this.b[this.pos++];
      if (c === COMMA) continue;
      if (c !== CLOSE_BRACE) throw new NotSliceable();
      return out;
    }
  }

  private async yieldIfDue(): Promise<void> {
    if (this.slicer.due(0)) await this.slicer.pause();
  }

  private isOpen(): boolean {
    const c = this.b[this.pos];
    return c === OPEN_BRACKET || c === OPEN_BRACE;
  }

  private skipSpace(): void {
    const b = this.b;
    let i = this.pos;
    while (i < b.length) {
      const c = b[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.pos = i;
  }

  /** Where the value starting at `start` ends: found, not judged (JSON.parse judges it). */
  private valueEnd(start: number): number {
    const b = this.b;
    const c = b[start];
    if (c === QUOTE) return this.stringEnd(start);
    if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      let depth = 0;
      for (let i = start; i < b.length; i++) {
        const x = b[i];
        if (x === QUOTE) i = this.stringEnd(i) - 1;
        else if (x === OPEN_BRACKET || x === OPEN_BRACE) depth++;
        else if (x === CLOSE_BRACKET || x === CLOSE_BRACE) {
          if (--depth === 0) return i + 1;
        }
      }
      throw new NotSliceable();
    }
    // A number or literal: up to the next punctuation or space.
    let i = start;
    while (i < b.length) {
      const x = b[i];
      if (x === COMMA || x === CLOSE_BRACKET || x === CLOSE_BRACE || x === 0x20) break;
      if (x === 0x0a || x === 0x0d || x === 0x09) break;
      i++;
    }
    if (i === start) throw new NotSliceable();
    return i;
  }

  /** Just past the closing quote of the string that opens at `start`. */
  private stringEnd(start: number): number {
    const b = this.b;
    let from = start + 1;
    for (;;) {
      const q = b.indexOf(QUOTE, from);
      if (q < 0) throw new NotSliceable();
      let k = q - 1;
      while (k > start && b[k] === BACKSLASH) k--;
      // An even run of backslashes escapes itself, not the quote.
      if ((q - 1 - k) % 2 === 0) return q + 1;
      from = q + 1;
    }
  }
}
