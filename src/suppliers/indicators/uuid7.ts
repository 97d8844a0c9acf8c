import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const ID_POOL = Buffer.alloc(16 * 4096);
let idPoolPos = ID_POOL.length;

/**
 * A time-ordered UUID (RFC 9562 v7: 48-bit Unix milliseconds, version, variant, random bits),
 * the same layout as the column default `indicium_uuid7()`, generated here for bulk inserts:
 * the SQL function costs several microseconds per row.
 */
export function uuid7(ms = Date.now()): string {
  if (idPoolPos === ID_POOL.length) {
    randomFillSync(ID_POOL);
    idPoolPos = 0;
  }
  const r = ID_POOL;
  const p = idPoolPos;
  idPoolPos += 16;
  const hi = Math.floor(ms / 0x10000);
  const lo = ms % 0x10000;
  return (
    hi.toString(16).padStart(8, '0') +
    '-' +
    HEX[lo >> 8] +
    HEX[lo & 255] +
    '-7' +
    (r[p] & 15).toString(16) +
    HEX[r[p + 1]] +
    '-' +
    HEX[(r[p + 2] & 0x3f) | 0x80] +
    HEX[r[p + 3]] +
    '-' +
    HEX[r[p + 4]] +
    HEX[r[p + 5]] +
    HEX[r[p + 6]] +
    HEX[r[p + 7]] +
    HEX[r[p + 8]] +
    HEX[r[p + 9]]
  );
}
