import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { IndiciumRequest } from './request';
import type { AppConfig } from '../config/app-config';

/** Query parameters whose values are never logged. */
const SECRET_PARAM = /(pass|secret|token|authorization|api[-_]?key)/i;

/** Client secrets and access tokens by their prefix, wherever they stand in a URL. */
const SECRET_SHAPED = /(?<![A-Za-z0-9])ind[st]_[A-Za-z0-9_-]*/g;

export function redactUrl(rawUrl: string): string {
  const url = rawUrl.includes('ind') ? rawUrl.replace(SECRET_SHAPED, '[Redacted]') : rawUrl;
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) {
    if (SECRET_PARAM.test(key)) params.set(key, '[Redacted]');
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}

/**
 * The two JSON-lines loggers of docs/api.md §8, on one destination (default stdout).
 * - `app`: what the code logs (Nest's Logger); objects it is given may carry anything, so
 *   credential-shaped fields are redacted.
 * - `requests`: one line per request, built only from an allow-list of request fields, so it
 *   needs no redaction pass — it runs on every request and is kept cheap.
 */
export interface AppLoggers {
  app: Logger;
  requests: Logger;
}

export function createLoggers(config: AppConfig, destination?: DestinationStream): AppLoggers {
  const options: LoggerOptions = { level: config.env.LOG_LEVEL };
  const dest = destination ?? pino.destination({ dest: 1, sync: true });
  return {
    app: pino(
      {
        ...options,
        redact: {
          paths: ['*.password', '*.secret', '*.clientSecret', '*.token', '*.authorization'],
          censor: '[Redacted]',
        },
      },
      dest,
    ),
    requests: pino(options, dest),
  };
}

/**
 * Logs a request once its response is done (or the connection dropped): at `info` when it
 * succeeded, at `error` for every error response, so LOG_LEVEL=error still shows them.
 */
export function logRequest(
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  startedAt: number,
): void {
  const failed = res.statusCode >= 400 || !res.writableFinished;
  if (!log.isLevelEnabled(failed ? 'error' : 'info')) return;
  const r = req as IndiciumRequest;
  const url = redactUrl(req.url ?? '');
  const responseTime = Math.round(performance.now() - startedAt);
  const principal = r.principal;
  const line = {
    req: { id: r.id, method: req.method, url, userAgent: req.headers['user-agent'] },
    res: { statusCode: res.statusCode },
    responseTime,
    ip: r.clientIp,
    principal: principal ? { type: principal.type, name: principal.name } : undefined,
  };
  if (!res.writableFinished) {
    log.error(line, `${req.method} ${url} aborted after ${responseTime}ms`);
  } else if (failed) {
    log.error(line, `${req.method} ${url} ${res.statusCode} ${responseTime}ms`);
  } else {
    log.info(line, `${req.method} ${url} ${res.statusCode} ${responseTime}ms`);
  }
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Nest's LoggerService on pino. Accepts both Nest's `(message, context)` and pino's
 * `({ err, ... }, message)` call styles; Nest's Logger appends its context as the last
 * argument.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.call('trace', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.call('debug', message, params);
  }
  log(message: unknown, ...params: unknown[]): void {
    this.call('info', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.call('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.call('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.call('fatal', message, params);
  }

  private call(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    const rest = params.slice(0, -1);
    if (params.length > 0) fields.context = params[params.length - 1];
    if (message instanceof Error) {
      fields.err = message;
      this.logger[level](fields, typeof rest[0] === 'string' ? rest[0] : message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...message }, ...(rest as [string]));
    } else if (level === 'error' && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
      // Nest's own exception handlers call error(message, stack).
      const err = new Error(String(message));
      err.stack = rest[0];
      this.logger.error({ ...fields, err }, String(message));
    } else {
      this.logger[level](fields, String(message), ...rest);
    }
  }
}
