import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageDto } from '../../common/pagination';
import { TAG_NAME } from '../tag-name';

const TAG_COLOR = /^#[0-9a-fA-F]{6}$/;

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
