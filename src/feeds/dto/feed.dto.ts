import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { PageDto } from '../../common/pagination';
import {
  AUTH_TYPES,
  type AuthType,
  FEED_FORMATS,
  FEED_MODES,
  FEED_OUTCOMES,
  type FeedFormat,
  type FeedMode,
  type FeedOutcome,
} from '../feed-config';
import { CONTEXT_FIELD } from '../../suppliers/indicators/indicator-entry';

const MAX_URL_LENGTH = 2048;
const MAX_CSV_COLUMN_INDEX = 1000;

function isColumn(v: unknown): boolean {
  return (
    (typeof v === 'string' && v.length >= 1 && v.length <= 256) ||
    (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_CSV_COLUMN_INDEX)
  );
}

/** A CSV column: a header name (1–256 characters) or a 0-based index (0–1000). */
function IsColumn(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isColumn',
      validator: {
        validate: isColumn,
        defaultMessage: (a) =>
          `${a?.property} must be a column name (1-256 characters) or a 0-based index (0-${MAX_CSV_COLUMN_INDEX})`,
      },
    },
    options,
  );
}

/** `{contextField: column}` with context field names as uploads require them. */
function IsContextColumns(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isContextColumns',
      validator: {
        validate: (v: unknown) =>
          typeof v === 'object' &&
          v !== null &&
          !Array.isArray(v) &&
          Object.keys(v).length <= 100 &&
          Object.entries(v).every(([k, col]) => CONTEXT_FIELD.test(k) && isColumn(col)),
        defaultMessage: (a) =>
          `${a?.property} must map at most 100 context field names (${CONTEXT_FIELD.source}) to column names or indexes`,
      },
    },
    options,
  );
}

const COLUMN_SCHEMA = {
  oneOf: [
    { type: 'string', minLength: 1, maxLength: 256 },
    { type: 'integer', minimum: 0, maximum: MAX_CSV_COLUMN_INDEX },
  ],
};

export class FeedAuthDto {
  @ApiProperty({ enum: AUTH_TYPES, example: 'bearer' })
  @IsIn(AUTH_TYPES)
  type!: AuthType;

  /** basic */
  @ApiPropertyOptional({ maxLength: 256, writeOnly: true })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  username?: string;

  /** basic */
  @ApiPropertyOptional({ maxLength: 1024, writeOnly: true })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  /** bearer */
  @ApiPropertyOptional({ maxLength: 4096, writeOnly: true })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  token?: string;

  /** header: the header to send, e.g. `X-API-Key`. */
  @ApiPropertyOptional({
    maxLength: 128,
    pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  headerName?: string;

  /** header: its value. */
  @ApiPropertyOptional({ maxLength: 4096, writeOnly: true })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  headerValue?: string;
}

export class FeedCsvDto {
  /** The indicator's column: header name or 0-based index. */
  @ApiPropertyOptional({ ...COLUMN_SCHEMA, default: 0, example: 'indicator' })
  @IsOptional()
  @IsColumn()
  valueColumn?: string | number;

  /** One character. */
  @ApiPropertyOptional({ minLength: 1, maxLength: 1, default: ',' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1)
  delimiter?: string;

  /** Whether the first record names the columns (needed to name columns). */
  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  header?: boolean;

  /** A column holding the type (`ip`, `domain`…); other values: detected from the value. */
  @ApiPropertyOptional({ ...COLUMN_SCHEMA, example: 'type' })
  @IsOptional()
  @IsColumn()
  typeColumn?: string | number;

  /** Context fields and the columns they come from. */
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: COLUMN_SCHEMA,
    example: { threat: 'threat_name', note: 4 },
  })
  @IsOptional()
  @IsContextColumns()
  contextColumns?: Record<string, string | number>;

  /** A column of tag names separated by `,` `;` `|` or spaces; unknown tags fail the row. */
  @ApiPropertyOptional({ ...COLUMN_SCHEMA, example: 'tags' })
  @IsOptional()
  @IsColumn()
  tagsColumn?: string | number;

  /** Lines starting with it are skipped; empty: none. */
  @ApiPropertyOptional({ maxLength: 8, default: '#' })
  @IsOptional()
  @IsString()
  @MaxLength(8)
  commentPrefix?: string;
}

export class FeedTaxiiDto {
  @ApiProperty({ maxLength: 256, example: '91a7b528-80eb-42ed-a74d-c6fbd5a26116' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  collectionId!: string;
}

/** `PUT …/feed` (create or replace). */
export class PutFeedDto {
  /**
   * http or https. text/csv/stix21: the file; taxii21: the API root
   * (e.g. `https://taxii.example/api1/`); misp: the feed directory holding `manifest.json`.
   */
  @ApiProperty({ maxLength: MAX_URL_LENGTH, example: 'https://feeds.example/c2-ips.txt' })
  @IsString()
  @MaxLength(MAX_URL_LENGTH)
  url!: string;

  @ApiProperty({ enum: FEED_FORMATS, example: 'text' })
  @IsIn(FEED_FORMATS)
  format!: FeedFormat;

  /** replace: the supplier holds exactly the feed after each run; merge: upserts and removals. Default replace (taxii21, misp: merge, the only mode they allow). */
  @ApiPropertyOptional({ enum: FEED_MODES })
  @IsOptional()
  @IsIn(FEED_MODES)
  mode?: FeedMode;

  @ApiPropertyOptional({ minimum: 5, maximum: 10080, default: 60 })
  @IsOptional()
  @IsInt()
  @Min(5)
  @Max(10080)
  intervalMinutes?: number;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** Write-only credentials. Sending only the same `type` again keeps the stored ones. */
  @ApiPropertyOptional({ type: FeedAuthDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => FeedAuthDto)
  auth?: FeedAuthDto;

  /** csv only. */
  @ApiPropertyOptional({ type: FeedCsvDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => FeedCsvDto)
  csv?: FeedCsvDto;

  /** taxii21 only (required there). */
  @ApiPropertyOptional({ type: FeedTaxiiDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => FeedTaxiiDto)
  taxii?: FeedTaxiiDto;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  tlsVerify?: boolean;

  /** PEM certificate(s) to trust besides the system CAs (a private CA or a self-signed server). */
  @ApiPropertyOptional({ maxLength: 65536 })
  @IsOptional()
  @IsString()
  @MaxLength(65536)
  caCertificate?: string;
}

export class FeedAuthViewDto {
  @ApiProperty({ enum: AUTH_TYPES })
  type!: AuthType;

  /** Whether credentials are stored; they are never shown. */
  @ApiProperty()
  configured!: boolean;
}

export class FeedCountsDto {
  @ApiProperty() fetched!: number;
  @ApiProperty() created!: number;
  @ApiProperty() updated!: number;
  @ApiProperty() removed!: number;
  @ApiProperty() rejected!: number;
}

export class RejectedSampleDto {
  @ApiProperty({ type: String, nullable: true }) indicator!: string | null;
  @ApiProperty() reason!: string;
}

export class FeedCsvViewDto {
  @ApiProperty(COLUMN_SCHEMA) valueColumn!: string | number;
  @ApiProperty() delimiter!: string;
  @ApiProperty() header!: boolean;
  @ApiPropertyOptional(COLUMN_SCHEMA) typeColumn?: string | number;
  @ApiPropertyOptional({ type: 'object', additionalProperties: COLUMN_SCHEMA })
  contextColumns?: Record<string, string | number>;
  @ApiPropertyOptional(COLUMN_SCHEMA) tagsColumn?: string | number;
  @ApiProperty() commentPrefix!: string;
}

/** A feed: its configuration (credentials only as `configured`) and its state. */
export class FeedDto {
  @ApiProperty() url!: string;
  @ApiProperty({ enum: FEED_FORMATS }) format!: FeedFormat;
  @ApiProperty({ enum: FEED_MODES }) mode!: FeedMode;
  @ApiProperty() intervalMinutes!: number;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: FeedAuthViewDto }) auth!: FeedAuthViewDto;
  @ApiPropertyOptional({ type: FeedCsvViewDto }) csv?: FeedCsvViewDto;
  @ApiPropertyOptional({ type: FeedTaxiiDto }) taxii?: FeedTaxiiDto;
  @ApiProperty() tlsVerify!: boolean;
  @ApiProperty({ type: String, nullable: true }) caCertificate!: string | null;
  @ApiProperty({ enum: ['idle', 'running'] }) state!: 'idle' | 'running';
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastRunAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastSuccessAt!: string | null;
  @ApiProperty({ enum: FEED_OUTCOMES, nullable: true }) lastOutcome!: FeedOutcome | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ type: FeedCountsDto, nullable: true }) lastCounts!: FeedCountsDto | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  nextRunAt!: string | null;
}

/** A feed in the list of every feed (GET /api/v1/feeds): its supplier, then the feed. */
export class FeedSummaryDto extends FeedDto {
  @ApiProperty() supplier!: string;
}

export class FeedPageDto extends PageDto {
  @ApiProperty({ type: [FeedSummaryDto] }) items!: FeedSummaryDto[];
}

export class FeedRunDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time' }) finishedAt!: string;
  @ApiProperty({ enum: FEED_OUTCOMES }) outcome!: FeedOutcome;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ type: FeedCountsDto }) counts!: FeedCountsDto;
  /** Up to 20 entries the run could not use, with the reason. */
  @ApiProperty({ type: [RejectedSampleDto] }) rejectedSample!: RejectedSampleDto[];
}

export class FeedRunPageDto extends PageDto {
  @ApiProperty({ type: [FeedRunDto] }) items!: FeedRunDto[];
}

export class FeedRunQueuedDto {
  @ApiProperty({ example: true }) queued!: boolean;
}

/** Request examples for Swagger, one per format. */
export const PUT_FEED_EXAMPLES = {
  text: {
    summary: 'A plain list, one indicator per line',
    value: { url: 'https://feeds.example/c2-ips.txt', format: 'text', intervalMinutes: 60 },
  },
  csv: {
    summary: 'CSV with a header, type and context columns',
    value: {
      url: 'https://feeds.example/iocs.csv',
      format: 'csv',
      csv: {
        valueColumn: 'indicator',
        typeColumn: 'type',
        contextColumns: { threat: 'threat_name' },
        tagsColumn: 'tags',
      },
      auth: { type: 'basic', username: 'indicium', password: 'feed-password' },
    },
  },
  stix21: {
    summary: 'A STIX 2.1 bundle',
    value: { url: 'https://intel.example/bundle.json', format: 'stix21', mode: 'replace' },
  },
  taxii21: {
    summary: 'A TAXII 2.1 collection (merge only)',
    value: {
      url: 'https://taxii.example/api1/',
      format: 'taxii21',
      taxii: { collectionId: '91a7b528-80eb-42ed-a74d-c6fbd5a26116' },
      auth: { type: 'bearer', token: 'taxii-token' },
      intervalMinutes: 30,
    },
  },
  misp: {
    summary: 'A MISP feed directory (merge only)',
    value: {
      url: 'https://misp.example/feeds/circl/',
      format: 'misp',
      auth: { type: 'header', headerName: 'Authorization', headerValue: 'misp-api-key' },
    },
  },
};
