import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BadGatewayException,
  BadRequestException,
  ForbiddenException,
  HttpException,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
  type ArgumentsHost,
} from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import * as errors from './domain-errors';
import { DomainError } from './domain-errors';
import { ALL_ERROR_CODES, CODE_OF_STATUS, ERROR_CODES, type ErrorCode } from './error-codes';
import { HttpExceptionFilter } from './http-exception.filter';

type Exports = typeof errors;
/** The names of the concrete error classes the module exports. */
type ErrorClassName = {
  [K in keyof Exports]: Exports[K] extends new (...args: never[]) => DomainError ? K : never;
}[keyof Exports];

/** One instance of every error class: a class added without its sample does not compile. */
const SAMPLES: Record<ErrorClassName, () => DomainError> = {
  ValidationError: () => new errors.ValidationError('limit must not be greater than 1000'),
  MalformedBodyError: () => new errors.MalformedBodyError('Malformed JSON body: unexpected end'),
  NoValidEntriesError: () =>
    new errors.NoValidEntriesError([{ index: 0, indicator: 'x', reason: 'not an indicator' }]),
  UnknownReferenceError: () => new errors.UnknownReferenceError('role "Nobody" does not exist'),
  ForbiddenError: () => new errors.ForbiddenError('API clients have no password'),
  SupplierNotFoundError: () => new errors.SupplierNotFoundError('Acme'),
  TagNotFoundError: () => new errors.TagNotFoundError('apt28'),
  RoleNotFoundError: () => new errors.RoleNotFoundError('Auditor'),
  NoSessionError: () => new errors.NoSessionError(),
  UserNotFoundError: () => new errors.UserNotFoundError('0b6a0e9e-5d1b-4e8e-9a43-0d3c7f0a2b11'),
  ApiClientNotFoundError: () =>
    new errors.ApiClientNotFoundError('0b6a0e9e-5d1b-4e8e-9a43-0d3c7f0a2b11'),
  FeedNotFoundError: () => new errors.FeedNotFoundError('Acme'),
  TenantNotFoundError: () => new errors.TenantNotFoundError(),
  TenantHasChildrenError: () => new errors.TenantHasChildrenError('acme'),
  CollectionNotFoundError: () => new errors.CollectionNotFoundError('No collection x'),
  NameTakenError: () => new errors.NameTakenError('A tag named "APT28" already exists'),
  BuiltInImmutableError: () =>
    new errors.BuiltInImmutableError('Supplier "FalsePositive" is built in'),
  RoleInUseError: () => new errors.RoleInUseError('Auditor', 2),
  LastAdministratorError: () => new errors.LastAdministratorError('deactivated'),
  FeedRunningError: () => new errors.FeedRunningError('Acme'),
  PayloadTooLargeError: () => new errors.PayloadTooLargeError('The upload is too large'),
  UnsupportedMediaTypeError: () => new errors.UnsupportedMediaTypeError('Unsupported charset'),
};

interface Sent {
  status?: number;
  body?: Record<string, unknown>;
  headers: Record<string, string>;
}

/** Runs the filter on `exception` as the answer to a request that reached a handler. */
function answer(exception: unknown): Sent {
  const sent: Sent = { headers: {} };
  const res = {
    headersSent: false,
    setHeader: (name: string, value: string) => (sent.headers[name] = value),
    hasHeader: (name: string) => name in sent.headers,
    status(code: number) {
      sent.status = code;
      return this;
    },
    json: (body: Record<string, unknown>) => (sent.body = body),
  };
  const req = { id: 'req-1', originalUrl: '/api/v1/x', path: '/api/v1/x', handlerMatched: true };
  const host = {
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ArgumentsHost;
  const adapter = { httpAdapter: { getInstance: () => ({}) } } as unknown as HttpAdapterHost;
  new HttpExceptionFilter(adapter).catch(exception, host);
  return sent;
}

/** The rows of docs/api.md's "Error codes" table: code → status. */
function documentedCodes(): Map<string, number> {
  const guide = readFileSync(join(__dirname, '../../../docs/api.md'), 'utf8');
  const section = guide.split(/^## Error codes$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = [...section.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)];
  return new Map(rows.map((m) => [m[1], Number(m[2])]));
}

describe('error registry', () => {
  const classes = Object.values(errors).filter(
    (v): v is typeof errors.ValidationError =>
      typeof v === 'function' && v.prototype instanceof DomainError,
  );

  it('gives every exported error class a registered code', () => {
    expect(classes.map((c) => c.name).sort()).toEqual(Object.keys(SAMPLES).sort());
    for (const cls of classes) expect(ERROR_CODES).toHaveProperty(cls.code);
  });

  it.each(Object.entries(SAMPLES))('answers %s with its code and status', (_, make) => {
    const e = make();
    const sent = answer(e);
    expect(sent.status).toBe(ERROR_CODES[e.code].status);
    expect(sent.body).toEqual({
      statusCode: ERROR_CODES[e.code].status,
      error: expect.any(String) as string,
      code: e.code,
      message: e.message,
      ...(e.details ? { details: e.details } : {}),
      requestId: 'req-1',
    });
  });

  it('keeps the failures of NoValidEntriesError readable without HTTP, listing at most 1000', () => {
    const failures = Array.from({ length: 1500 }, (_, index) => ({
      index,
      indicator: `v${index}`,
      reason: 'bad',
    }));
    const e = new errors.NoValidEntriesError(failures);
    expect(e.failures).toHaveLength(1500);
    expect(e.details).toHaveLength(1000);
    expect(e.message).toBe(
      'No entry is valid (1500 failed; the first 1000 are listed); nothing was applied',
    );
  });

  it('maps the HTTP errors of guards, pipes and middleware by their status', () => {
    const cases: Array<[HttpException, ErrorCode]> = [
      [new BadRequestException(['a must be a string', 'b is not allowed']), 'validation_failed'],
      [new UnauthorizedException('Invalid credentials'), 'unauthorized'],
      [new ForbiddenException('Access denied'), 'forbidden'],
      [new HttpException('busy', 429), 'rate_limited'],
      [new BadGatewayException('refused'), 'bad_gateway'],
      [new ServiceUnavailableException('Not ready'), 'service_unavailable'],
    ];
    for (const [exception, code] of cases) {
      const sent = answer(exception);
      expect({ status: sent.status, code: sent.body?.code }).toEqual({
        status: exception.getStatus(),
        code,
      });
    }
    expect(answer(cases[0][0]).body?.details).toEqual(['a must be a string', 'b is not allowed']);
  });

  it('answers anything else, or an HTTP status without a code, as a logged internal_error', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      for (const exception of [new Error('boom'), new HttpException('teapot', 418)]) {
        const sent = answer(exception);
        expect(sent.status).toBe(500);
        expect(sent.body).toMatchObject({
          code: 'internal_error',
          message: 'Internal server error',
        });
        expect(logged).toHaveBeenLastCalledWith(
          { err: exception, requestId: 'req-1' },
          exception.message,
        );
      }
    } finally {
      logged.mockRestore();
    }
  });

  it('gives each status its generic code of that status', () => {
    for (const [status, code] of Object.entries(CODE_OF_STATUS)) {
      expect(ERROR_CODES[code].status).toBe(Number(status));
    }
  });

  it('lists every code with its status in docs/api.md, and no other', () => {
    const expected = new Map(ALL_ERROR_CODES.map((c) => [c, ERROR_CODES[c].status]));
    expect(documentedCodes()).toEqual(expected);
  });

  it('enumerates every code in the committed OpenAPI document', () => {
    const doc = JSON.parse(readFileSync(join(__dirname, '../../../openapi.json'), 'utf8')) as {
      components: { schemas: Record<string, { enum?: string[] }> };
    };
    expect(doc.components.schemas.ErrorCode.enum).toEqual(ALL_ERROR_CODES);
  });
});
