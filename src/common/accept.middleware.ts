import { HttpException, HttpStatus, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** API responses are JSON: a request whose Accept excludes it gets 406 (docs/api.md §1). */
@Injectable()
export class AcceptJsonMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    const accept = req.headers.accept;
    // Fast path for what clients send nearly always; full negotiation otherwise.
    if (accept === undefined || accept === '*/*' || accept === 'application/json') return next();
    if (!req.accepts('application/json')) {
      throw new HttpException(
        `This endpoint responds with application/json, which the Accept header "${accept.slice(0, 200)}" excludes`,
        HttpStatus.NOT_ACCEPTABLE,
      );
    }
    next();
  }
}
