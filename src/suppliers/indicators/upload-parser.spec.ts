import { MalformedBodyError } from '../../common/errors/domain-errors';
import { JsonArrayParser, MAX_ENTRY_BYTES, NdjsonParser } from './upload-parser';

function parse(kind: 'json' | 'ndjson', body: string | Buffer, chunkSize = body.length): unknown[] {
  const out: unknown[] = [];
  const parser =
    kind === 'json'
      ? new JsonArrayParser((v, i) => out.push([i, v]))
      : new NdjsonParser((v, i) => out.push([i, v]));
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  for (let i = 0; i < bytes.length; i += Math.max(1, chunkSize)) {
    parser.write(bytes.subarray(i, i + Math.max(1, chunkSize)));
  }
  parser.end();
  return out;
}

const ARRAY = ` [ {"indicator":"a.com","context":{"k":"v]},{\\"\\\\"}},
  {"indicator":"b\\u00e9.com","tags":["X","Y"]} ,"str", 42, true, null, [1,[2]], {"x":"ü€𝄞"} ]  `;
const EXPECTED = [
  [0, { indicator: 'a.com', context: { k: 'v]},{"\\' } }],
  [1, { indicator: 'bé.com', tags: ['X', 'Y'] }],
  [2, 'str'],
  [3, 42],
  [4, true],
  [5, null],
  [6, [1, [2]]],
  [7, { x: 'ü€𝄞' }],
];

describe('JsonArrayParser', () => {
  it.each([1, 2, 3, 7, 64, 10_000])('splits elements whatever the chunking (%i bytes)', (size) => {
    expect(parse('json', ARRAY, size)).toEqual(EXPECTED);
  });

  it('accepts an empty array and a byte order mark', () => {
    expect(parse('json', '[]')).toEqual([]);
    expect(parse('json', '\ufeff[ ]')).toEqual([]);
  });

  it.each([
    ['', /body is empty/],
    ['{"indicator":"a.com"}', /expected a JSON array.*x-ndjson/],
    ['[{"indicator":"a.com"}', /before the array was closed.*after 1 complete entries/],
    ['[{"indicator":"a.com"},', /before the array was closed/],
    [
      '[{"indicator":"a.com"} {"indicator":"b.com"}]',
      /byte 23 \(after entry 0\): expected "," or "\]"/,
    ],
    ['[{"indicator":"a.com"},,{}]', /expected a value, found ","/],
    ['[{"indicator": a.com}]', /entry 0 .* is not valid JSON/],
    ['[{"indicator":"a.com"}] x', /unexpected "x" after the closing "\]"/],
    ['[1, tru]', /entry 1 .* is not valid JSON/],
  ])('rejects %j as malformed, saying where', (body, message) => {
    for (const size of [1, 5, 1000]) {
      expect(() => parse('json', body, size)).toThrow(MalformedBodyError);
      expect(() => parse('json', body, size)).toThrow(message);
    }
  });

  it('refuses an entry larger than the per-entry cap without buffering the rest', () => {
    const big = `[{"indicator":"${'a'.repeat(MAX_ENTRY_BYTES)}"}]`;
    expect(() => parse('json', big, 65536)).toThrow(/Entry 0 .* is larger than/);
  });
});

describe('NdjsonParser', () => {
  it.each([1, 4, 10_000])('one value per line, blank lines skipped (%i-byte chunks)', (size) => {
    const body = '{"indicator":"a.com"}\r\n\n  \n{"indicator":"b.com","context":{"x":"\\n"}}\n"c"';
    expect(parse('ndjson', body, size)).toEqual([
      [0, { indicator: 'a.com' }],
      [1, { indicator: 'b.com', context: { x: '\n' } }],
      [2, 'c'],
    ]);
  });

  it.each([64, 1 << 21])('names the line larger than the cap (%i-byte chunks)', (size) => {
    const body = `"a"\n\n"${'b'.repeat(MAX_ENTRY_BYTES)}"\n`;
    expect(() => parse('ndjson', body, size)).toThrow(/^Line 3 \(entry 1\) is larger than/);
  });

  it('names the line of malformed JSON', () => {
    expect(() => parse('ndjson', '{"indicator":"a.com"}\n\n{"indicator":\n')).toThrow(
      /line 3 \(entry 1\) is not valid JSON/,
    );
  });
});
