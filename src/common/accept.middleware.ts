import { HttpException, HttpStatus, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Routes that answer in another media type and negotiate it themselves (docs/api.md §10). */
const OWN_MEDIA_TYPE = [
  /^\/api\/v1\/blocklist\/?$/i,
  /^\/api\/v1\/suppliers\/[^/]+\/indicators\/export\/?$/i,
];

/** API responses are JSON: a request whose Accept excludes it gets 406 (docs/api.md §1). */
@Injectable()
export class AcceptJsonMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    const accept = req.headers.accept;
    // Fast path for what clients send nearly always; full negotiation otherwise.
    if (accept === undefined || accept === '*/*' || accept === 'application/json') return next();
    if (OWN_MEDIA_TYPE.some((re) => re.test(req.originalUrl.split('?', 1)[0]))) return next();
    if (!req.accepts('application/json')) {
      throw new HttpException(
        `This endpoint responds with application/json, which the Accept header "${accept.slice(0, 200)}" excludes`,
        HttpStatus.NOT_ACCEPTABLE,
      );
    }
    next();
  }
}
