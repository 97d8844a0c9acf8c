import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageDto } from '../../common/pagination';
import { IsActionableFields, MAX_ACTIONABLE_FIELDS } from './actionable-fields';

export const SUPPLIER_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const SUPPLIER_STATUSES = ['enabled', 'disabled'] as const;
export type SupplierStatus = (typeof SUPPLIER_STATUSES)[number];
const SUPPLIER_SHARINGS = ['none', 'descendants'] as const;
/** Whether the supplier's indicators are offered to every descendant tenant (docs/tenancy.md). */
export type SupplierSharing = (typeof SUPPLIER_SHARINGS)[number];
const SHARING_DOC =
  '`descendants`: offered read-only to every descendant tenant, which sees it after subscribing ' +
  '(`/shared-suppliers`); `none`: this tenant only. Built-in suppliers are never shared.';
/** 100 years; 0 means "never expire". */
const MAX_RETENTION_MINUTES = 52_560_000;
export const DEFAULT_DESCRIPTION = 'REST API supplier';

export class CreateSupplierDto {
  /** Unique case-insensitively; `InternalTI` and `FalsePositive` are reserved. */
  @ApiProperty({ pattern: SUPPLIER_NAME.source, example: 'AcmeFeed' })
  @IsString()
  @Matches(SUPPLIER_NAME, { message: `name must match ${SUPPLIER_NAME.source}` })
  name!: string;

  /** Default confidence of the supplier's indicators, 0–100. */
  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 50 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  confidence?: number;

  /** Minutes after its last update an indicator expires; 0 = never. */
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_RETENTION_MINUTES, default: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_RETENTION_MINUTES)
  retentionMinutes?: number;

  @ApiPropertyOptional({ maxLength: 128, default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  vendor?: string;

  @ApiPropertyOptional({ maxLength: 1024, default: DEFAULT_DESCRIPTION })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  /** Context fields that search copies into `actionable`. */
  @ApiPropertyOptional({ type: [String], maxItems: MAX_ACTIONABLE_FIELDS, example: ['threat'] })
  @IsActionableFields()
  actionableFields?: string[];

  /** Whether descendant tenants may subscribe to the supplier. */
  @ApiPropertyOptional({ enum: SUPPLIER_SHARINGS, default: 'none', description: SHARING_DOC })
  @IsOptional()
  @IsIn(SUPPLIER_SHARINGS)
  sharing?: SupplierSharing;
}

/** Built-in suppliers accept only `status` and `actionableFields` (anything else: 409). */
export class UpdateSupplierDto {
  /** Rename; unique case-insensitively. */
  @ApiPropertyOptional({ pattern: SUPPLIER_NAME.source })
  @IsOptional()
  @IsString()
  @Matches(SUPPLIER_NAME, { message: `name must match ${SUPPLIER_NAME.source}` })
  name?: string;

  @ApiPropertyOptional({ enum: SUPPLIER_STATUSES })
  @IsOptional()
  @IsIn(SUPPLIER_STATUSES)
  status?: SupplierStatus;

  @ApiPropertyOptional({ minimum: 0, maximum: 100 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  confidence?: number;

  /** Changing it recomputes the expiry of every indicator of the supplier. */
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_RETENTION_MINUTES })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_RETENTION_MINUTES)
  retentionMinutes?: number;

  @ApiPropertyOptional({ maxLength: 128 })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  vendor?: string;

  @ApiPropertyOptional({ maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_ACTIONABLE_FIELDS })
  @IsActionableFields()
  actionableFields?: string[];

  /** Sharing with descendant tenants; `none` hides it from them at once (subscriptions are kept). */
  @ApiPropertyOptional({ enum: SUPPLIER_SHARINGS, description: SHARING_DOC })
  @IsOptional()
  @IsIn(SUPPLIER_SHARINGS)
  sharing?: SupplierSharing;
}

export class SupplierDto {
  @ApiProperty() name!: string;
  @ApiProperty() vendor!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: SUPPLIER_STATUSES }) status!: SupplierStatus;
  @ApiProperty() confidence!: number;
  @ApiProperty() retentionMinutes!: number;
  @ApiProperty({ type: [String] }) actionableFields!: string[];
  @ApiProperty({ enum: SUPPLIER_SHARINGS }) sharing!: SupplierSharing;
  @ApiProperty() builtIn!: boolean;
  /** Indicators stored, including expired ones not yet purged. */
  @ApiProperty() indicatorCount!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class SupplierPageDto extends PageDto {
  @ApiProperty({ type: [SupplierDto] }) items!: SupplierDto[];
}
