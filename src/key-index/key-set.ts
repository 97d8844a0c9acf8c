/**
 * A compact set of indicator keys `(type, canonical value)`, held as 64-bit hashes in an
 * open-addressed table of typed arrays (linear probing, at most half full): 8–16 bytes per
 * key, no string kept. It answers "maybe" for a key it holds — and, with odds of about
 * keys / 2^64, for one it does not — and never "no" for a key it holds. Keys are never
 * removed one by one (a stale "maybe" costs one database query); the owner rebuilds it.
 */
export class KeySet {
  /** Slot i holds hash (hi[i], lo[i]); (0, 0) marks an empty slot. */
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(expectedKeys = 0) {
    let capacity = 1024;
    while (capacity < expectedKeys * 2) capacity *= 2;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Distinct hashes held. */
  get size(): number {
    return this.count;
  }

  /** Bytes of the table (what the set adds to the heap). */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  add(type: string, value: string, scope: ScopeSeed): void {
    hashKey(type, value, scope);
    this.addHash(H[0], H[1]);
  }

  has(type: string, value: string, scope: ScopeSeed): boolean {
    hashKey(type, value, scope);
    return this.hasHash(H[0], H[1]);
  }

  /** Adds a hash as `hashKey` computes it (the change feed carries hashes, not keys). */
  addHash(hi: number, lo: number): void {
    if (hi === 0 && lo === 0) lo = 1;
    if ((this.count + 1) * 2 > this.hi.length) this.grow();
    let i = lo & this.mask;
    for (;;) {
      const h = this.hi[i];
      const l = this.lo[i];
      if (h === 0 && l === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo;
        this.count++;
        return;
      }
      if (h === hi && l === lo) return;
      i = (i + 1) & this.mask;
    }
  }

  hasHash(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    let i = lo & this.mask;
    for (;;) {
      const h = this.hi[i];
      const l = this.lo[i];
      if (h === hi && l === lo) return true;
      if (h === 0 && l === 0) return false;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const { hi, lo } = this;
    const capacity = hi.length * 2;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    for (let i = 0; i < hi.length; i++) {
      if (hi[i] !== 0 || lo[i] !== 0) this.addHash(hi[i], lo[i]);
    }
  }
}

/**
 * The last hashKey result (hi, lo): no allocation per key on the search hot path.
 * @internal exported for tests
 */
export const H = new Uint32Array(2);

/**
 * Where a key lives (docs/tenancy.md): a tenant, or the owner of a shared supplier. It seeds
 * the hash, so one set holds every scope's keys and a lookup in one scope never sees another's.
 */
export interface ScopeSeed {
  readonly a: number;
  readonly b: number;
}

const seeds = new Map<string, ScopeSeed>();

/** The seed of a scope (a tenant's id); the same on every instance. */
export function scopeSeed(scope: string): ScopeSeed {
  let seed = seeds.get(scope);
  if (!seed) {
    hashKey('scope', scope, { a: 0, b: 0 });
    seed = { a: H[0], b: H[1] };
    seeds.set(scope, seed);
  }
  return seed;
}

/**
 * Two 32-bit multiplicative hashes (cyrb53's mixing, kept at 64 bits) over the scope's seed,
 * type, and value, into H. Every instance computes the same hash for a key: the change feed
 * carries it.
 * @internal exported for tests
 */
export function hashKey(type: string, value: string, scope: ScopeSeed): void {
  let h1 = 0xdeadbeef ^ scope.a;
  let h2 = 0x41c6ce57 ^ scope.b;
  for (let i = 0; i < type.length; i++) {
    const c = type.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1, 2654435761);
  h2 = Math.imul(h2, 1597334677);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  H[0] = h1;
  H[1] = h2;
}

/** Appends the keys' hashes to `out` as 8 bytes each (hi, lo, big-endian): the feed's format. */
export function encodeHash(
  type: string,
  value: string,
  scope: ScopeSeed,
  out: Buffer,
  at: number,
): void {
  hashKey(type, value, scope);
  out.writeUInt32BE(H[0], at);
  out.writeUInt32BE(H[1], at + 4);
}

/** Adds every 8-byte hash of a feed entry to the set. */
export function addEncoded(set: KeySet, hashes: Uint8Array): void {
  const view = new DataView(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  for (let at = 0; at + 8 <= hashes.byteLength; at += 8) {
    set.addHash(view.getUint32(at), view.getUint32(at + 4));
  }
}
