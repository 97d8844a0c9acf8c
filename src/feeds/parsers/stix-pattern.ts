import { INDICATOR_TYPE_DEFINITIONS, INDICATOR_TYPES, type IndicatorType } from '../../indicators';

/**
 * The STIX 2.1 patterning subset Indicium reads (docs/api.md §9), as a grammar:
 *
 *   pattern     := observation ( OR observation )* EOF
 *   observation := '[' comparisons ']' | '(' pattern-body ')'
 *   comparisons := term ( OR term )*
 *   term        := comparison | '(' comparisons ')'
 *   comparison  := objectType ':' path '=' string
 *   path        := name ( '.' ( name | quoted ) )*
 *   string      := "'" ( [^'\\] | '\\' ['\\] )* "'"
 *
 * and the object paths of the indicator type registry. Everything else — AND, FOLLOWEDBY, qualifiers
 * (WITHIN, REPEATS, START/STOP), any other operator or object path — is refused with a reason.
 * A hand-written recursive-descent parser: the subset is small and the reasons can be precise.
 */

interface StixComparison {
  /** Canonical object path, e.g. `ipv4-addr:value`, `file:hashes.'SHA-256'`. */
  objectPath: string;
  value: string;
  type: IndicatorType;
}

export type StixPatternResult =
  { ok: true; comparisons: StixComparison[] } | { ok: false; reason: string };

const MAX_PATTERN_LENGTH = 64 * 1024;

type Token =
  | { t: 'punct'; v: '[' | ']' | '(' | ')' | ':' | '.' | '='; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'word'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'eof'; at: number };

class PatternError extends Error {}

const KEYWORDS: ReadonlySet<string> = new Set([
  'AND',
  'OR',
  'NOT',
  'FOLLOWEDBY',
  'WITHIN',
  'REPEATS',
  'TIMES',
  'START',
  'STOP',
  'LIKE',
  'MATCHES',
  'IN',
  'ISSUBSET',
  'ISSUPERSET',
  'EXISTS',
]);

/** [A-Za-z0-9_-], without a regular expression: this runs for every character of a bundle. */
function isWordChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2d
  );
}

/** Splits a pattern into tokens; quoted strings keep their unescaped value. */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if ('[]():.'.includes(c)) {
      out.push({ t: 'punct', v: c as '[', at: i });
      i++;
    } else if (c === '=') {
      out.push({ t: 'punct', v: '=', at: i });
      i++;
    } else if (c === '!' || c === '<' || c === '>') {
      const two = src.slice(i, i + 2);
      const v = two === '!=' || two === '<=' || two === '>=' ? two : c;
      out.push({ t: 'op', v, at: i });
      i += v.length;
    } else if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw new PatternError(`unterminated string starting at ${i}`);
        const d = src[j];
        if (d === '\\') {
          const e = src[j + 1];
          if (e !== "'" && e !== '\\') {
            throw new PatternError(`invalid escape "\\${e ?? ''}" in string at ${j}`);
          }
          value += e;
          j += 2;
        } else if (d === "'") {
          break;
        } else {
          let end = j;
          while (end < src.length && src[end] !== "'" && src[end] !== '\\') end++;
          value += src.slice(j, end);
          j = end;
        }
      }
      out.push({ t: 'string', v: value, at: i });
      i = j + 1;
    } else if (isWordChar(src.charCodeAt(i))) {
      let j = i;
      while (j < src.length && isWordChar(src.charCodeAt(j))) j++;
      out.push({ t: 'word', v: src.slice(i, j), at: i });
      i = j;
    } else {
      throw new PatternError(`unexpected character "${c}" at ${i}`);
    }
  }
  out.push({ t: 'eof', at: src.length });
  return out;
}

const HASH_PREFIX = 'file:hashes.';

/** The registry's object paths, each with the indicator types it can yield (hashes last). */
const TYPES_BY_PATH = new Map<string, IndicatorType[]>();
for (const type of INDICATOR_TYPES) {
  for (const path of INDICATOR_TYPE_DEFINITIONS[type].stix.paths) {
    TYPES_BY_PATH.set(path, [...(TYPES_BY_PATH.get(path) ?? []), type]);
  }
}
const SUPPORTED_PATHS = [...TYPES_BY_PATH.keys()].sort(
  (a, b) => Number(a.startsWith(HASH_PREFIX)) - Number(b.startsWith(HASH_PREFIX)),
);

/** File hash keys by upper-case name, unquoted, also without the hyphen (SHA256 = 'SHA-256'). */
const HASH_KEYS = new Map<string, { key: string; type: IndicatorType }>();
for (const path of SUPPORTED_PATHS.filter((p) => p.startsWith(HASH_PREFIX))) {
  const hash = { key: path.slice(HASH_PREFIX.length), type: TYPES_BY_PATH.get(path)![0] };
  const name = hash.key.replaceAll("'", '').toUpperCase();
  HASH_KEYS.set(name, hash);
  HASH_KEYS.set(name.replace('-', ''), hash);
}

/** ip and cidr share the address paths (STIX 2.1 §6.4/§6.5): a block has a prefix length. */
function typeAt(types: readonly IndicatorType[], value: string): IndicatorType {
  if (types.length === 1) return types[0];
  return value.includes('/') ? 'cidr' : 'ip';
}

function describe(tok: Token): string {
  if (tok.t === 'eof') return 'the end of the pattern';
  if (tok.t === 'string') return `string '${tok.v.slice(0, 32)}'`;
  return `"${tok.v}"`;
}

class Parser {
  private pos = 0;
  readonly comparisons: StixComparison[] = [];

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    return this.tokens[this.pos++];
  }

  private isWord(tok: Token, word: string): boolean {
    return tok.t === 'word' && tok.v.toUpperCase() === word;
  }

  private expectPunct(v: string): void {
    const tok = this.next();
    if (tok.t !== 'punct' || tok.v !== v) {
      throw new PatternError(`expected "${v}" at ${tok.at}, found ${describe(tok)}`);
    }
  }

  /** Rejects a keyword where an OR (or the end) may stand, naming it. */
  private refuseJoiner(tok: Token, where: string): never {
    if (tok.t === 'word') {
      const w = tok.v.toUpperCase();
      if (w === 'AND') throw new PatternError('AND is not supported (only OR)');
      if (w === 'FOLLOWEDBY') throw new PatternError('FOLLOWEDBY is not supported (only OR)');
      if (w === 'WITHIN' || w === 'REPEATS' || w === 'START' || w === 'STOP') {
        throw new PatternError(`qualifier ${w} is not supported`);
      }
    }
    throw new PatternError(`expected OR or ${where} at ${tok.at}, found ${describe(tok)}`);
  }

  /** pattern := observation ( OR observation )* EOF */
  pattern(): void {
    this.observation();
    for (;;) {
      const tok = this.peek();
      if (tok.t === 'eof') return;
      if (!this.isWord(tok, 'OR')) this.refuseJoiner(tok, 'the end of the pattern');
      this.next();
      this.observation();
    }
  }

  /** observation := '[' comparisons ']' | '(' observation ( OR observation )* ')' */
  observation(): void {
    const tok = this.next();
    if (tok.t === 'punct' && tok.v === '[') {
      this.comparisonsUntil(']');
      this.expectPunct(']');
      return;
    }
    if (tok.t === 'punct' && tok.v === '(') {
      this.observation();
      while (this.isWord(this.peek(), 'OR')) {
        this.next();
        this.observation();
      }
      const close = this.peek();
      if (close.t !== 'punct' || close.v !== ')') this.refuseJoiner(close, '")"');
      this.next();
      return;
    }
    throw new PatternError(`expected "[" at ${tok.at}, found ${describe(tok)}`);
  }

  /** comparisons := term ( OR term )* — ends before `close`. */
  comparisonsUntil(close: string): void {
    this.term();
    for (;;) {
      const tok = this.peek();
      if (tok.t === 'punct' && tok.v === close) return;
      if (!this.isWord(tok, 'OR')) this.refuseJoiner(tok, `"${close}"`);
      this.next();
      this.term();
    }
  }

  /** term := comparison | '(' comparisons ')' */
  term(): void {
    const tok = this.peek();
    if (tok.t === 'punct' && tok.v === '(') {
      this.next();
      this.comparisonsUntil(')');
      this.expectPunct(')');
      return;
    }
    this.comparison();
  }

  /** comparison := objectType ':' path '=' string */
  comparison(): void {
    const objectTok = this.next();
    if (objectTok.t !== 'word') {
      throw new PatternError(
        `expected an object type at ${objectTok.at}, found ${describe(objectTok)}`,
      );
    }
    if (objectTok.v.toUpperCase() === 'NOT') throw new PatternError('NOT is not supported');
    this.expectPunct(':');
    const objectType = objectTok.v.toLowerCase();
    const path = this.path();
    const opTok = this.next();
    if (opTok.t === 'word' && KEYWORDS.has(opTok.v.toUpperCase())) {
      throw new PatternError(`operator ${opTok.v.toUpperCase()} is not supported (only =)`);
    }
    if (opTok.t === 'op') throw new PatternError(`operator ${opTok.v} is not supported (only =)`);
    if (opTok.t !== 'punct' || opTok.v !== '=') {
      throw new PatternError(`expected "=" at ${opTok.at}, found ${describe(opTok)}`);
    }
    const valueTok = this.next();
    if (valueTok.t !== 'string') {
      throw new PatternError(
        `expected a quoted string at ${valueTok.at}, found ${describe(valueTok)}`,
      );
    }
    this.comparisons.push(this.resolve(objectType, path, valueTok.v));
  }

  /** path := name ( '.' ( name | quoted ) )* — the property path as its segments. */
  private path(): string[] {
    const segments: string[] = [];
    const first = this.next();
    if (first.t !== 'word') {
      throw new PatternError(`expected a property name at ${first.at}, found ${describe(first)}`);
    }
    segments.push(first.v);
    for (;;) {
      const tok = this.peek();
      if (tok.t === 'punct' && tok.v === '[') {
        throw new PatternError('list indexes in object paths are not supported');
      }
      if (tok.t !== 'punct' || tok.v !== '.') return segments;
      this.next();
      const seg = this.next();
      if (seg.t !== 'word' && seg.t !== 'string') {
        throw new PatternError(`expected a property name at ${seg.at}, found ${describe(seg)}`);
      }
      segments.push(seg.v);
    }
  }

  private resolve(objectType: string, path: string[], value: string): StixComparison {
    if (objectType === 'file' && path.length === 2 && path[0].toLowerCase() === 'hashes') {
      const hash = HASH_KEYS.get(path[1].toUpperCase());
      if (!hash)
        throw new PatternError(`file hash "${path[1]}" is not supported (MD5, SHA-1, SHA-256)`);
      return { objectPath: `${HASH_PREFIX}${hash.key}`, value, type: hash.type };
    }
    const objectPath = `${objectType}:${path.join('.').toLowerCase()}`;
    const types = objectPath.startsWith(HASH_PREFIX) ? undefined : TYPES_BY_PATH.get(objectPath);
    if (!types) {
      throw new PatternError(
        `object path ${objectType}:${path.join('.')} is not supported (supported: ${SUPPORTED_PATHS.join(', ')})`,
      );
    }
    return { objectPath, value, type: typeAt(types, value) };
  }
}

/** Parses a STIX pattern of the supported subset into its comparisons, or says why not. */
export function parseStixPattern(pattern: string): StixPatternResult {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    return { ok: false, reason: 'the pattern is empty' };
  }
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { ok: false, reason: `the pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  }
  try {
    const parser = new Parser(tokenize(pattern));
    parser.pattern();
    return { ok: true, comparisons: parser.comparisons };
  } catch (e) {
    if (e instanceof PatternError) return { ok: false, reason: e.message };
    throw e;
  }
}
