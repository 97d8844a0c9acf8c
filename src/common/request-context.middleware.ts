import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { IndiciumRequest } from './request';
import type { AppConfig } from '../config/app-config';
import { asRequestWork } from '../database/database-work';
import { inRequestScope } from '../database/tenant-context';
import { logRequest } from './logging';
import { resolveClientIp } from './net/ip-utils';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** An incoming X-Request-Id is echoed when it is at most 128 safe characters, else replaced. */
function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The first middleware of every request, before any routing: its id (echoed in X-Request-Id),
 * its client IP (the TCP peer, or X-Forwarded-For from a trusted proxy) and, once the
 * response is done, its log line.
 */
export function requestContext(config: AppConfig, log: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const startedAt = performance.now();
    const r = req as IndiciumRequest;
    r.id = requestIdFor(req);
    res.setHeader('X-Request-Id', r.id);
    r.clientIp = resolveClientIp(
      req.socket.remoteAddress,
      req.headers['x-forwarded-for'],
      config.trustedProxies,
    );
    res.once('close', () => logRequest(log, req, res, startedAt));
    // Its statements get the request path's short database timeouts, and run in the tenant
    // authentication settles (src/database).
    inRequestScope(() => asRequestWork(next));
  };
}
