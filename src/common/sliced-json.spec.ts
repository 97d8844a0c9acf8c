import fc from 'fast-check';
import { parseJsonSliced } from './sliced-json';

/** What JSON.parse makes of `text`: the value, or that it refuses it. */
function whole(text: string): { value: unknown } | 'refused' {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return 'refused';
  }
}

/** Every other outcome than JSON.parse's is a fault; undefined (parse it whole) is always allowed. */
async function agrees(text: string, batchBytes: number): Promise<void> {
  const sliced = await parseJsonSliced(Buffer.from(text, 'utf8'), batchBytes);
  const expected = whole(text);
  if (sliced === undefined) return;
  expect(expected).not.toBe('refused');
  expect(sliced.value).toStrictEqual((expected as { value: unknown }).value);
}

/** JSON texts with any spacing JSON allows, around every token. */
const space = fc.stringMatching(/^[ \t\n\r]{0,2}$/);
const spaced = fc
  .tuple(fc.oneof(fc.array(fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue())), space)
  .map(([v, ws]) =>
    JSON.stringify(v, null, 1)
      .replace(/\n */g, (m) => (m.length % 2 ? ws : m))
      .replace(/^/, ws),
  );

describe('parseJsonSliced', () => {
  it('parses to exactly what JSON.parse gives, for containers at the top and any batch size', async () => {
    await fc.assert(
      fc.asyncProperty(spaced, fc.constantFrom(1, 7, 64, 32 * 1024), async (text, batch) => {
        const sliced = await parseJsonSliced(Buffer.from(text, 'utf8'), batch);
        expect(sliced).toBeDefined();
        expect(sliced!.value).toStrictEqual(JSON.parse(text));
        // Key order too.
        expect(JSON.stringify(sliced!.value)).toBe(JSON.stringify(JSON.parse(text)));
      }),
      { numRuns: 1_000 },
    );
  });

  it('never accepts what JSON.parse refuses, nor parses it differently (mutated texts)', async () => {
    const mutated = fc
      .tuple(
        spaced,
        fc.nat(),
        fc.constantFrom(',', ']', '}', '[', '{', '"', '\\', ':', ' ', 'x', '1', ''),
      )
      .map(([text, at, c]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + c + text.slice(i + (c === '' ? 1 : 0));
      });
    await fc.assert(fc.asyncProperty(mutated, fc.constantFrom(1, 5, 32 * 1024), agrees), {
      numRuns: 3_000,
    });
  });

  it.each([
    ['a duplicate key: the last value, the first position', '{"a":1,"b":2,"a":3}'],
    ['a "__proto__" key: an own property', '{"__proto__":{"x":1},"values":[{"__proto__":1}]}'],
    ['escaped quotes and backslashes', '{"values":["a\\"b","c\\\\","\\\\\\"d\\\\"]}'],
    ['a byte order mark and non-ASCII text', '\ufeff{"values":["é€😀",{"k":"ü"}]}'],
    ['deep nesting below the top levels', `{"values":[${'['.repeat(200)}1${']'.repeat(200)}]}`],
    ['numbers and literals', '[1,-0,2.5e-3,true,false,null,[],{}]'],
  ])('%s', async (_what, text) => {
    for (const batch of [1, 3, 32 * 1024]) {
      const sliced = await parseJsonSliced(Buffer.from(text, 'utf8'), batch);
      const expected = JSON.parse(text.replace(/^\ufeff/, '')) as unknown;
      expect(sliced?.value).toStrictEqual(expected);
      expect(JSON.stringify(sliced?.value)).toBe(JSON.stringify(expected));
      if (text.includes('__proto__')) {
        expect(Object.getPrototypeOf(sliced!.value)).toBe(Object.prototype);
        expect(Object.keys(sliced!.value as object)).toEqual(Object.keys(expected as object));
      }
    }
  });

  it.each([
    ['a trailing comma', '{"values":[1,]}'],
    ['a missing comma', '{"values":["a" "b"]}'],
    ['an unclosed string', '{"values":["a]}'],
    ['text after the top level', '{"values":[]} x'],
    ['a top-level string', '"values"'],
    ['an empty text', ''],
    ['a control character in a string', '{"values":["a\u0001"]}'],
  ])('%s: left to JSON.parse of the whole text', async (_what, text) => {
    expect(await parseJsonSliced(Buffer.from(text, 'utf8'), 1)).toBeUndefined();
  });

  it('yields to the event loop while it parses a large body', async () => {
    const values = Array.from(
      { length: 100_000 },
      (_, i) => `http://h${i}.example.com/${'x'.repeat(200)}`,
    );
    const bytes = Buffer.from(JSON.stringify({ values, matchesLimit: 5 }));
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const sliced = await parseJsonSliced(bytes);
    clearInterval(ticker);
    expect(sliced?.value).toEqual({ values, matchesLimit: 5 });
    expect(turns).toBeGreaterThan(1);
  });
});
