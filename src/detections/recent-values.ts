import { INDICATOR_TYPES } from '../indicators';

/** A value remembered this recently, by the same principal, is not remembered again. */
export const REMEMBER_REFRESH_MS = 3_600_000;

/**
 * How far back retro-scan looks, and how long remembered values are kept: RETROSCAN_DAYS
 * after the last search, whose `searched_at` may be up to REMEMBER_REFRESH_MS older than
 * the search itself. 0 days: nothing is kept.
 */
export function retroWindowMs(days: number): number {
  return days > 0 ? days * 86_400_000 + REMEMBER_REFRESH_MS : 0;
}

/** Slots of the table: 2^20, 12 MiB (three 32-bit words each), allocated on first use. */
const SLOTS = 1 << 20;
/** Past this many entries (70% load) the table starts over. */
const MAX_ENTRIES = Math.floor(SLOTS * 0.7);
/** Principals told apart (10 bits of an entry); past them the table starts over. */
const MAX_PRINCIPALS = 1024;
const MINUTE_MS = 60_000;
const TYPE_CODE = new Map<string, number>(INDICATOR_TYPES.map((t, i) => [t, i + 1]));

/**
 * Which clean values this instance remembered for retro-scan lately, and for which principal:
 * an open-addressing table of 64-bit fingerprints of (type, value) in typed arrays — a fixed
 * 12 MiB for up to ~734,000 values, no object or string kept per value, so nothing for the
 * garbage collector to trace or move. A search of a value remembered less than
 * REMEMBER_REFRESH_MS ago by the same principal costs one hash and a probe instead of a
 * pending entry and a row rewrite at the next flush.
 *
 * Losing an entry is always safe (the value is remembered again); when full the table starts
 * over. Two different values would have to agree on all 64 bits of the fingerprint (and the
 * principal) to be taken for one another: ~1 in 10^13 per lookup at full load.
 */
export class RecentValues {
  private h1?: Uint32Array;
  private h2?: Uint32Array;
  /** Minutes since `baseMs` << 10 | principal number. */
  private stamp?: Uint32Array;
  private entries = 0;
  private readonly principals = new Map<string, number>();
  private readonly baseMs = Date.now();
  /** Fingerprint of the last `hash()` call (no allocation per value). */
  a = 0;
  b = 0;

  /** The number of a principal (what an entry records), starting over when there are too many. */
  principal(type: string, name: string): number {
    const key = `${type}\u0000${name}`;
    let n = this.principals.get(key);
    if (n === undefined) {
      if (this.principals.size >= MAX_PRINCIPALS) this.clear();
      n = this.principals.size;
      this.principals.set(key, n);
    }
    return n;
  }

  /**
   * Sets `a` and `b` to the fingerprint of (type, value): two MurmurHash3-style passes with
   * different seeds, two UTF-16 code units per step.
   */
  hash(type: string, value: string): void {
    const t = TYPE_CODE.get(type) ?? 0;
    let a = 0x9747b28c ^ t;
    let b = 0x2f1a7c35 ^ Math.imul(t, 0x27d4eb2d);
    const n = value.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      let k = value.charCodeAt(i) | (value.charCodeAt(i + 1) << 16);
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      a ^= k;
      a = (a << 13) | (a >>> 19);
      a = (Math.imul(a, 5) + 0xe6546b64) | 0;
      b ^= k;
      b = (b << 17) | (b >>> 15);
      b = (Math.imul(b, 9) + 0x7b7d159c) | 0;
    }
    if (i < n) {
      let k = Math.imul(value.charCodeAt(i), 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      a ^= k;
      b ^= Math.imul(k, 0x85ebca6b);
    }
    this.a = (fmix(a ^ n) | 1) >>> 0; // never 0: 0 marks an empty slot
    this.b = fmix(b ^ Math.imul(n, 0x9e3779b1)) >>> 0;
  }

  /**
   * Whether the value of the last `hash()` was remembered for `principal` since `sinceMs`.
   */
  fresh(principal: number, sinceMs: number): boolean {
    const h1 = this.h1;
    if (h1 === undefined || this.h2 === undefined || this.stamp === undefined) return false;
    const mask = SLOTS - 1;
    for (let i = this.a & mask; ; i = (i + 1) & mask) {
      const x = h1[i];
      if (x === 0) return false;
      if (x === this.a && this.h2[i] === this.b) {
        const s = this.stamp[i];
        return (s & 1023) === principal && this.baseMs + (s >>> 10) * MINUTE_MS >= sinceMs;
      }
    }
  }

  /** Records that (type, value) was remembered for the principal at `atMs`. */
  remembered(
    type: string,
    value: string,
    principalType: string,
    principalName: string,
    atMs: number,
  ): void {
    const principal = this.principal(principalType, principalName);
    this.hash(type, value);
    if (this.h1 === undefined || this.entries >= MAX_ENTRIES) this.clear(true);
    const h1 = this.h1 as Uint32Array;
    const h2 = this.h2 as Uint32Array;
    const stamp = this.stamp as Uint32Array;
    // Minutes rounded down: an entry never looks fresher than it is.
    const minutes = Math.max(0, Math.floor((atMs - this.baseMs) / MINUTE_MS));
    const s = ((Math.min(minutes, 0x3fffff) << 10) | principal) >>> 0;
    const mask = SLOTS - 1;
    for (let i = this.a & mask; ; i = (i + 1) & mask) {
      const x = h1[i];
      if (x === 0) {
        h1[i] = this.a;
        h2[i] = this.b;
        stamp[i] = s;
        this.entries++;
        return;
      }
      if (x === this.a && h2[i] === this.b) {
        if (stamp[i] >>> 10 <= minutes) stamp[i] = s;
        return;
      }
    }
  }

  get size(): number {
    return this.entries;
  }

  /** Forgets every entry (and, unless `keepPrincipals`, the principals' numbers). */
  clear(keepPrincipals = false): void {
    if (this.h1 === undefined) {
      this.h1 = new Uint32Array(SLOTS);
      this.h2 = new Uint32Array(SLOTS);
      this.stamp = new Uint32Array(SLOTS);
    } else {
      this.h1.fill(0);
      this.h2?.fill(0);
      this.stamp?.fill(0);
    }
    this.entries = 0;
    if (!keepPrincipals) this.principals.clear();
  }
}

/** The 32-bit finaliser of MurmurHash3: every input bit affects every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
