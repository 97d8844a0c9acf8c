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

/** Gives a request its id, echoed in X-Request-Id. Idempotent: the request logger calls it first. */
export function ensureRequestId(req: IncomingMessage, res: ServerResponse): string {
  const r = req as IndiciumRequest;
  if (r.id === undefined) {
    r.id = requestIdFor(r);
    res.setHeader('X-Request-Id', r.id);
  }
  return r.id;
}

/** Request id and client IP (TCP peer, or X-Forwarded-For from a trusted proxy) for every route. */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  use(req: Request, res: Response, next: NextFunction): void {
    ensureRequestId(req, res);
    (req as IndiciumRequest).clientIp = resolveClientIp(
      req.socket.remoteAddress,
      req.headers['x-forwarded-for'],
      this.config.trustedProxies,
    );
    next();
  }
}
