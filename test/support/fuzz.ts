import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { TestApp } from './test-app';

/*
 * Helpers of the bad-input fuzz (test/fuzz.e2e.spec.ts): reading the live OpenAPI document,
 * sampling and breaking request bodies from its schemas, sending raw HTTP requests, checking
 * the docs/api.md §1 error body, and fingerprinting the database.
 */

// ---------------------------------------------------------------- OpenAPI document

export interface Schema {
  type?: string;
  $ref?: string;
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  nullable?: boolean;
  example?: unknown;
  default?: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface RawOperation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
  security?: unknown[];
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  method: string;
  /** The templated path of the document, e.g. `/api/v1/users/{id}`. */
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  body?: { contentTypes: string[]; schema: Schema };
  /** Schemas the document gives for error responses other than the §1 ErrorBody. */
  otherErrorSchemas: Schema[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Every operation of the document: walked, not listed, so new routes are fuzzed too. */
export function operationsOf(doc: OpenApiDoc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const params = raw.parameters ?? [];
      const content = raw.requestBody?.content ?? {};
      const contentTypes = Object.keys(content);
      const otherErrorSchemas: Schema[] = [];
      for (const [status, response] of Object.entries(raw.responses ?? {})) {
        if (!/^[45]/.test(status)) continue;
        for (const media of Object.values(response.content ?? {})) {
          if (media.schema && media.schema.$ref !== '#/components/schemas/ErrorBody')
            otherErrorSchemas.push(resolve(doc, media.schema));
        }
      }
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        body:
          contentTypes.length > 0
            ? {
                contentTypes,
                schema: resolve(doc, content[contentTypes[0]].schema ?? {}),
              }
            : undefined,
        otherErrorSchemas,
      });
    }
  }
  return ops;
}

/** Resolves `$ref` and merges `allOf` (one level at a time; call again on nested schemas). */
export function resolve(doc: OpenApiDoc, schema: Schema): Schema {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolvable ${schema.$ref}`);
    const rest: Schema = { ...schema };
    delete rest.$ref;
    return { ...resolve(doc, target), ...rest };
  }
  if (schema.allOf) {
    const merged: Schema = { ...schema };
    delete merged.allOf;
    for (const part of schema.allOf) Object.assign(merged, resolve(doc, part));
    return merged;
  }
  return schema;
}

function typeOf(s: Schema): string {
  if (s.type) return s.type;
  if (s.enum) return typeof s.enum[0];
  if (s.properties) return 'object';
  if (s.items) return 'array';
  return 'unknown';
}

/** A plausible value for `schema`: its example or default when given, else one made to fit. */
export function sample(doc: OpenApiDoc, raw: Schema, depth = 0): unknown {
  const s = resolve(doc, raw);
  if (s.example !== undefined) return structuredClone(s.example);
  if (s.enum) return s.enum[0];
  if (s.default !== undefined) return structuredClone(s.default);
  switch (typeOf(s)) {
    case 'string':
      return sampleString(s);
    case 'number':
    case 'integer':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array': {
      const n = s.minItems ?? 0;
      return Array.from({ length: n }, (_, i) =>
        s.items ? distinct(sample(doc, s.items, depth + 1), i) : i,
      );
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      if (depth > 4) return out;
      for (const name of s.required ?? []) {
        const prop = s.properties?.[name];
        if (prop) out[name] = sample(doc, prop, depth + 1);
      }
      return out;
    }
    default:
      return 'fz';
  }
}

function distinct(v: unknown, i: number): unknown {
  return typeof v === 'string' && i > 0 ? `${v}${i}` : v;
}

function sampleString(s: Schema): string {
  if (s.format === 'date-time') return '2026-01-01T00:00:00Z';
  if (s.format === 'uri') return 'https://example.org/fz';
  const min = Math.max(s.minLength ?? 1, s.format === 'password' ? 12 : 1);
  const candidate = 'fzvalue'.padEnd(min, 'x');
  if (!s.pattern || new RegExp(s.pattern).test(candidate)) return candidate;
  return 'a'.padEnd(min, 'a');
}

/** A place in a body that the fuzzer breaks: a property, perhaps nested or inside an array. */
export interface Slot {
  path: Array<string | number>;
  name: string;
  schema: Schema;
  required: boolean;
}

/** The properties of a body schema (and of its nested objects, and of an array's items). */
export function slotsOf(doc: OpenApiDoc, raw: Schema): Slot[] {
  const slots: Slot[] = [];
  const walk = (schema: Schema, path: Array<string | number>, depth: number): void => {
    const s = resolve(doc, schema);
    if (typeOf(s) === 'array' && s.items && depth === 0) {
      walk(s.items, [...path, 0], depth + 1);
      return;
    }
    if (typeOf(s) !== 'object' || depth > 2) return;
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      const resolved = resolve(doc, prop);
      slots.push({
        path: [...path, name],
        name,
        schema: resolved,
        required: (s.required ?? []).includes(name),
      });
      if (typeOf(resolved) === 'object' && resolved.properties)
        walk(resolved, [...path, name], depth + 1);
    }
  };
  walk(raw, [], 0);
  return slots;
}

/** A copy of `base` with `value` at `path`, creating missing parents from the schema. */
export function setAt(
  doc: OpenApiDoc,
  bodySchema: Schema,
  base: unknown,
  path: Array<string | number>,
  value: unknown,
): unknown {
  const root = structuredClone(base);
  let schema = resolve(doc, bodySchema);
  let node = root as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    schema = resolve(
      doc,
      typeof key === 'number' ? (schema.items ?? {}) : (schema.properties?.[key] ?? {}),
    );
    let next = node[key];
    if (typeof next !== 'object' || next === null) {
      next = sample(doc, schema);
      if (typeof next !== 'object' || next === null)
        next = typeof path[i + 1] === 'number' ? [] : {};
      node[key] = next;
    }
    node = next as Record<string | number, unknown>;
  }
  node[path[path.length - 1]] = value;
  return root;
}

/** One way of breaking a slot: the value and whether the API must refuse it. */
export interface Breakage {
  value: unknown;
  why: string;
  /** true: the request must get a 4xx naming the slot; false: anything but a 5xx. */
  reject: boolean;
  /** Only the items of an array are wrong (some operations judge each item on its own). */
  items?: boolean;
}

/** Wrong types, out-of-range and out-of-set values for a slot's schema. */
export function breakagesOf(slot: Slot): Breakage[] {
  const s = slot.schema;
  const out: Breakage[] = [];
  const wrong = (value: unknown, why: string, items = false): void => {
    out.push({ value, why, reject: true, items });
  };
  const type = typeOf(s);
  if (type !== 'string') {
    wrong('fz', 'a string');
    wrong('', 'an empty string');
  }
  if (type !== 'number' && type !== 'integer') {
    wrong(12345, 'a number');
    wrong(-1.5, 'a negative fraction');
  }
  if (type !== 'boolean') wrong(true, 'a boolean');
  if (type !== 'object') wrong({ fz: 'x' }, 'an object');
  if (type !== 'array') wrong(['fz'], 'an array');
  if (slot.required) wrong(null, 'null for a required field');
  else if (!s.nullable) out.push({ value: null, why: 'null for an optional field', reject: false });
  if (s.enum) {
    wrong('fz-not-in-the-enum', 'a value outside the enum');
    if (typeof s.enum[0] === 'string') wrong(` ${s.enum[0]}`, 'an enum value with a space');
  }
  switch (type) {
    case 'number':
    case 'integer':
      wrong(String(s.minimum ?? 1), 'a numeric string');
      if (s.minimum !== undefined) wrong(s.minimum - 1, 'below the minimum');
      if (s.maximum !== undefined) wrong(s.maximum + 1, 'above the maximum');
      break;
    case 'string':
      if (s.maxLength !== undefined) wrong('x'.repeat(s.maxLength + 1), 'one above maxLength');
      if (s.minLength !== undefined && s.minLength > 0)
        wrong('x'.repeat(s.minLength - 1), 'one below minLength');
      if (s.pattern && !new RegExp(s.pattern).test('!! ../ <x>'))
        wrong('!! ../ <x>', 'not matching the pattern');
      if (s.format === 'date-time') wrong('2026-13-45T99:99:99Z', 'an impossible date');
      if (s.format === 'uri') wrong('not a url', 'not a URI');
      break;
    case 'boolean':
      wrong('true', 'the string "true"');
      wrong(1, 'the number 1');
      break;
    case 'array':
      wrong([{ fz: 1 }], 'an array of objects', true);
      wrong([[['fz']]], 'an array of arrays', true);
      if (typeOf(s.items ?? {}) === 'string') wrong([12345], 'an array of numbers', true);
      if (s.maxItems !== undefined)
        wrong(
          Array.from({ length: s.maxItems + 1 }, (_, i) => `fz${i}`),
          'one item above maxItems',
        );
      if (s.items?.enum) wrong(['fz-not-in-the-enum'], 'an item outside the enum', true);
      if (s.uniqueItems) {
        const item = s.items?.enum?.[0] ?? 'fz';
        wrong([item, item], 'duplicate items');
      }
      break;
    case 'object':
      wrong({ ['fz-unknown']: { deep: [1] } }, 'an object with an unknown field');
      wrong({ fz: 'a\u0000b' }, 'an object holding a NUL character');
      break;
  }
  return out;
}

// ---------------------------------------------------------------- raw HTTP

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface RawRequest {
  method: string;
  /** Sent as is: percent-encode anything HTTP does not allow in a request target. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Sends exactly these bytes (no client-side normalisation of path or body). */
export class RawClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly port: number) {}

  static async listen(t: TestApp): Promise<RawClient> {
    const server = (await t.app.listen(0, '127.0.0.1')) as Server;
    return new RawClient((server.address() as AddressInfo).port);
  }

  send(req: RawRequest): Promise<RawResponse> {
    return new Promise((resolvePromise, reject) => {
      let answered = false;
      const r = httpRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          method: req.method,
          path: req.path,
          agent: this.agent,
          headers: {
            ...req.headers,
            ...(req.body ? { 'Content-Length': String(req.body.length) } : {}),
          },
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      // The server may answer (413, 415) and close before it has read a large body.
      r.on('error', (err) => {
        if (!answered) reject(err);
      });
      r.end(req.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------- assertions

/** Why `res` is not a §1 error body (statusCode, error, code, message, requestId, details?); null if it is. */
export function errorBodyProblem(res: RawResponse): string | null {
  const b = res.json as Record<string, unknown> | undefined;
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    return `body is not a JSON object: ${res.text.slice(0, 200)}`;
  if (!String(res.headers['content-type']).startsWith('application/json'))
    return `Content-Type ${String(res.headers['content-type'])}`;
  if (b.statusCode !== res.status) return `statusCode ${String(b.statusCode)} ≠ ${res.status}`;
  if (typeof b.error !== 'string' || b.error === '') return 'no error';
  if (typeof b.code !== 'string' || !/^[a-z_]+$/.test(b.code)) return 'no code';
  if (typeof b.message !== 'string' || b.message.trim() === '') return 'no message';
  if (typeof b.requestId !== 'string' || b.requestId === '') return 'no requestId';
  if (b.requestId !== res.headers['x-request-id']) return 'requestId ≠ X-Request-Id';
  if (b.details !== undefined && !Array.isArray(b.details)) return 'details is not an array';
  const extra = Object.keys(b).filter(
    (k) => !['statusCode', 'error', 'code', 'message', 'details', 'requestId'].includes(k),
  );
  if (extra.length > 0) return `unexpected keys ${extra.join(', ')}`;
  if (res.status >= 500 && /at .+\(|QueryFailed|SELECT|INSERT|UPDATE /.test(b.message))
    return 'a 5xx message leaks internals';
  return null;
}

/** Why `res` is not an error body of one of `schemas` (e.g. RFC 6749 §5.2); null if it is. */
export function documentedErrorProblem(res: RawResponse, schemas: Schema[]): string | null {
  const b = res.json as Record<string, unknown> | undefined;
  if (typeof b !== 'object' || b === null) return 'not a JSON object';
  for (const s of schemas) {
    const props = s.properties ?? {};
    const ok =
      Object.keys(b).every((k) => k in props) &&
      (s.required ?? []).every((k) => typeof b[k] === 'string' && b[k] !== '') &&
      Object.entries(props).every(
        ([k, p]) => !p.enum || b[k] === undefined || p.enum.includes(b[k]),
      );
    if (ok) return null;
  }
  return `not a documented error body: ${res.text.slice(0, 200)}`;
}

// ---------------------------------------------------------------- database fingerprint

/**
 * Columns that change on requests that are not writes (last use of a credential) or in the
 * background (SIEM delivery progress and leases, feed runs); excluded from the fingerprint.
 */
const VOLATILE: Record<string, string[]> = {
  users: ['last_login_at'],
  api_clients: ['last_used_at', 'last_used_ip'],
  siem_integrations: [
    'last_delivered_sequence',
    'last_delivered_detection',
    'last_delivered_at',
    'last_error',
    'lease_owner',
    'lease_until',
  ],
  // Feed runs (src/feeds) of feeds the fuzzer configured happen in the background.
  feeds: [
    'run_requested',
    'next_run_at',
    'lease_owner',
    'lease_until',
    'last_run_at',
    'last_success_at',
    'last_outcome',
    'last_error',
    'last_counts',
    'validators',
    'cursor',
  ],
};

/**
 * The audit log is checked by what was appended, not by its fingerprint; migrations never
 * change. Failed-login and refusal counters are what a refused request is meant to change
 * (docs/api.md §2, lockout), as the audit log is.
 */
const NOT_FINGERPRINTED = [
  'audit_log',
  'schema_migrations',
  'auth_lockouts',
  'auth_refusals',
  // Appended by background feed runs.
  'feed_runs',
];

export interface AuditAppend {
  sequence: number;
  action: string;
  outcome: string;
}

/**
 * Reads the test database directly: a pg Client on DATABASE_URL, or the app's own DataSource
 * on the embedded database (which accepts one connection only).
 */
export class DbProbe {
  private fingerprintSql = '';

  private constructor(
    private readonly query: (
      sql: string,
      params?: unknown[],
    ) => Promise<Array<Record<string, unknown>>>,
    private readonly done: () => Promise<void>,
  ) {}

  static async open(t: TestApp): Promise<DbProbe> {
    const url = t.config.env.DATABASE_URL;
    let probe: DbProbe;
    if (url) {
      const client = new Client({ connectionString: url });
      await client.connect();
      probe = new DbProbe(
        async (sql, params) =>
          (await client.query(sql, params)).rows as Array<Record<string, unknown>>,
        () => client.end(),
      );
    } else {
      const ds = t.app.get(DataSource);
      probe = new DbProbe(
        (sql, params) => ds.query<Array<Record<string, unknown>>>(sql, params),
        () => Promise.resolve(),
      );
    }
    const tables = await probe.query(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const parts = tables
      .map((r) => String(r.name))
      .filter((name) => !NOT_FINGERPRINTED.includes(name))
      .map((name) => {
        const minus = (VOLATILE[name] ?? []).map((c) => ` - '${c}'`).join('');
        const row = `(to_jsonb(t)${minus})::text`;
        return `SELECT '${name}' AS name, count(*)::int AS rows,
                  md5(coalesce(string_agg(${row}, ',' ORDER BY ${row}), '')) AS hash
                FROM "${name}" t`;
      });
    if (parts.length < 5) throw new Error(`only ${parts.length} tables found to fingerprint`);
    probe.fingerprintSql = parts.join('\nUNION ALL\n');
    return probe;
  }

  /** Row count and content hash of every application table but the audit log. */
  async fingerprint(): Promise<Record<string, string>> {
    const rows = await this.query(this.fingerprintSql);
    return Object.fromEntries(
      rows.map((r) => [String(r.name), `${String(r.rows)}:${String(r.hash)}`]),
    );
  }

  async auditHead(): Promise<number> {
    const [row] = await this.query('SELECT coalesce(max(sequence), 0)::int AS seq FROM audit_log');
    return Number(row.seq);
  }

  async auditAfter(sequence: number): Promise<AuditAppend[]> {
    const rows = await this.query(
      'SELECT sequence::int AS sequence, action, outcome FROM audit_log WHERE sequence > $1 ORDER BY sequence',
      [sequence],
    );
    return rows.map((r) => ({
      sequence: Number(r.sequence),
      action: String(r.action),
      outcome: String(r.outcome),
    }));
  }

  close(): Promise<void> {
    return this.done();
  }
}
