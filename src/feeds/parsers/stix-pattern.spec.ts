import { parseStixPattern } from './stix-pattern';

function ok(pattern: string) {
  const r = parseStixPattern(pattern);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.comparisons;
}

function refused(pattern: string): string {
  const r = parseStixPattern(pattern);
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(r.comparisons)}`);
  return r.reason;
}

describe('parseStixPattern (the supported STIX 2.1 subset)', () => {
  describe('comparison := objectType : path = string', () => {
    it.each([
      ["[ipv4-addr:value = '198.51.100.7']", 'ipv4-addr:value', '198.51.100.7', 'ip'],
      ["[ipv4-addr:value = '10.0.0.0/8']", 'ipv4-addr:value', '10.0.0.0/8', 'cidr'],
      ["[ipv6-addr:value = '2001:db8::1']", 'ipv6-addr:value', '2001:db8::1', 'ip'],
      ["[domain-name:value = 'evil.example']", 'domain-name:value', 'evil.example', 'domain'],
      ["[url:value = 'http://evil.example/a']", 'url:value', 'http://evil.example/a', 'url'],
      ["[email-addr:value = 'x@evil.example']", 'email-addr:value', 'x@evil.example', 'email'],
    ])('%s', (pattern, objectPath, value, type) => {
      expect(ok(pattern)).toEqual([{ objectPath, value, type }]);
    });

    it('reads file hashes with quoted or bare keys, in any letter case', () => {
      const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
      expect(ok(`[file:hashes.MD5 = '${md5}']`)).toEqual([
        { objectPath: 'file:hashes.MD5', value: md5, type: 'md5' },
      ]);
      expect(ok(`[file:hashes.md5 = '${md5}']`)[0].type).toBe('md5');
      const sha1 = 'a'.repeat(40);
      for (const key of ["'SHA-1'", 'SHA1', "'sha-1'", 'sha1']) {
        expect(ok(`[file:hashes.${key} = '${sha1}']`)).toEqual([
          { objectPath: "file:hashes.'SHA-1'", value: sha1, type: 'sha1' },
        ]);
      }
      const sha256 = 'b'.repeat(64);
      for (const key of ["'SHA-256'", 'SHA256', "'sha-256'"]) {
        expect(ok(`[file:hashes.${key} = '${sha256}']`)[0]).toEqual({
          objectPath: "file:hashes.'SHA-256'",
          value: sha256,
          type: 'sha256',
        });
      }
    });

    it('allows whitespace anywhere between tokens, and none', () => {
      expect(ok("[domain-name:value='a.example']")).toHaveLength(1);
      expect(ok("  [  domain-name : value\n=\t'a.example'  ]  ")).toHaveLength(1);
    });

    it("unescapes \\' and \\\\ in string literals", () => {
      expect(ok("[url:value = 'http://x.example/it\\'s\\\\']")[0].value).toBe(
        "http://x.example/it's\\",
      );
      expect(refused("[url:value = 'a\\nb']")).toMatch(/invalid escape/);
      expect(refused("[url:value = 'open")).toMatch(/unterminated string/);
    });

    it('refuses other operators', () => {
      expect(refused("[ipv4-addr:value != '1.2.3.4']")).toBe(
        'operator != is not supported (only =)',
      );
      expect(refused("[ipv4-addr:value > '1.2.3.4']")).toMatch(/operator > is not supported/);
      expect(refused("[url:value LIKE '%evil%']")).toBe('operator LIKE is not supported (only =)');
      expect(refused("[url:value MATCHES '^x']")).toMatch(/operator MATCHES/);
      expect(refused("[ipv4-addr:value ISSUBSET '10.0.0.0/8']")).toMatch(/operator ISSUBSET/);
      expect(refused("[domain-name:value IN ('a.example')]")).toMatch(/operator IN/);
      expect(refused("[domain-name:value NOT = 'a.example']")).toMatch(/operator NOT/);
    });

    it('refuses other object paths, naming the supported ones', () => {
      expect(refused("[file:name = 'x.exe']")).toMatch(
        /^object path file:name is not supported \(supported: ipv4-addr:value, .*file:hashes.'SHA-256'\)$/,
      );
      expect(refused("[file:hashes.'SHA-512' = 'aa']")).toMatch(
        /file hash "SHA-512" is not supported/,
      );
      expect(refused("[network-traffic:dst_ref.value = '1.2.3.4']")).toMatch(/not supported/);
      expect(refused("[x509-certificate:hashes[0] = 'a']")).toMatch(/list indexes/);
    });

    it('needs a quoted string value', () => {
      expect(refused('[ipv4-addr:value = 1]')).toMatch(/expected a quoted string/);
      expect(refused("[ipv4-addr:value = t'2020-01-01T00:00:00Z']")).toMatch(
        /expected a quoted string/,
      );
    });
  });

  describe('comparisons := term ( OR term )*', () => {
    it('yields one comparison per OR branch, in order', () => {
      expect(
        ok(
          "[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'a.example' or url:value = 'b.example/x']",
        ).map((c) => c.value),
      ).toEqual(['1.2.3.4', 'a.example', 'b.example/x']);
    });

    it('accepts parenthesised groups of ORs', () => {
      expect(ok("[(ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '1.2.3.5')]")).toHaveLength(2);
    });

    it('refuses AND with a reason', () => {
      expect(refused("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'a.example']")).toBe(
        'AND is not supported (only OR)',
      );
    });
  });

  describe('pattern := observation ( OR observation )*', () => {
    it('accepts observations joined by OR, parenthesised or not', () => {
      expect(ok("[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'a.example']")).toHaveLength(
        2,
      );
      expect(
        ok("([ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'a.example'])"),
      ).toHaveLength(2);
    });

    it('refuses AND, FOLLOWEDBY and qualifiers between or after observations', () => {
      expect(refused("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']")).toBe(
        'AND is not supported (only OR)',
      );
      expect(
        refused("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'a.example']"),
      ).toBe('FOLLOWEDBY is not supported (only OR)');
      expect(refused("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS")).toBe(
        'qualifier WITHIN is not supported',
      );
      expect(refused("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES")).toBe(
        'qualifier REPEATS is not supported',
      );
      expect(
        refused(
          "[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
        ),
      ).toBe('qualifier START is not supported');
    });

    it('refuses what is not a pattern', () => {
      expect(refused('')).toBe('the pattern is empty');
      expect(refused("ipv4-addr:value = '1.2.3.4'")).toMatch(/expected "\["/);
      expect(refused("[ipv4-addr:value = '1.2.3.4'")).toMatch(
        /expected OR or "\]" at \d+, found the end/,
      );
      expect(refused("[ipv4-addr:value = '1.2.3.4']]")).toMatch(/expected OR or the end/);
      expect(refused("[ipv4-addr:value = '1.2.3.4'] ; drop")).toMatch(/unexpected character ";"/);
      expect(refused('x'.repeat(70_000))).toMatch(/longer than/);
    });
  });
});
