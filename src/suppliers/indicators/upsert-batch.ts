import { pgArray, pgArrayOrNull } from '../../database/pg-array';
import type { IndicatorEntry } from './indicator-entry';
import { keyHash } from './key-hash';

/**
 * One batch of validated entries in column form, for `unnest` (works on Postgres and PGlite).
 * A key repeated within the batch keeps its last entry (one upsert statement may not touch a
 * row twice); across batches, later batches simply upsert again.
 */
export class UpsertBatch {
  type: string[] = [];
  value: string[] = [];
  context: string[] = [];
  confidence: Array<number | null> = [];
  firstSeen: Array<string | null> = [];
  lastSeen: Array<string | null> = [];
  expiresAt: Array<string | null> = [];
  /** Tag ids of each entry, or null when the entry left tags as they are. */
  tagIds: Array<string[] | null> = [];
  private readonly slots = new Map<string, number>();

  get size(): number {
    return this.type.length;
  }

  push(e: IndicatorEntry): void {
    const key = `${e.type}\u0000${e.value}`;
    let i = this.slots.get(key);
    if (i === undefined) {
      i = this.type.length;
      this.slots.set(key, i);
    }
    this.type[i] = e.type;
    this.value[i] = e.value;
    this.context[i] = e.context;
    this.confidence[i] = e.confidence;
    this.firstSeen[i] = e.firstSeen;
    this.lastSeen[i] = e.lastSeen;
    this.expiresAt[i] = e.expiresAt;
    this.tagIds[i] = e.tagIds;
  }

  /**
   * Splits off the entries whose key may have been written by an earlier batch of the upload
   * (`seen` holds a 32-bit hash of every key handed to the database so far; a hash collision
   * only sends a new key down the upsert path, which is always correct). Returns that part
   * (null when empty); this batch keeps the keys that are certainly new, and their hashes are
   * added to `seen`.
   */
  splitSeen(seen: Set<number>): UpsertBatch | null {
    let keep: number[] | null = null;
    let moved: UpsertBatch | null = null;
    const n = this.type.length;
    for (let i = 0; i < n; i++) {
      const h = keyHash(this.type[i], this.value[i]);
      if (seen.has(h)) {
        if (keep === null) keep = Array.from({ length: i }, (_, k) => k);
        moved ??= new UpsertBatch();
        moved.copyFrom(this, i);
      } else {
        seen.add(h);
        keep?.push(i);
      }
    }
    if (keep !== null) {
      const k = keep;
      const pick = <T>(a: T[]): T[] => k.map((i) => a[i]);
      this.type = pick(this.type);
      this.value = pick(this.value);
      this.context = pick(this.context);
      this.confidence = pick(this.confidence);
      this.firstSeen = pick(this.firstSeen);
      this.lastSeen = pick(this.lastSeen);
      this.expiresAt = pick(this.expiresAt);
      this.tagIds = pick(this.tagIds);
      this.slots.clear(); // the batch is sealed: no more pushes after the split
    }
    return moved;
  }

  /** The distinct tag ids the batch assigns that are not in `known`. */
  tagIdsOutside(known: ReadonlySet<string>): string[] {
    const out = new Set<string>();
    for (const ids of this.tagIds) {
      if (ids === null) continue;
      for (const id of ids) if (!known.has(id)) out.add(id);
    }
    return [...out];
  }

  /** Drops these tag ids from every entry (tags deleted since the entries were validated). */
  dropTagIds(gone: ReadonlySet<string>): void {
    this.tagIds = this.tagIds.map((ids) =>
      ids === null ? null : ids.filter((id) => !gone.has(id)),
    );
  }

  /**
   * The entry columns as array-literal parameters, in the order the write statements take
   * them after supplier and retention: type, value, context, confidence, firstSeen, lastSeen,
   * expiresAt (an all-null column is sent as NULL).
   */
  encodedColumns(): Array<string | null> {
    return [
      pgArray(this.type),
      pgArray(this.value),
      pgArray(this.context),
      pgArrayOrNull(this.confidence),
      pgArrayOrNull(this.firstSeen),
      pgArrayOrNull(this.lastSeen),
      pgArrayOrNull(this.expiresAt),
    ];
  }

  private copyFrom(b: UpsertBatch, i: number): void {
    this.type.push(b.type[i]);
    this.value.push(b.value[i]);
    this.context.push(b.context[i]);
    this.confidence.push(b.confidence[i]);
    this.firstSeen.push(b.firstSeen[i]);
    this.lastSeen.push(b.lastSeen[i]);
    this.expiresAt.push(b.expiresAt[i]);
    this.tagIds.push(b.tagIds[i]);
  }
}
