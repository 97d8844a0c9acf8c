import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageDto, PageQuery } from '../../common/pagination';
import { ACTOR_TYPES, OPERATIONS, Outcome, OUTCOMES } from '../../audit/audit-chain';

export class AuditLogQuery extends PageQuery {
  /** Records at or after this instant (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time', example: '2025-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Records at or before this instant (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  /** Exact actorName (username or API client name). */
  @ApiPropertyOptional({ maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  actor?: string;

  /** Exact action, e.g. `user.create`. */
  @ApiPropertyOptional({ maxLength: 128, example: 'user.create' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  action?: string;

  @ApiPropertyOptional({ maxLength: 128, example: 'user' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  entityType?: string;

  @ApiPropertyOptional({ enum: OUTCOMES })
  @IsOptional()
  @IsIn(OUTCOMES)
  outcome?: Outcome;
}

export class AuditRecordDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  /** Gapless, increasing from 1. */
  @ApiProperty() sequence!: number;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiProperty({ enum: ACTOR_TYPES }) actorType!: string;
  @ApiProperty({ type: String, nullable: true }) actorId!: string | null;
  @ApiProperty({ type: String, nullable: true }) actorName!: string | null;
  @ApiProperty({ example: 'user.create' }) action!: string;
  @ApiProperty({ example: 'user' }) entityType!: string;
  @ApiProperty({ type: String, nullable: true }) entityName!: string | null;
  @ApiProperty({ enum: OPERATIONS }) operation!: string;
  @ApiProperty({ enum: OUTCOMES }) outcome!: string;
  @ApiProperty({ type: Object, nullable: true, description: 'State before; secrets redacted' })
  oldValue!: unknown;
  @ApiProperty({ type: Object, nullable: true, description: 'State after; secrets redacted' })
  newValue!: unknown;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty({ type: String, nullable: true }) requestId!: string | null;
  /**
   * Present when the actor acted outside its home tenant (a parent tenant's principal in a
   * descendant): the name of that home tenant, whose audit log holds the record too.
   */
  @ApiPropertyOptional({ example: 'mssp' }) actorTenant?: string;
  /** sha256(previous hash + canonical JSON of this record without `hash`), hex. */
  @ApiProperty() hash!: string;
}

export class AuditRecordPageDto extends PageDto {
  @ApiProperty({ type: [AuditRecordDto] }) items!: AuditRecordDto[];
}

export class AuditVerifyDto {
  @ApiProperty() valid!: boolean;
  @ApiPropertyOptional({ description: 'Records checked (when valid)' }) checked?: number;
  @ApiPropertyOptional({
    description: 'Sequence of the first record that breaks the chain (when invalid)',
  })
  brokenAt?: number;
}
