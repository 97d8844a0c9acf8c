import {
  BadRequestException,
  HttpException,
  HttpStatus,
  Injectable,
  NestMiddleware,
} from '@nestjs/common';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { readBody, readOffThen } from './body-reader';
import { parseJsonSliced } from './sliced-json';
import { WorkBudget } from './work-budget';

export const MiB = 1024 * 1024;

/** Body size limits of docs/api.md §1: search 64 MiB, everything else 1 MiB (uploads stream their own). */
const SEARCH_LIMIT = 64 * MiB;
const DEFAULT_LIMIT = 1 * MiB;
const searchJson = express.json({ limit: SEARCH_LIMIT, strict: true });
const defaultJson = express.json({ limit: DEFAULT_LIMIT, strict: true });
/** Values one search takes (docs/api.md, limits). */
export const SEARCH_MAX_VALUES = 100_000;
/**
 * Search bodies from this size on (or of unknown size) are read as bytes and parsed a slice at
 * a time (readBody, parseJsonSliced); smaller ones, and any with a charset other than UTF-8 or
 * a content encoding, go through express.json() as before.
 */
const SLICED_FROM = 1 * MiB;
const PLAIN_JSON = /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i;
const form = express.urlencoded({ limit: 1 * MiB, extended: false });

/** Routes that read their body as a stream themselves (with their own limit). */
const STREAMED = [/^\/api\/v1\/suppliers\/[^/]+\/indicators\/?$/];
/** Routes that take a form (OAuth 2.0 token requests, RFC 6749); every other body is JSON. */
const FORM_PATHS = new Set(['/api/v1/oauth/token']);
/** Search judges each value itself (control characters make a value `invalid`, docs/api.md §5). */
const SEARCH_PATH = '/api/v1/search';
/**
 * No documented body nests more than a few levels. Deeper JSON is refused before validation,
 * whose recursive transform would overflow the stack (a 500) on hostile nesting.
 */
const MAX_JSON_DEPTH = 32;
/**
 * Field names that the validation pipe would silently drop (its prototype-pollution guard), so
 * they would be neither applied nor refused: refused here, like every unknown field.
 */
const PROTO_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * What a body takes from the WorkBudget until its response is done, measured as RSS growth of
 * the built server: a JSON body is held as bytes and then parsed (2×); a search body's bytes,
 * decoded string, parsed and normalised values come to ~4×, and each value (at least 4 bytes of
 * JSON) ~1 KiB of subjects, plan, result and its share of the streamed answer; an upload
 * streams, holding at most a write batch.
 */
const JSON_SHARE_PER_BYTE = 2;
const SEARCH_SHARE_PER_BYTE = 4;
const SEARCH_SHARE_PER_VALUE = 1024;
const UPLOAD_SHARE = 32 * MiB;

function bodyShare(search: boolean, declaredBytes: number | undefined): number {
  const limit = search ? SEARCH_LIMIT : DEFAULT_LIMIT;
  // A body declared over its limit is refused (413) before much of it is read.
  const bytes = Math.min(declaredBytes ?? limit, limit);
  if (!search) return bytes * JSON_SHARE_PER_BYTE;
  const values = Math.min(SEARCH_MAX_VALUES, Math.ceil(bytes / 4));
  return bytes * SEARCH_SHARE_PER_BYTE + values * SEARCH_SHARE_PER_VALUE;
}

@Injectable()
export class BodyParserMiddleware implements NestMiddleware {
  constructor(private readonly budget: WorkBudget) {}

  use(req: Request, res: Response, next: NextFunction): void {
    // Nest mounts middleware on a wildcard route, so req.path is "/" here: match the full path,
    // ignoring case and a trailing slash as Express's routing does.
    const q = req.originalUrl.indexOf('?');
    const path = (q < 0 ? req.originalUrl : req.originalUrl.slice(0, q))
      .toLowerCase()
      .replace(/(.)\/$/, '$1');
    // Postgres text cannot hold U+0000: refuse it before it reaches a query (a 500).
    if (path.includes('%00')) {
      return refuse(
        req,
        next,
        new BadRequestException('The request path contains a NUL character (%00)'),
      );
    }
    if (q >= 0) {
      const query = req.originalUrl.slice(q + 1);
      if (/%|proto|constructor/i.test(query)) {
        const problem = queryProblem(query, path !== SEARCH_PATH);
        if (problem) return refuse(req, next, new BadRequestException(problem));
      }
    }
    if (!hasBody(req)) return next();
    const streamed = req.method === 'PUT' && STREAMED.some((re) => re.test(path));
    const length = Number(req.headers['content-length']);
    // Taken before a byte is read: a body waiting for the budget stays in the client's socket.
    const share = streamed
      ? UPLOAD_SHARE
      : bodyShare(path === SEARCH_PATH, Number.isSafeInteger(length) ? length : undefined);
    this.budget.take(share, res).then(
      () => (streamed ? next() : this.parse(path, req, res, next)),
      (err: unknown) => refuse(req, next, err),
    );
  }

  private parse(path: string, req: Request, res: Response, next: NextFunction): void {
    const checked = (err?: unknown): void => {
      if (err) return next(err);
      this.check(path, req, res, next);
    };
    if (path !== SEARCH_PATH) return defaultJson(req, res, checked);
    const length = Number(req.headers['content-length']);
    const encoding = req.headers['content-encoding'];
    const plain =
      PLAIN_JSON.test(String(req.headers['content-type'] ?? '')) &&
      (encoding === undefined || encoding.toLowerCase() === 'identity');
    if (!plain || length < SLICED_FROM) return searchJson(req, res, checked);
    readBody(req, SEARCH_LIMIT)
      .then(parseSearchBytes)
      .then((body) => {
        req.body = body;
        checked();
      }, next);
  }

  private check(path: string, req: Request, res: Response, next: NextFunction): void {
    const parseForm = FORM_PATHS.has(path) ? form : skipParser;
    parseForm(req, res, (formErr?: unknown) => {
      if (formErr) return next(formErr);
      if (req.body === undefined) {
        return next(
          new HttpException(
            `Unsupported Content-Type "${String(req.headers['content-type'] ?? '')}"; send application/json`,
            HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          ),
        );
      }
      const problem = bodyProblem(req.body, path !== SEARCH_PATH);
      if (problem) return next(new BadRequestException(problem));
      next();
    });
  }
}

/**
 * Answers `err` once the rest of the request is read off and dropped (readOffThen). Answered
 * while the client is still sending, the connection is closed with its bytes unread: the
 * kernel then resets it, and the client may lose the answer (a 429 became ECONNRESET).
 */
function refuse(req: Request, next: NextFunction, err: unknown): void {
  readOffThen(req, () => next(err));
}

/**
 * A search body's bytes parsed as express.json({ strict: true }) would, to the same value or
 * the same error, but a slice at a time; a text it cannot take apart (invalid JSON among
 * them) is parsed whole, for JSON.parse's own error message.
 */
async function parseSearchBytes(bytes: Buffer): Promise<unknown> {
  const sliced = await parseJsonSliced(bytes);
  if (sliced) return sliced.value;
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return strictJson(bytes.toString('utf8', bom ? 3 : 0));
}

/** body-parser's json() parse with `strict` (its errors too: type entity.parse.failed). */
function strictJson(text: string): unknown {
  if (text.length === 0) return {};
  let i = 0;
  while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  const first = text[i] as string | undefined;
  try {
    if (first !== '{' && first !== '[') {
      // JSON.parse's own message for the first character, as body-parser words it.
      const at = first ? i : -1;
      const masked = at < 0 ? '' : text.slice(0, at) + '#'.repeat(text.length - at);
      try {
        JSON.parse(masked);
      } catch (e) {
        const err = e as SyntaxError;
        err.message = err.message.replace(/#+/g, (m) => text.substring(at, at + m.length));
        throw err;
      }
      throw new SyntaxError('strict violation');
    }
    return JSON.parse(text);
  } catch (e) {
    throw Object.assign(e as SyntaxError, {
      expose: true,
      status: 400,
      statusCode: 400,
      type: 'entity.parse.failed',
      body: text,
    });
  }
}

function skipParser(_req: Request, _res: Response, next: NextFunction): void {
  next();
}

/** Why a query string is refused, naming the parameter; null when fine. */
function queryProblem(query: string, checkNul: boolean): string | null {
  for (const [name, value] of new URLSearchParams(query)) {
    const shown = name.replaceAll('\0', '\\0');
    if (PROTO_KEYS.has(name.split('[', 1)[0])) return `property ${shown} should not exist`;
    if (checkNul && (name.includes('\0') || value.includes('\0')))
      return `Query parameter "${shown}" contains a NUL character (U+0000)`;
  }
  return null;
}

/**
 * Why a parsed body is refused, naming where: nesting deeper than MAX_JSON_DEPTH, a field name
 * of PROTO_KEYS, or (when `checkNul`) a NUL character, which Postgres cannot store. Null when
 * fine. Iterative, so hostile nesting cannot overflow the stack here either; arrays are walked
 * by index, so a search of 100,000 values costs no allocation per value.
 */
function bodyProblem(body: unknown, checkNul: boolean): string | null {
  const stack: Array<{ node: object; depth: number; path: string }> = [];
  if (typeof body === 'object' && body !== null) stack.push({ node: body, depth: 1, path: '' });
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop() as { node: object; depth: number; path: string };
    const items = Array.isArray(node) ? (node as unknown[]) : null;
    const keys = items ? null : Object.keys(node);
    const at = (i: number): string =>
      keys ? (path ? `${path}.${keys[i]}` : keys[i]) : `${path}[${i}]`;
    const count = items ? items.length : (keys as string[]).length;
    for (let i = 0; i < count; i++) {
      if (keys) {
        if (PROTO_KEYS.has(keys[i])) return `property ${at(i)} should not exist`;
        if (checkNul && keys[i].includes('\0'))
          return `A field name in ${path || 'the body'} contains a NUL character (U+0000)`;
      }
      const value = items ? items[i] : (node as Record<string, unknown>)[(keys as string[])[i]];
      if (typeof value === 'string') {
        if (checkNul && value.includes('\0'))
          return `${at(i)} contains a NUL character (U+0000), which is not allowed`;
      } else if (typeof value === 'object' && value !== null) {
        if (depth >= MAX_JSON_DEPTH)
          return `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels (in ${path})`;
        // Paths are named to a few levels: enough to find the field, bounded in length.
        stack.push({ node: value, depth: depth + 1, path: depth < 4 ? at(i) : path });
      }
    }
  }
  return null;
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
