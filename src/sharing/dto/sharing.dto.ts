import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { EXPORT_FORMATS, type ExportFormat } from '../export/export-formats';

export class ExportQuery {
  /** Output format: NDJSON (one §3 indicator item per line), CSV (RFC 4180, header row, context as JSON) or a STIX 2.1 bundle. */
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'ndjson' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: `format must be one of ${EXPORT_FORMATS.join(', ')}` })
  format?: ExportFormat;
}

const LIST = /^[A-Za-z0-9_-]{1,128}(,[A-Za-z0-9_-]{1,128})*$/;

export class BlocklistQuery {
  /** Comma-separated indicator types to list (default: all). */
  @ApiPropertyOptional({ example: 'ip,cidr,domain,url', maxLength: 128 })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(/^[a-z0-9]+(,[a-z0-9]+)*$/, { message: 'types must be a comma-separated list' })
  types?: string;

  /** Comma-separated supplier names (default: every enabled supplier). */
  @ApiPropertyOptional({ example: 'InternalTI,AcmeFeed', maxLength: 4096 })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  @Matches(LIST, { message: 'suppliers must be a comma-separated list of supplier names' })
  suppliers?: string;

  /** Only indicators whose confidence (their own, else their supplier's) is at least this. */
  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'minConfidence must be an integer' })
  @Min(0)
  @Max(100)
  minConfidence?: number;

  /** Comma-separated tag names: only indicators carrying at least one of them. */
  @ApiPropertyOptional({ example: 'PHISHING,C2', maxLength: 4096 })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  @Matches(LIST, { message: 'tags must be a comma-separated list of tag names' })
  tags?: string;
}
