import { Writable } from 'node:stream';
import fc from 'fast-check';
import {
  breakagesOf,
  DbProbe,
  documentedErrorProblem,
  errorBodyProblem,
  OpenApiDoc,
  Operation,
  operationsOf,
  Parameter,
  RawClient,
  RawRequest,
  RawResponse,
  resolve,
  sample,
  setAt,
  Slot,
  slotsOf,
} from './support/fuzz';
import { DetectionRecorder } from '../src/detections/detection-recorder';
import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

/**
 * Bad input on every route (issue 7): walks every operation of the live OpenAPI document and
 * sends, as the Administrator, malformed and hostile requests — bad path and query parameters,
 * malformed JSON, wrong types per schema field, huge strings, deep nesting, invalid UTF-8 and
 * control characters, prototype-pollution keys, wrong Content-Types. Every response must be
 * below 500 and, when an error, the docs/api.md §1 error body naming the problem; a refused request
 * must leave the database as it was (except the security events the audit log records).
 *
 * Reproduce a failure with the printed seed: FUZZ_SEED=<seed> npm test -- test/fuzz.e2e.spec.ts
 * (FUZZ_RUNS=<n> changes the number of cases per operation).
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20260107);
const RUNS = Number(process.env.FUZZ_RUNS ?? 70);
const KiB = 1024;
const MiB = 1024 * KiB;
const DEPTH = 10_000;

/** Audit records a refused request may write: security events (src/auth, src/users). */
const SECURITY_EVENTS = new Set([
  'auth.failure',
  'auth.lockout',
  // A tally of refused requests (lockout, malformed Authorization), flushed in the background.
  'auth.refused',
  'auth.denied_ip',
  'access.denied',
  'user.change_password',
]);

/** Audit records written in the background, not by the request: runs of feeds the fuzzer set up. */
const BACKGROUND_EVENTS = new Set(['feed.run']);

// ------------------------------------------------------------------ case descriptions

/** Compact descriptions (what fast-check prints); `build` turns them into requests. */
type PathChoice =
  { kind: 'known' } | { kind: 'unknown'; value: string } | { kind: 'bad'; value: string };

type QuerySpec =
  { kind: 'declared'; param: number; variant: number } | { kind: 'unknown'; query: string };

type BodySpec =
  | { kind: 'malformed'; text: string }
  | { kind: 'field'; slot: number; breakage: number }
  | { kind: 'unknownKey'; key: string; slot: number | null }
  | { kind: 'protoKey'; key: string; slot: number | null }
  | { kind: 'huge'; slot: number }
  | { kind: 'overLimit' }
  | { kind: 'deep'; shape: 'array' | 'object'; slot: number | null }
  | { kind: 'bytes'; slot: number; variant: keyof typeof BYTES }
  | { kind: 'number'; slot: number; text: string }
  | { kind: 'contentType'; type: string };

interface Spec {
  path: PathChoice;
  query?: QuerySpec;
  body?: BodySpec;
}

interface Built {
  label: string;
  req: RawRequest;
  /** The API must refuse it (4xx); otherwise anything below 500 is fine. */
  reject: boolean;
  /** When set, the status must be one of these. */
  statuses?: number[];
  /** A 400 must name one of these in its message or details. */
  names: string[];
}

/** Path parameter values that are not ids or names of anything. */
const BAD_PATH_VALUES = [
  'not-a-uuid',
  '0',
  '-1',
  '00000000-0000-0000-0000-00000000000g',
  '%00',
  'a%00b',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e',
  '%ff%fe',
  '%c0%af',
  '%ed%a0%80',
  '%',
  '%zz',
  '%e2%82',
  enc('ü€😀'),
  enc("' OR 1=1 --"),
  enc('${jndi:ldap://x}'),
  '__proto__',
  'constructor',
  'prototype',
  'x'.repeat(4000),
  enc('\u0001\u001b[31m\u007f'),
  '%20',
  'null',
  enc('{id}'),
  enc('a/b'),
];

const MALFORMED_JSON = [
  '{',
  '{"a":',
  '[1,]',
  "{'a':1}",
  'nul',
  '{"a":1}}',
  'NaN',
  '"just a string"',
  '12345',
  'null',
  'true',
  '{"a":1,"a":}',
  '\u0000',
  '{"a":"\\x41"}',
  '{"a":01}',
  '[',
  ']',
  '{"a" 1}',
  '\ufeff{"a":1',
];

/** Cursor keys of the right outer shape whose values no list key can be (raw JSON texts). */
const CURSOR_KEYS: ReadonlyArray<readonly [string | Buffer, string]> = [
  ['["\\u0000"]', 'a cursor holding NUL'],
  ['["a\\u0000b"]', 'a cursor holding NUL mid-text'],
  ['["\\ud800"]', 'a cursor holding a lone high surrogate'],
  ['["\\udc00x"]', 'a cursor holding a lone low surrogate'],
  [Buffer.from([0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d]), 'a cursor of CESU-8 bytes'],
  [Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]), 'a cursor of invalid UTF-8'],
  ['[9007199254740993]', 'a cursor with an unsafe integer'],
  ['[-1.5]', 'a cursor with a negative fraction'],
  ['[["x"]]', 'a cursor with a nested key'],
];

function cursorOf(key: string | Buffer): string {
  return (typeof key === 'string' ? Buffer.from(key) : key).toString('base64url');
}

/** Bytes spliced into a JSON string value. */
const BYTES = {
  invalidUtf8: Buffer.from([0x66, 0x7a, 0xff, 0xfe]),
  overlong: Buffer.from([0xc0, 0xaf]),
  encodedSurrogate: Buffer.from([0xed, 0xa0, 0x80]),
  truncated: Buffer.from([0xe2, 0x82]),
  nulEscape: Buffer.from('\\u0000'),
  loneSurrogateEscape: Buffer.from('\\ud800'),
  controlEscapes: Buffer.from('\\u0001\\u001b[31m\\u007f\\u0008'),
  rawControl: Buffer.from([0x01, 0x1b]),
  rawNul: Buffer.from([0x00]),
  bidi: Buffer.from('\u202eevil\u202c', 'utf8'),
} as const;
/** Raw control bytes are not allowed inside JSON strings: the body is malformed. */
const MALFORMED_BYTES: ReadonlyArray<keyof typeof BYTES> = ['rawControl', 'rawNul'];

/** JSON numbers beyond what a double holds, or at its edges (spliced as raw JSON text). */
const NUMBER_TEXTS = ['1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '0.1e1'];

const CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=fz',
  'application/octet-stream',
  '',
  'application/json; charset=latin1',
  'application/json; charset=ebcdic-cp-us',
  'application/x-www-form-urlencoded',
  'text/json',
];

/**
 * Arrays whose items get a verdict each instead of failing the request: search answers a value
 * it cannot use with `result: "invalid"` (docs/api.md §5, "one bad value never fails the request").
 */
const PER_ITEM_VERDICTS = ['POST /api/v1/search values'];

const UNKNOWN_KEYS = ['fzUnknown', 'isAdmin', 'id', 'createdAt', '$where', 'a.b', 'passwordHash'];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];
const MARK = 'FZMARKFZ';

/** Percent-encodes every byte but the unreserved ones (lone surrogates become U+FFFD). */
function enc(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9._~-]/.test(c) ? c : `%${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

// ------------------------------------------------------------------ the fuzzer

interface Fixtures {
  /** Existing resources by the collection segment of the path (`users`, `suppliers`, …). */
  byCollection: Record<string, string>;
}

class Fuzzer {
  readonly slots: Slot[];
  readonly base: unknown;
  readonly json: boolean;
  readonly bigLimit: boolean;

  constructor(
    private readonly doc: OpenApiDoc,
    readonly op: Operation,
    private readonly fixtures: Fixtures,
    private readonly auth: string,
  ) {
    this.slots = op.body ? slotsOf(doc, op.body.schema) : [];
    this.base = op.body ? sample(doc, op.body.schema) : undefined;
    this.json = op.body?.contentTypes.includes('application/json') ?? false;
    // Search (64 MiB) and streamed uploads (128 MiB) have larger limits than 1 MiB.
    this.bigLimit =
      op.path.endsWith('/search') ||
      (op.body?.contentTypes.includes('application/x-ndjson') ?? false);
  }

  /** A known resource for the path's parameters, when the fixtures have one. */
  private known(): string | undefined {
    const m = /^\/api\/v1\/([^/]+)\/\{/.exec(this.op.path);
    return m ? this.fixtures.byCollection[m[1]] : undefined;
  }

  /** Known resources are used only where the request cannot destroy them. */
  private mayUseKnown(): boolean {
    return (
      this.known() !== undefined &&
      (this.op.method === 'GET' || (this.op.body !== undefined && this.op.method !== 'DELETE'))
    );
  }

  private pathArb(focused: boolean): fc.Arbitrary<PathChoice> {
    if (this.op.pathParams.length === 0) return fc.constant<PathChoice>({ kind: 'known' });
    const unknown = this.op.pathParams.some((p) => p.name === 'id')
      ? fc.uuid()
      : fc.stringMatching(/^fz-nope-[a-z0-9]{1,12}$/);
    const choices: Array<fc.Arbitrary<PathChoice>> = [
      unknown.map((value): PathChoice => ({ kind: 'unknown', value })),
    ];
    if (focused) {
      choices.push(
        fc.constantFrom(...BAD_PATH_VALUES).map((value): PathChoice => ({ kind: 'bad', value })),
        fc
          .string({ unit: 'binary', minLength: 1, maxLength: 40 })
          .map((s): PathChoice => ({ kind: 'bad', value: enc(s) })),
      );
    } else if (this.mayUseKnown()) {
      return fc.constant<PathChoice>({ kind: 'known' });
    }
    return fc.oneof(...choices);
  }

  private queryArb(): fc.Arbitrary<QuerySpec> {
    const unknown = fc
      .constantFrom(
        'fzUnknown=1',
        '__proto__=x',
        '__proto__[polluted]=yes',
        'constructor[prototype][polluted]=yes',
        'a[b][c]=1',
        'limit[]=1',
      )
      .map((query): QuerySpec => ({ kind: 'unknown', query }));
    if (this.op.queryParams.length === 0) return unknown;
    return fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .record({
            param: fc.nat(this.op.queryParams.length - 1),
            variant: fc.nat(1000),
          })
          .map((r): QuerySpec => ({ kind: 'declared', ...r })),
      },
      { weight: 1, arbitrary: unknown },
    );
  }

  private bodyArb(): fc.Arbitrary<BodySpec> {
    const generic: Array<fc.Arbitrary<BodySpec>> = [
      fc
        .oneof(
          fc.constantFrom(...MALFORMED_JSON),
          // An empty body is no body (Content-Length: 0), not a malformed one.
          fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !parses(s)),
        )
        .map((text): BodySpec => ({ kind: 'malformed', text })),
      fc.constant<BodySpec>({ kind: 'overLimit' }),
      fc.constantFrom(...CONTENT_TYPES).map((type): BodySpec => ({ kind: 'contentType', type })),
      fc
        .constantFrom('array' as const, 'object' as const)
        .map((shape): BodySpec => ({ kind: 'deep', shape, slot: null })),
    ];
    if (!this.op.body || this.slots.length === 0) return fc.oneof(...generic);
    const n = this.slots.length;
    const slot = fc.nat(n - 1);
    const objectSlot = fc.option(slot, { nil: null });
    return fc.oneof(
      ...generic,
      {
        weight: 2,
        arbitrary: fc
          .record({ slot, breakage: fc.nat(1000) })
          .map((r): BodySpec => ({ kind: 'field', ...r })),
      },
      fc
        .record({ key: fc.constantFrom(...UNKNOWN_KEYS), slot: objectSlot })
        .map((r): BodySpec => ({ kind: 'unknownKey', ...r })),
      fc
        .record({ key: fc.constantFrom(...PROTO_KEYS), slot: objectSlot })
        .map((r): BodySpec => ({ kind: 'protoKey', ...r })),
      slot.map((s): BodySpec => ({ kind: 'huge', slot: s })),
      fc
        .record({ shape: fc.constantFrom('array' as const, 'object' as const), slot: objectSlot })
        .map((r): BodySpec => ({ kind: 'deep', ...r })),
      fc
        .record({
          slot,
          variant: fc.constantFrom(...(Object.keys(BYTES) as Array<keyof typeof BYTES>)),
        })
        .map((r): BodySpec => ({ kind: 'bytes', ...r })),
      fc
        .record({ slot, text: fc.constantFrom(...NUMBER_TEXTS) })
        .map((r): BodySpec => ({ kind: 'number', ...r })),
    );
  }

  /** One focused breakage at a time: the path, the query or the body. */
  specArb(): fc.Arbitrary<Spec> {
    const foci: Array<fc.Arbitrary<Spec>> = [
      fc.record({ path: this.pathArb(false), query: this.queryArb() }),
      fc.record({ path: this.pathArb(false), body: this.bodyArb() }),
    ];
    if (this.op.pathParams.length > 0) foci.push(fc.record({ path: this.pathArb(true) }));
    // Bodies have the most ways to be wrong: twice the weight where there is one.
    if (this.op.body) foci.push(fc.record({ path: this.pathArb(false), body: this.bodyArb() }));
    return fc.oneof(...foci);
  }

  build(spec: Spec): Built {
    const labels: string[] = [];
    let reject = false;
    const names: string[] = [];
    let statuses: number[] | undefined;

    // Path
    let path = this.op.path;
    const known = this.known();
    for (const p of this.op.pathParams) {
      let value: string;
      if (spec.path.kind === 'known') value = enc(known ?? '');
      else value = spec.path.kind === 'unknown' ? enc(spec.path.value) : spec.path.value;
      path = path.replace(`{${p.name}}`, value);
    }
    if (spec.path.kind !== 'known' && this.op.pathParams.length > 0) {
      reject = true;
      labels.push(`${spec.path.kind} path parameter`);
      // A uuid parameter must be named; a name that matches nothing is simply not found.
      if (spec.path.kind === 'bad')
        names.push('path', 'param', ...this.op.pathParams.map((p) => p.name));
    }

    // Query
    let query = '';
    if (spec.query?.kind === 'unknown') {
      query = spec.query.query;
      labels.push(`query ${query}`);
      if (this.op.queryParams.length > 0) {
        reject = true;
        names.push(decodeURIComponent(query.split('=')[0]).split('[')[0]);
      }
    } else if (spec.query?.kind === 'declared') {
      const param = this.op.queryParams[spec.query.param];
      const variants = queryBreakages(param);
      const v = variants[spec.query.variant % variants.length];
      query = v.query;
      labels.push(`query ${param.name}: ${v.why}`);
      if (v.reject) {
        reject = true;
        names.push(param.name);
      }
    }

    // Body
    const headers: Record<string, string> = {
      Authorization: this.auth,
      Accept: 'application/json',
    };
    let body: Buffer | undefined;
    if (this.op.body && spec.body === undefined) {
      // Not the focus: a plausible body, so the path or query is what gets judged.
      body = this.encodeBase(this.base);
      headers['Content-Type'] = this.op.body.contentTypes[0];
    }
    if (spec.body) {
      const b = this.buildBody(spec.body);
      body = b.body;
      if (b.contentType !== undefined) headers['Content-Type'] = b.contentType;
      labels.push(b.label);
      // A body-less operation may ignore a body (health, metrics): only never a 5xx there.
      if (b.reject && this.op.body) {
        reject = true;
        names.push(...b.names);
        statuses = b.statuses;
      }
    }
    return {
      label: `${this.op.method} ${this.op.path}: ${labels.join('; ') || 'baseline'}`,
      req: { method: this.op.method, path: query ? `${path}?${query}` : path, headers, body },
      reject,
      statuses: reject ? statuses : undefined,
      names,
    };
  }

  private encodeBase(value: unknown): Buffer {
    const type = this.op.body?.contentTypes[0];
    if (type === 'application/x-www-form-urlencoded') {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>))
        form.set(k, String(v));
      return Buffer.from(form.toString());
    }
    return Buffer.from(JSON.stringify(value ?? {}));
  }

  private buildBody(spec: BodySpec): {
    body: Buffer | undefined;
    contentType?: string;
    label: string;
    reject: boolean;
    names: string[];
    statuses?: number[];
  } {
    const jsonType = 'application/json';
    const slot = (i: number): Slot => this.slots[i % this.slots.length];
    // Text of the base body with `value` at a slot (or at the top level when slot is null).
    const withMark = (at: Slot | null, value: unknown = MARK): string =>
      at
        ? JSON.stringify(setAt(this.doc, this.op.body?.schema ?? {}, this.base, at.path, value))
        : JSON.stringify(MARK);
    const splice = (text: string, raw: Buffer): Buffer => {
      const [before, after] = text.split(JSON.stringify(MARK));
      return Buffer.concat([Buffer.from(before), raw, Buffer.from(after)]);
    };
    switch (spec.kind) {
      case 'malformed':
        return {
          body: Buffer.from(spec.text),
          contentType: jsonType,
          label: `malformed JSON ${JSON.stringify(spec.text)}`,
          reject: this.json,
          names: ['JSON'],
          statuses: [400],
        };
      case 'overLimit': {
        const pad = 'x'.repeat(MiB + KiB);
        return {
          body: Buffer.from(JSON.stringify({ fzPad: pad })),
          contentType: jsonType,
          label: 'a body just over 1 MiB',
          reject: true,
          // Under a larger limit the body is judged by its content (an unknown field, not an array).
          names: [],
          statuses: this.bigLimit ? undefined : [413],
        };
      }
      case 'contentType':
        return {
          body: Buffer.from(JSON.stringify(this.base ?? {})),
          contentType: spec.type === '' ? undefined : spec.type,
          label: `Content-Type ${JSON.stringify(spec.type)}`,
          reject: this.json,
          names: ['Content-Type'],
          statuses: [415],
        };
      case 'deep': {
        const deep =
          spec.shape === 'array'
            ? '['.repeat(DEPTH) + ']'.repeat(DEPTH)
            : '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH);
        const at = spec.slot === null ? null : slot(spec.slot);
        return {
          body: splice(withMark(at), Buffer.from(deep)),
          contentType: jsonType,
          label: `${DEPTH} nested ${spec.shape}s ${at ? `in ${at.path.join('.')}` : 'as the body'}`,
          reject: this.json,
          names: at ? [at.name] : [],
        };
      }
      case 'field': {
        const at = slot(spec.slot);
        const options = breakagesOf(at);
        const b = options[spec.breakage % options.length];
        return {
          body: Buffer.from(withMark(at, b.value)),
          contentType: jsonType,
          label: `${at.path.join('.')}: ${b.why}`,
          reject:
            b.reject &&
            this.json &&
            !(
              b.items && PER_ITEM_VERDICTS.includes(`${this.op.method} ${this.op.path} ${at.name}`)
            ),
          // The field, or an object it sits in when that object is what is wrong (e.g. `csv`
          // options sent for a text feed are refused as a whole, whatever they hold).
          names: [at.name, ...at.path.slice(0, -1).filter((p) => typeof p === 'string')],
        };
      }
      case 'huge': {
        const at = slot(spec.slot);
        const max = at.schema.maxLength;
        return {
          body: Buffer.from(withMark(at, 'h'.repeat(100 * KiB))),
          contentType: jsonType,
          label: `${at.path.join('.')}: a 100 KiB string`,
          reject: this.json && (at.schema.type !== 'string' || (max ?? Infinity) < 100 * KiB),
          names: [at.name],
        };
      }
      case 'bytes': {
        const at = slot(spec.slot);
        const s = at.schema;
        const malformed = MALFORMED_BYTES.includes(spec.variant);
        const freeText = s.type === 'string' && !s.pattern && !s.enum && !s.format;
        return {
          body: splice(
            withMark(at),
            Buffer.concat([Buffer.from('"'), BYTES[spec.variant], Buffer.from('"')]),
          ),
          contentType: jsonType,
          label: `${at.path.join('.')}: ${spec.variant}`,
          reject: this.json && (malformed || !freeText),
          names: malformed ? ['JSON'] : [at.name],
          statuses: malformed ? [400] : undefined,
        };
      }
      case 'number': {
        const at = slot(spec.slot);
        const s = at.schema;
        const value = Number(spec.text);
        const numeric = s.type === 'number' || s.type === 'integer';
        const fits =
          numeric &&
          Number.isFinite(value) &&
          (s.minimum === undefined || value >= s.minimum) &&
          (s.maximum === undefined || value <= s.maximum);
        return {
          body: splice(withMark(at), Buffer.from(spec.text)),
          contentType: jsonType,
          label: `${at.path.join('.')}: the number ${spec.text}`,
          reject: this.json && !fits,
          names: [at.name],
        };
      }
      case 'unknownKey':
      case 'protoKey': {
        const at = this.objectSlot(spec.slot);
        const value = spec.kind === 'protoKey' ? { polluted: 'yes' } : 'fz';
        const target = at
          ? setAt(this.doc, this.op.body?.schema ?? {}, this.base, at.path, MARK)
          : structuredClone(this.base);
        const text = JSON.stringify(target ?? {});
        const member = `${JSON.stringify(spec.key)}:${JSON.stringify(value)}`;
        const body = at
          ? text.replace(JSON.stringify(MARK), `{${member}}`)
          : insertMember(text, member);
        return {
          body: Buffer.from(body),
          contentType: jsonType,
          label: `key ${spec.key} ${at ? `in ${at.path.join('.')}` : 'at the top level'}`,
          // A free-form object (upload `context`) has no unknown fields: only hostile keys.
          reject: this.json && (spec.kind === 'protoKey' || !at?.schema.additionalProperties),
          names: [spec.key, ...(at ? [at.name] : [])],
        };
      }
    }
  }

  /** The object-typed slot chosen by `i` (null: the top level, or none exists). */
  private objectSlot(i: number | null): Slot | null {
    if (i === null) return null;
    const objects = this.slots.filter((s) => resolve(this.doc, s.schema).type === 'object');
    return objects.length > 0 ? objects[i % objects.length] : null;
  }
}

/** `member` added to the outermost object of a JSON text (or to the first item of an array). */
function insertMember(text: string, member: string): string {
  const at = text.indexOf('{');
  if (at < 0) return text.startsWith('[') ? `[{${member}}]` : `{${member}}`;
  const close = text[at + 1] === '}';
  return `${text.slice(0, at + 1)}${member}${close ? '' : ','}${text.slice(at + 1)}`;
}

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** Bad values for a declared query parameter, as query strings. */
function queryBreakages(p: Parameter): Array<{ query: string; why: string; reject: boolean }> {
  const s = p.schema ?? {};
  const q = (v: string): string => `${enc(p.name)}=${v}`;
  const out: Array<{ query: string; why: string; reject: boolean }> = [];
  const wrong = (v: string, why: string, reject = true): void => {
    out.push({ query: q(v), why, reject });
  };
  out.push({ query: `${q('1')}&${q('2')}`, why: 'given twice', reject: true });
  wrong(
    `${'x'.repeat(8 * KiB)}`,
    'an 8 KiB value',
    s.type !== 'string' ||
      (s.maxLength ?? Infinity) < 8 * KiB ||
      !!s.pattern ||
      !!s.enum ||
      !!s.format,
  );
  wrong('%00', 'a NUL character', s.type !== 'string' || !!s.pattern || !!s.enum);
  wrong('%ff%fe', 'invalid UTF-8', s.type !== 'string' || !!s.pattern || !!s.enum);
  wrong(
    '%ed%a0%80',
    'a UTF-8-encoded lone surrogate',
    s.type !== 'string' || !!s.pattern || !!s.enum,
  );
  wrong(enc('\u0001\u001b'), 'control characters', s.type !== 'string' || !!s.pattern || !!s.enum);
  switch (s.type) {
    case 'number':
    case 'integer':
      wrong('abc', 'not a number');
      wrong('', 'empty');
      wrong('1e999', 'infinite');
      wrong('NaN', 'NaN');
      if (s.minimum !== undefined) wrong(String(s.minimum - 1), 'below the minimum');
      if (s.maximum !== undefined) wrong(String(s.maximum + 1), 'above the maximum');
      wrong('1.5', 'a fraction', false);
      wrong('0x10', 'hexadecimal', false);
      break;
    case 'boolean':
      wrong('maybe', 'not a boolean');
      wrong('1', 'the digit 1');
      wrong('', 'empty');
      break;
    case 'string':
      if (s.enum) wrong('fz-not-in-the-enum', 'outside the enum');
      if (s.enum) wrong('', 'empty');
      if (s.maxLength !== undefined) wrong('x'.repeat(s.maxLength + 1), 'one above maxLength');
      if (s.pattern && !new RegExp(s.pattern).test('!! ..'))
        wrong(enc('!! ..'), 'not matching the pattern');
      if (s.format === 'date-time' || /Since|^from$|^to$/.test(p.name))
        wrong('not-a-date', 'not a timestamp');
      if (p.name === 'cursor') {
        wrong(enc('{"not":"a cursor"}'), 'not a cursor we issued');
        // Well-formed base64url of a JSON key that text columns cannot hold (issue 14).
        for (const [key, why] of CURSOR_KEYS) wrong(cursorOf(key), why);
      }
      break;
  }
  return out;
}

// ------------------------------------------------------------------ the spec

describe('bad input on every route (property-based)', () => {
  let t: TestApp;
  let admin: string;
  let client: RawClient;
  let db: DbProbe;
  let doc: OpenApiDoc;
  const fixtures: Fixtures = { byCollection: {} };
  const protoKeysBefore = Object.getOwnPropertyNames(Object.prototype).sort();

  beforeAll(async () => {
    // A fuzzer as the Administrator trips the brute-force lock (wrong currentPassword, bad
    // client credentials); raise it so the run judges inputs, not the lockout.
    t = await createTestApp(
      { LOCKOUT_PRINCIPAL_FAILURES: '100000', LOCKOUT_IP_FAILURES: '1000000' },
      // Every refused request is logged at level error: keep the test output readable.
      { logDestination: new Writable({ write: (_chunk, _enc, done) => done() }) },
    );
    admin = basic(t.admin.username, t.admin.password);
    client = await RawClient.listen(t);
    db = await DbProbe.open(t);
    const res = await t.api().get('/docs-json');
    expect(res.status).toBe(200);
    doc = res.body as OpenApiDoc;
    await createFixtures();
    console.log(`fuzz seed ${SEED}, ${RUNS} runs per operation (FUZZ_SEED / FUZZ_RUNS)`);
  });

  afterAll(async () => {
    client?.close();
    await db?.close();
    await t?.close();
  });

  async function createFixtures(): Promise<void> {
    const post = async (path: string, body: object): Promise<Record<string, unknown>> => {
      const res = await asUser(t, admin).post(path).send(body);
      expect(res.status).toBe(201);
      return res.body;
    };
    const user = await post('/api/v1/users', {
      username: 'fz-user',
      password: 'fuzz user password',
      role: 'Analyst',
    });
    const apiClient = await post('/api/v1/api-clients', { name: 'fz-client', role: 'Analyst' });
    const siem = await post('/api/v1/siem-integrations', {
      name: 'fz-siem',
      type: 'syslog',
      enabled: false,
      transport: 'udp',
      host: '127.0.0.1',
      port: 9,
      format: 'json',
    });
    await post('/api/v1/roles', { name: 'fz-role', privileges: ['search'] });
    await post('/api/v1/suppliers', { name: 'fz-supplier' });
    await post('/api/v1/tags', { name: 'FZ-TAG' });
    const upload = await asUser(t, admin)
      .put('/api/v1/suppliers/fz-supplier/indicators')
      .send([{ indicator: 'evil.com', tags: ['FZ-TAG'] }]);
    expect(upload.status).toBe(200);
    fixtures.byCollection = {
      users: String(user.id),
      'api-clients': String(apiClient.id),
      'siem-integrations': String(siem.id),
      roles: 'fz-role',
      suppliers: 'fz-supplier',
      tags: 'FZ-TAG',
    };
  }

  /**
   * Writes the hit counters, detection events and retro values earlier successful searches left
   * in memory (docs/api.md §11: they are an effect of a successful search, written in the
   * background), so a refused request is judged on what it wrote itself.
   */
  function settleDetections(): Promise<void> {
    return t.app.get(DetectionRecorder).flush();
  }

  /** Sends one case and returns what is wrong with the outcome (empty: nothing). */
  async function judge(f: Fuzzer, built: Built): Promise<string[]> {
    await settleDetections();
    const before = await db.fingerprint();
    const auditBefore = await db.auditHead();
    let res: RawResponse;
    try {
      res = await client.send(built.req);
    } catch (e) {
      return [`no response: ${(e as Error).message}`];
    }
    const problems: string[] = [];
    const shown = `${res.status} ${res.text.slice(0, 300)}`;
    if (res.status >= 500) problems.push(`a ${res.status}: ${shown}`);
    if (typeof res.headers['x-request-id'] !== 'string') problems.push('no X-Request-Id');
    if (res.status >= 400) {
      const p = errorBodyProblem(res);
      const documented =
        p && f.op.otherErrorSchemas.length > 0
          ? documentedErrorProblem(res, f.op.otherErrorSchemas)
          : p;
      if (p && documented) problems.push(`not the §1 error body (${p}): ${shown}`);
    }
    if (built.reject && (res.status < 400 || res.status >= 500))
      problems.push(`accepted invalid input: ${shown}`);
    if (built.statuses && !built.statuses.includes(res.status))
      problems.push(`expected ${built.statuses.join('/')}: ${shown}`);
    if (res.status === 400 && res.json && typeof res.json === 'object') {
      const b = res.json as {
        message?: unknown;
        description?: unknown;
        details?: unknown;
        error?: unknown;
      };
      // TAXII routes answer the TAXII error shape: its sentence is `description`.
      const text = b.message ?? b.description;
      const message = typeof text === 'string' ? text : '';
      if (b.error !== 'invalid_request' && b.error !== 'unsupported_grant_type') {
        if (/^bad request\.?$/i.test(message.trim()))
          problems.push(`a generic 400 message: ${shown}`);
        const haystack = `${message} ${JSON.stringify(b.details ?? '')}`.toLowerCase();
        if (built.names.length > 0 && !built.names.some((n) => haystack.includes(n.toLowerCase())))
          problems.push(`the 400 does not name ${built.names.join(' or ')}: ${shown}`);
      }
    }
    if (res.status >= 400) {
      await settleDetections();
      const after = await db.fingerprint();
      const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
      if (changed.length > 0) problems.push(`refused, yet changed ${changed.join(', ')}: ${shown}`);
      const appended = await db.auditAfter(auditBefore);
      const unexpected = appended.filter(
        (r) =>
          !(SECURITY_EVENTS.has(r.action) && r.outcome !== 'success') &&
          !BACKGROUND_EVENTS.has(r.action),
      );
      if (unexpected.length > 0)
        problems.push(
          `refused, yet audited ${unexpected.map((r) => `${r.action}/${r.outcome}`).join(', ')}`,
        );
    }
    const polluted = Object.getOwnPropertyNames(Object.prototype).sort();
    if (
      JSON.stringify(polluted) !== JSON.stringify(protoKeysBefore) ||
      ({} as Record<string, unknown>).polluted !== undefined
    )
      problems.push(`Object.prototype polluted: ${polluted.join(',')}`);
    return problems;
  }

  /** Fixed examples of what the fuzzer found (issue 7), so each fix stays covered whatever the seed. */
  describe('regressions found by the fuzzer', () => {
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

    /** Sends a raw request and checks it was refused with the §1 body and `message`, writing nothing. */
    async function refused(
      req: Omit<RawRequest, 'headers'> & { headers?: Record<string, string> },
      status: number,
      message: RegExp,
    ): Promise<RawResponse> {
      await settleDetections();
      const before = await db.fingerprint();
      const res = await client.send({
        ...req,
        headers: { Authorization: admin, Accept: 'application/json', ...req.headers },
      });
      expect({ status: res.status, problem: errorBodyProblem(res) }).toEqual({
        status,
        problem: null,
      });
      expect((res.json as { message: string }).message).toMatch(message);
      await settleDetections();
      expect(await db.fingerprint()).toEqual(before);
      return res;
    }
    const json = { 'Content-Type': 'application/json' };

    it('10,000 nested arrays: 400 naming the field, not a stack overflow (500)', async () => {
      await refused(
        {
          method: 'POST',
          path: '/api/v1/roles',
          headers: json,
          body: Buffer.from(`{"name":"deep","privileges":${deep(10_000)}}`),
        },
        400,
        /^The JSON body nests deeper than 32 levels \(in privileges/,
      );
      // The streamed upload has no body parser in front: its entry check must not recurse.
      const upload = await refused(
        {
          method: 'PUT',
          path: '/api/v1/suppliers/fz-supplier/indicators',
          headers: json,
          body: Buffer.from(`[{"indicator":"deep.example","tags":${deep(10_000)}}]`),
        },
        400,
        /no entry/i,
      );
      expect(JSON.stringify(upload.json)).toContain(
        'tags must be an array of tag names (found an array)',
      );
    });

    it('a NUL character: 400 naming where, not a database error (500)', async () => {
      await refused({ method: 'GET', path: '/api/v1/suppliers/a%00b' }, 400, /path contains a NUL/);
      await refused(
        { method: 'GET', path: '/api/v1/audit-logs?entityType=%00' },
        400,
        /Query parameter "entityType" contains a NUL/,
      );
      await refused(
        {
          method: 'POST',
          path: '/api/v1/api-clients',
          headers: json,
          body: Buffer.from('{"name":"a\\u0000b","role":"Analyst"}'),
        },
        400,
        /^name contains a NUL character/,
      );
      await refused(
        {
          method: 'PATCH',
          path: '/api/v1/roles/fz-role',
          headers: json,
          body: Buffer.from('{"privileges":["search\\u0000"]}'),
        },
        400,
        /^privileges\[0\] contains a NUL character/,
      );
      const upload = await client.send({
        method: 'PUT',
        path: '/api/v1/suppliers/fz-supplier/indicators',
        headers: { Authorization: admin, ...json },
        body: Buffer.from('[{"indicator":"nul.example","context":{"note":"a\\u0000b"}}]'),
      });
      expect(upload.status).toBe(400);
      expect(JSON.stringify(upload.json)).toMatch(/context/);
      // Search still answers such a value per value (docs/api.md §5), in the body and the query.
      const post = await client.send({
        method: 'POST',
        path: '/api/v1/search',
        headers: { Authorization: admin, ...json },
        body: Buffer.from('{"values":["a\\u0000b","evil.com"]}'),
      });
      expect(post.status).toBe(200);
      expect(post.json).toMatchObject({
        results: [{ result: 'invalid' }, { value: 'evil.com', result: 'detected' }],
      });
      const get = await client.send({
        method: 'GET',
        path: '/api/v1/search?value=a%00b',
        headers: { Authorization: admin },
      });
      expect(get.status).toBe(200);
      expect(get.json).toMatchObject({ result: 'invalid' });
    });

    it('__proto__, constructor and prototype keys: 400 naming them, not silently dropped', async () => {
      await refused(
        {
          method: 'POST',
          path: '/api/v1/roles',
          headers: json,
          body: Buffer.from('{"name":"proto","privileges":[],"__proto__":{"polluted":"yes"}}'),
        },
        400,
        /^property __proto__ should not exist$/,
      );
      await refused(
        {
          method: 'PATCH',
          path: '/api/v1/api-clients/' + fixtures.byCollection['api-clients'],
          headers: json,
          body: Buffer.from(
            '{"ipRestriction":{"mode":"allow_all","allowedIps":[],"constructor":{"prototype":{"polluted":"yes"}}}}',
          ),
        },
        400,
        /^property ipRestriction\.constructor should not exist$/,
      );
      await refused(
        {
          method: 'PATCH',
          path: '/api/v1/tags/FZ-TAG',
          headers: json,
          body: Buffer.from('{"prototype":"x"}'),
        },
        400,
        /^property prototype should not exist$/,
      );
      await refused(
        { method: 'GET', path: '/api/v1/users?__proto__[polluted]=yes' },
        400,
        /^property __proto__\[polluted\] should not exist$/,
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('a form body on a JSON route: 415, not parsed as if it were JSON', async () => {
      await refused(
        {
          method: 'POST',
          path: '/api/v1/roles',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: Buffer.from('name=Form&privileges=search'),
        },
        415,
        /Unsupported Content-Type "application\/x-www-form-urlencoded"; send application\/json/,
      );
    });

    it('an upload declaring a charset other than UTF-8: 415, not misread', async () => {
      await refused(
        {
          method: 'PUT',
          path: '/api/v1/suppliers/fz-supplier/indicators',
          headers: { 'Content-Type': 'application/json; charset=latin1' },
          body: Buffer.from('[{"indicator":"caf\xe9.example"}]', 'latin1'),
        },
        415,
        /^Unsupported charset "latin1"/,
      );
    });

    it('an undecodable path parameter: the §1 body with its request id', async () => {
      const res = await refused(
        { method: 'GET', path: '/api/v1/users/%c0%af' },
        400,
        /Failed to decode param/,
      );
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('matchesLimit in a JSON body must be a number; the query string still converts', async () => {
      await refused(
        {
          method: 'POST',
          path: '/api/v1/search',
          headers: json,
          body: Buffer.from('{"values":["evil.com"],"matchesLimit":true}'),
        },
        400,
        /matchesLimit must be an integer number/,
      );
      const get = await asUser(t, admin).get('/api/v1/search?value=evil.com&matchesLimit=5');
      expect(get.status).toBe(200);
      expect(get.body).toMatchObject({ result: 'detected' });
    });

    it('PATCH with "name": null leaves the name (as for every optional field), not a 500', async () => {
      for (const path of ['/api/v1/suppliers/fz-supplier', '/api/v1/tags/FZ-TAG']) {
        const res = await asUser(t, admin).patch(path).send({ name: null });
        expect(res.status).toBe(200);
        expect(res.body.name).toBe(path.split('/').pop());
      }
    });
  });

  describe('fuzzing', () => {
    it('never answers a hostile request with a 5xx, a non-§1 body, a nameless 400 or a half-write', async () => {
      const ops = operationsOf(doc);
      expect(ops.length).toBeGreaterThan(40);
      const failures: string[] = [];
      const started = Date.now();
      let cases = 0;
      for (const [i, op] of ops.entries()) {
        const f = new Fuzzer(doc, op, fixtures, admin);
        try {
          await fc.assert(
            fc.asyncProperty(f.specArb(), async (spec) => {
              const built = f.build(spec);
              cases++;
              const problems = await judge(f, built);
              if (problems.length > 0)
                throw new Error(`${built.label}\n  ${problems.join('\n  ')}`);
            }),
            { numRuns: RUNS, seed: SEED + i, endOnFailure: true },
          );
        } catch (e) {
          const err = e as Error;
          const cause = err.cause instanceof Error ? err.cause.message : '';
          const summary = err.message.split('\n').filter((l) => /Counterexample|seed/.test(l));
          failures.push(`${op.method} ${op.path}\n${cause}\n${summary.join('\n')}`);
        }
      }
      console.log(`fuzzed ${ops.length} operations, ${cases} cases in ${Date.now() - started} ms`);
      expect(failures).toEqual([]);
    }, 600_000);

    it('left no polluted prototype and a server that still works', async () => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeysBefore);
      expect(Object.getOwnPropertyNames(Array.prototype)).not.toContain('polluted');
      const me = await asUser(t, admin).get('/api/v1/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ type: 'user', name: 'admin', role: 'Administrator' });
      // The fingerprint and the audit check see a business write (so they can fail above).
      const before = await db.fingerprint();
      const head = await db.auditHead();
      const role = await asUser(t, admin)
        .post('/api/v1/roles')
        .send({ name: 'fz-after', privileges: ['search'] });
      expect(role.status).toBe(201);
      const after = await db.fingerprint();
      expect(Object.keys(after).filter((k) => after[k] !== before[k])).toEqual(['roles']);
      expect(await db.auditAfter(head)).toEqual([
        expect.objectContaining({ action: 'role.create', outcome: 'success' }),
      ]);
      expect(role.body).toMatchObject({ name: 'fz-after', privileges: ['search'] });
      expect(Object.getPrototypeOf(role.body)).toBe(Object.prototype);
      const verify = await asUser(t, admin).get('/api/v1/audit-logs/verify');
      expect(verify.body).toMatchObject({ valid: true });
    });
  });
});
