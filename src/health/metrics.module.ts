import { Module } from '@nestjs/common';
import { MetricsService } from './metrics.service';
import { Readiness } from './readiness';

/**
 * What the instance reports about itself: counters for GET /metrics and the readiness holds behind
 * GET /health/ready. Features that record into them import this module; HealthModule serves them.
 */
@Module({
  providers: [MetricsService, Readiness],
  exports: [MetricsService, Readiness],
})
export class MetricsModule {}
