import { stixIdOf, stixPatternOf } from '../stix/stix-mapping';
import { stixObjectOf, stixObjects } from './export-formats';

const SUPPLIER = '0195a0a0-0000-7000-8000-000000000001';
const record = (type: string, value: string, rest = ',"x_indicium_hits":0}'): string =>
  `${type}\t${JSON.stringify(value)}\t"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z"\t` +
  `,"pattern_type":"stix","pattern_version":"2.1","valid_from":"2026-01-01T00:00:00.000Z","confidence":50${rest}`;

describe('STIX export records', () => {
  it('completes a record with its id and pattern, keys in toStixIndicator order', () => {
    const o = JSON.parse(stixObjectOf(SUPPLIER, record('url', 'bad.org/it\'s\t"é')));
    expect(Object.keys(o)).toEqual([
      'type',
      'spec_version',
      'id',
      'created',
      'modified',
      'name',
      'pattern',
      'pattern_type',
      'pattern_version',
      'valid_from',
      'confidence',
      'x_indicium_hits',
    ]);
    expect(o.id).toBe(stixIdOf(SUPPLIER, 'url', 'bad.org/it\'s\t"é'));
    expect(o.pattern).toBe(stixPatternOf('url', 'bad.org/it\'s\t"é'));
    expect(o.name).toBe('bad.org/it\'s\t"é');
  });

  it('joins records cut anywhere, also inside a UTF-8 character, into one object list', async () => {
    const values = ['é.example', '𝄞.example', 'plain.example', 'x'.repeat(3000) + '.example'];
    const bytes = Buffer.from(values.map((v) => record('domain', v) + '\n').join(''), 'utf8');
    const expected = values.map((v) => stixObjectOf(SUPPLIER, record('domain', v))).join(',');
    for (const size of [1, 2, 3, 7, 64, 1000, bytes.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      let out = '';
      for await (const piece of stixObjects(SUPPLIER, chunks)) out += piece;
      expect(out).toBe(expected);
    }
    // A body cut short (a record without its newline) fails rather than ending silently.
    await expect(
      (async () => {
        for await (const piece of stixObjects(SUPPLIER, ['domain\t"a"\t'])) expect(piece).toBe('');
      })(),
    ).rejects.toThrow('without its end of line');
  });
});
