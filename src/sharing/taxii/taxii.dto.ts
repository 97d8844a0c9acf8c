import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ALL_ERROR_CODES, type ErrorCode } from '../../common/errors/error-codes';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';
export const TAXII_DEFAULT_LIMIT = 1000;
const TAXII_MAX_LIMIT = 10_000;

/** Query of the objects and manifest endpoints (TAXII 2.1 §3.4 filtering, §3.6 paging). */
export class TaxiiObjectsQuery {
  /** Only objects added to the collection after this timestamp (send back X-TAXII-Date-Added-Last). */
  @ApiPropertyOptional({ example: '2026-01-01T00:00:00.000000Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'added_after must be an RFC 3339 timestamp' })
  added_after?: string;

  /** Objects per page (default 1000, at most 10000). */
  @ApiPropertyOptional({ minimum: 1, maximum: TAXII_MAX_LIMIT, default: TAXII_DEFAULT_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(TAXII_MAX_LIMIT)
  limit?: number;

  /** The `next` of the previous page (opaque). */
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  next?: string;

  /** Comma-separated STIX types; this server publishes `indicator` objects only. */
  @ApiPropertyOptional({ name: 'match[type]', example: 'indicator', maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  'match[type]'?: string;

  /** Comma-separated STIX ids (`indicator--<uuid>`), at most 100. */
  @ApiPropertyOptional({ name: 'match[id]', maxLength: 5000 })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  'match[id]'?: string;
}

export class TaxiiDiscovery {
  @ApiProperty({ example: 'Indicium TAXII 2.1' }) title!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ example: '/taxii2/api/' }) default!: string;
  @ApiProperty({ type: [String], example: ['/taxii2/api/'] }) api_roots!: string[];
}

export class TaxiiApiRoot {
  @ApiProperty({ example: 'Indicium indicators' }) title!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [String], example: [TAXII_MEDIA_TYPE] }) versions!: string[];
  @ApiProperty({ example: 1048576 }) max_content_length!: number;
}

export class TaxiiCollection {
  @ApiProperty({ description: 'The supplier id' }) id!: string;
  @ApiProperty({ description: 'The supplier name' }) title!: string;
  @ApiProperty() description!: string;
  @ApiProperty() can_read!: boolean;
  @ApiProperty() can_write!: boolean;
  @ApiProperty({ type: [String], example: [STIX_MEDIA_TYPE] }) media_types!: string[];
}

export class TaxiiCollections {
  @ApiProperty({ type: [TaxiiCollection] }) collections!: TaxiiCollection[];
}

export class TaxiiEnvelope {
  @ApiProperty() more!: boolean;
  @ApiPropertyOptional({ description: 'Pass as `next` for the following page' }) next?: string;
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'STIX 2.1 indicator objects (revoked versions for removed indicators)',
  })
  objects!: object[];
}

export class TaxiiManifestRecord {
  @ApiProperty() id!: string;
  @ApiProperty({ example: '2026-01-01T00:00:00.123456Z' }) date_added!: string;
  @ApiProperty({ example: '2026-01-01T00:00:00.123Z' }) version!: string;
  @ApiProperty({ example: STIX_MEDIA_TYPE }) media_type!: string;
}

export class TaxiiManifest {
  @ApiProperty() more!: boolean;
  @ApiPropertyOptional() next?: string;
  @ApiProperty({ type: [TaxiiManifestRecord] }) objects!: TaxiiManifestRecord[];
}

/** The TAXII 2.1 error message (§3.6.1), the body of every error on /taxii2 routes. */
export class TaxiiErrorBody {
  @ApiProperty({ example: 'Not Found' }) title!: string;
  @ApiPropertyOptional() description?: string;
  @ApiPropertyOptional({ description: 'The request id' }) error_id?: string;
  @ApiPropertyOptional({ example: '404' }) http_status?: string;
  @ApiPropertyOptional({
    enum: ALL_ERROR_CODES,
    enumName: 'ErrorCode',
    description: 'The code of the §1 error body',
  })
  error_code?: ErrorCode;
}
