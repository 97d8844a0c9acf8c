import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IndiciumRequest } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { resolveClientIp } from './net/ip-utils';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** An incoming X-Request-Id is echoed when it is at most 128 safe characters, else replaced. */
function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Gives a request its id (echoed in X-Request-Id) and client IP. Idempotent: the request
 * logger calls it first (its bindings are fixed when the request starts), the middleware
 * below makes sure it happened for every route.
 */
export function initRequestContext(
  req: IncomingMessage,
  res: ServerResponse,
  config: AppConfig,
): IndiciumRequest {
  const r = req as IndiciumRequest;
  if (r.id === undefined) {
    r.id = requestIdFor(r);
    res.setHeader('X-Request-Id', r.id);
    r.clientIp = resolveClientIp(
      req.socket.remoteAddress,
      req.headers['x-forwarded-for'],
      config.trustedProxies,
    );
  }
  return r;
}

@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  use(req: Request, res: Response, next: NextFunction): void {
    initRequestContext(req, res, this.config);
    next();
  }
}
