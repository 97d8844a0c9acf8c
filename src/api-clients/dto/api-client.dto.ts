import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { PageDto } from '../../common/pagination';
import { STATUSES, type Status } from '../../users/dto/user.dto';

const IP_MODES = ['allow_all', 'restricted'] as const;
export type IpMode = (typeof IP_MODES)[number];

export class IpRestrictionDto {
  @ApiProperty({ enum: IP_MODES })
  @IsIn(IP_MODES)
  mode!: IpMode;

  /** IPv4/IPv6 addresses and CIDRs, e.g. `203.0.113.7`, `10.0.0.0/8`, `2001:db8::/32`. */
  @ApiProperty({ type: [String], maxItems: 1000, example: ['203.0.113.7', '10.0.0.0/8'] })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  allowedIps!: string[];
}

export class CreateApiClientDto {
  @ApiProperty({ minLength: 1, maxLength: 128, example: 'SOAR playbooks' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  name!: string;

  /** Name of an existing role. */
  @ApiProperty({ maxLength: 64, example: 'Analyst' })
  @IsString()
  @MaxLength(64)
  role!: string;

  /** Default `{mode: "allow_all", allowedIps: []}`. */
  @ApiPropertyOptional({ type: IpRestrictionDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => IpRestrictionDto)
  ipRestriction?: IpRestrictionDto;

  @ApiPropertyOptional({ enum: STATUSES, default: 'active' })
  @IsOptional()
  @IsIn(STATUSES)
  status?: Status;
}

export class UpdateApiClientDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 128 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  name?: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  role?: string;

  @ApiPropertyOptional({ type: IpRestrictionDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => IpRestrictionDto)
  ipRestriction?: IpRestrictionDto;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: Status;
}

export class ApiClientDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'ind_3q2-7Yk1bX0aRz9LmQpW' }) clientId!: string;
  @ApiProperty() role!: string;
  @ApiProperty({ type: IpRestrictionDto }) ipRestriction!: IpRestrictionDto;
  @ApiProperty({ enum: STATUSES }) status!: Status;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: String, nullable: true }) lastUsedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastUsedIp!: string | null;
}

/** Create and rotate responses: the only times the secret is ever shown. */
export class ApiClientWithSecretDto extends ApiClientDto {
  @ApiProperty({ description: 'Shown only in this response; store it now', example: 'inds_…' })
  clientSecret!: string;
}

export class ClientSecretDto {
  @ApiProperty() clientId!: string;
  @ApiProperty({ description: 'Shown only in this response; store it now' }) clientSecret!: string;
}

export class ApiClientPageDto extends PageDto {
  @ApiProperty({ type: [ApiClientDto] }) items!: ApiClientDto[];
}
