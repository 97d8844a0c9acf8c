import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { INDICATOR_TYPES, IndicatorType } from '../../../indicators';
import { FALSE_POSITIVE_SUPPLIER } from '../../built-in-suppliers';
import { PageDto, PageQuery } from '../../../common/pagination';
import { TagRefDto } from '../../../tags/dto/tag-ref.dto';
import { TAG_NAME } from '../../../tags/tag-name';

export class IndicatorListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: INDICATOR_TYPES })
  @IsOptional()
  @IsIn(INDICATOR_TYPES)
  type?: IndicatorType;

  /** Only indicators carrying this tag (case-insensitive). */
  @ApiPropertyOptional({ pattern: TAG_NAME.source })
  @IsOptional()
  @IsString()
  @Matches(TAG_NAME, { message: `tag must match ${TAG_NAME.source}` })
  tag?: string;

  /** Exact value; normalised (with `type` if given) before the lookup. */
  @ApiPropertyOptional({ maxLength: 2048 })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  value?: string;

  /** Only indicators created or updated at or after this instant (ISO 8601). */
  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'updatedSince must be an ISO 8601 timestamp' })
  updatedSince?: string;

  /**
   * Expired indicators (own expiresAt or supplier retention passed) are never matched and are
   * purged periodically; until then they are hidden here unless this is true.
   */
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean()
  includeExpired?: boolean;
}

export class IndicatorDto {
  @ApiProperty() id!: string;
  /** Canonical value. */
  @ApiProperty() indicator!: string;
  @ApiProperty({ enum: INDICATOR_TYPES }) type!: IndicatorType;
  @ApiProperty({ type: Object, example: { threat: 'phishing' } })
  context!: Record<string, unknown>;
  /** Its tags, heaviest first (then by name): the same shape as in search results. */
  @ApiProperty({ type: [TagRefDto] })
  tags!: TagRefDto[];
  @ApiProperty({ type: Number, nullable: true }) confidence!: number | null;
  @ApiProperty({ type: String, nullable: true }) firstSeen!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastSeen!: string | null;
  @ApiProperty({ type: String, nullable: true }) expiresAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  /** Detected search results that named it, all principals together (written every ≤ 5 s). */
  @ApiProperty() hits!: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastHitAt!: string | null;
}

export class IndicatorPageDto extends PageDto {
  @ApiProperty({ type: [IndicatorDto] }) items!: IndicatorDto[];
}

export class UploadEntryDto {
  @ApiProperty({ maxLength: 2048, example: 'evil.com' }) indicator!: string;
  @ApiPropertyOptional({ enum: INDICATOR_TYPES, description: 'Detected when omitted' })
  type?: IndicatorType;
  @ApiPropertyOptional({
    type: Object,
    description: `Field names ^[a-z0-9][a-z0-9_-]{0,254}$ (≤100 fields); values string (≤4096), number, boolean or string[] (≤100). Replaced on update. Not allowed for ${FALSE_POSITIVE_SUPPLIER}.`,
  })
  context?: Record<string, unknown>;
  @ApiPropertyOptional({
    type: [String],
    description: 'Existing tag names (≤100). Omitted: unchanged; []: all removed.',
  })
  tags?: string[];
  @ApiPropertyOptional({ minimum: 0, maximum: 100 }) confidence?: number;
  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z' }) firstSeen?: string;
  @ApiPropertyOptional() lastSeen?: string;
  @ApiPropertyOptional({
    description: 'The entry expires (is never matched, then purged) at this instant',
  })
  expiresAt?: string;
}

export class UploadFailureDto {
  /** 0-based position of the entry in the array (NDJSON: among non-blank lines). */
  @ApiProperty() index!: number;
  @ApiProperty({ type: String, nullable: true }) indicator!: string | null;
  @ApiProperty() reason!: string;
}

export class UploadResultDto {
  /** Entries read from the body (applied + failed). */
  @ApiProperty() processed!: number;
  /** Indicators created; repeated entries of one key in a body count once. */
  @ApiProperty() created!: number;
  @ApiProperty() updated!: number;
  @ApiProperty({ type: [UploadFailureDto] }) failed!: UploadFailureDto[];
}

export class DeleteResultDto {
  @ApiProperty() deleted!: number;
  /** The values sent that are not (or not validly) indicators of the supplier. */
  @ApiProperty({ type: [String] }) notFound!: string[];
}

export class DeleteEntryDto {
  @ApiProperty({ maxLength: 2048 }) indicator!: string;
  @ApiPropertyOptional({ enum: INDICATOR_TYPES }) type?: IndicatorType;
}
