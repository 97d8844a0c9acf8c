import { normalizeIndicator } from '../indicators';
import { coveringNetworks } from '../indicators/lookup-keys';
import { ALL_IPV4_LENGTHS, containmentFamily, planValue } from './search-plan';

const lens = { 4: [0, 8, 16, 24, 30], 6: [32, 48, 64] } as const;

describe('coveringNetworks', () => {
  it.each([
    [4, '10.1.2.3', 32, ['0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.0/30']],
    [4, '10.1.0.0', 16, ['0.0.0.0/0', '10.0.0.0/8']],
    [
      4,
      '255.255.255.255',
      32,
      ['0.0.0.0/0', '255.0.0.0/8', '255.255.0.0/16', '255.255.255.0/24', '255.255.255.252/30'],
    ],
    [6, '2001:db8:1:2::7', 128, ['2001:db8::/32', '2001:db8:1::/48', '2001:db8:1:2::/64']],
  ] as const)('%i %s/%i', (family, address, prefix, expected) => {
    expect(coveringNetworks(family, address, prefix, lens[family])).toEqual(expected);
  });

  it('produces exactly the canonical form the store uses', () => {
    for (const [family, address] of [
      [4, '198.51.100.77'],
      [6, 'fe80::1:2:3:4'],
    ] as const) {
      for (const net of coveringNetworks(
        family,
        address,
        family === 4 ? 32 : 128,
        family === 4 ? [1, 7, 13, 19, 23, 31] : [1, 17, 63, 127],
      )) {
        const canonical = normalizeIndicator(net, 'cidr');
        expect(canonical).toEqual({ ok: true, type: 'cidr', value: net });
      }
    }
  });
});

describe('planValue', () => {
  const keys = (type: Parameters<typeof planValue>[0], value: string) =>
    planValue(type, value, lens).keys.map((k) => `${k.matchedBy}:${k.type}:${k.value}`);

  it('ip: exact, then covering CIDRs', () => {
    expect(keys('ip', '10.1.2.3')).toEqual([
      'exact:ip:10.1.2.3',
      'cidr:cidr:0.0.0.0/0',
      'cidr:cidr:10.0.0.0/8',
      'cidr:cidr:10.1.0.0/16',
      'cidr:cidr:10.1.2.0/24',
      'cidr:cidr:10.1.2.0/30',
    ]);
  });

  it('cidr: exact, strictly wider CIDRs, and a within range', () => {
    const plan = planValue('cidr', '10.1.0.0/16', lens);
    expect(plan.keys.map((k) => `${k.matchedBy}:${k.value}`)).toEqual([
      'exact:10.1.0.0/16',
      'cidr:0.0.0.0/0',
      'cidr:10.0.0.0/8',
    ]);
    expect(plan.within).toBe('10.1.0.0/16');
  });

  it('domain: parents of at least two labels', () => {
    expect(keys('domain', 'a.b.evil.com')).toEqual([
      'exact:domain:a.b.evil.com',
      'parent_domain:domain:b.evil.com',
      'parent_domain:domain:evil.com',
    ]);
    expect(keys('domain', 'evil.com')).toEqual(['exact:domain:evil.com']);
  });

  it('url: prefixes at / and ? boundaries, then the host as a domain', () => {
    expect(keys('url', 'x.evil.com/kit/a.php?x=1')).toEqual([
      'exact:url:x.evil.com/kit/a.php?x=1',
      'url_prefix:url:x.evil.com/kit/a.php',
      'url_prefix:url:x.evil.com/kit',
      'url_prefix:url:x.evil.com',
      'host:domain:x.evil.com',
      'host:domain:evil.com',
    ]);
  });

  it('url with an IP host: the host against ip and cidr indicators', () => {
    expect(keys('url', '10.1.2.3/x')).toEqual([
      'exact:url:10.1.2.3/x',
      'url_prefix:url:10.1.2.3',
      'host:ip:10.1.2.3',
      'host:cidr:0.0.0.0/0',
      'host:cidr:10.0.0.0/8',
      'host:cidr:10.1.0.0/16',
      'host:cidr:10.1.2.0/24',
      'host:cidr:10.1.2.0/30',
    ]);
    expect(keys('url', '[2001:db8::1]/x')).toEqual([
      'exact:url:[2001:db8::1]/x',
      'url_prefix:url:[2001:db8::1]',
      'host:ip:2001:db8::1',
      'host:cidr:2001:db8::/32',
      'host:cidr:2001:db8::/48',
      'host:cidr:2001:db8::/64',
    ]);
  });

  it('email: exact, then its domain and parents as host', () => {
    expect(keys('email', 'bob@mail.evil.com')).toEqual([
      'exact:email:bob@mail.evil.com',
      'host:domain:mail.evil.com',
      'host:domain:evil.com',
    ]);
  });

  it('hashes: exact only', () => {
    expect(keys('sha256', 'a'.repeat(64))).toEqual([`exact:sha256:${'a'.repeat(64)}`]);
  });
});

describe('containmentFamily', () => {
  it.each([
    ['ip', '10.1.2.3', 4],
    ['cidr', '10.0.0.0/8', 4],
    ['ip', '2001:db8::1', 6],
    ['url', '10.1.2.3/x', 4],
    ['url', '[2001:db8::1]/x', 6],
    ['url', 'evil.com/x', null],
    ['domain', 'evil.com', null],
    ['email', 'a@evil.com', null],
  ] as const)('%s %s -> %s', (type, value, family) => {
    expect(containmentFamily(type, value)).toBe(family);
  });
});

describe('ALL_IPV4_LENGTHS', () => {
  it('gives an address a key for every shorter prefix, /0 to /31', () => {
    const keys = planValue('ip', '192.168.1.77', ALL_IPV4_LENGTHS).keys.filter(
      (k) => k.type === 'cidr',
    );
    expect(keys).toHaveLength(32);
    expect(keys[0].value).toBe('0.0.0.0/0');
    expect(keys[16].value).toBe('192.168.0.0/16');
    expect(keys[31].value).toBe('192.168.1.76/31');
  });
});
