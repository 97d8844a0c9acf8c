import { Module } from '@nestjs/common';
import { MetricsModule } from '../health/metrics.module';
import { DetectionsModule } from '../detections/detections.module';
import { KeyIndexModule } from '../key-index/key-index.module';
import { SearchController } from './search.controller';
import { SearchRepository } from './search.repository';
import { SearchService } from './search.service';

@Module({
  imports: [MetricsModule, DetectionsModule, KeyIndexModule],
  controllers: [SearchController],
  providers: [SearchRepository, SearchService],
})
export class SearchModule {}
