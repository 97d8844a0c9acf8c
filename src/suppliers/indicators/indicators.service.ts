import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditContext } from '../../audit/audit-context';
import { AuditService } from '../../audit/audit.service';
import { decodeCursor, Page, toPage } from '../../common/pagination';
import {
  INDICATOR_TYPES,
  IndicatorType,
  isIndicatorType,
  normalizeIndicator,
} from '../../indicators';
import { queryRows } from '../sql-rows';
import { SuppliersRepository } from '../suppliers.repository';
import type { DeleteResultDto, IndicatorDto, IndicatorListQuery } from './dto/indicator.dto';
import { IndicatorKey, IndicatorRow, IndicatorsRepository } from './indicators.repository';

/** Most entries one DELETE body may name (the body is also capped at 1 MiB). */
export const MAX_DELETE_ENTRIES = 10_000;

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

export function toIndicatorDto(r: IndicatorRow): IndicatorDto {
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
  };
}

/** A value to look up: the raw string sent, and its key when it is a valid indicator. */
export interface ValueLookup {
  raw: string;
  key: IndicatorKey | null;
}

export function lookupOf(raw: string, type?: IndicatorType): ValueLookup {
  const n = normalizeIndicator(raw, type);
  return { raw, key: n.ok ? { type: n.type, value: n.value } : null };
}

export function keyString(k: IndicatorKey): string {
  return `${k.type}\u0000${k.value}`;
}

/** Validates a DELETE body `[{indicator, type?}]`; a 400 names the entry and field. */
export function parseDeleteBody(body: unknown): ValueLookup[] {
  if (!Array.isArray(body)) {
    throw new BadRequestException('The body must be a JSON array of {indicator, type?}');
  }
  if (body.length > MAX_DELETE_ENTRIES) {
    throw new BadRequestException(`At most ${MAX_DELETE_ENTRIES} entries per request`);
  }
  return body.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new BadRequestException(`[${i}] must be an object {indicator, type?}`);
    }
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (k !== 'indicator' && k !== 'type') {
        throw new BadRequestException(`[${i}].${k.slice(0, 64)} is not an allowed field`);
      }
    }
    if (typeof e.indicator !== 'string' || e.indicator.length > 2048) {
      throw new BadRequestException(`[${i}].indicator must be a string of at most 2048 characters`);
    }
    if (e.type !== undefined && !isIndicatorType(e.type)) {
      throw new BadRequestException(`[${i}].type must be one of: ${INDICATOR_TYPES.join(', ')}`);
    }
    return lookupOf(e.indicator, e.type);
  });
}

@Injectable()
export class IndicatorsService {
  constructor(
    private readonly db: DataSource,
    private readonly suppliers: SuppliersRepository,
    private readonly indicators: IndicatorsRepository,
    private readonly audit: AuditService,
  ) {}

  async list(supplierName: string, q: IndicatorListQuery): Promise<Page<IndicatorDto>> {
    const supplier = await this.suppliers.findByName(supplierName);
    if (!supplier) throw new NotFoundException(`Supplier "${supplierName}" does not exist`);
    const after = decodeCursor(q.cursor, 1);
    let value: string | undefined;
    let type = q.type;
    if (q.value !== undefined) {
      const n = normalizeIndicator(q.value, q.type);
      if (!n.ok) throw new BadRequestException(`value: ${n.reason}`);
      value = n.value;
      type = n.type;
    }
    let tagId: string | undefined;
    if (q.tag !== undefined) {
      const [tag] = await queryRows<{ id: string }>(
        this.db.manager,
        `SELECT id FROM tags WHERE name = upper($1)`,
        [q.tag],
      );
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

  async delete(supplierName: string, body: unknown, ctx: AuditContext): Promise<DeleteResultDto> {
    const lookups = parseDeleteBody(body);
    return this.db.transaction(async (tx) => {
      const supplier = await this.suppliers.findByName(supplierName, tx, true);
      if (!supplier) throw new NotFoundException(`Supplier "${supplierName}" does not exist`);
      const keys = lookups.flatMap((l) => (l.key ? [l.key] : []));
      const deleted =
        keys.length > 0 ? await this.indicators.deleteKeys(tx, supplier.id, keys) : [];
      const gone = new Set(deleted.map(keyString));
      const notFound = lookups
        .filter((l) => !l.key || !gone.has(keyString(l.key)))
        .map((l) => l.raw);
      await this.suppliers.addToCount(tx, supplier.id, -deleted.length);
      await this.audit.record(tx, ctx, {
        action: 'indicator.delete',
        entityType: 'supplier',
        entityName: supplier.name,
        operation: 'delete',
        newValue: { requested: lookups.length, deleted: deleted.length, notFound: notFound.length },
      });
      return { deleted: deleted.length, notFound };
    });
  }
}
