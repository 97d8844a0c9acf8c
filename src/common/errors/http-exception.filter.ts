import { STATUS_CODES } from 'node:http';
import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Response } from 'express';
import { QueryFailedError } from 'typeorm';
import type { IndiciumRequest } from '../request';
import { allowedMethods } from './route-methods';
import { isTaxiiPath, TAXII_ERROR_MEDIA_TYPE, taxiiErrorOf } from './taxii-error';

interface ErrorPayload {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown[];
  requestId: string;
}

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
    if (payload.statusCode === 401) res.setHeader('WWW-Authenticate', 'Basic realm="indicium"');
    if (isTaxiiPath(req.originalUrl)) {
      res.status(payload.statusCode).setHeader('Content-Type', TAXII_ERROR_MEDIA_TYPE);
      res.end(Buffer.from(JSON.stringify(taxiiErrorOf(payload))));
      return;
    }
    res.status(payload.statusCode).json(payload);
  }

  private toPayload(exception: unknown, req: IndiciumRequest, res: Response): ErrorPayload {
    // Set by the first middleware of every request, before any routing (requestContext).
    const requestId = req.id;
    const make = (statusCode: number, message: string, details?: unknown[]): ErrorPayload => ({
      statusCode,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message,
      ...(details && details.length > 0 ? { details } : {}),
      requestId,
    });

    // Express's adapter wraps body-parser errors in an HttpException; the cause says what failed.
    const cause = exception instanceof HttpException ? exception.cause : exception;
    // The router's own 404 (no handler matched; the guard never ran) may be a wrong method.
    if (exception instanceof NotFoundException && !req.handlerMatched) {
      const methods = allowedMethods(this.adapterHost.httpAdapter.getInstance(), req.path);
      if (methods.length > 0) {
        res.setHeader('Allow', methods.join(', '));
        return make(
          405,
          `Method ${req.method} is not allowed on ${req.path}; use ${methods.join(', ')}`,
        );
      }
      return make(404, `No route ${req.method} ${req.path}`);
    }
    if (isBodyParserError(cause) && cause.status >= 400 && cause.status < 500) {
      switch (cause.type) {
        case 'entity.too.large':
          return make(
            HttpStatus.PAYLOAD_TOO_LARGE,
            'Request body is larger than this endpoint accepts',
          );
        case 'entity.parse.failed':
          return make(HttpStatus.BAD_REQUEST, `Malformed JSON body: ${cause.message}`);
        case 'encoding.unsupported':
        case 'charset.unsupported':
          return make(HttpStatus.UNSUPPORTED_MEDIA_TYPE, cause.message);
        default:
          return make(cause.status, cause.message);
      }
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if (typeof body === 'string') return make(status, body);
      const obj = body as { message?: unknown; details?: unknown[] };
      if (Array.isArray(obj.message)) {
        const messages = obj.message.map(String);
        return make(status, messages.join('; '), obj.details ?? messages);
      }
      return make(
        status,
        typeof obj.message === 'string' ? obj.message : exception.message,
        obj.details,
      );
    }
    if (exception instanceof QueryFailedError) {
      const code = (exception.driverError as { code?: string } | undefined)?.code;
      if (code === PG_UNIQUE_VIOLATION)
        return make(409, 'A resource with the same identity already exists');
      if (code === PG_FOREIGN_KEY_VIOLATION)
        return make(409, 'The resource is referenced by, or refers to, another resource');
      if (code === PG_INVALID_TEXT) return make(400, 'A value has an invalid format');
    }
    // The stack once, in err; repeats of one error are collapsed into a count (logging.ts).
    this.logger.error(
      { err: exception, requestId },
      exception instanceof Error ? exception.message : String(exception),
    );
    return make(500, 'Internal server error');
  }
}
