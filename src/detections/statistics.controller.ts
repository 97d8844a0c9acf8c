import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiTags } from '@nestjs/swagger';
import { ErrorBody } from '../common/errors/error-body.dto';
import { Auth } from '../auth/auth.decorator';
import {
  DetectionTimelineDto,
  DetectionTimelineQuery,
  SupplierStatisticsListDto,
} from './dto/statistics.dto';
import { StatisticsService } from './statistics.service';

@ApiTags('Detections')
@Controller('api/v1/statistics')
@Auth('detections.read')
export class StatisticsController {
  constructor(private readonly statistics: StatisticsService) {}

  /**
   * Per supplier: hits, indicators hit per window, the share never hit, and overlap.
   *
   * @remarks Indicators hit in the last 24 h / 7 d / 30 d, total hits, the share of its
   * indicators never hit, and the indicators it has in common with each other supplier.
   */
  @Get('suppliers')
  async suppliers(): Promise<SupplierStatisticsListDto> {
    return { items: await this.statistics.suppliers() };
  }

  /**
   * Detections over time: events per hour (24 h), per six hours (7 d) or per day (30 d).
   *
   * @remarks Every bucket of the window is listed, oldest first, empty ones as 0; the last is
   * the one in progress. Counts include retro detections. Buckets are aligned to their width
   * in UTC.
   */
  @Get('detections')
  @ApiBadRequestResponse({ description: 'Unknown range or parameter', type: ErrorBody })
  timeline(@Query() query: DetectionTimelineQuery): Promise<DetectionTimelineDto> {
    return this.statistics.timeline(query.range ?? '24h');
  }
}
