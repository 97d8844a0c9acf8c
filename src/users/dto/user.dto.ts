import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { USERNAME } from '../../auth/auditable-name';
import { PageDto } from '../../common/pagination';

export const STATUSES = ['active', 'inactive'] as const;
export type Status = (typeof STATUSES)[number];

export class PasswordDto {
  /** 12–256 characters. */
  @ApiProperty({ minLength: 12, maxLength: 256, format: 'password', writeOnly: true })
  @IsString()
  @MinLength(12)
  @MaxLength(256)
  password!: string;
}

export class CreateUserDto extends PasswordDto {
  @ApiProperty({ pattern: USERNAME.source, example: 'jane.doe' })
  @IsString()
  @Matches(USERNAME, { message: 'username must match /^[A-Za-z0-9._@-]{3,64}$/' })
  username!: string;

  /** Name of an existing role. */
  @ApiProperty({ maxLength: 64, example: 'Analyst' })
  @IsString()
  @MaxLength(64)
  role!: string;

  @ApiPropertyOptional({ enum: STATUSES, default: 'active' })
  @IsOptional()
  @IsIn(STATUSES)
  status?: Status;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  role?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: Status;
}

export class ChangeOwnPasswordDto {
  @ApiProperty({ maxLength: 256, format: 'password', writeOnly: true })
  @IsString()
  @MaxLength(256)
  currentPassword!: string;

  @ApiProperty({ minLength: 12, maxLength: 256, format: 'password', writeOnly: true })
  @IsString()
  @MinLength(12)
  @MaxLength(256)
  newPassword!: string;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty() role!: string;
  @ApiProperty({ enum: STATUSES }) status!: Status;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiProperty({ type: String, nullable: true }) lastLoginAt!: string | null;
}

export class UserPageDto extends PageDto {
  @ApiProperty({ type: [UserDto] }) items!: UserDto[];
}

export class MeDto {
  @ApiProperty({ enum: ['user', 'client'] }) type!: 'user' | 'client';
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() role!: string;
  @ApiProperty({ type: [String] }) privileges!: string[];
}
