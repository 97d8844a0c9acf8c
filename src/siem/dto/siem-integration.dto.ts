import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  Contains,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { PageDto } from '../../common/pagination';
import { SIEM_FORMAT_NAMES, type SiemFormat } from '../siem-formats';
import { SIEM_STREAMS, type SiemStream } from '../siem-integrations.repository';
import { SIEM_TYPES, TRANSPORTS, type SiemType, type Transport } from '../siem-target';

const HOST = /^[A-Za-z0-9.:_-]{1,255}$/;

export class CreateSiemIntegrationDto {
  @ApiProperty({ minLength: 1, maxLength: 128, example: 'Corporate SIEM' })
  @IsString()
  @Length(1, 128)
  name!: string;

  @ApiProperty({ enum: SIEM_TYPES })
  @IsIn(SIEM_TYPES)
  type!: SiemType;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** true: forward every record from the first; false (default): only records after creation. */
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  sendHistory?: boolean;

  /**
   * What to forward: audit records, detection events (docs/api.md §11; retro included), or
   * both, each in its own order with the same guarantees. sendHistory applies per stream.
   */
  @ApiPropertyOptional({ enum: SIEM_STREAMS, isArray: true, default: ['audit'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SIEM_STREAMS.length)
  @ArrayUnique()
  @IsIn(SIEM_STREAMS, { each: true })
  streams?: SiemStream[];

  /**
   * syslog only (required). `relp`: every message acknowledged by the receiver (rsyslog
   * imrelp), the only syslog transport whose progress means received. `tcp`/`tls`: no
   * acknowledgement exists; a record counts once the receiver, after reading it, closed the
   * connection cleanly after us (proof that it was read, not that it was stored), and every
   * record written on a connection that broke is sent again (duplicates, never a gap).
   * `udp`: fire and forget, counted when sent, may be lost.
   */
  @ApiPropertyOptional({ enum: TRANSPORTS })
  @IsOptional()
  @IsIn(TRANSPORTS)
  transport?: Transport;

  /** syslog only (required): host name or IP address of the receiver. */
  @ApiPropertyOptional({ maxLength: 255, example: 'siem.example.org' })
  @IsOptional()
  @IsString()
  @Matches(HOST, { message: 'host must be a host name or IP address (at most 255 characters)' })
  host?: string;

  /** syslog only (required). */
  @ApiPropertyOptional({ minimum: 1, maximum: 65535, example: 6514 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  port?: number;

  /** syslog only (required): the MSG part, CEF or the record as JSON. */
  @ApiPropertyOptional({ enum: SIEM_FORMAT_NAMES })
  @IsOptional()
  @IsIn(SIEM_FORMAT_NAMES)
  format?: SiemFormat;

  /** tls transport only: skip certificate verification (default false; for testing only). */
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  tlsInsecure?: boolean;

  /** tls transport only: PEM CA certificate(s) to trust instead of the system store. */
  @ApiPropertyOptional({ maxLength: 65536 })
  @IsOptional()
  @IsString()
  @MaxLength(65536)
  @Contains('-----BEGIN CERTIFICATE-----', { message: 'caCert must be a PEM certificate' })
  caCert?: string;

  /** webhook only (required): http(s) URL receiving POSTed JSON arrays of records. */
  @ApiPropertyOptional({ maxLength: 2048, example: 'https://siem.example.org/indicium' })
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'url must be an http or https URL' },
  )
  @MaxLength(2048)
  url?: string;

  /** webhook only (required): HMAC-SHA256 key for X-Indicium-Signature. Write-only, never returned. */
  @ApiPropertyOptional({ minLength: 1, maxLength: 1024, writeOnly: true })
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  secret?: string;
}

/** Any subset; the result is validated again as a whole for its type. */
export class UpdateSiemIntegrationDto extends PartialType(CreateSiemIntegrationDto) {}

export class SiemIntegrationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: SIEM_TYPES }) type!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() sendHistory!: boolean;
  @ApiProperty({ enum: SIEM_STREAMS, isArray: true }) streams!: SiemStream[];
  @ApiProperty({ enum: TRANSPORTS, nullable: true }) transport!: string | null;
  @ApiProperty({ type: String, nullable: true }) host!: string | null;
  @ApiProperty({ type: Number, nullable: true }) port!: number | null;
  @ApiProperty({ enum: SIEM_FORMAT_NAMES, nullable: true }) format!: string | null;
  @ApiProperty() tlsInsecure!: boolean;
  @ApiProperty({ type: String, nullable: true }) caCert!: string | null;
  @ApiProperty({ type: String, nullable: true }) url!: string | null;
  /**
   * Sequence of the last record the receiver confirmed (0: none yet): RELP acknowledgement,
   * webhook 2xx, TCP/TLS clean close after it; UDP: sent.
   */
  @ApiProperty() lastDeliveredSequence!: number;
  @ApiProperty({ type: String, nullable: true }) lastDeliveredAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  /** Records not confirmed yet (sent or not): the last sequence minus lastDeliveredSequence. */
  @ApiProperty() backlog!: number;
  /** Id of the last detection event the receiver confirmed (0: none yet), as for records. */
  @ApiProperty() lastDeliveredDetectionId!: number;
  /** Detection events waiting (0 unless the detections stream is on). */
  @ApiProperty() detectionBacklog!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class SiemIntegrationPageDto extends PageDto {
  @ApiProperty({ type: [SiemIntegrationDto] }) items!: SiemIntegrationDto[];
}

export class SiemTestResultDto {
  /**
   * true when the receiver confirmed (RELP acknowledged, webhook answered 2xx, TCP/TLS closed
   * cleanly after the event); false for UDP.
   */
  @ApiProperty() delivered!: boolean;
  /** `delivered`, or `sent` for UDP (fire-and-forget: no confirmation is possible). */
  @ApiProperty({ enum: ['delivered', 'sent'] }) status!: 'delivered' | 'sent';
}
