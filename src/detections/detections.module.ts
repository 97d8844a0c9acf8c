import { Module } from '@nestjs/common';
import { MetricsModule } from '../health/metrics.module';
import { SuppliersModule } from '../suppliers/suppliers.module';
import { DetectionRecorder } from './detection-recorder';
import { DetectionRetention } from './detection-retention';
import { DetectionsController } from './detections.controller';
import { DetectionsRepository } from './detections.repository';
import { DetectionsService } from './detections.service';
import { RetroScanner } from './retro-scanner';
import { RetroRepository } from './retro.repository';
import { StatisticsController } from './statistics.controller';
import { StatisticsService } from './statistics.service';

/** Hit counters, the detection log, statistics and retro-scan (docs/api.md §11). */
@Module({
  imports: [MetricsModule, SuppliersModule],
  controllers: [DetectionsController, StatisticsController],
  providers: [
    DetectionsRepository,
    DetectionRecorder,
    DetectionsService,
    DetectionRetention,
    StatisticsService,
    RetroRepository,
    RetroScanner,
  ],
  exports: [DetectionRecorder, DetectionsService],
})
export class DetectionsModule {}
