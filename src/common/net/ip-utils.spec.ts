import { parseCidrList } from '../../config/ip-range';
import { formatRange, parseForwardedHop, parseIp, parseRange, resolveClientIp } from './ip-utils';

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

    // Issue 14: a hop that does not parse must never hand the decision to the caller-written
    // entries on its left.
    const loopbackOnly = parseCidrList('127.0.0.1/32');
    it.each([
      ['10.1.2.3, unknown', '127.0.0.1'],
      ['10.1.2.3, garbage', '127.0.0.1'],
      ['10.1.2.3, ', '127.0.0.1'],
      ['10.1.2.3,,198.51.100.4', '198.51.100.4'],
      ['10.1.2.3, 203.0.113.9:4711', '203.0.113.9'],
      ['10.1.2.3, [2001:db8::1]', '2001:db8::1'],
      ['10.1.2.3, [2001:db8::1]:4711', '2001:db8::1'],
      ['10.1.2.3, 2001:db8::1', '2001:db8::1'],
      ['10.1.2.3, 203.0.113.9:70000', '127.0.0.1'],
      ['10.1.2.3, [10.9.9.9]', '127.0.0.1'],
      ['10.1.2.3, 127.0.0.1, unknown', '127.0.0.1'],
      ['10.1.2.3, 127.0.0.1', '10.1.2.3'],
      ['127.0.0.1, 127.0.0.1', '127.0.0.1'],
      ['10.1.2.3, 0x7f.0.0.1', '127.0.0.1'],
    ])('behind 127.0.0.1/32, X-Forwarded-For %j resolves to %s', (header, expected) => {
      expect(resolveClientIp('127.0.0.1', header, loopbackOnly)).toBe(expected);
    });

    it('stops at the last trusted hop when a hop further left does not parse', () => {
      expect(resolveClientIp('127.0.0.1', '1.2.3.4, nonsense, 10.1.1.1', trusted)).toBe('10.1.1.1');
      expect(resolveClientIp('127.0.0.1', ['1.2.3.4', 'unknown'], trusted)).toBe('127.0.0.1');
    });
  });

  it.each([
    ['203.0.113.9:4711', '203.0.113.9'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    [' 198.51.100.1 ', '198.51.100.1'],
    ['[::ffff:10.0.0.1]:80', '10.0.0.1'],
    ['2001:db8::1:80', '2001:db8::1:80'],
    ['203.0.113.9:99999', null],
    ['[203.0.113.9]:80', null],
    ['unknown', null],
    ['_hidden', null],
    ['', null],
  ])('parseForwardedHop(%j) → %s', (input, expected) => {
    expect(parseForwardedHop(input)?.toString() ?? null).toBe(expected);
  });
});
