import { ApiProperty } from '@nestjs/swagger';

/** A tag as it appears on an indicator, in search results and indicator lists alike. */
export class TagRefDto {
  @ApiProperty() name!: string;
  @ApiProperty({ minimum: 0, maximum: 5 }) weight!: number;
}
