import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsOptional,
  IsString,
  Matches,
} from 'class-validator';
import { CONTEXT_FIELD } from '../indicators/indicator-entry';

/** A supplier an ancestor tenant shares with this one. */
export class SharedSupplierDto {
  @ApiProperty({ example: 'MsspFeed' }) name!: string;
  /** The tenant that owns and writes it. */
  @ApiProperty({ example: 'default' }) owner!: string;
  @ApiProperty() description!: string;
  @ApiProperty() confidence!: number;
  /** Whether its indicators are in this tenant's search, blocklists, TAXII and statistics. */
  @ApiProperty() subscribed!: boolean;
  /** The context fields search copies into `actionable` for this tenant: its own, else the owner's. */
  @ApiProperty({ type: [String] }) actionableFields!: string[];
}

export class UpdateSharedSupplierDto {
  @ApiProperty({ description: 'Subscribe (true) or unsubscribe (false)' })
  @IsBoolean()
  subscribed!: boolean;

  /** This tenant's actionable fields for the supplier; `null` (or absent) follows the owner's. */
  @ApiPropertyOptional({ type: [String], maxItems: 100, nullable: true, example: ['threat'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(CONTEXT_FIELD, {
    each: true,
    message: `each value in actionableFields must match ${CONTEXT_FIELD.source}`,
  })
  actionableFields?: string[] | null;
}
