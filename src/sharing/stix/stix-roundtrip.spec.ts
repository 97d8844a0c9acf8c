import { normalizeIndicator, type IndicatorType } from '../../indicators';
import { parseStixPattern } from '../../feeds/parsers/stix-pattern';
import { stixPatternOf } from './stix-mapping';

/**
 * Export → import: every pattern the sharing side emits is read back by the feed importer's
 * pattern parser (docs/api.md §9) as one comparison that normalises to the same indicator.
 */
describe('STIX pattern round trip (emitter → feed parser)', () => {
  it.each<[IndicatorType, string]>([
    ['ip', '198.51.100.7'],
    ['ip', '2001:db8::1'],
    ['cidr', '10.0.0.0/8'],
    ['cidr', '2001:db8::/32'],
    ['domain', 'xn--bcher-kva.example'],
    ['url', "evil.com/it's/a?q=1"],
    ['url', 'evil.com/a?x=back\\slash'],
    ['url', "evil.com/x?q=\\'"],
    ['email', "o'brien@evil.com"],
    ['md5', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ])('%s %s', (type, value) => {
    // The fixture is canonical, as stored.
    expect(normalizeIndicator(value, type)).toMatchObject({ ok: true, value, type });
    const parsed = parseStixPattern(stixPatternOf(type, value));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.comparisons).toHaveLength(1);
    const [c] = parsed.comparisons;
    expect({ type: c.type, value: c.value }).toEqual({ type, value });
    expect(normalizeIndicator(c.value, c.type)).toMatchObject({ ok: true, value, type });
  });
});
