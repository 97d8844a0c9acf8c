import { Injectable } from '@nestjs/common';
import { CollectionNotFoundError, ValidationError } from '../../common/errors/domain-errors';
import { SharingRepository, SharingSupplier, TaxiiPosition, TaxiiRow } from '../sharing.repository';
import {
  stixIdOf,
  toRevokedStixIndicator,
  toStixIndicator,
  StixIndicator,
} from '../stix/stix-mapping';
import { decodeCursor, encodeCursor } from '../../common/pagination';
import { keysetBatches } from '../stream-body';
import {
  STIX_MEDIA_TYPE,
  TAXII_DEFAULT_LIMIT,
  TAXII_MEDIA_TYPE,
  TaxiiApiRoot,
  TaxiiCollection,
  TaxiiDiscovery,
  TaxiiEnvelope,
  TaxiiManifest,
  TaxiiObjectsQuery,
} from './taxii.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_MATCH_IDS = 100;
const SCAN_BATCH = 10_000;
/** Sorts after every real id: `added_after` excludes rows stamped exactly at it. */
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

export interface TaxiiPage<T> {
  body: T;
  /** X-TAXII-Date-Added-First/-Last, absent on an empty page. */
  first?: string;
  last?: string;
}

/**
 * The read-only TAXII 2.1 server (docs/api.md §10): one API root, one collection per supplier
 * (FalsePositive excepted: its values are the opposite of indicators).
 *
 * Paging is keyset-based on (date_added, row id), where date_added is the row's last write
 * (an indicator's updated_at; a tombstone's deleted_at), so a page never shifts when rows are
 * added or changed meanwhile: a changed row moves behind the cursor's end and comes again as
 * its new version. Pages stop at a publication horizon (the start of the oldest writing
 * transaction still open on the database, SharingRepository.taxiiHorizon): rows are stamped with their
 * writer's transaction start, so without it a long upload committing after a poll could
 * publish rows stamped before that poll's last date_added, and an `added_after` poller would
 * never see them. The cost: while a write transaction is open, the feed's tail waits for it.
 * Remaining limit: this assumes every writer stamps rows with `now()` (its transaction start)
 * and that the database role can see other sessions' `xact_start` in pg_stat_activity (same
 * role, or pg_read_all_stats).
 */
@Injectable()
export class TaxiiService {
  constructor(private readonly repo: SharingRepository) {}

  discovery(): TaxiiDiscovery {
    return {
      title: 'Indicium TAXII 2.1',
      description: 'Indicators of every supplier, one collection per supplier, read-only.',
      default: '/taxii2/api/',
      api_roots: ['/taxii2/api/'],
    };
  }

  apiRoot(): TaxiiApiRoot {
    return {
      title: 'Indicium indicators',
      description: 'STIX 2.1 indicators of the suppliers Indicium holds.',
      versions: [TAXII_MEDIA_TYPE],
      max_content_length: 1024 * 1024,
    };
  }

  async collections(): Promise<TaxiiCollection[]> {
    // With the shared suppliers this tenant subscribed to (docs/tenancy.md).
    return (await this.repo.listSuppliers('shared'))
      .filter((s) => !s.falsePositive)
      .map(collectionOf);
  }

  async collection(id: string): Promise<TaxiiCollection> {
    return collectionOf(await this.supplier(id));
  }

  objects(id: string, q: TaxiiObjectsQuery): Promise<TaxiiPage<TaxiiEnvelope>> {
    return this.envelope(id, q, (o) => o);
  }

  manifest(id: string, q: TaxiiObjectsQuery): Promise<TaxiiPage<TaxiiManifest>> {
    return this.envelope(id, q, (o, r) => ({
      id: o.id,
      date_added: r.added,
      version: o.modified,
      media_type: STIX_MEDIA_TYPE,
    }));
  }

  /** One object (its current version: live or revoked); 404 when the collection has none. */
  async object(
    id: string,
    objectId: string,
    q: TaxiiObjectsQuery,
  ): Promise<TaxiiPage<TaxiiEnvelope>> {
    const page = await this.objects(id, { ...q, 'match[id]': objectId });
    if (page.body.objects.length === 0 && q.next === undefined) {
      throw new CollectionNotFoundError(`Collection ${id} holds no object ${objectId}`);
    }
    return page;
  }

  /** A page of the collection as a TAXII envelope, each row shown by `show`. */
  private async envelope<T>(
    id: string,
    q: TaxiiObjectsQuery,
    show: (o: StixIndicator, r: TaxiiRow) => T,
  ): Promise<TaxiiPage<{ more: boolean; next?: string; objects: T[] }>> {
    const page = await this.page(id, q);
    return {
      ...page.headers,
      body: {
        more: page.more,
        ...(page.next ? { next: page.next } : {}),
        objects: page.rows.map((r) => show(stixOf(page.supplier, r), r)),
      },
    };
  }

  private async supplier(id: string): Promise<SharingSupplier> {
    const s = UUID.test(id) ? await this.repo.findSupplierById(id, 'shared') : null;
    if (!s || s.falsePositive) throw new CollectionNotFoundError(`No collection ${id}`);
    return s;
  }

  private async page(id: string, q: TaxiiObjectsQuery) {
    const supplier = await this.supplier(id);
    const limit = q.limit ?? TAXII_DEFAULT_LIMIT;
    const empty = { supplier, rows: [] as TaxiiRow[], more: false, next: undefined, headers: {} };
    const types = q['match[type]']?.split(',').map((t) => t.trim());
    if (types && !types.includes('indicator')) return empty;
    let after: TaxiiPosition | null = null;
    if (q.next !== undefined) after = decodeNext(q.next);
    else if (q.added_after !== undefined) after = { added: q.added_after, id: MAX_UUID };
    let keys: { types: string[]; values: string[] } | null = null;
    if (q['match[id]'] !== undefined) {
      keys = await this.resolveIds(supplier, q['match[id]']);
      if (keys.types.length === 0) return empty;
    }
    const horizon = await this.repo.taxiiHorizon();
    const rows = await this.repo.taxiiPage({
      supplierId: supplier.id,
      tenantId: supplier.tenantId,
      supplierConfidence: supplier.confidence,
      after,
      horizon,
      limit: limit + 1,
      keys,
    });
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const lastRow = rows[rows.length - 1];
    return {
      supplier,
      rows,
      more,
      next: more ? encodeNext({ added: lastRow.added, id: lastRow.id }) : undefined,
      headers: rows.length > 0 ? { first: rows[0].added, last: lastRow.added } : {},
    };
  }

  /**
   * The identities behind match[id]. A UUIDv5 cannot be inverted and no id is stored, so the
   * supplier's identities are scanned and their ids recomputed: O(collection) per request
   * with match[id] (about a second per million indicators), fine for spot lookups.
   */
  private async resolveIds(
    supplier: SharingSupplier,
    list: string,
  ): Promise<{ types: string[]; values: string[] }> {
    const wanted = new Set(
      list
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    );
    if (wanted.size > MAX_MATCH_IDS) {
      throw new ValidationError(`match[id] accepts at most ${MAX_MATCH_IDS} ids`);
    }
    const found = { types: [] as string[], values: [] as string[] };
    const seen = new Set<string>();
    for (const tombstones of [false, true]) {
      for await (const rows of keysetBatches(
        (after: string | null) => this.repo.identityBatch(supplier, tombstones, after, SCAN_BATCH),
        (r) => r.id,
        SCAN_BATCH,
      )) {
        for (const r of rows) {
          const key = `${r.type}\u0000${r.value}`;
          if (!seen.has(key) && wanted.has(stixIdOf(supplier.id, r.type, r.value))) {
            seen.add(key);
            found.types.push(r.type);
            found.values.push(r.value);
          }
        }
        if (found.types.length === wanted.size) return found;
      }
    }
    return found;
  }
}

function collectionOf(s: SharingSupplier): TaxiiCollection {
  return {
    id: s.id,
    title: s.name,
    description: s.description,
    can_read: true,
    can_write: false,
    media_types: [STIX_MEDIA_TYPE],
  };
}

function stixOf(s: SharingSupplier, r: TaxiiRow): StixIndicator {
  const base = { supplierId: s.id, type: r.type, value: r.value };
  return r.revoked
    ? toRevokedStixIndicator({ ...base, createdAt: r.createdAt, deletedAt: r.modifiedAt })
    : toStixIndicator({
        ...base,
        context: r.context,
        tags: r.tags.map((t) => t.name),
        confidence: r.confidence,
        createdAt: r.createdAt,
        updatedAt: r.modifiedAt,
        expiresAt: r.expiresAt,
      });
}

/** `next`: the last row's (date_added, id), base64url — opaque to clients. */
/** A keyset cursor like every list's: tagged with its tenant, refused (400) in another. */
function encodeNext(p: TaxiiPosition): string {
  return encodeCursor([p.added, p.id]);
}

const ADDED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function decodeNext(next: string): TaxiiPosition {
  let key: Array<string | number> | null = null;
  try {
    key = decodeCursor(next, ['text', 'uuid']);
  } catch {
    // answered below, in the TAXII error's words
  }
  if (!key || !ADDED.test(String(key[0]))) {
    throw new ValidationError('next is not a value this server returned in this tenant');
  }
  return { added: String(key[0]), id: String(key[1]) };
}
