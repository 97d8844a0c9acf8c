import { normalizeIndicator } from './indicator-normalizer';
import { refang } from './refang';

describe('refang', () => {
  it.each([
    ['hxxp://evil.com/a', 'http://evil.com/a'],
    ['HXXPS://evil.com', 'https://evil.com'],
    ['hXxPs://evil.com', 'https://evil.com'],
    ['evil[.]com', 'evil.com'],
    ['evil(.)com', 'evil.com'],
    ['evil{.}com', 'evil.com'],
    ['a[.]b(.)c{.}d', 'a.b.c.d'],
    ['2001:db8[:]1', '2001:db8:1'],
    ['hxxp[:]//evil[.]com', 'http://evil.com'],
    ['user[at]evil.com', 'user@evil.com'],
    ['user[AT]evil.com', 'user@evil.com'],
    ['user[@]evil.com', 'user@evil.com'],
    ['192[.]0[.]2[.]1', '192.0.2.1'],
    // Not defanged: left as is.
    ['evil.com', 'evil.com'],
    ['http://[::1]/x', 'http://[::1]/x'],
    ['xxhxxp://a.com', 'xxhxxp://a.com'],
    ['d41d8cd98f00b204e9800998ecf8427e', 'd41d8cd98f00b204e9800998ecf8427e'],
  ])('%s → %s', (input, expected) => {
    expect(refang(input)).toBe(expected);
  });

  it.each([
    ['hxxps://www[.]Evil[.]com/kit', 'url', 'evil.com/kit'],
    ['evil[.]example(.)com', 'domain', 'evil.example.com'],
    ['198[.]51[.]100[.]7', 'ip', '198.51.100.7'],
    ['10[.]0[.]0[.]0/8', 'cidr', '10.0.0.0/8'],
    ['Alice[at]Evil[.]com', 'email', 'alice@evil.com'],
  ])('normalizes %s as %s %s', (input, type, value) => {
    expect(normalizeIndicator(input)).toEqual({ ok: true, type, value });
  });
});
