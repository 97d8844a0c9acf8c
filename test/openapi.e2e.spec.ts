import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createTestApp, TestApp } from './support/test-app';

type Json = Record<string, unknown>;
interface Operation {
  summary?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: unknown;
  responses: Record<string, { description?: string; headers?: Json; content?: Json }>;
}

const ERROR_BODY = '#/components/schemas/ErrorBody';
const OAUTH_ERROR_BODY = '#/components/schemas/OAuthErrorBody';
/** The TAXII 2.1 routes answer errors in the TAXII error shape (docs/api.md §10). */
const TAXII_ERROR_BODY = '#/components/schemas/TaxiiErrorBody';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** docs/api.md §2: the only operations open without credentials. */
const PUBLIC = [
  'GET /health/live',
  'GET /health/ready',
  'POST /api/v1/oauth/token',
  'POST /api/v1/session',
];
/** The console's own session (docs/console.md): the session cookie only. */
const SESSION_ONLY = ['GET /api/v1/session', 'DELETE /api/v1/session'];
/** Outside the request pipeline (no Accept check, body parser or concurrency limit). */
const HEALTH = ['GET /health/live', 'GET /health/ready'];
/** 409s the contract names (duplicates, built-ins, the last Administrator). */
const CONFLICTS = [
  'POST /api/v1/roles',
  'PATCH /api/v1/roles/{name}',
  'DELETE /api/v1/roles/{name}',
  'POST /api/v1/users',
  'PATCH /api/v1/users/{id}',
  'DELETE /api/v1/users/{id}',
  'POST /api/v1/suppliers',
  'PATCH /api/v1/suppliers/{name}',
  'DELETE /api/v1/suppliers/{name}',
  'POST /api/v1/tags',
];
/** docs/api.md §1 body limits; everything else 1 MiB. */
const BODY_LIMITS: Record<string, string> = {
  'PUT /api/v1/suppliers/{name}/indicators': '128 MiB',
  'POST /api/v1/search': '64 MiB',
};
/** RFC 6749 §5.2 fixes the token endpoint's own error body for these (docs/api.md §2). */
const OAUTH_ERRORS = ['400', '401', '403'];

/** JSON pointers where two documents differ (at most `max`), to say what is stale. */
function differences(a: unknown, b: unknown, at = '', out: string[] = [], max = 10): string[] {
  if (out.length >= max || isDeepStrictEqual(a, b)) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      differences(
        (a as Json)[k],
        (b as Json)[k],
        `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        out,
        max,
      );
    }
    return out;
  }
  out.push(at || '/');
  return out;
}

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: { paths: Record<string, Record<string, Operation>> } & Json;
  const operations: Array<[string, Operation]> = [];

  beforeAll(async () => {
    t = await createTestApp();
    const res = await t.api().get('/docs-json').expect(200);
    doc = res.body;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        if (item[method]) operations.push([`${method.toUpperCase()} ${path}`, item[method]]);
      }
    }
  });
  afterAll(() => t.close());

  it('matches the committed openapi.json', () => {
    let committed: unknown;
    try {
      committed = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8'));
    } catch (e) {
      throw new Error(`openapi.json is stale: run npm run openapi (${(e as Error).message})`, {
        cause: e,
      });
    }
    if (!isDeepStrictEqual(doc, committed)) {
      const live = join(tmpdir(), 'indicium-openapi.live.json');
      writeFileSync(live, `${JSON.stringify(doc, null, 2)}\n`);
      throw new Error(
        `openapi.json is stale: run npm run openapi\nDiffers (live document: ${live}) at:\n  ${differences(doc, committed).join('\n  ')}`,
      );
    }
  });

  it('leaves exactly the public routes of docs/api.md §2 without security', () => {
    expect(operations.length).toBeGreaterThan(40);
    const open = operations.filter(([, op]) => op.security?.length === 0).map(([id]) => id);
    expect(open.sort()).toEqual([...PUBLIC].sort());
  });

  it('gives every operation a tag, a short summary, its security and its 4xx responses', () => {
    const problems: string[] = [];
    const declaredTags = (doc.tags as Array<{ name: string; description?: string }>)
      .filter((tag) => tag.description)
      .map((tag) => tag.name);
    for (const [id, op] of operations) {
      const problem = (what: string): void => void problems.push(`${id}: ${what}`);
      const has = (status: string): boolean => op.responses[status] !== undefined;
      const isPublic = PUBLIC.includes(id);
      const inPipeline = !HEALTH.includes(id) && id.split(' ')[1].startsWith('/api/');
      const params = op.parameters ?? [];

      if (op.tags?.length !== 1 || !declaredTags.includes(op.tags[0]))
        problem(`tags ${JSON.stringify(op.tags)}: want one tag declared at the top level`);
      if (!op.summary?.trim()) problem('no summary');
      else if (op.summary.includes('\n') || op.summary.length > 120)
        problem('summary longer than one line of 120 characters (use @remarks for the rest)');

      if (isPublic) {
        if (!isDeepStrictEqual(op.security, [])) problem('public route without `security: []`');
      } else {
        const security = SESSION_ONLY.includes(id)
          ? [{ session: [] }]
          : [{ basic: [] }, { oauth2: [] }];
        if (!isDeepStrictEqual(op.security, security))
          problem(`security ${JSON.stringify(op.security)}, not ${JSON.stringify(security)}`);
        for (const s of ['401', '403', '429']) if (!has(s)) problem(`no ${s}`);
        if (!op.responses['401']?.headers?.['WWW-Authenticate'])
          problem('401 without WWW-Authenticate');
      }

      const validated =
        op.requestBody !== undefined ||
        params.some((p) => p.in === 'query' || (p.in === 'path' && p.name === 'id'));
      if (validated && !has('400')) problem('takes input but has no 400');
      if (params.some((p) => p.in === 'path') && !has('404')) problem('path parameter but no 404');
      if (CONFLICTS.includes(id) && !has('409')) problem('no 409 (docs/api.md)');
      if (inPipeline) {
        if (!has('406')) problem('no 406 (Accept excludes JSON)');
        if (!has('429')) problem('no 429 (concurrency limit)');
      }
      if (op.requestBody !== undefined) {
        if (!has('415')) problem('takes a body but has no 415');
        const limit = BODY_LIMITS[id] ?? '1 MiB';
        if (!op.responses['413']?.description?.includes(limit)) problem(`no 413 naming ${limit}`);
      }
      if (has('429') && !op.responses['429'].headers?.['Retry-After'])
        problem('429 without Retry-After');

      for (const [status, response] of Object.entries(op.responses)) {
        if (!response.description?.trim()) problem(`${status} without a description`);
        if (Number(status) < 400) continue;
        const schema = (response.content?.['application/json'] as { schema?: { $ref?: string } })
          ?.schema?.$ref;
        const expected =
          id === 'POST /api/v1/oauth/token' && OAUTH_ERRORS.includes(status)
            ? OAUTH_ERROR_BODY
            : id.startsWith('GET /taxii2')
              ? TAXII_ERROR_BODY
              : ERROR_BODY;
        if (schema !== expected)
          problem(`${status} body is ${schema ?? 'undocumented'}, not ${expected}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('describes the error body of docs/api.md §1', () => {
    const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;
    expect(schemas.ErrorBody).toMatchObject({
      type: 'object',
      required: ['statusCode', 'error', 'code', 'message', 'requestId'],
      properties: {
        statusCode: { type: 'integer' },
        error: { type: 'string' },
        code: { allOf: [{ $ref: '#/components/schemas/ErrorCode' }] },
        message: { type: 'string' },
        details: { type: 'array' },
        requestId: { type: 'string' },
      },
    });
  });
});
