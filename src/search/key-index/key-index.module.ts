import { Module } from '@nestjs/common';
import { KeyFeedRepository } from './key-feed.repository';
import { SearchKeyIndex } from './search-key-index';

/** The in-memory search key index and its change feed: search reads it, the writer feeds it. */
@Module({
  providers: [KeyFeedRepository, SearchKeyIndex],
  exports: [SearchKeyIndex],
})
export class KeyIndexModule {}
