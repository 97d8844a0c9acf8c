import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageDto, PageQuery } from '../../common/pagination';

export class DetectionQuery extends PageQuery {
  /** Events at or after this instant (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time', example: '2025-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Events before this instant (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  /** Exact supplier name. */
  @ApiPropertyOptional({ maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  supplier?: string;

  /** Exact principal name (username or API client name) that searched. */
  @ApiPropertyOptional({ maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  principal?: string;

  /** The searched value, normalised as search normalises it. */
  @ApiPropertyOptional({ maxLength: 8192 })
  @IsOptional()
  @IsString()
  @MaxLength(8192)
  value?: string;
}

export class DetectionDto {
  @ApiProperty({ description: 'Increasing in recording order' }) id!: number;
  @ApiProperty({ format: 'date-time', description: 'When the value was searched' }) at!: string;
  @ApiProperty({ description: 'The searched value, normalised' }) value!: string;
  @ApiProperty() type!: string;
  @ApiProperty({ enum: ['detected'] }) result!: string;
  @ApiProperty({ description: 'Who searched (username or API client name)' }) principal!: string;
  @ApiProperty() supplier!: string;
  @ApiProperty({ description: 'The indicator that matched, as stored' }) indicator!: string;
  @ApiProperty() indicatorType!: string;
  @ApiProperty() matchedBy!: string;
  @ApiProperty({ type: Object }) context!: Record<string, unknown>;
  @ApiProperty({ description: 'Found by retro-scan: the indicator arrived after the search' })
  retro!: boolean;
}

export class DetectionPageDto extends PageDto {
  @ApiProperty({ type: [DetectionDto] }) items!: DetectionDto[];
}
