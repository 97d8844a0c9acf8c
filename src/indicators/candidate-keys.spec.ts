import {
  domainCandidates,
  emailDomain,
  IpNetwork,
  networkOf,
  parentDomains,
  UrlHost,
  urlHost,
  urlPrefixes,
} from './candidate-keys';
import { normalizeIndicator } from './indicator-normalizer';

/** Canonical value of `input`, failing the test if it does not normalise. */
function canonical(input: string): string {
  const result = normalizeIndicator(input);
  if (!result.ok) throw new Error(result.reason);
  return result.value;
}

describe('parentDomains', () => {
  it.each<[string, string[]]>([
    ['a.b.evil.com', ['b.evil.com', 'evil.com']],
    ['b.evil.com', ['evil.com']],
    ['evil.com', []],
    // No public-suffix list: every parent of two labels or more.
    ['x.evil.co.uk', ['evil.co.uk', 'co.uk']],
    ['xn--bcher-kva.example', []],
    ['_dmarc.mail.evil.com', ['mail.evil.com', 'evil.com']],
  ])('%s -> %j', (domain, parents) => {
    expect(parentDomains(domain)).toEqual(parents);
  });
});

describe('domainCandidates', () => {
  it.each<[string, string[]]>([
    ['a.b.evil.com', ['a.b.evil.com', 'b.evil.com', 'evil.com']],
    ['evil.com', ['evil.com']],
  ])('%s -> %j (exact first)', (domain, keys) => {
    expect(domainCandidates(domain)).toEqual(keys);
  });
});

describe('urlPrefixes', () => {
  it.each<[string, string[]]>([
    [
      'evil.com/kit/a.php?x=1',
      ['evil.com/kit/a.php?x=1', 'evil.com/kit/a.php', 'evil.com/kit', 'evil.com'],
    ],
    ['evil.com', ['evil.com']],
    ['evil.com/a', ['evil.com/a', 'evil.com']],
    ['evil.com?x=1', ['evil.com?x=1', 'evil.com']],
    // Every "/" or "?" boundary counts, including those inside the query.
    [
      'evil.com/r?u=a/b?c',
      ['evil.com/r?u=a/b?c', 'evil.com/r?u=a/b', 'evil.com/r?u=a', 'evil.com/r', 'evil.com'],
    ],
    ['[2001:db8::1]/x/y', ['[2001:db8::1]/x/y', '[2001:db8::1]/x', '[2001:db8::1]']],
    ['10.1.2.3/x', ['10.1.2.3/x', '10.1.2.3']],
  ])('%s -> %j', (url, prefixes) => {
    expect(urlPrefixes(url)).toEqual(prefixes);
  });

  it('works on the canonical form of the contract example', () => {
    expect(urlPrefixes(canonical('HTTP://www.Evil.COM:8080/a/./b/../c//d/'))).toEqual([
      'evil.com/a/c/d',
      'evil.com/a/c',
      'evil.com/a',
      'evil.com',
    ]);
  });
});

describe('urlHost', () => {
  it.each<[string, UrlHost]>([
    ['evil.com/kit/a.php?x=1', { type: 'domain', value: 'evil.com' }],
    ['evil.com?x=1/2', { type: 'domain', value: 'evil.com' }],
    ['evil.com', { type: 'domain', value: 'evil.com' }],
    ['xn--bcher-kva.example/x', { type: 'domain', value: 'xn--bcher-kva.example' }],
    ['1.2.3.a1/x', { type: 'domain', value: '1.2.3.a1' }],
    ['10.1.2.3/x', { type: 'ip', value: '10.1.2.3' }],
    ['10.1.2.3', { type: 'ip', value: '10.1.2.3' }],
    ['[2001:db8::1]/x', { type: 'ip', value: '2001:db8::1' }],
    ['[2001:db8::1]?q', { type: 'ip', value: '2001:db8::1' }],
  ])('%s -> %j', (url, host) => {
    expect(urlHost(url)).toEqual(host);
  });

  it.each<[string, UrlHost]>([
    ['http://[2001:DB8:0::1]:8080/x', { type: 'ip', value: '2001:db8::1' }],
    ['http://user@10.1.2.3:80/x', { type: 'ip', value: '10.1.2.3' }],
    ['http://[::ffff:10.1.2.3]/x', { type: 'ip', value: '10.1.2.3' }],
    ['https://www.Bücher.example/x', { type: 'domain', value: 'xn--bcher-kva.example' }],
  ])('host of canonical(%s) is %j, itself canonical', (input, host) => {
    const value = urlHost(canonical(input));
    expect(value).toEqual(host);
    expect(normalizeIndicator(value.value, value.type)).toEqual({ ok: true, ...value });
  });
});

describe('emailDomain', () => {
  it.each<[string, string]>([
    ['user@evil.com', 'evil.com'],
    ['user+tag@mail.xn--bcher-kva.example', 'mail.xn--bcher-kva.example'],
  ])('%s -> %s', (email, domain) => {
    expect(emailDomain(email)).toBe(domain);
  });

  it('gives the canonical domain of a normalised email', () => {
    expect(emailDomain(canonical('User@BÜCHER.example'))).toBe('xn--bcher-kva.example');
  });
});

describe('networkOf', () => {
  it.each<[string, IpNetwork]>([
    ['10.0.0.0/8', { family: 4, address: '10.0.0.0', prefix: 8 }],
    ['10.1.2.3', { family: 4, address: '10.1.2.3', prefix: 32 }],
    ['0.0.0.0/0', { family: 4, address: '0.0.0.0', prefix: 0 }],
    ['2001:db8::/32', { family: 6, address: '2001:db8::', prefix: 32 }],
    ['2001:db8::1', { family: 6, address: '2001:db8::1', prefix: 128 }],
    ['::/0', { family: 6, address: '::', prefix: 0 }],
  ])('%s -> %j', (value, network) => {
    expect(networkOf(value)).toEqual(network);
  });

  it.each<[string, IpNetwork]>([
    ['10.1.2.3/8', { family: 4, address: '10.0.0.0', prefix: 8 }],
    ['::ffff:10.1.2.3/104', { family: 4, address: '10.0.0.0', prefix: 8 }],
    ['2001:0DB8::1/128', { family: 6, address: '2001:db8::1', prefix: 128 }],
  ])('network of canonical(%s) is %j', (input, network) => {
    expect(networkOf(canonical(input))).toEqual(network);
  });
});
