import { createHash } from 'node:crypto';
import { BadRequestException } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { currentTenant } from '../database/tenant-context';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** `?limit=` and `?cursor=` of every list (docs/api.md §1). */
export class PageQuery {
  /** Page size, 1–1000. */
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 100;

  /** Opaque cursor from a previous page's `nextCursor`. */
  @ApiPropertyOptional({ maxLength: 512 })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Which tenant a cursor was minted in: a short digest of its id, first in the key, so a cursor
 * of one tenant is refused (400) in another (docs/tenancy.md) without naming either.
 */
function tenantTag(): string {
  const tenant = currentTenant();
  return tenant === undefined
    ? ''
    : createHash('sha256').update(tenant).digest('base64url').slice(0, 8);
}

/**
 * A keyset cursor: the sort key of the last row and its tenant, opaque to clients (a page's
 * `nextCursor`, TAXII's `next`).
 */
export function encodeCursor(key: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify([tenantTag(), ...key])).toString('base64url');
}

/** What one key of a cursor must be: any text, a UUID, or a non-negative integer. */
export type CursorField = 'text' | 'uuid' | 'int';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// eslint-disable-next-line no-control-regex -- NUL is what Postgres text cannot hold
const NUL = /\u0000/;
/** A surrogate half without its partner: JSON can carry it, UTF-8 (and so Postgres) cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function fits(value: unknown, field: CursorField): boolean {
  switch (field) {
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
    case 'text':
      return typeof value === 'string' && !NUL.test(value) && !LONE_SURROGATE.test(value);
  }
}

/**
 * The key of a cursor we issued, or 400. `shape` names each key's kind; a bare number is
 * that many keys, each text or integer. Only the exact encoding encodeCursor writes is
 * accepted: canonical base64url of valid UTF-8 JSON, so nothing a query cannot hold (NUL,
 * lone surrogates, non-UUIDs against a uuid column) ever reaches Postgres.
 */
export function decodeCursor(
  cursor: string | undefined,
  shape: number | ReadonlyArray<CursorField>,
): Array<string | number> | null {
  if (cursor === undefined) return null;
  try {
    const bytes = BASE64URL.test(cursor) ? Buffer.from(cursor, 'base64url') : null;
    const text = bytes?.toString('utf8');
    if (bytes && text !== undefined && bytes.toString('base64url') === cursor) {
      const key: unknown = JSON.parse(text);
      // Invalid UTF-8 decodes to U+FFFD, which does not encode back to the same bytes.
      const exact = Buffer.from(text, 'utf8').equals(bytes);
      const fields = typeof shape === 'number' ? null : shape;
      const arity = typeof shape === 'number' ? shape : shape.length;
      if (exact && Array.isArray(key) && key.length === arity + 1 && key[0] === tenantTag()) {
        const rest: unknown[] = key.slice(1);
        if (rest.every((k, i) => (fields ? fits(k, fields[i]) : fits(k, 'text') || fits(k, 'int'))))
          return rest as Array<string | number>;
      }
    }
  } catch {
    // fall through: not a cursor we issued
  }
  throw new BadRequestException('cursor is not a valid cursor from a previous page');
}

/** Rows fetched with `limit + 1` become a page; the extra row only says there is more. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  key: (row: R) => Array<string | number>,
  map: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return {
    items: items.map(map),
    nextCursor: more ? encodeCursor(key(items[items.length - 1])) : null,
  };
}

export class PageDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Cursor of the next page; null on the last page',
  })
  nextCursor!: string | null;
}
