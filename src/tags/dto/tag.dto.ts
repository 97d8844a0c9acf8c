import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { PageDto } from '../../common/pagination';
import { TAG_NAME } from '../../suppliers/indicators/indicator-entry';
import { SUPPLIER_NAME } from '../../suppliers/dto/supplier.dto';

export const TAG_COLOR = /^#[0-9a-fA-F]{6}$/;
/** Most values one assign/unassign request may name. */
export const MAX_TAG_ASSIGN_VALUES = 10_000;

export class CreateTagDto {
  /** Stored uppercase; unique. */
  @ApiProperty({ pattern: TAG_NAME.source, example: 'PHISHING' })
  @IsString()
  @Matches(TAG_NAME, { message: `name must match ${TAG_NAME.source}` })
  name!: string;

  /** How much the tag matters, 0–5. */
  @ApiPropertyOptional({ minimum: 0, maximum: 5, default: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(5)
  weight?: number;

  @ApiPropertyOptional({ maxLength: 1024, default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  /** `#rrggbb`, stored lowercase. */
  @ApiPropertyOptional({ pattern: TAG_COLOR.source, example: '#ff8800', nullable: true })
  @IsOptional()
  @IsString()
  @Matches(TAG_COLOR, { message: 'color must be #rrggbb' })
  color?: string | null;
}

/** Any subset of the tag's fields; `color: null` removes the color. */
export class UpdateTagDto {
  /** Rename; stored uppercase, unique. */
  @ApiPropertyOptional({ pattern: TAG_NAME.source })
  @IsOptional()
  @IsString()
  @Matches(TAG_NAME, { message: `name must match ${TAG_NAME.source}` })
  name?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 5 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(5)
  weight?: number;

  @ApiPropertyOptional({ maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  @ApiPropertyOptional({ pattern: TAG_COLOR.source, nullable: true })
  @IsOptional()
  @IsString()
  @Matches(TAG_COLOR, { message: 'color must be #rrggbb' })
  color?: string | null;
}

export class TagDto {
  @ApiProperty() name!: string;
  @ApiProperty() weight!: number;
  @ApiProperty() description!: string;
  @ApiProperty({ type: String, nullable: true }) color!: string | null;
  /** Indicators carrying the tag (all suppliers). */
  @ApiProperty() indicatorCount!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class TagPageDto extends PageDto {
  @ApiProperty({ type: [TagDto] }) items!: TagDto[];
}

export class TagAssignmentDto {
  /** The supplier whose indicators get (or lose) the tag; case-insensitive. */
  @ApiProperty({ pattern: SUPPLIER_NAME.source, example: 'AcmeFeed' })
  @IsString()
  @Matches(SUPPLIER_NAME, { message: `supplier must match ${SUPPLIER_NAME.source}` })
  supplier!: string;

  /** Indicator values, normalised (type detected) before the lookup. */
  @ApiProperty({ type: [String], maxItems: MAX_TAG_ASSIGN_VALUES, example: ['evil.com'] })
  @IsArray()
  @ArrayMaxSize(MAX_TAG_ASSIGN_VALUES)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  indicators!: string[];
}

export class TagAssignmentResultDto {
  /** Indicators of the supplier found for the values (now carrying / no longer carrying the tag). */
  @ApiProperty() updated!: number;
  /** Values that are not (or not validly) indicators of the supplier. */
  @ApiProperty({ type: [String] }) notFound!: string[];
}
