import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsOptional, Max, Min } from 'class-validator';
import { INDICATOR_TYPES, MATCHED_BY, type MatchedBy } from '../../indicators';
import { SEARCH_MAX_VALUES } from '../../common/body-parser.middleware';
import { SELF_VALIDATED } from '../../common/self-validated';
import { TagRefDto } from '../../tags/dto/tag-ref.dto';

export const MAX_VALUES = SEARCH_MAX_VALUES;
export const DEFAULT_MATCHES_LIMIT = 100;

/**
 * In a JSON body `matchesLimit` must be a number: `true` or `"5"` is refused, not coerced (the
 * query string's text is converted by SearchQueryPipe).
 */
class MatchesLimit {
  /**
   * At most this many matches per value (1–1000, default 100), so a wide network query cannot
   * return millions of rows; `matchesTruncated` says when it cut.
   */
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: DEFAULT_MATCHES_LIMIT })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  matchesLimit?: number;
}

/** Validated by SearchQueryPipe (the hot path), not by the global ValidationPipe. */
export class SearchQueryDto extends MatchesLimit {
  static readonly [SELF_VALIDATED] = true;

  /** The value to look up; its type is detected. */
  @ApiProperty({ example: 'http://www.evil.com/x' })
  value!: string;
}

/**
 * Validated by SearchRequestPipe, not by the global ValidationPipe; the decorators stay as the
 * reference its spec checks it against.
 */
export class SearchRequestDto extends MatchesLimit {
  static readonly [SELF_VALIDATED] = true;

  /** 1–100,000 values, answered in order; a value that is not a valid indicator gets `invalid`. */
  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: MAX_VALUES,
    example: ['10.1.2.3', 'a.evil.com'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_VALUES)
  values!: unknown[];
}

export class MatchDto {
  @ApiProperty() supplier!: string;
  @ApiProperty() vendor!: string;
  @ApiProperty({ description: 'The indicator as stored (canonical)' }) indicator!: string;
  @ApiProperty({ enum: INDICATOR_TYPES }) indicatorType!: string;
  @ApiProperty({ enum: MATCHED_BY })
  matchedBy!: MatchedBy;
  @ApiProperty({ description: "The indicator's confidence, else its supplier's" })
  confidence!: number;
  @ApiProperty({ type: Object }) context!: Record<string, unknown>;
  @ApiProperty({
    type: Object,
    description: "Only the supplier's actionableFields keys of context",
  })
  actionable!: Record<string, unknown>;
  @ApiProperty({ type: [TagRefDto] }) tags!: TagRefDto[];
  @ApiProperty({ type: String, nullable: true }) firstSeen!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastSeen!: string | null;
  @ApiProperty() updatedAt!: string;
  /**
   * Set only on a match of a supplier an ancestor tenant shares (docs/tenancy.md): that
   * tenant's name. `supplier` is the shared supplier's name.
   */
  @ApiPropertyOptional({ example: 'mssp' })
  sharedBy?: string;
}

export class SearchResultDto {
  @ApiProperty({ description: 'The value as sent' }) value!: unknown;
  @ApiProperty({ enum: INDICATOR_TYPES, nullable: true }) type!: string | null;
  @ApiProperty({ type: String, nullable: true }) normalized!: string | null;
  @ApiProperty({ enum: ['detected', 'not_detected', 'false_positive', 'invalid'] }) result!: string;
  @ApiProperty({ type: [MatchDto] }) matches!: MatchDto[];
  @ApiProperty({ type: MatchDto, nullable: true }) falsePositive!: MatchDto | null;
  @ApiProperty({ description: 'True when matchesLimit cut the matches' })
  matchesTruncated!: boolean;
  @ApiPropertyOptional({ description: 'Why the value is invalid' }) reason?: string;
}

export class SearchResponseDto {
  @ApiProperty({ type: [SearchResultDto] }) results!: SearchResultDto[];
}
