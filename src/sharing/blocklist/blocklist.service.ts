import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { UnknownReferenceError, ValidationError } from '../../common/errors/domain-errors';
import { INDICATOR_TYPES, isIndicatorType, type IndicatorType } from '../../indicators';
import { FALSE_POSITIVE_SUPPLIER } from '../../suppliers/built-in-suppliers';
import { TagsRepository } from '../../tags/tags.repository';
import type { BlocklistQuery } from '../dto/sharing.dto';
import { BlocklistFilter, BlocklistRow, SharingRepository } from '../sharing.repository';
import { CopyOut } from '../copy-out';
import { CHUNK_CHARS, keysetBatches, type Body } from '../stream-body';
import { FalsePositiveSet } from './false-positive-set';
import { suppressedSql } from './false-positive-sql';

// Rows are three short strings: bigger batches than the exports, fewer round trips.
const BATCH = 20_000;

export type BlocklistAnswer =
  { notModified: true; etag: string } | { notModified: false; etag: string; body: Body };

interface Selection {
  types: IndicatorType[];
  suppliers: string[] | null;
  minConfidence: number;
  tags: string[] | null;
}

/**
 * The plain-text blocklist a firewall's external dynamic list polls (docs/api.md §10).
 *
 * Conditional polls are answered from a data version (SharingRepository.dataVersion: a
 * change-log count and the next expiry) hashed with the normalised query: when it matches
 * `If-None-Match` the answer is 304 after that one cheap query, without computing the list.
 * Otherwise the list streams in keyset batches in value order, de-duplicated across suppliers
 * and types by comparing with the previous line, with FalsePositive suppression checked in
 * memory (the active FalsePositive indicators are loaded once per request; that set is the
 * only part whose size grows with data, with the FalsePositive supplier's size).
 *
 * On a Postgres server the whole list is one statement instead, streamed by COPY (CopyOut):
 * filters, suppression (suppressedSql: the same rules, over the same FP set, as SQL) and
 * de-duplication (GROUP BY value) run in Postgres, and Node only forwards its bytes.
 */
@Injectable()
export class BlocklistService {
  /** The list through COPY when the database is a Postgres server (off: the keyset path). */
  useCopy = true;

  constructor(
    private readonly repo: SharingRepository,
    private readonly tags: TagsRepository,
    private readonly copy: CopyOut,
  ) {}

  async answer(query: BlocklistQuery, ifNoneMatch: string | undefined): Promise<BlocklistAnswer> {
    const sel = selectionOf(query);
    const version = await this.repo.dataVersion();
    const etag = `"${createHash('sha256')
      .update(`${version}\n${JSON.stringify(sel)}`)
      .digest('base64url')
      .slice(0, 27)}"`;
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, etag)) {
      return { notModified: true, etag };
    }
    const filter = await this.filterOf(sel);
    const fp = await this.falsePositives();
    const repo = this.repo;
    async function* body(): AsyncGenerator<string> {
      if (filter.supplierIds.length === 0) return;
      let last: string | null = null;
      for await (const rows of keysetBatches(
        (after: BlocklistRow | null) => repo.blocklistBatch(filter, after, BATCH),
        (r) => r,
        BATCH,
      )) {
        let out = '';
        for (const r of rows) {
          if (r.value === last || fp.suppresses(r.type, r.value)) continue;
          last = r.value;
          out += r.value + '\n';
          if (out.length >= CHUNK_CHARS) {
            yield out;
            out = '';
          }
        }
        yield out;
      }
    }
    if (this.useCopy && this.copy.available && filter.supplierIds.length > 0) {
      // The keyset body when no COPY connection is free.
      const lines = this.copy.lines(
        this.repo.blocklistSelect(filter, suppressedSql(fp)),
        body,
        'shared',
      );
      return { notModified: false, etag, body: lines };
    }
    return { notModified: false, etag, body: body() };
  }

  private async filterOf(sel: Selection): Promise<BlocklistFilter> {
    // With the shared suppliers this tenant subscribed to (docs/tenancy.md).
    const all = await this.repo.listSuppliers('shared');
    let chosen = all.filter((s) => !s.falsePositive);
    if (sel.suppliers) {
      const byName = new Map(all.map((s) => [s.name.toLowerCase(), s]));
      chosen = sel.suppliers.map((name) => {
        const s = byName.get(name);
        if (!s) throw new UnknownReferenceError(`suppliers: no supplier named "${name}"`);
        if (s.falsePositive) {
          throw new ValidationError(
            `suppliers: ${FALSE_POSITIVE_SUPPLIER} holds values never to block; it cannot be listed`,
          );
        }
        return s;
      });
    }
    chosen = chosen.filter((s) => s.status === 'enabled');
    let tagIds: string[] | null = null;
    if (sel.tags) {
      const ids = await this.tags.idsByName();
      const unknown = sel.tags.find((t) => !ids.has(t));
      if (unknown) throw new UnknownReferenceError(`tags: no tag named "${unknown}"`);
      tagIds = sel.tags.map((t) => ids.get(t)!);
    }
    return {
      types: sel.types,
      supplierIds: chosen.map((s) => s.id),
      tenantIds: [...new Set(chosen.map((s) => s.tenantId))],
      minConfidence: sel.minConfidence,
      confidentSupplierIds: chosen
        .filter((s) => s.confidence >= sel.minConfidence)
        .map((s) => s.id),
      tagIds,
    };
  }

  private async falsePositives(): Promise<FalsePositiveSet> {
    const set = new FalsePositiveSet();
    for await (const rows of keysetBatches(
      (after: string | null) => this.repo.falsePositiveBatch(after, BATCH),
      (r) => r.id,
      BATCH,
    )) {
      for (const r of rows) set.add(r.type, r.value);
    }
    return set;
  }
}

/** The query in canonical form (sorted, case-folded): equal selections share an ETag. */
function selectionOf(q: BlocklistQuery): Selection {
  const list = (s: string | undefined): string[] | null =>
    s === undefined ? null : [...new Set(s.split(','))].sort();
  let types: IndicatorType[] = [...INDICATOR_TYPES];
  if (q.types !== undefined) {
    const given = list(q.types)!;
    const bad = given.find((t) => !isIndicatorType(t));
    if (bad) {
      throw new ValidationError(
        `types: "${bad}" is not an indicator type (${INDICATOR_TYPES.join(', ')})`,
      );
    }
    types = given as IndicatorType[];
  }
  return {
    types,
    suppliers: list(q.suppliers?.toLowerCase()),
    minConfidence: q.minConfidence ?? 0,
    tags: list(q.tags?.toUpperCase()),
  };
}

/** RFC 9110 §13.1.2 weak comparison of an If-None-Match list with our ETag. */
function etagMatches(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etag);
}
