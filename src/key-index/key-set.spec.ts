import { addEncoded, encodeHash, hashKey, H, KeySet, scopeSeed } from './key-set';

/** The unseeded scope: the fixed vectors below are the hashes of a zero seed. */
const S = { a: 0, b: 0 };

const MiB = 1024 * 1024;

describe('KeySet', () => {
  it('holds every key added, across growth, and answers no for keys never added', () => {
    const set = new KeySet();
    for (let i = 0; i < 50_000; i++) set.add('ip', `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, S);
    expect(set.size).toBe(50_000);
    let held = 0;
    for (let i = 0; i < 50_000; i++) {
      if (set.has('ip', `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, S)) held++;
    }
    expect(held).toBe(50_000);
    let maybes = 0;
    for (let i = 0; i < 50_000; i++) {
      if (set.has('ip', `11.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, S)) maybes++;
    }
    expect(maybes).toBe(0);
  });

  it('tells types apart: the same value of another type is another key', () => {
    const set = new KeySet();
    set.add('domain', 'example.com', S);
    expect(set.has('domain', 'example.com', S)).toBe(true);
    expect(set.has('url', 'example.com', S)).toBe(false);
    expect(set.has('domain', 'example.co', S)).toBe(false);
    expect(set.has('domainexample.com', '', S)).toBe(false);
  });

  it('adds a key once however often it is added', () => {
    const set = new KeySet();
    for (let i = 0; i < 3; i++) set.add('md5', 'd41d8cd98f00b204e9800998ecf8427e', S);
    expect(set.size).toBe(1);
  });

  it('keeps the all-zero hash apart from an empty slot', () => {
    const set = new KeySet();
    expect(set.hasHash(0, 0)).toBe(false);
    set.addHash(0, 0);
    expect(set.hasHash(0, 0)).toBe(true);
    expect(set.size).toBe(1);
  });

  it('round-trips hashes through the change feed encoding', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `host${i}.example.org`);
    const buf = Buffer.alloc(keys.length * 8);
    keys.forEach((k, i) => encodeHash('domain', k, S, buf, i * 8));
    const set = new KeySet();
    addEncoded(set, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    expect(set.size).toBe(1000);
    expect(keys.filter((k) => !set.has('domain', k, S))).toEqual([]);
    hashKey('domain', keys[0], S);
    expect(buf.readUInt32BE(0)).toBe(H[0]);
    expect(buf.readUInt32BE(4)).toBe(H[1]);
  });

  it('holds a million keys in at most 16 MiB of table (the budget is 48 MiB per million)', () => {
    const before = process.memoryUsage().arrayBuffers;
    const set = new KeySet();
    for (let i = 1; i <= 1_000_000; i++) set.addHash(Math.imul(i, 2654435761) >>> 0, i);
    expect(set.size).toBe(1_000_000);
    expect(set.bytes).toBeLessThanOrEqual(16 * MiB);
    // The table is all the set allocates (a growth step briefly holds the old one too).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(48 * MiB);
  });

  it('answers no for 20,000 keys it does not hold, among 20,000 it holds', () => {
    const set = new KeySet();
    for (let i = 0; i < 20_000; i++) set.add('sha256', i.toString(16).padStart(64, '0'), S);
    let maybes = 0;
    for (let i = 0; i < 20_000; i++) {
      if (set.has('sha256', i.toString(16).padStart(64, 'f'), S)) maybes++;
    }
    expect(maybes).toBe(0);
  });

  it('sizes itself up front for an expected key count (no growth while building)', () => {
    const set = new KeySet(1_000_000);
    const bytes = set.bytes;
    for (let i = 0; i < 1_000_000; i++) set.addHash(i + 1, i * 7919);
    expect(set.bytes).toBe(bytes);
  });

  it('hashes keys as every instance and the stored change feed expect (fixed vectors)', () => {
    const vectors: Array<[string, string, number, number]> = [
      ['cidr', '10.0.0.0/8', 1281793677, 3588795675],
      ['domain', 'evil.example', 2037515095, 3095179335],
      ['ip', '2001:db8::1', 1869505837, 1484115271],
    ];
    for (const [type, value, hi, lo] of vectors) {
      hashKey(type, value, S);
      expect([type, value, H[0], H[1]]).toEqual([type, value, hi, lo]);
    }
  });

  it('keeps scopes apart: a key held in one tenant is not held in another', () => {
    const set = new KeySet();
    const a = scopeSeed('0b6a0e9e-5d1b-4e8e-9a43-0d3c7f0a2b11');
    const b = scopeSeed('7d1c7a52-8a2e-4c55-b2a1-3f8c3c1d9e20');
    for (let i = 0; i < 10_000; i++) set.add('domain', `host${i}.example`, a);
    let leaked = 0;
    for (let i = 0; i < 10_000; i++) if (set.has('domain', `host${i}.example`, b)) leaked++;
    expect(leaked).toBe(0);
    expect(set.has('domain', 'host1.example', a)).toBe(true);
  });
});
