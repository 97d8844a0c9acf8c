import { INDICATOR_TYPES } from './indicator-type';
import { INDICATOR_TYPE_DEFINITIONS, NETWORK_TYPES } from './indicator-types';

describe('indicator type registry', () => {
  it('has one definition per type, and only those', () => {
    expect(Object.keys(INDICATOR_TYPE_DEFINITIONS).sort()).toEqual([...INDICATOR_TYPES].sort());
  });

  it('stores ip and cidr as networks (the migration CHECK agrees)', () => {
    expect([...NETWORK_TYPES].sort()).toEqual(['cidr', 'ip']);
  });

  it.each([
    ['ip', '198.51.100.7', 'ipv4-addr:value'],
    ['ip', '2001:db8::1', 'ipv6-addr:value'],
    ['cidr', '10.0.0.0/8', 'ipv4-addr:value'],
    ['cidr', '2001:db8::/32', 'ipv6-addr:value'],
    ['domain', 'evil.com', 'domain-name:value'],
    ['url', 'evil.com/kit', 'url:value'],
    ['email', 'a@evil.com', 'email-addr:value'],
    ['md5', 'd41d8cd98f00b204e9800998ecf8427e', 'file:hashes.MD5'],
    ['sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', "file:hashes.'SHA-1'"],
    [
      'sha256',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      "file:hashes.'SHA-256'",
    ],
  ] as const)('STIX path of %s %s is %s', (type, value, path) => {
    const { stix } = INDICATOR_TYPE_DEFINITIONS[type];
    expect(stix.pathFor(value)).toBe(path);
    expect(stix.paths).toContain(path);
  });

  it.each([
    ['ip', '198.51.100.7', '198.51.100.7'],
    ['cidr', '10.0.0.0/8', '10.0.0.0/8'],
    ['url', '198.51.100.7/x', '198.51.100.7'],
    ['url', 'evil.com/x', null],
    ['domain', 'evil.com', null],
  ] as const)('the address a network could contain: %s %s → %s', (type, value, address) => {
    expect(INDICATOR_TYPE_DEFINITIONS[type].containedAddress(value)).toBe(address);
  });
});

describe('retro containment entries', () => {
  const SAMPLE: Record<string, string> = {
    ip: '198.51.100.7',
    cidr: '10.0.0.0/8',
    domain: 'evil.com',
    url: '198.51.100.7/x',
    email: 'a@evil.com',
    md5: 'd41d8cd98f00b204e9800998ecf8427e',
    sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  };

  it.each(INDICATOR_TYPES)(
    '%s: reported inside a network exactly when it can have an address',
    (type) => {
      const definition = INDICATOR_TYPE_DEFINITIONS[type];
      const address = definition.containedAddress(SAMPLE[type]);
      expect(definition.retro.inNetwork !== null).toBe(address !== null);
    },
  );

  it('only network types contain remembered values (today: cidr)', () => {
    const containing = INDICATOR_TYPES.filter((t) => INDICATOR_TYPE_DEFINITIONS[t].retro.contains);
    expect(containing).toEqual(['cidr']);
    for (const t of containing) expect(NETWORK_TYPES).toContain(t);
  });
});
