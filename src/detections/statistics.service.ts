import { Injectable } from '@nestjs/common';
import { inView, requireTenant } from '../database/tenant-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { DetectionsRepository } from './detections.repository';
import {
  DETECTION_RANGES,
  type DetectionRange,
  type DetectionTimelineDto,
  type SupplierOverlapDto,
  type SupplierStatisticsDto,
} from './dto/statistics.dto';

/** Which suppliers ever produce hits, and how much they overlap (docs/api.md §11). */
@Injectable()
export class StatisticsService {
  constructor(
    private readonly repo: DetectionsRepository,
    private readonly tenants: TenantDirectory,
  ) {}

  /**
   * The tenant's suppliers and the shared ones it subscribed to (their indicators and overlap;
   * hits are this tenant's own counters).
   */
  async suppliers(): Promise<SupplierStatisticsDto[]> {
    const lineage = this.tenants.lineageOf(requireTenant());
    const [rows, overlap] = await inView('shared', () =>
      Promise.all([this.repo.supplierHits(), this.repo.overlap(lineage)]),
    );
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

  /** Detections over time (the console's chart): every bucket of the window, oldest first. */
  async timeline(range: DetectionRange): Promise<DetectionTimelineDto> {
    const width = DETECTION_RANGES[range];
    const count = range === '24h' ? 24 : range === '7d' ? 28 : 30;
    const widthMs = width * 1000;
    const first = (Math.floor(Date.now() / widthMs) - count + 1) * widthMs;
    const rows = await this.repo.timeline(new Date(first), width);
    const byStart = new Map(rows.map((r) => [r.startMs, r.n]));
    return {
      range,
      bucketSeconds: width,
      buckets: Array.from({ length: count }, (_, i) => {
        const start = first + i * widthMs;
        return { start: new Date(start).toISOString(), detections: byStart.get(start) ?? 0 };
      }),
    };
  }
}
