import { STATUS_CODES } from 'node:http';
import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { databaseUnavailableIn } from '../../database/database-unavailable';
import type { IndiciumRequest } from '../request';
import { DomainError } from './domain-errors';
import { CODE_OF_STATUS, ERROR_CODES, type ErrorCode } from './error-codes';
import { allowedMethods } from './route-methods';
import { isTaxiiPath, TAXII_ERROR_MEDIA_TYPE, taxiiErrorOf } from './taxii-error';

interface ErrorPayload {
  statusCode: number;
  error: string;
  code: ErrorCode;
  message: string;
  details?: readonly unknown[];
  requestId: string;
}

/** What went wrong, before it is addressed to a request: the payload without its envelope. */
interface Problem {
  code: ErrorCode;
  message: string;
  details?: readonly unknown[];
}

const problem = (code: ErrorCode, message: string, details?: readonly unknown[]): Problem => ({
  code,
  message,
  ...(details && details.length > 0 ? { details } : {}),
});

/** Errors raised by body-parser carry `type` and `status`. */
interface BodyParserError {
  type: string;
  status: number;
  message: string;
}

function isBodyParserError(e: unknown): e is BodyParserError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as BodyParserError).type === 'string' &&
    typeof (e as BodyParserError).status === 'number'
  );
}

const PG_UNIQUE_VIOLATION = '23505';
const PG_FOREIGN_KEY_VIOLATION = '23503';
const PG_INVALID_TEXT = '22P02';

/**
 * The one place errors become responses (docs/api.md §1 error body). Anything not known to be a
 * client error becomes a bare 500: logged with its stack, never sent.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<IndiciumRequest>();
    const res = ctx.getResponse<Response>();
    const payload = this.toPayload(exception, req, res);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A handler or the guard may have given its own challenge (the console's Session scheme).
    if (payload.statusCode === 401 && !res.hasHeader('WWW-Authenticate'))
      res.setHeader('WWW-Authenticate', 'Basic realm="indicium"');
    if (isTaxiiPath(req.originalUrl)) {
      res.status(payload.statusCode).setHeader('Content-Type', TAXII_ERROR_MEDIA_TYPE);
      res.end(Buffer.from(JSON.stringify(taxiiErrorOf(payload))));
      return;
    }
    res.status(payload.statusCode).json(payload);
  }

  private toPayload(exception: unknown, req: IndiciumRequest, res: Response): ErrorPayload {
    const p = this.problemOf(exception, req, res) ?? this.internal(exception, req.id);
    const { status } = ERROR_CODES[p.code];
    return {
      statusCode: status,
      error: STATUS_CODES[status] ?? 'Error',
      code: p.code,
      message: p.message,
      ...(p.details ? { details: p.details } : {}),
      // Set by the first middleware of every request, before any routing (requestContext).
      requestId: req.id,
    };
  }

  /** The client-facing problem `exception` stands for; undefined when it is a server fault. */
  private problemOf(exception: unknown, req: IndiciumRequest, res: Response): Problem | undefined {
    if (exception instanceof DomainError)
      return problem(exception.code, exception.message, exception.details);
    // The router's own 404 (no handler matched; the guard never ran) may be a wrong method.
    if (exception instanceof NotFoundException && !req.handlerMatched)
      return this.noRoute(req, res);
    // Before the HTTP and query mappings: TypeORM wraps a lost connection as a query failure.
    const unavailable = databaseUnavailableIn(exception);
    if (unavailable) {
      // Not logged per request: the database guard logs the outage once (src/database).
      res.setHeader('Retry-After', String(unavailable.retryAfterSeconds));
      return problem('database_unavailable', unavailable.message);
    }
    // Express's adapter wraps body-parser errors in an HttpException; the cause says what failed.
    const cause = exception instanceof HttpException ? exception.cause : exception;
    if (isBodyParserError(cause) && cause.status >= 400 && cause.status < 500)
      return bodyParserProblem(cause);
    if (exception instanceof HttpException) return httpProblem(exception);
    if (exception instanceof QueryFailedError) return queryProblem(exception.driverError);
    return undefined;
  }

  private noRoute(req: IndiciumRequest, res: Response): Problem {
    const methods = allowedMethods(this.adapterHost.httpAdapter.getInstance(), req.path);
    if (methods.length === 0) return problem('not_found', `No route ${req.method} ${req.path}`);
    res.setHeader('Allow', methods.join(', '));
    return problem(
      'method_not_allowed',
      `Method ${req.method} is not allowed on ${req.path}; use ${methods.join(', ')}`,
    );
  }

  /** A bare 500: logged with its stack, never sent. */
  private internal(exception: unknown, requestId: string): Problem {
    // The stack once, in err; repeats of one error are collapsed into a count (logging.ts).
    this.logger.error(
      { err: exception, requestId },
      exception instanceof Error ? exception.message : String(exception),
    );
    return problem('internal_error', 'Internal server error');
  }
}

function bodyParserProblem(cause: BodyParserError): Problem {
  switch (cause.type) {
    case 'entity.too.large':
      return problem('payload_too_large', 'Request body is larger than this endpoint accepts');
    case 'entity.parse.failed':
      return problem('malformed_body', `Malformed JSON body: ${cause.message}`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return problem('unsupported_media_type', cause.message);
    default:
      return problem(CODE_OF_STATUS[cause.status] ?? 'malformed_body', cause.message);
  }
}

/**
 * An HTTP exception of the layers above the domain (guards, pipes, middleware): the generic
 * code of its status. A status without a code is not one the API documents: a fault.
 */
function httpProblem(exception: HttpException): Problem | undefined {
  const code = CODE_OF_STATUS[exception.getStatus()];
  if (!code) return undefined;
  const body = exception.getResponse();
  if (typeof body === 'string') return problem(code, body);
  const obj = body as { message?: unknown; details?: unknown[] };
  if (Array.isArray(obj.message)) {
    const messages = obj.message.map(String);
    return problem(code, messages.join('; '), obj.details ?? messages);
  }
  return problem(
    code,
    typeof obj.message === 'string' ? obj.message : exception.message,
    obj.details,
  );
}

/** A constraint Postgres enforced, as the conflict or bad value it stands for. */
function queryProblem(driverError: unknown): Problem | undefined {
  switch ((driverError as { code?: string } | undefined)?.code) {
    case PG_UNIQUE_VIOLATION:
      return problem('conflict', 'A resource with the same identity already exists');
    case PG_FOREIGN_KEY_VIOLATION:
      return problem('conflict', 'The resource is referenced by, or refers to, another resource');
    case PG_INVALID_TEXT:
      return problem('validation_failed', 'A value has an invalid format');
    default:
      return undefined;
  }
}
