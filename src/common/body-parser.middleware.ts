import { HttpException, HttpStatus, Injectable, NestMiddleware } from '@nestjs/common';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';

export const MiB = 1024 * 1024;

/** Body size limits of API.md §1: search 64 MiB, everything else 1 MiB (uploads stream their own). */
const searchJson = express.json({ limit: 64 * MiB, strict: true });
const defaultJson = express.json({ limit: 1 * MiB, strict: true });
const form = express.urlencoded({ limit: 1 * MiB, extended: false });

/** Routes that read their body as a stream themselves (with their own limit). */
const STREAMED = [/^\/api\/v1\/suppliers\/[^/]+\/indicators\/?$/];

@Injectable()
export class BodyParserMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    if (!hasBody(req)) return next();
    // Nest mounts middleware on a wildcard route, so req.path is "/" here: match the full path.
    const path = req.originalUrl.split('?', 1)[0];
    if (req.method === 'PUT' && STREAMED.some((re) => re.test(path))) return next();
    const json = path === '/api/v1/search' ? searchJson : defaultJson;
    json(req, res, (err?: unknown) => {
      if (err) return next(err);
      form(req, res, (formErr?: unknown) => {
        if (formErr) return next(formErr);
        if (req.body === undefined) {
          return next(
            new HttpException(
              `Unsupported Content-Type "${String(req.headers['content-type'] ?? '')}"; send application/json`,
              HttpStatus.UNSUPPORTED_MEDIA_TYPE,
            ),
          );
        }
        next();
      });
    });
  }
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
