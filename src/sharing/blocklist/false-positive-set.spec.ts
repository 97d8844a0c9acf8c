import type { IndicatorType } from '../../indicators';
import { FalsePositiveSet } from './false-positive-set';

describe('FalsePositiveSet (docs/api.md §5 suppression)', () => {
  const fp = new FalsePositiveSet();
  fp.add('cidr', '10.0.0.0/8');
  fp.add('cidr', '2001:db8::/32');
  fp.add('ip', '192.0.2.7');
  fp.add('domain', 'example.com');
  fp.add('url', 'good.org/safe');
  fp.add('email', 'ok@mail.net');
  fp.add('md5', 'd41d8cd98f00b204e9800998ecf8427e');

  it.each<[IndicatorType, string, boolean]>([
    ['ip', '10.1.2.3', true], // inside an FP network
    ['ip', '11.1.2.3', false],
    ['ip', '192.0.2.7', true],
    ['ip', '192.0.2.8', false],
    ['ip', '2001:db8:1::5', true],
    ['ip', '2001:db9::5', false],
    ['cidr', '10.20.0.0/16', true], // a network inside an FP network
    ['cidr', '10.0.0.0/8', true], // equal
    ['cidr', '0.0.0.0/0', false], // wider than the FP network: "within" does not suppress
    ['cidr', '192.0.2.0/24', false], // contains an FP address: not suppressed
    ['domain', 'example.com', true],
    ['domain', 'a.b.example.com', true], // subdomain of an FP domain
    ['domain', 'notexample.com', false],
    ['domain', 'com', false],
    ['url', 'good.org/safe/page?x=1', true], // prefix at a boundary
    ['url', 'good.org/safer', false],
    ['url', 'cdn.example.com/kit.js', true], // host under an FP domain
    ['url', '10.9.9.9/x', true], // IP host inside an FP network
    ['url', 'evil.net/x', false],
    ['email', 'ok@mail.net', true],
    ['email', 'x@sub.example.com', true], // domain under an FP domain
    ['email', 'bad@mail.net', false],
    ['md5', 'd41d8cd98f00b204e9800998ecf8427e', true],
    ['sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', false],
  ])('%s %s suppressed: %s', (type, value, expected) => {
    expect(fp.suppresses(type, value)).toBe(expected);
  });

  it('suppresses nothing when empty', () => {
    expect(new FalsePositiveSet().suppresses('ip', '10.0.0.1')).toBe(false);
  });
});
