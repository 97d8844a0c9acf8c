import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { IsActionableFields, MAX_ACTIONABLE_FIELDS } from '../dto/actionable-fields';

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
  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_ACTIONABLE_FIELDS,
    nullable: true,
    example: ['threat'],
  })
  @IsActionableFields()
  actionableFields?: string[] | null;
}
