import { Injectable } from '@nestjs/common';
import { DetectionsRepository } from './detections.repository';
import type { SupplierOverlapDto, SupplierStatisticsDto } from './dto/statistics.dto';

/** Which suppliers ever produce hits, and how much they overlap (docs/api.md §11). */
@Injectable()
export class StatisticsService {
  constructor(private readonly repo: DetectionsRepository) {}

  async suppliers(): Promise<SupplierStatisticsDto[]> {
    const [rows, overlap] = await Promise.all([this.repo.supplierHits(), this.repo.overlap()]);
    const common = new Map<string, SupplierOverlapDto[]>();
    for (const o of overlap) {
      let list = common.get(o.supplier);
      if (!list) common.set(o.supplier, (list = []));
      list.push({ supplier: o.other, indicators: o.common });
    }
    return rows.map((r) => ({
      supplier: r.supplier,
      indicators: r.indicators,
      hitLast24h: r.hit24h,
      hitLast7d: r.hit7d,
      hitLast30d: r.hit30d,
      hits: Number(r.hits),
      // Counters of expired indicators may outlive them for a while: never below zero.
      neverHitShare:
        r.indicators === 0 ? 0 : Math.max(0, (r.indicators - r.hitEver) / r.indicators),
      overlap: common.get(r.supplier) ?? [],
    }));
  }
}
