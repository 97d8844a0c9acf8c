import {
  stixIdOf,
  stixPatternOf,
  stixString,
  toRevokedStixIndicator,
  toStixIndicator,
  uuidBytes,
  uuidv5,
} from './stix-mapping';

const SUPPLIER = '0195d2a4-6b1e-7c3a-9f00-000000000001';

describe('STIX 2.1 mapping', () => {
  it('computes RFC 9562 UUIDv5 (the RFC test vector)', () => {
    const dns = uuidBytes('6ba7b810-9dad-11d1-80b4-00c04fd430c8');
    expect(uuidv5('www.example.com', dns)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives one deterministic id per supplier, type and value', () => {
    const a = stixIdOf(SUPPLIER, 'domain', 'evil.com');
    expect(a).toMatch(
      /^indicator--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(stixIdOf(SUPPLIER, 'domain', 'evil.com')).toBe(a);
    expect(stixIdOf(SUPPLIER, 'url', 'evil.com')).not.toBe(a);
    expect(stixIdOf('0195d2a4-6b1e-7c3a-9f00-000000000002', 'domain', 'evil.com')).not.toBe(a);
  });

  it.each([
    ['ip', '10.1.2.3', "[ipv4-addr:value = '10.1.2.3']"],
    ['ip', '2001:db8::1', "[ipv6-addr:value = '2001:db8::1']"],
    ['cidr', '10.0.0.0/8', "[ipv4-addr:value = '10.0.0.0/8']"],
    ['cidr', '2001:db8::/32', "[ipv6-addr:value = '2001:db8::/32']"],
    ['domain', 'evil.com', "[domain-name:value = 'evil.com']"],
    ['url', "evil.com/a?q='x'", "[url:value = 'evil.com/a?q=\\'x\\'']"],
    ['url', 'evil.com/a\\b', "[url:value = 'evil.com/a\\\\b']"],
    ['email', 'bad@evil.com', "[email-addr:value = 'bad@evil.com']"],
    [
      'md5',
      'd41d8cd98f00b204e9800998ecf8427e',
      "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    ],
    [
      'sha1',
      'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
    ],
    [
      'sha256',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
    ],
  ] as const)('emits the %s pattern of %s', (type, value, pattern) => {
    expect(stixPatternOf(type, value)).toBe(pattern);
  });

  it("escapes backslash before quote, so \\' cannot end the literal", () => {
    expect(stixString("a\\'b")).toBe("'a\\\\\\'b'");
  });

  const base = {
    supplierId: SUPPLIER,
    type: 'domain' as const,
    value: 'evil.com',
    context: { threat: 'phishing' },
    tags: ['PHISHING'],
    confidence: 80,
    createdAt: new Date('2026-01-01T00:00:00.123Z'),
    updatedAt: new Date('2026-01-02T00:00:00.456Z'),
    expiresAt: new Date('2026-02-01T00:00:00Z'),
  };

  it('maps a live indicator with expiry, confidence, tags as labels and context', () => {
    expect(toStixIndicator(base)).toEqual({
      type: 'indicator',
      spec_version: '2.1',
      id: stixIdOf(SUPPLIER, 'domain', 'evil.com'),
      created: '2026-01-01T00:00:00.123Z',
      modified: '2026-01-02T00:00:00.456Z',
      name: 'evil.com',
      pattern: "[domain-name:value = 'evil.com']",
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: '2026-01-01T00:00:00.123Z',
      valid_until: '2026-02-01T00:00:00.000Z',
      confidence: 80,
      labels: ['PHISHING'],
      x_indicium_context: { threat: 'phishing' },
    });
  });

  it('omits empty labels, context and a missing expiry; keeps valid_until after valid_from', () => {
    const o = toStixIndicator({ ...base, tags: [], context: {}, expiresAt: null });
    expect(o).not.toHaveProperty('labels');
    expect(o).not.toHaveProperty('x_indicium_context');
    expect(o).not.toHaveProperty('valid_until');
    const stale = toStixIndicator({ ...base, expiresAt: new Date('2025-12-31T00:00:00Z') });
    expect(Date.parse(stale.valid_until!)).toBeGreaterThan(Date.parse(stale.valid_from));
  });

  it('maps a tombstone to a revoked version of the same id', () => {
    const r = toRevokedStixIndicator({
      supplierId: SUPPLIER,
      type: 'domain',
      value: 'evil.com',
      createdAt: base.createdAt,
      deletedAt: new Date('2026-01-03T00:00:00Z'),
    });
    expect(r).toMatchObject({
      id: toStixIndicator(base).id,
      revoked: true,
      modified: '2026-01-03T00:00:00.000Z',
      pattern: "[domain-name:value = 'evil.com']",
    });
  });
});
