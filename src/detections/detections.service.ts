import { Injectable } from '@nestjs/common';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { normalizeIndicator } from '../indicators';
import { DetectionsRepository, DetectionRow } from './detections.repository';
import type { DetectionDto } from './dto/detection.dto';

export interface DetectionListFilter {
  from?: Date;
  to?: Date;
  supplier?: string;
  principal?: string;
  value?: string;
}

function toDto(r: DetectionRow): DetectionDto {
  return {
    id: Number(r.id),
    at: r.at.toISOString(),
    value: r.value,
    type: r.type,
    result: r.result,
    principal: r.principal,
    supplier: r.supplier,
    indicator: r.indicator,
    indicatorType: r.indicatorType,
    matchedBy: r.matchedBy,
    context: r.context,
    retro: r.retro,
  };
}

/** Reads of the detection log (docs/api.md §11). */
@Injectable()
export class DetectionsService {
  constructor(private readonly repo: DetectionsRepository) {}

  async list(f: DetectionListFilter, limit: number, cursor?: string): Promise<Page<DetectionDto>> {
    const after = decodeCursor(cursor, ['int']);
    // The log holds values as search normalised them; a filter written as sent finds them too.
    let value = f.value;
    if (value !== undefined) {
      const n = normalizeIndicator(value);
      if (n.ok) value = n.value;
    }
    const rows = await this.repo.list({
      ...f,
      value,
      beforeId: after ? Number(after[0]) : undefined,
      limit: limit + 1,
    });
    return toPage(rows, limit, (r) => [Number(r.id)], toDto);
  }

  /**
   * Up to `limit` events recorded after `afterId`, oldest first: what SIEM forwarding reads.
   * Appends commit in id order (one lock), so nothing can appear later below the last id seen.
   */
  async after(afterId: number, limit: number): Promise<DetectionDto[]> {
    return (await this.repo.batchAfter(afterId, limit)).map(toDto);
  }
}
