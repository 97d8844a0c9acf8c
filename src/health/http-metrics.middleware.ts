import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IndiciumRequest } from '../common/request';
import { MetricsService } from './metrics.service';

/**
 * Counts and times every response by its route template (not the raw path, so ids don't
 * explode label cardinality); unmatched paths share one label.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const matched = (req as IndiciumRequest).handlerMatched === true;
      const route = matched
        ? ((req.route as { path?: string } | undefined)?.path ?? 'unknown')
        : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      this.metrics.httpRequests.inc(labels);
      this.metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  }
}
