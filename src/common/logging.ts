import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { IndiciumRequest } from './request';
import type { AppConfig } from '../config/app-config';

/** Query parameters whose values are never logged. */
const SECRET_PARAM = /(pass|secret|token|authorization|api[-_]?key)/i;

/** Client secrets and access tokens by their prefix, wherever they stand in a URL. */
const SECRET_SHAPED = /(?<![A-Za-z0-9])ind[st]_[A-Za-z0-9_-]*/g;

/** @internal exported for tests */
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
          paths: [
            '*.password',
            '*.secret',
            '*.clientSecret',
            '*.token',
            '*.authorization',
            '*.cookie',
            '*["set-cookie"]',
          ],
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
    tenant: r.tenant,
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
 * Repeats of one warning or error within this long are collapsed into a count.
 * @internal exported for tests
 */
export const REPEAT_INTERVAL_MS = 10_000;
/** Distinct messages tracked at once; past this, lines are written as they come (bounded memory). */
const MAX_TRACKED = 1_000;

/**
 * Collapses repeated warnings and errors (docs/api.md §8, logs): the first of a kind in an
 * interval is written in full (with its stack), later ones are only counted, and when the
 * interval ends one line says `repeated N times`. A kind is level, context, message and error
 * message, so a database outage failing every request writes two lines per interval, not two
 * stacks per request. Fields that differ per call (request id, attempt) do not split a kind.
 */
export class RepeatCollapser {
  private readonly seen = new Map<string, Repeats>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = REPEAT_INTERVAL_MS,
  ) {}

  write(level: Level, fields: Record<string, unknown>, msg: string): void {
    if (level !== 'warn' && level !== 'error' && level !== 'fatal') {
      this.logger[level](fields, msg);
      return;
    }
    const err = fields.err instanceof Error ? `${fields.err.name}: ${fields.err.message}` : '';
    const kind = `${level}\u0000${String(fields.context)}\u0000${msg}\u0000${err}`;
    const known = this.seen.get(kind);
    if (known) {
      known.count++;
      return;
    }
    this.logger[level](fields, msg);
    if (this.seen.size >= MAX_TRACKED) return;
    const repeats: Repeats = {
      count: 0,
      line: () => ({
        level,
        msg,
        fields: {
          context: fields.context,
          ...(err ? { error: err } : {}),
        },
      }),
      timer: setTimeout(() => this.summarise(kind), this.intervalMs),
    };
    repeats.timer.unref();
    this.seen.set(kind, repeats);
  }

  /** Writes the pending counts now (at shutdown, and for tests). */
  flush(): void {
    for (const kind of [...this.seen.keys()]) this.summarise(kind);
  }

  private summarise(kind: string): void {
    const repeats = this.seen.get(kind);
    if (!repeats) return;
    this.seen.delete(kind);
    clearTimeout(repeats.timer);
    if (repeats.count === 0) return;
    const { level, msg, fields } = repeats.line();
    this.logger[level](
      { ...fields, repeated: repeats.count },
      `${msg} (repeated ${repeats.count} times)`,
    );
  }
}

interface Repeats {
  count: number;
  /** What the summary line says: the first line's level, message and error, no stack. */
  line: () => { level: Level; msg: string; fields: Record<string, unknown> };
  timer: NodeJS.Timeout;
}

/**
 * Nest's LoggerService on pino. Accepts both Nest's `(message, context)` and pino's
 * `({ err, ... }, message)` call styles; Nest's Logger appends its context as the last
 * argument. Warnings and errors go through a RepeatCollapser.
 */
export class PinoNestLogger implements LoggerService {
  readonly repeats: RepeatCollapser;

  constructor(
    private readonly logger: Logger,
    repeatIntervalMs = REPEAT_INTERVAL_MS,
  ) {
    this.repeats = new RepeatCollapser(logger, repeatIntervalMs);
  }

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
    const text = typeof rest[0] === 'string' ? rest[0] : undefined;
    if (message instanceof Error) {
      fields.err = message;
      this.repeats.write(level, fields, text ?? message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.repeats.write(level, { ...fields, ...message }, text ?? '');
    } else if (level === 'error' && text !== undefined && /\n\s*at /.test(text)) {
      // Nest's own exception handlers call error(message, stack).
      const err = new Error(String(message));
      err.stack = text;
      this.repeats.write('error', { ...fields, err }, String(message));
    } else {
      this.repeats.write(level, fields, [message, ...rest].map(String).join(' '));
    }
  }
}

/**
 * What a retry loop logs (docs/api.md §8, logs): the first failure of a run of them in
 * full, the others not at all, and the recovery once, with how many attempts failed and for how
 * long; not one line per try.
 */
export class FailureStreak {
  private failures = 0;
  private since = 0;

  constructor(
    private readonly logger: LoggerService,
    private readonly what: string,
  ) {}

  failed(err: unknown, fields: Record<string, unknown> = {}): void {
    if (this.failures++ > 0) return;
    this.since = Date.now();
    this.logger.warn({ err, ...fields }, `${this.what} failed; retrying until it works again`);
  }

  succeeded(): void {
    if (this.failures === 0) return;
    const ms = Date.now() - this.since;
    this.logger.log(
      { failures: this.failures, ms },
      `${this.what} works again after ${this.failures} failed attempt(s) over ${ms} ms`,
    );
    this.failures = 0;
  }
}
