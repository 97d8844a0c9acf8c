import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, Matches, MaxLength } from 'class-validator';
import { SUPPLIER_NAME } from '../../dto/supplier.dto';

/** Most values one assign/unassign request may name. */
const MAX_TAG_ASSIGN_VALUES = 10_000;

export class TagAssignmentDto {
  /** The supplier whose indicators get (or lose) the tag; case-insensitive. */
  @ApiProperty({ pattern: SUPPLIER_NAME.source, example: 'AcmeFeed' })
  @IsString()
  @Matches(SUPPLIER_NAME, { message: `supplier must match ${SUPPLIER_NAME.source}` })
  supplier!: string;

  /** Indicator values, normalised (type detected) before the lookup. */
  @ApiProperty({ type: [String], maxItems: MAX_TAG_ASSIGN_VALUES, example: ['evil.com'] })
  @IsArray()
  @ArrayMaxSize(MAX_TAG_ASSIGN_VALUES)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  indicators!: string[];
}

export class TagAssignmentResultDto {
  /** Indicators of the supplier found for the values (now carrying / no longer carrying the tag). */
  @ApiProperty() updated!: number;
  /** Values that are not (or not validly) indicators of the supplier. */
  @ApiProperty({ type: [String] }) notFound!: string[];
}
