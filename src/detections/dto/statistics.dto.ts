import { ApiProperty } from '@nestjs/swagger';

export class SupplierOverlapDto {
  @ApiProperty() supplier!: string;
  /** Indicators both suppliers hold (same type and canonical value). */
  @ApiProperty() indicators!: number;
}

export class SupplierStatisticsDto {
  @ApiProperty() supplier!: string;
  @ApiProperty() indicators!: number;
  /** Indicators hit (by any principal) within the last 24 h, 7 d and 30 d. */
  @ApiProperty() hitLast24h!: number;
  @ApiProperty() hitLast7d!: number;
  @ApiProperty() hitLast30d!: number;
  /** Detected search results that named one of its indicators. */
  @ApiProperty() hits!: number;
  /** Share of its indicators never hit, 0–1 (0 for a supplier with no indicators). */
  @ApiProperty() neverHitShare!: number;
  /** Every other supplier it has indicators in common with. */
  @ApiProperty({ type: [SupplierOverlapDto] }) overlap!: SupplierOverlapDto[];
}

export class SupplierStatisticsListDto {
  @ApiProperty({ type: [SupplierStatisticsDto] }) items!: SupplierStatisticsDto[];
}
