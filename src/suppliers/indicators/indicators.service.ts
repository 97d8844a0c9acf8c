import { Injectable } from '@nestjs/common';
import type { AuditContext } from '../../audit/audit-context';
import { SupplierNotFoundError, ValidationError } from '../../common/errors/domain-errors';
import { decodeCursor, Page, toPage } from '../../common/pagination';
import {
  INDICATOR_TYPES,
  isIndicatorType,
  lookupOf,
  normalizeIndicator,
  ValueLookup,
} from '../../indicators';
import { TagsRepository } from '../../tags/tags.repository';
import { SuppliersRepository } from '../suppliers.repository';
import type { DeleteResultDto, IndicatorDto, IndicatorListQuery } from './dto/indicator.dto';
import { IndicatorWriter } from './indicator-writer';
import { IndicatorRow, IndicatorsRepository } from './indicators.repository';

/** Most entries one DELETE body may name (the body is also capped at 1 MiB). */
const MAX_DELETE_ENTRIES = 10_000;

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

function toIndicatorDto(r: IndicatorRow): IndicatorDto {
  return {
    id: r.id,
    indicator: r.indicator,
    type: r.type,
    context: r.context,
    tags: r.tags,
    confidence: r.confidence,
    firstSeen: iso(r.firstSeen),
    lastSeen: iso(r.lastSeen),
    expiresAt: iso(r.expiresAt),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    hits: Number(r.hits),
    lastHitAt: iso(r.lastHitAt),
  };
}

/** Validates a DELETE body `[{indicator, type?}]`; a 400 names the entry and field. */
function parseDeleteBody(body: unknown): ValueLookup[] {
  if (!Array.isArray(body)) {
    throw new ValidationError('The body must be a JSON array of {indicator, type?}');
  }
  if (body.length > MAX_DELETE_ENTRIES) {
    throw new ValidationError(`At most ${MAX_DELETE_ENTRIES} entries per request`);
  }
  return body.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ValidationError(`[${i}] must be an object {indicator, type?}`);
    }
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (k !== 'indicator' && k !== 'type') {
        throw new ValidationError(`[${i}].${k.slice(0, 64)} is not an allowed field`);
      }
    }
    if (typeof e.indicator !== 'string' || e.indicator.length > 2048) {
      throw new ValidationError(`[${i}].indicator must be a string of at most 2048 characters`);
    }
    if (e.type !== undefined && !isIndicatorType(e.type)) {
      throw new ValidationError(`[${i}].type must be one of: ${INDICATOR_TYPES.join(', ')}`);
    }
    return lookupOf(e.indicator, e.type);
  });
}

@Injectable()
export class IndicatorsService {
  constructor(
    private readonly suppliers: SuppliersRepository,
    private readonly indicators: IndicatorsRepository,
    private readonly writer: IndicatorWriter,
    private readonly tags: TagsRepository,
  ) {}

  async list(supplierName: string, q: IndicatorListQuery): Promise<Page<IndicatorDto>> {
    const supplier = await this.suppliers.findByName(supplierName);
    if (!supplier) throw new SupplierNotFoundError(supplierName);
    const after = decodeCursor(q.cursor, 1);
    let value: string | undefined;
    let type = q.type;
    if (q.value !== undefined) {
      const n = normalizeIndicator(q.value, q.type);
      if (!n.ok) throw new ValidationError(`value: ${n.reason}`);
      value = n.value;
      type = n.type;
    }
    let tagId: string | undefined;
    if (q.tag !== undefined) {
      const tag = await this.tags.findByName(q.tag);
      if (!tag) return { items: [], nextCursor: null };
      tagId = tag.id;
    }
    const rows = await this.indicators.list(
      supplier.id,
      {
        type,
        value,
        tagId,
        updatedSince: q.updatedSince !== undefined ? new Date(q.updatedSince) : undefined,
        includeExpired: q.includeExpired === true,
      },
      after ? String(after[0]) : null,
      q.limit + 1,
    );
    return toPage(rows, q.limit, (r) => [r.id], toIndicatorDto);
  }

  delete(supplierName: string, body: unknown, ctx: AuditContext): Promise<DeleteResultDto> {
    return this.writer.remove(supplierName, parseDeleteBody(body), ctx);
  }
}
