import { Module } from '@nestjs/common';
import { MetricsModule } from '../health/metrics.module';
import { KeyFeedRepository } from './key-feed.repository';
import { SearchKeyIndex } from './search-key-index';

/** The in-memory search key index and its change feed: search reads it, the writer feeds it. */
@Module({
  imports: [MetricsModule],
  providers: [KeyFeedRepository, SearchKeyIndex],
  exports: [SearchKeyIndex],
})
export class KeyIndexModule {}
