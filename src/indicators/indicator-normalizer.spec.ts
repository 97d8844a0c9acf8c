import { IndicatorType } from './indicator-type';
import { normalizeIndicator } from './indicator-normalizer';

type Accepted = [
  input: string,
  type: IndicatorType | undefined,
  expectedType: IndicatorType,
  expected: string,
];
type Rejected = [input: string, type: IndicatorType | undefined, reason: string];

const long = (n: number, ch = 'a') => ch.repeat(n);

function expectAccepted([input, type, expectedType, expected]: Accepted): void {
  expect(normalizeIndicator(input, type)).toEqual({
    ok: true,
    type: expectedType,
    value: expected,
  });
}

function expectRejected([input, type, reason]: Rejected): void {
  expect(normalizeIndicator(input, type)).toEqual({ ok: false, reason });
}

describe('normalizeIndicator', () => {
  describe('ip', () => {
    it.each<Accepted>([
      ['10.1.2.3', 'ip', 'ip', '10.1.2.3'],
      ['0.0.0.0', 'ip', 'ip', '0.0.0.0'],
      ['255.255.255.255', 'ip', 'ip', '255.255.255.255'],
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', 'ip', 'ip', '2001:db8::1'],
      ['2001:DB8::1', 'ip', 'ip', '2001:db8::1'],
      // RFC 5952: the first of equally long zero runs is compressed, a single zero group is not.
      ['2001:db8:0:0:1:0:0:1', 'ip', 'ip', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', 'ip', 'ip', '2001:db8:0:1:1:1:1:1'],
      ['1:2:3:4:5:6:7::', 'ip', 'ip', '1:2:3:4:5:6:7:0'],
      ['::1', 'ip', 'ip', '::1'],
      ['::', 'ip', 'ip', '::'],
      ['::ffff:10.1.2.3', 'ip', 'ip', '10.1.2.3'],
      ['::FFFF:a01:203', 'ip', 'ip', '10.1.2.3'],
      ['0:0:0:0:0:ffff:10.1.2.3', 'ip', 'ip', '10.1.2.3'],
      // Deprecated IPv4-compatible and NAT64 forms are not IPv4-mapped: they stay IPv6.
      ['::1.2.3.4', 'ip', 'ip', '::102:304'],
      ['64:ff9b::192.0.2.1', 'ip', 'ip', '64:ff9b::c000:201'],
      // A single-address network given as type ip is the address.
      ['10.1.2.3/32', 'ip', 'ip', '10.1.2.3'],
      ['2001:db8::1/128', 'ip', 'ip', '2001:db8::1'],
    ])('%s (type %s) -> %s %s', (...row) => expectAccepted(row));

    it.each<Rejected>([
      ['256.1.2.3', 'ip', 'not a valid ip: "256.1.2.3" is not an IPv4 or IPv6 address'],
      ['1.2.3', 'ip', 'not a valid ip: "1.2.3" is not an IPv4 or IPv6 address'],
      ['1.2.3.4.5', 'ip', 'not a valid ip: "1.2.3.4.5" is not an IPv4 or IPv6 address'],
      ['1..2.3', 'ip', 'not a valid ip: "1..2.3" is not an IPv4 or IPv6 address'],
      // Leading zeros are octal to inet_aton and decimal elsewhere: ambiguous, so rejected.
      ['010.1.2.3', 'ip', 'not a valid ip: "010.1.2.3" is not an IPv4 or IPv6 address'],
      ['0x7f.0.0.1', 'ip', 'not a valid ip: "0x7f.0.0.1" is not an IPv4 or IPv6 address'],
      ['2130706433', 'ip', 'not a valid ip: "2130706433" is not an IPv4 or IPv6 address'],
      ['fe80::1%eth0', 'ip', 'not a valid ip: "fe80::1%eth0" is not an IPv4 or IPv6 address'],
      [
        '::ffff:0x7f.0.0.1',
        'ip',
        'not a valid ip: "::ffff:0x7f.0.0.1" is not an IPv4 or IPv6 address',
      ],
      [
        '::ffff:1.2.3.004',
        'ip',
        'not a valid ip: "::ffff:1.2.3.004" is not an IPv4 or IPv6 address',
      ],
      [
        '1:2:3:4:5:6:7:8:9',
        'ip',
        'not a valid ip: "1:2:3:4:5:6:7:8:9" is not an IPv4 or IPv6 address',
      ],
      ['1::2::3', 'ip', 'not a valid ip: "1::2::3" is not an IPv4 or IPv6 address'],
      ['12345::1', 'ip', 'not a valid ip: "12345::1" is not an IPv4 or IPv6 address'],
      ['[2001:db8::1]', 'ip', 'not a valid ip: "[2001:db8::1]" is not an IPv4 or IPv6 address'],
      ['evil.com', 'ip', 'not a valid ip: "evil.com" is not an IPv4 or IPv6 address'],
      ['10.0.0.0/8', 'ip', 'not a valid ip: it is a network range (use type cidr)'],
      ['10.0.0.1/33', 'ip', 'not a valid ip: prefix length /33 is out of range for IPv4 (0-32)'],
      // Detection: IP-shaped values are reported as bad IPs, not as bad domains.
      ['256.1.2.3', undefined, 'not a valid ip: "256.1.2.3" is not an IPv4 or IPv6 address'],
      ['2001:db8::g', undefined, 'not a valid ip: "2001:db8::g" is not an IPv4 or IPv6 address'],
      ['fe80::1%eth0', undefined, 'not a valid ip: "fe80::1%eth0" is not an IPv4 or IPv6 address'],
      [
        '2001:db8::g/64',
        undefined,
        'not a valid cidr: "2001:db8::g" is not an IPv4 or IPv6 address',
      ],
    ])('rejects %s (type %s)', (...row) => expectRejected(row));
  });

  describe('cidr', () => {
    it.each<Accepted>([
      ['10.1.2.3/8', 'cidr', 'cidr', '10.0.0.0/8'],
      ['10.1.2.3/8', undefined, 'cidr', '10.0.0.0/8'],
      ['192.168.1.77/26', 'cidr', 'cidr', '192.168.1.64/26'],
      ['192.168.1.77/31', 'cidr', 'cidr', '192.168.1.76/31'],
      ['0.0.0.0/0', 'cidr', 'cidr', '0.0.0.0/0'],
      ['8.8.8.8/0', 'cidr', 'cidr', '0.0.0.0/0'],
      ['2001:DB8:1:2::5/32', 'cidr', 'cidr', '2001:db8::/32'],
      ['2001:db8::ff/120', undefined, 'cidr', '2001:db8::/120'],
      ['2001:db8::1/127', 'cidr', 'cidr', '2001:db8::/127'],
      ['::/0', 'cidr', 'cidr', '::/0'],
      // /32 and /128 are single addresses and stored as ip.
      ['10.1.2.3/32', 'cidr', 'ip', '10.1.2.3'],
      ['10.1.2.3/32', undefined, 'ip', '10.1.2.3'],
      ['2001:db8::1/128', 'cidr', 'ip', '2001:db8::1'],
      ['2001:db8::1/128', undefined, 'ip', '2001:db8::1'],
      // An ip given as cidr is fine: it is an ip.
      ['10.1.2.3', 'cidr', 'ip', '10.1.2.3'],
      ['::ffff:10.1.2.3', 'cidr', 'ip', '10.1.2.3'],
      // IPv4-mapped networks of /96 or longer are the IPv4 networks they denote.
      ['::ffff:10.1.2.3/104', 'cidr', 'cidr', '10.0.0.0/8'],
      ['::ffff:10.1.2.3/128', 'cidr', 'ip', '10.1.2.3'],
      ['::ffff:0:0/96', 'cidr', 'cidr', '0.0.0.0/0'],
      ['::ffff:0:0/95', 'cidr', 'cidr', '::fffe:0:0/95'],
    ])('%s (type %s) -> %s %s', (...row) => expectAccepted(row));

    it.each<Rejected>([
      [
        '10.0.0.0/33',
        'cidr',
        'not a valid cidr: prefix length /33 is out of range for IPv4 (0-32)',
      ],
      [
        '10.0.0.0/33',
        undefined,
        'not a valid cidr: prefix length /33 is out of range for IPv4 (0-32)',
      ],
      [
        '10.0.0.0/999999',
        undefined,
        'not a valid cidr: prefix length /999999 is out of range for IPv4 (0-32)',
      ],
      [
        '2001:db8::/129',
        'cidr',
        'not a valid cidr: prefix length /129 is out of range for IPv6 (0-128)',
      ],
      [
        '2001:db8::/129',
        undefined,
        'not a valid cidr: prefix length /129 is out of range for IPv6 (0-128)',
      ],
      ['2001:db8::/x', undefined, 'not a valid cidr: prefix length "x" is not a number'],
      ['10.0.0.0/-1', 'cidr', 'not a valid cidr: prefix length "-1" is not a number'],
      ['10.0.0.0/8.5', 'cidr', 'not a valid cidr: prefix length "8.5" is not a number'],
      ['10.0.0.0/', 'cidr', 'not a valid cidr: the prefix length after "/" is missing'],
      ['10.0.0.0/8/9', 'cidr', 'not a valid cidr: prefix length "8/9" is not a number'],
      ['300.0.0.0/8', 'cidr', 'not a valid cidr: "300.0.0.0" is not an IPv4 or IPv6 address'],
      ['300.0.0.0/8', undefined, 'not a valid cidr: "300.0.0.0" is not an IPv4 or IPv6 address'],
      ['10.0/8', undefined, 'not a valid cidr: "10.0" is not an IPv4 or IPv6 address'],
      ['evil.com/8', 'cidr', 'not a valid cidr: "evil.com" is not an IPv4 or IPv6 address'],
      ['evil.com', 'cidr', 'not a valid cidr: "evil.com" is not an IPv4 or IPv6 address'],
    ])('rejects %s (type %s)', (...row) => expectRejected(row));
  });

  describe('domain', () => {
    const label63 = long(63, 'x');
    it.each<Accepted>([
      ['evil.com', 'domain', 'domain', 'evil.com'],
      ['Evil.COM', undefined, 'domain', 'evil.com'],
      ['evil.com.', 'domain', 'domain', 'evil.com'],
      ['a.b.c.evil.co.uk', undefined, 'domain', 'a.b.c.evil.co.uk'],
      ['bücher.example', 'domain', 'domain', 'xn--bcher-kva.example'],
      ['BÜCHER.example', undefined, 'domain', 'xn--bcher-kva.example'],
      ['xn--bcher-kva.example', 'domain', 'domain', 'xn--bcher-kva.example'],
      ['XN--BCHER-KVA.EXAMPLE.', undefined, 'domain', 'xn--bcher-kva.example'],
      ['пример.рф', undefined, 'domain', 'xn--e1afmkfd.xn--p1ai'],
      // UTS #46 mapping: full-width letters and the ideographic full stop.
      ['ｅｖｉｌ.com', undefined, 'domain', 'evil.com'],
      ['evil。com', undefined, 'domain', 'evil.com'],
      // Underscores occur in real malware hostnames (not in the TLD).
      ['evil_x.example.com', undefined, 'domain', 'evil_x.example.com'],
      ['_dmarc.Evil.com', 'domain', 'domain', '_dmarc.evil.com'],
      ['r3---sn-abc.googlevideo.com', undefined, 'domain', 'r3---sn-abc.googlevideo.com'],
      ['1.2.3.example', undefined, 'domain', '1.2.3.example'],
      ['123.com', undefined, 'domain', '123.com'],
      [`${label63}.com`, undefined, 'domain', `${label63}.com`],
      // A leading www. is part of a domain; it is only dropped from URLs.
      ['www.evil.com', undefined, 'domain', 'www.evil.com'],
      [
        `${[label63, label63, label63, long(57, 'y')].join('.')}.`,
        'domain',
        'domain',
        [label63, label63, label63, long(57, 'y')].join('.'),
      ],
    ])('%s (type %s) -> %s %s', (...row) => expectAccepted(row));

    it.each<Rejected>([
      ['-bad.com', 'domain', 'not a valid domain: label "-bad" starts with a hyphen'],
      ['-bad.com', undefined, 'not a valid domain: label "-bad" starts with a hyphen'],
      ['bad-.com', undefined, 'not a valid domain: label "bad-" ends with a hyphen'],
      ['evil.-com', undefined, 'not a valid domain: label "-com" starts with a hyphen'],
      [
        'localhost',
        undefined,
        'not a valid domain: "localhost" is a single label; a domain needs at least two',
      ],
      ['com', 'domain', 'not a valid domain: "com" is a single label; a domain needs at least two'],
      [
        'com.',
        undefined,
        'not a valid domain: "com" is a single label; a domain needs at least two',
      ],
      ['a..evil.com', undefined, 'not a valid domain: it contains an empty label'],
      ['.evil.com', undefined, 'not a valid domain: it contains an empty label'],
      ['evil.com..', undefined, 'not a valid domain: it contains an empty label'],
      ['.', 'domain', 'not a valid domain: the domain is empty'],
      [
        `${long(64, 'x')}.com`,
        undefined,
        `not a valid domain: label "${long(64, 'x')}" is longer than 63 characters`,
      ],
      // Long fragments are cut in messages.
      [
        `${long(70, 'x')}.com`,
        undefined,
        `not a valid domain: label "${long(61, 'x')}..." is longer than 63 characters`,
      ],
      [
        `${Array(4).fill(long(63)).join('.')}.com`,
        undefined,
        'not a valid domain: the domain is longer than 253 characters',
      ],
      ['evil.123', undefined, 'not a valid domain: top-level label "123" is numeric'],
      ['evil.c_m', undefined, 'not a valid domain: top-level label "c_m" contains an underscore'],
      ['ev*il.com', undefined, 'not a valid domain: label "ev*il" contains invalid character "*"'],
      [
        'evil.com:8080',
        undefined,
        'not a valid domain: label "com:8080" contains invalid character ":"',
      ],
      [
        'evil,com.net',
        undefined,
        'not a valid domain: label "evil,com" contains invalid character ","',
      ],
      [
        'http://evil.com',
        'domain',
        'not a valid domain: label "http://evil" contains invalid character ":"',
      ],
      [
        'xn--zz.com',
        undefined,
        'not a valid domain: "xn--zz.com" is not a valid internationalised domain name',
      ],
      // Checked before IDNA, which would percent-decode it.
      [
        'bü%41cher.com',
        undefined,
        'not a valid domain: label "bü%41cher" contains invalid character "%"',
      ],
      [
        'evil.ä_',
        undefined,
        'not a valid domain: top-level label "xn--_-zfa" contains an underscore',
      ],
      ['1.2.3.4', 'domain', 'not a valid domain: it is an IP address (use type ip)'],
      ['2001:db8::1', 'domain', 'not a valid domain: it is an IP address (use type ip)'],
    ])('rejects %s (type %s)', (...row) => expectRejected(row));
  });

  describe('url', () => {
    it('canonicalises the contract example', () => {
      expect(normalizeIndicator('HTTP://www.Evil.COM:8080/a/./b/../c//d/')).toEqual({
        ok: true,
        type: 'url',
        value: 'evil.com/a/c/d',
      });
    });

    it.each<Accepted>([
      // scheme
      ['http://evil.com/x', undefined, 'url', 'evil.com/x'],
      ['HTTPS://evil.com/x', undefined, 'url', 'evil.com/x'],
      ['hxxp://evil.com/x', undefined, 'url', 'evil.com/x'],
      ['ftp://evil.com/x', undefined, 'url', 'evil.com/x'],
      ['svn+ssh://evil.com/x', undefined, 'url', 'evil.com/x'],
      ['evil.com/x', undefined, 'url', 'evil.com/x'],
      ['//evil.com/x', undefined, 'url', 'evil.com/x'],
      ['http://evil.com', undefined, 'url', 'evil.com'],
      ['evil.com', 'url', 'url', 'evil.com'],
      // userinfo
      ['http://user:pass@evil.com/x', undefined, 'url', 'evil.com/x'],
      ['http://user@evil.com/x', undefined, 'url', 'evil.com/x'],
      ['http://us@r:p@ss@evil.com/x', undefined, 'url', 'evil.com/x'],
      ['user@evil.com/x', undefined, 'url', 'evil.com/x'],
      ['http://evil.com/x@y', undefined, 'url', 'evil.com/x@y'],
      ['http://evil.com?u=a@b.com', undefined, 'url', 'evil.com?u=a@b.com'],
      // port
      ['http://evil.com:8080/x', undefined, 'url', 'evil.com/x'],
      ['http://evil.com:/x', undefined, 'url', 'evil.com/x'],
      ['http://u:p@evil.com:443', undefined, 'url', 'evil.com'],
      ['evil.com:8080/x', undefined, 'url', 'evil.com/x'],
      // fragment
      ['http://evil.com/x#Frag', undefined, 'url', 'evil.com/x'],
      ['http://evil.com/x?a=1#frag?b/c', undefined, 'url', 'evil.com/x?a=1'],
      ['http://evil.com#x/y', undefined, 'url', 'evil.com'],
      // leading www.
      ['http://www.evil.com/x', undefined, 'url', 'evil.com/x'],
      ['http://WWW.www.evil.com/x', undefined, 'url', 'evil.com/x'],
      ['http://www.com/x', undefined, 'url', 'www.com/x'],
      ['http://wwwevil.com/x', undefined, 'url', 'wwwevil.com/x'],
      ['http://www2.evil.com/x', undefined, 'url', 'www2.evil.com/x'],
      ['http://sub.www.evil.com/x', undefined, 'url', 'sub.www.evil.com/x'],
      // dot segments (RFC 3986 5.2.4)
      ['http://evil.com/a/./b/../c', undefined, 'url', 'evil.com/a/c'],
      ['http://evil.com/a/b/c/./../../g', undefined, 'url', 'evil.com/a/g'],
      ['http://evil.com/../../a', undefined, 'url', 'evil.com/a'],
      ['http://evil.com/a/b/..', undefined, 'url', 'evil.com/a'],
      ['http://evil.com/a/.', undefined, 'url', 'evil.com/a'],
      ['http://evil.com/a/b/../..', undefined, 'url', 'evil.com'],
      ['http://evil.com/.hidden/x..y/.../..z', undefined, 'url', 'evil.com/.hidden/x..y/.../..z'],
      // dot segments are resolved before "//" is collapsed, as a browser does
      ['http://evil.com/a//../b', undefined, 'url', 'evil.com/a/b'],
      // repeated "/"
      ['http://evil.com//a///b', undefined, 'url', 'evil.com/a/b'],
      // trailing "/"
      ['http://evil.com/a/', undefined, 'url', 'evil.com/a'],
      ['http://evil.com/', undefined, 'url', 'evil.com'],
      ['http://evil.com/a/?q=1', undefined, 'url', 'evil.com/a?q=1'],
      ['http://evil.com/?q=1', undefined, 'url', 'evil.com?q=1'],
      // trailing "." of the host
      ['http://evil.com./a', undefined, 'url', 'evil.com/a'],
      ['http://www.evil.com.:80/', undefined, 'url', 'evil.com'],
      // query kept (lowercased, slashes and dots in it untouched); empty query dropped
      ['http://evil.com/A.PHP?Q=X/./Y//Z/', undefined, 'url', 'evil.com/a.php?q=x/./y//z/'],
      ['evil.com?x=1', undefined, 'url', 'evil.com?x=1'],
      ['http://evil.com/a?b?c', undefined, 'url', 'evil.com/a?b?c'],
      ['http://evil.com/a?', undefined, 'url', 'evil.com/a'],
      // whole value lowercased, percent-encoding otherwise untouched
      ['EVIL.com/%7EUser/%2F', undefined, 'url', 'evil.com/%7euser/%2f'],
      ['http://evil.com/a/%2e%2e/b', undefined, 'url', 'evil.com/a/%2e%2e/b'],
      ['http://evil.com/Ünïcode', undefined, 'url', 'evil.com/ünïcode'],
      // IDN host
      ['http://bücher.example/x', undefined, 'url', 'xn--bcher-kva.example/x'],
      ['http://www.BÜCHER.example/', undefined, 'url', 'xn--bcher-kva.example'],
      ['http://evil_x.example.com/x', undefined, 'url', 'evil_x.example.com/x'],
      // "\" is "/" to browsers before the query: this URL goes to evil.com, not good.com.
      ['http://evil.com\\@good.com/', undefined, 'url', 'evil.com/@good.com'],
      ['http://evil.com\\a\\..\\b?x=\\', undefined, 'url', 'evil.com/b?x=\\'],
      // IP hosts
      ['http://10.1.2.3/x', undefined, 'url', '10.1.2.3/x'],
      ['10.1.2.3/x', undefined, 'url', '10.1.2.3/x'],
      ['http://10.1.2.3./x', undefined, 'url', '10.1.2.3/x'],
      ['http://10.1.2.3:8080', undefined, 'url', '10.1.2.3'],
      ['http://[2001:DB8:0:0::1]:8443/x', undefined, 'url', '[2001:db8::1]/x'],
      ['http://[2001:db8::1]/x', undefined, 'url', '[2001:db8::1]/x'],
      ['[2001:db8::1]/x', undefined, 'url', '[2001:db8::1]/x'],
      ['http://[::ffff:10.1.2.3]/x', undefined, 'url', '10.1.2.3/x'],
      // Browsers read these hosts as IPv4 (WHATWG URL): store the address they contact.
      ['http://0x7f.1/x', undefined, 'url', '127.0.0.1/x'],
      ['http://3232235777/x', undefined, 'url', '192.168.1.1/x'],
      ['http://0300.0250.0.1/', undefined, 'url', '192.168.0.1'],
    ])('%s (type %s) -> %s %s', (...row) => expectAccepted(row));

    const long2048 = `http://evil.com/${long(2048 - 'http://evil.com/'.length)}`;
    it('accepts a URL of exactly 2048 characters', () => {
      expect(normalizeIndicator(long2048)).toEqual({
        ok: true,
        type: 'url',
        value: long2048.slice(7),
      });
    });

    it.each<Rejected>([
      [`${long2048}b`, undefined, 'the value is longer than 2048 characters'],
      ['http://', undefined, 'not a valid url: it has no host'],
      ['http:///x', undefined, 'not a valid url: it has no host'],
      ['http://user@/x', undefined, 'not a valid url: it has no host'],
      ['http://:80/x', undefined, 'not a valid url: it has no host'],
      ['/x', undefined, 'not a valid url: it has no host'],
      ['?x=1', undefined, 'not a valid url: it has no host'],
      [
        'http://evil.com:abc/',
        undefined,
        'not a valid url: port "abc" is not a number from 0 to 65535',
      ],
      [
        'http://evil.com:65536/',
        undefined,
        'not a valid url: port "65536" is not a number from 0 to 65535',
      ],
      ['http://[2001:db8::1/x', undefined, 'not a valid url: the IPv6 host has no closing "]"'],
      ['http://[2001:db8::1]x/', undefined, 'not a valid url: unexpected "x" after the IPv6 host'],
      ['http://[zz::1]/', undefined, 'not a valid url: host "[zz::1]" is not a valid IPv6 address'],
      [
        'http://[fe80::1%25eth0]/',
        undefined,
        'not a valid url: host "[fe80::1%25eth0]" is not a valid IPv6 address',
      ],
      [
        'http://[10.1.2.3]/',
        undefined,
        'not a valid url: host "[10.1.2.3]" is not a valid IPv6 address',
      ],
      [
        'http://2001:db8::1/x',
        undefined,
        'not a valid url: an IPv6 host must be enclosed in brackets',
      ],
      [
        'http://2001:db8::1:8080/x',
        undefined,
        'not a valid url: an IPv6 host must be enclosed in brackets',
      ],
      [
        'http://evil.com:80:80/',
        undefined,
        'not a valid url: invalid host (label "com:80" contains invalid character ":")',
      ],
      [
        'http://1.2.3.4.5/',
        undefined,
        'not a valid url: host "1.2.3.4.5" is not a valid IPv4 address',
      ],
      [
        'http://256.1.1.1/',
        undefined,
        'not a valid url: host "256.1.1.1" is not a valid IPv4 address',
      ],
      [
        'http://-bad.com/x',
        undefined,
        'not a valid url: invalid host (label "-bad" starts with a hyphen)',
      ],
      [
        'http://localhost/x',
        undefined,
        'not a valid url: invalid host ("localhost" is a single label; a domain needs at least two)',
      ],
      [
        'http://evil.123/x',
        undefined,
        'not a valid url: invalid host (top-level label "123" is numeric)',
      ],
      [
        'http://ev%69l.com/',
        undefined,
        'not a valid url: invalid host (label "ev%69l" contains invalid character "%")',
      ],
      ['http://ev il.com/', undefined, 'the value contains whitespace'],
    ])('rejects %s (type %s)', (...row) => expectRejected(row));
  });

  describe('hashes', () => {
    const md5 = 'D41D8CD98F00B204E9800998ECF8427E';
    const sha1 = 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709';
    const sha256 = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';
    it.each<Accepted>([
      [md5, undefined, 'md5', md5.toLowerCase()],
      [md5, 'md5', 'md5', md5.toLowerCase()],
      [sha1, undefined, 'sha1', sha1.toLowerCase()],
      [sha1, 'sha1', 'sha1', sha1.toLowerCase()],
      [sha256, undefined, 'sha256', sha256.toLowerCase()],
      [sha256.toLowerCase(), 'sha256', 'sha256', sha256.toLowerCase()],
      [` ${md5}\n`, undefined, 'md5', md5.toLowerCase()],
    ])('%s (type %s) -> %s %s', (...row) => expectAccepted(row));

    it.each<Rejected>([
      [md5.slice(1), 'md5', 'md5 must be 32 hex digits, got 31 characters'],
      [`${md5}0`, 'md5', 'md5 must be 32 hex digits, got 33 characters'],
      [`${md5.slice(1)}g`, 'md5', 'md5 must be 32 hex digits: "g" is not a hex digit'],
      [md5, 'sha1', 'sha1 must be 40 hex digits, got 32 characters'],
      [`${sha1.slice(1)}z`, 'sha1', 'sha1 must be 40 hex digits: "z" is not a hex digit'],
      [sha256.slice(1), 'sha256', 'sha256 must be 64 hex digits, got 63 characters'],
      [`${sha256.slice(1)}-`, 'sha256', 'sha256 must be 64 hex digits: "-" is not a hex digit'],
      // Detected: dotless hex of the wrong length can only be a mistyped hash.
      [md5.slice(1), undefined, 'not a valid hash: 31 hex digits (md5 has 32, sha1 40, sha256 64)'],
      [
        sha256 + sha256,
        undefined,
        'not a valid hash: 128 hex digits (md5 has 32, sha1 40, sha256 64)',
      ],
    ])('rejects %s (type %s)', (...row) => expectRejected(row));
  });

  describe('email', () => {
    it.each<Accepted>([
      ['John.Doe@Example.COM', undefined, 'email', 'john.doe@example.com'],
      ['john.doe@example.com', 'email', 'email', 'john.doe@example.com'],
      ['user+tag@evil.com.', undefined, 'email', 'user+tag@evil.com'],
      ["o'brien_x-y@evil.com", undefined, 'email', "o'brien_x-y@evil.com"],
      ['user@bücher.example', undefined, 'email', 'user@xn--bcher-kva.example'],
      ['Jürgen@BÜCHER.example', 'email', 'email', 'jürgen@xn--bcher-kva.example'],
      ['user@sub_x.evil.com', undefined, 'email', 'user@sub_x.evil.com'],
      [`${long(64)}@evil.com`, undefined, 'email', `${long(64)}@evil.com`],
    ])('%s (type %s) -> %s %s', (...row) => expectAccepted(row));

    const bigDomain = `${long(63)}.${long(63)}.${long(60)}.com`;
    it.each<Rejected>([
      ['@evil.com', undefined, 'not a valid email: the local part before "@" is empty'],
      [
        `${long(65)}@evil.com`,
        undefined,
        'not a valid email: the local part is longer than 64 characters',
      ],
      [
        `${long(64)}@${bigDomain}`,
        undefined,
        'not a valid email: it is longer than 254 characters',
      ],
      [
        'a@b@evil.com',
        undefined,
        'not a valid email: the local part contains invalid character "@"',
      ],
      [
        'us(er@evil.com',
        'email',
        'not a valid email: the local part contains invalid character "("',
      ],
      [
        '.user@evil.com',
        undefined,
        'not a valid email: the local part has a leading, trailing or double dot',
      ],
      [
        'user.@evil.com',
        undefined,
        'not a valid email: the local part has a leading, trailing or double dot',
      ],
      [
        'us..er@evil.com',
        undefined,
        'not a valid email: the local part has a leading, trailing or double dot',
      ],
      ['user@', undefined, 'not a valid email: invalid domain part (the domain is empty)'],
      [
        'user@localhost',
        undefined,
        'not a valid email: invalid domain part ("localhost" is a single label; a domain needs at least two)',
      ],
      [
        'user@-bad.com',
        undefined,
        'not a valid email: invalid domain part (label "-bad" starts with a hyphen)',
      ],
      [
        'user@[10.1.2.3]',
        undefined,
        'not a valid email: invalid domain part (label "[10" contains invalid character "[")',
      ],
      [
        'user@evil.com?x',
        undefined,
        'not a valid email: invalid domain part (label "com?x" contains invalid character "?")',
      ],
      ['evil.com', 'email', 'not a valid email: it has no "@"'],
    ])('rejects %s (type %s)', (...row) => expectRejected(row));
  });

  describe('type detection', () => {
    it.each<[string, IndicatorType, string]>([
      ['10.1.2.3', 'ip', '10.1.2.3'],
      ['2001:db8::1', 'ip', '2001:db8::1'],
      ['::ffff:10.1.2.3', 'ip', '10.1.2.3'],
      ['10.1.2.3/8', 'cidr', '10.0.0.0/8'],
      ['2001:db8::/32', 'cidr', '2001:db8::/32'],
      ['evil.com', 'domain', 'evil.com'],
      ['deadbeef.com', 'domain', 'deadbeef.com'],
      ['http://evil.com', 'url', 'evil.com'],
      ['evil.com/', 'url', 'evil.com'],
      ['evil.com?x', 'url', 'evil.com?x'],
      ['http://user@evil.com', 'url', 'evil.com'],
      ['user@evil.com/x', 'url', 'evil.com/x'],
      ['d41d8cd98f00b204e9800998ecf8427e', 'md5', 'd41d8cd98f00b204e9800998ecf8427e'],
      [
        'da39a3ee5e6b4b0d3255bfef95601890afd80709',
        'sha1',
        'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      ],
      [`${'ab'.repeat(32)}`, 'sha256', 'ab'.repeat(32)],
      ['user@evil.com', 'email', 'user@evil.com'],
    ])('%s is detected as %s', (input, type, value) => {
      expect(normalizeIndicator(input)).toEqual({ ok: true, type, value });
    });
  });

  describe('input hygiene', () => {
    it.each<Rejected>([
      ['', undefined, 'the value is empty'],
      ['   ', undefined, 'the value is empty'],
      ['\t\r\n', 'domain', 'the value is empty'],
      ['evil .com', undefined, 'the value contains whitespace'],
      ['evil\u00a0.com', undefined, 'the value contains whitespace'],
      ['http://evil.com/a b', undefined, 'the value contains whitespace'],
      ['evil\t.com', 'domain', 'the value contains whitespace'],
      ['evil\u0000.com', undefined, 'the value contains a control character'],
      ['evil\u001b.com', 'domain', 'the value contains a control character'],
      ['evil.com/\u007f', undefined, 'the value contains a control character'],
      ['evil\u0085.com', undefined, 'the value contains a control character'],
      [long(2049), undefined, 'the value is longer than 2048 characters'],
    ])('rejects %j (type %s)', (...row) => expectRejected(row));

    it('trims surrounding whitespace', () => {
      expect(normalizeIndicator('  Evil.com \n')).toEqual({
        ok: true,
        type: 'domain',
        value: 'evil.com',
      });
      expect(normalizeIndicator('\u00a0 10.1.2.3\t', 'ip')).toEqual({
        ok: true,
        type: 'ip',
        value: '10.1.2.3',
      });
    });

    it('never throws on values that bypass the types', () => {
      expect(normalizeIndicator(42 as unknown as string)).toEqual({
        ok: false,
        reason: 'the value must be a string',
      });
      expect(normalizeIndicator(null as unknown as string)).toEqual({
        ok: false,
        reason: 'the value must be a string',
      });
      expect(normalizeIndicator('evil.com', 'hostname' as IndicatorType)).toEqual({
        ok: false,
        reason: 'unknown indicator type "hostname"',
      });
    });

    it('rejects a value given with the wrong type', () => {
      expect(normalizeIndicator('evil.com', 'md5')).toEqual({
        ok: false,
        reason: 'md5 must be 32 hex digits, got 8 characters',
      });
      expect(normalizeIndicator('d41d8cd98f00b204e9800998ecf8427e', 'domain')).toEqual({
        ok: false,
        reason:
          'not a valid domain: "d41d8cd98f00b204e9800998ecf8427e" is a single label; a domain needs at least two',
      });
    });
  });

  describe('idempotence', () => {
    // Search normalises query values with the same engine, so a canonical value must map to itself.
    it.each<[string, IndicatorType | undefined]>([
      ['HTTP://www.Evil.COM:8080/a/./b/../c//d/', undefined],
      ['http://www.www.www.evil.com/x', undefined],
      ['http://[2001:DB8::1]:80/a/', undefined],
      ['http://0x7f.1/a?b=/c//d', undefined],
      ['http://bücher.example/%7E/', undefined],
      ['http://evil.com/redirect/http://other.com/x', undefined],
      ['2001:0db8::0001', undefined],
      ['::ffff:10.1.2.3/104', undefined],
      ['Bücher.Example.', undefined],
      ['User@Bücher.Example', undefined],
      ['D41D8CD98F00B204E9800998ECF8427E', undefined],
    ])('%s', (input, type) => {
      const first = normalizeIndicator(input, type);
      if (!first.ok) throw new Error(first.reason);
      expect(normalizeIndicator(first.value, first.type)).toEqual(first);
    });
  });
});
