// Reproducible threat-intel dataset shared by the ingest and search benchmarks: a seeded PRNG
// (mulberry32), so the same seed and count always give the same indicators, in the same order.
// Values are generated already in canonical form, so a baseline can insert them as they are.
//
// Mix: ≈40% ip (90% IPv4, 10% IPv6), 5% cidr, 25% domain, 15% url, 15% hashes
// (md5/sha1/sha256 in equal parts); every entry has context, ≈30% carry one or two tags.

export const BENCH_TAGS = [
  'PHISHING',
  'MALWARE',
  'C2',
  'BOTNET',
  'SPAM',
  'RANSOMWARE',
  'SCANNER',
  'TOR',
  'APT',
  'FRAUD',
];

const THREATS = ['phishing', 'malware', 'c2', 'botnet', 'spam', 'ransomware', 'scanner'];
const WORDS = [
  'login',
  'secure',
  'update',
  'account',
  'verify',
  'cdn',
  'mail',
  'pay',
  'shop',
  'cloud',
];
const TLDS = ['com', 'net', 'org', 'io', 'ru', 'cn', 'info', 'xyz'];

/** mulberry32: a small, fast, seedable 32-bit PRNG; returns a function giving [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(rand, digits) {
  let s = '';
  while (s.length < digits)
    s += Math.floor(rand() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, digits);
}

function ipv4(rand) {
  const n = Math.floor(rand() * 0x100000000) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function ipv6(rand) {
  // Non-zero groups around one "::" run: already RFC 5952 canonical.
  const g = () => (1 + Math.floor(rand() * 0xfffe)).toString(16);
  return `2001:db8:${g()}:${g()}::${g()}`;
}

function cidr(rand) {
  if (rand() < 0.1) {
    const g = () => (1 + Math.floor(rand() * 0xfffe)).toString(16);
    return rand() < 0.5 ? `2001:db8:${g()}::/48` : `2001:db8:${g()}:${g()}::/64`;
  }
  const len = 16 + Math.floor(rand() * 13); // /16–/28
  const n = (Math.floor(rand() * 0x100000000) >>> 0) & (0xffffffff << (32 - len));
  const a = n >>> 0;
  return `${[a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.')}/${len}`;
}

function domain(rand, i) {
  const w = WORDS[Math.floor(rand() * WORDS.length)];
  return `${w}-${i.toString(36)}.${hex(rand, 6)}.${TLDS[Math.floor(rand() * TLDS.length)]}`;
}

/**
 * Yields `count` upload entries `{indicator, type, context, tags?}` for `seed`.
 * Types are explicit (what a feed would send), values canonical.
 */
export function* generateIndicators(count, seed = 42) {
  const rand = rng(seed);
  for (let i = 0; i < count; i++) {
    const r = rand();
    let type;
    let indicator;
    if (r < 0.4) {
      const v6 = rand() < 0.1;
      type = 'ip';
      indicator = v6 ? ipv6(rand) : ipv4(rand);
    } else if (r < 0.45) {
      type = 'cidr';
      indicator = cidr(rand);
    } else if (r < 0.7) {
      type = 'domain';
      indicator = domain(rand, i);
    } else if (r < 0.85) {
      type = 'url';
      indicator = `${domain(rand, i)}/${WORDS[Math.floor(rand() * WORDS.length)]}/${hex(rand, 8)}.php?id=${i}`;
    } else {
      const h = Math.floor(rand() * 3);
      type = ['md5', 'sha1', 'sha256'][h];
      indicator = hex(rand, [32, 40, 64][h]);
    }
    const entry = {
      indicator,
      type,
      context: {
        threat: THREATS[Math.floor(rand() * THREATS.length)],
        score: Math.floor(rand() * 100),
        source: 'bench',
      },
    };
    if (rand() < 0.3) {
      const a = BENCH_TAGS[Math.floor(rand() * BENCH_TAGS.length)];
      const b = BENCH_TAGS[Math.floor(rand() * BENCH_TAGS.length)];
      entry.tags = a === b ? [a] : [a, b];
    }
    yield entry;
  }
}
