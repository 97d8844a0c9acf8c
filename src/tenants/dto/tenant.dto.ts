import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageDto } from '../../common/pagination';

const TENANT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class CreateTenantDto {
  /** Unique platform-wide; also what `X-Indicium-Tenant` names. */
  @ApiProperty({ pattern: TENANT_NAME.source, example: 'acme' })
  @IsString()
  @Matches(TENANT_NAME, { message: 'name must match /^[a-z0-9][a-z0-9-]{0,62}$/' })
  name!: string;

  @ApiPropertyOptional({ maxLength: 256, example: 'Acme Corporation' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  displayName?: string;
}

export class UpdateTenantDto {
  @ApiPropertyOptional({ maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  displayName?: string;

  /** A suspended tenant's principals get 401 (and so do its descendants'); its data stays. */
  @ApiPropertyOptional({ enum: ['active', 'suspended'] })
  @IsOptional()
  @IsIn(['active', 'suspended'])
  status?: 'active' | 'suspended';
}

export class TenantDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ pattern: TENANT_NAME.source }) name!: string;
  @ApiProperty() displayName!: string;
  /** The parent tenant's name; null for `default`, the root. */
  @ApiProperty({ type: String, nullable: true }) parent!: string | null;
  @ApiProperty({ enum: ['active', 'suspended'] }) status!: 'active' | 'suspended';
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class TenantPageDto extends PageDto {
  @ApiProperty({ type: [TenantDto] }) items!: TenantDto[];
}
