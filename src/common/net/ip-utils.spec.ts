import { formatRange, parseCidrList, parseIp, parseRange, resolveClientIp } from './ip-utils';

describe('ip-utils', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:0DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['1', null],
    ['0x7f.0.0.1', null],
    ['example.com', null],
  ])('parseIp(%s) → %s', (input, expected) => {
    expect(parseIp(input)?.toString() ?? null).toBe(expected);
  });

  it.each([
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['10.1.2.3', '10.1.2.3'],
    ['10.1.2.3/32', '10.1.2.3'],
    ['2001:db8::1/32', '2001:db8::/32'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
  ])('parseRange(%s) → %s', (input, expected) => {
    expect(formatRange(parseRange(input))).toBe(expected);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/abc', 'nope/8', ''])(
    'parseRange rejects %j',
    (input) => {
      expect(() => parseRange(input)).toThrow();
    },
  );

  describe('resolveClientIp', () => {
    const trusted = parseCidrList('127.0.0.1/32, 10.0.0.0/8');

    it('uses the TCP peer when no proxy is trusted, ignoring X-Forwarded-For', () => {
      expect(resolveClientIp('203.0.113.9', '198.51.100.1', [])).toBe('203.0.113.9');
      expect(resolveClientIp('::ffff:127.0.0.1', '198.51.100.1', [])).toBe('127.0.0.1');
    });

    it('ignores X-Forwarded-For from an untrusted peer', () => {
      expect(resolveClientIp('203.0.113.9', '198.51.100.1', trusted)).toBe('203.0.113.9');
    });

    it('takes the right-most untrusted hop behind trusted proxies', () => {
      expect(resolveClientIp('127.0.0.1', '198.51.100.1', trusted)).toBe('198.51.100.1');
      // A client-supplied left-most entry cannot spoof past the real client hop.
      expect(resolveClientIp('127.0.0.1', '1.2.3.4, 198.51.100.1, 10.1.1.1', trusted)).toBe(
        '198.51.100.1',
      );
      expect(resolveClientIp('::ffff:127.0.0.1', ['198.51.100.7'], trusted)).toBe('198.51.100.7');
    });

    it('falls back to the peer when the header is missing or garbage', () => {
      expect(resolveClientIp('127.0.0.1', undefined, trusted)).toBe('127.0.0.1');
      expect(resolveClientIp('127.0.0.1', 'not-an-ip', trusted)).toBe('127.0.0.1');
    });
  });
});
