import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { MetricsModule } from '../health/metrics.module';
import { SuppliersModule } from '../suppliers/suppliers.module';
import { FeedRunner } from './feed-runner';
import { FeedScheduler } from './feed-scheduler';
import { FeedListController, FeedsController } from './feeds.controller';
import { FeedsRepository } from './feeds.repository';
import { FeedsService } from './feeds.service';

/** Feeds: suppliers that Indicium pulls (docs/api.md §9), written through IndicatorWriter. */
@Module({
  imports: [AuditModule, MetricsModule, SuppliersModule],
  controllers: [FeedsController, FeedListController],
  providers: [FeedsRepository, FeedsService, FeedRunner, FeedScheduler],
})
export class FeedsModule {}
