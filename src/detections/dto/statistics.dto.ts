import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

export class SupplierOverlapDto {
  @ApiProperty() supplier!: string;
  /** Indicators both suppliers hold (same type and canonical value). */
  @ApiProperty() indicators!: number;
}

export class SupplierStatisticsDto {
  @ApiProperty() supplier!: string;
  @ApiProperty() indicators!: number;
  /** Indicators hit (by any principal) within the last 24 h, 7 d and 30 d. */
  @ApiProperty() hitLast24h!: number;
  @ApiProperty() hitLast7d!: number;
  @ApiProperty() hitLast30d!: number;
  /** Detected search results that named one of its indicators. */
  @ApiProperty() hits!: number;
  /** Share of its indicators never hit, 0–1 (0 for a supplier with no indicators). */
  @ApiProperty() neverHitShare!: number;
  /** Every other supplier it has indicators in common with. */
  @ApiProperty({ type: [SupplierOverlapDto] }) overlap!: SupplierOverlapDto[];
}

export class SupplierStatisticsListDto {
  @ApiProperty({ type: [SupplierStatisticsDto] }) items!: SupplierStatisticsDto[];
}

/** The windows of GET /api/v1/statistics/detections, each with its bucket width. */
export const DETECTION_RANGES = { '24h': 3_600, '7d': 6 * 3_600, '30d': 86_400 } as const;
export type DetectionRange = keyof typeof DETECTION_RANGES;

export class DetectionTimelineQuery {
  /** The window looked back over: 24 hourly buckets, 28 of six hours, or 30 daily ones. */
  @ApiPropertyOptional({ enum: Object.keys(DETECTION_RANGES), default: '24h' })
  @IsOptional()
  @IsIn(Object.keys(DETECTION_RANGES))
  range?: DetectionRange;
}

export class DetectionBucketDto {
  /** The bucket's first instant (aligned to its width, UTC). */
  @ApiProperty({ format: 'date-time' }) start!: string;
  /** Detection events recorded in the bucket (retro ones included). */
  @ApiProperty() detections!: number;
}

export class DetectionTimelineDto {
  @ApiProperty({ enum: Object.keys(DETECTION_RANGES) }) range!: DetectionRange;
  @ApiProperty() bucketSeconds!: number;
  /** Oldest first, every bucket of the window (empty ones as 0), the current one last. */
  @ApiProperty({ type: [DetectionBucketDto] }) buckets!: DetectionBucketDto[];
}
