import { HttpException, HttpStatus, Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AppConfig } from '../config/app-config';

/**
 * At most MAX_CONCURRENT_REQUESTS requests are processed at once; one more gets 429 with
 * Retry-After instead of queueing without bound. Health endpoints are not routed through it.
 */
@Injectable()
export class ConcurrencyLimiterMiddleware implements NestMiddleware {
  private inFlight = 0;

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  get current(): number {
    return this.inFlight;
  }

  use(_req: Request, res: Response, next: NextFunction): void {
    if (this.inFlight >= this.config.env.MAX_CONCURRENT_REQUESTS) {
      res.setHeader('Retry-After', '1');
      throw new HttpException(
        `Server busy: more than ${this.config.env.MAX_CONCURRENT_REQUESTS} requests in progress; retry shortly`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    this.inFlight++;
    // 'close' comes exactly once per response: after it finished, or when the client left.
    res.once('close', () => this.inFlight--);
    next();
  }
}
