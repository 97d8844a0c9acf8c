import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import type { IndiciumRequest } from '../auth/principal';
import type { AppConfig } from '../config/app-config';
import { ensureRequestId } from './request-context.middleware';

/** Query parameters whose values are never logged. */
const SECRET_PARAM = /(pass|secret|token|authorization|api[-_]?key)/i;

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) {
    if (SECRET_PARAM.test(key)) params.set(key, '[Redacted]');
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}

/**
 * JSON lines to stdout (API.md §8). At `info` every request/response is logged; error
 * responses (4xx/5xx) are logged at `error` so LOG_LEVEL=error still shows them. Only an
 * allow-list of request fields is serialised, so credentials cannot leak through headers.
 */
export function loggerParams(config: AppConfig, destination?: DestinationStream): Params {
  const options: Options = {
    level: config.env.LOG_LEVEL,
    genReqId: (req, res) => ensureRequestId(req, res),
    // Added to the response line only, once authentication and the client IP are known
    // (cheaper than customProps, which builds child loggers per request).
    customSuccessObject: (req, _res, val: Record<string, unknown>) => ({
      ...val,
      ...requestProps(req),
    }),
    customErrorObject: (req, _res, _err, val: Record<string, unknown>) => ({
      ...val,
      ...requestProps(req),
    }),
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 400 ? 'error' : 'info'),
    customSuccessMessage: (req, res, time) =>
      `${req.method} ${redactUrl(req.url ?? '')} ${res.statusCode} ${Math.round(time)}ms`,
    customErrorMessage: (req, res) => `${req.method} ${redactUrl(req.url ?? '')} ${res.statusCode}`,
    serializers: {
      req: (req: { id: string; method: string; url: string; raw: IndiciumRequest }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url),
        userAgent: req.raw.headers['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.secret',
        '*.clientSecret',
        '*.token',
      ],
      censor: '[Redacted]',
    },
    quietReqLogger: true,
    autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health/') },
  };
  return { pinoHttp: destination ? [options, destination] : options };
}

function requestProps(req: IncomingMessage): Record<string, unknown> {
  const r = req as IndiciumRequest;
  const p = r.principal;
  return {
    ...(r.clientIp ? { ip: r.clientIp } : {}),
    ...(p ? { principal: { type: p.type, name: p.name } } : {}),
  };
}
