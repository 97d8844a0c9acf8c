import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { PageDto } from '../../common/pagination';
import { ALL_PRIVILEGES, Privilege } from '../../auth/privileges';

const ROLE_NAME = /^[A-Za-z0-9 _-]{1,64}$/;

export class CreateRoleDto {
  /** Unique, case-sensitive. */
  @ApiProperty({ pattern: ROLE_NAME.source, example: 'SOC Tier 2' })
  @IsString()
  @Matches(ROLE_NAME, { message: 'name must match /^[A-Za-z0-9 _-]{1,64}$/' })
  name!: string;

  @ApiPropertyOptional({ maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  @ApiProperty({ enum: ALL_PRIVILEGES, isArray: true })
  @IsArray()
  @ArrayMaxSize(ALL_PRIVILEGES.length)
  @ArrayUnique()
  @IsIn(ALL_PRIVILEGES, {
    each: true,
    message: `each value in privileges must be one of: ${ALL_PRIVILEGES.join(', ')}`,
  })
  privileges!: Privilege[];
}

export class UpdateRoleDto extends PartialType(OmitType(CreateRoleDto, ['name'] as const)) {}

export class RoleDto {
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty() builtIn!: boolean;
  @ApiProperty({ enum: ALL_PRIVILEGES, isArray: true }) privileges!: Privilege[];
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class RolePageDto extends PageDto {
  @ApiProperty({ type: [RoleDto] }) items!: RoleDto[];
}

export class PrivilegeDto {
  @ApiProperty({ enum: ALL_PRIVILEGES }) name!: Privilege;
  @ApiProperty() description!: string;
}
