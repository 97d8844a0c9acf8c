import { Injectable, NestMiddleware, NotAcceptableException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * TAXII 2.1 §1.6.8: a request must accept `application/taxii+json;version=2.1`. Accepted: no
 * Accept header, a wildcard, or `application/taxii+json` without a version or with 2.1;
 * anything else (plain JSON, TAXII 2.0, …) → 406.
 */
@Injectable()
export class TaxiiAcceptMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    const accept = req.headers.accept;
    if (accept === undefined || acceptsTaxii21(accept)) return next();
    throw new NotAcceptableException(
      `This TAXII 2.1 server responds with application/taxii+json;version=2.1, which the Accept header "${accept.slice(0, 200)}" excludes`,
    );
  }
}

function acceptsTaxii21(accept: string): boolean {
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) return false;
    if (type === '*/*' || type === 'application/*') return true;
    if (type !== 'application/taxii+json') return false;
    const version = params.find((p) => p.startsWith('version='));
    return version === undefined || version === 'version=2.1';
  });
}
