import 'reflect-metadata';
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import fc from 'fast-check';
import { validationOptions } from '../app.module';
import { SearchRequestDto } from './dto/search.dto';
import { SearchRequestPipe } from './search-request.pipe';

/** The global pipe as it validated the bulk search body before SearchRequestPipe. */
const reference = new ValidationPipe(validationOptions);
const pipe = new SearchRequestPipe();

type Outcome = { ok: { values: unknown; matchesLimit: unknown } } | { refused: unknown };

async function outcomeOf(run: () => unknown): Promise<Outcome> {
  try {
    const r = (await run()) as { values: unknown; matchesLimit?: unknown };
    return { ok: { values: r.values, matchesLimit: r.matchesLimit ?? 100 } };
  } catch (e) {
    if (!(e instanceof BadRequestException)) throw e;
    return { refused: e.getResponse() };
  }
}

const expected = (body: unknown): Promise<Outcome> =>
  outcomeOf(() => reference.transform(body, { type: 'body', metatype: SearchRequestDto }));
const actual = (body: unknown): Promise<Outcome> => outcomeOf(() => pipe.transform(body));

const limits = fc.oneof(
  fc.integer({ min: -5, max: 1005 }),
  fc.constantFrom(0, -0, 1, 1000, 1001, 1.5, 1e21, 2 ** 53 + 2, null, true, '5', [], {}),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const valueLists = fc.oneof(
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.constantFrom([], null, 'x', 5, {}, { 0: 'a' }),
);
const bodies = fc.oneof(
  fc.record(
    { values: valueLists, matchesLimit: limits, extra: fc.jsonValue({ maxDepth: 1 }) },
    { requiredKeys: [] },
  ),
  fc
    .tuple(
      fc.dictionary(
        fc.constantFrom('a', '0', '7', 'values', 'matchesLimit', 'x y'),
        fc.jsonValue({ maxDepth: 1 }),
      ),
    )
    .map(([d]) => d),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }),
);

describe('SearchRequestPipe', () => {
  it('accepts and refuses exactly as the global ValidationPipe on the decorated DTO, with its messages in its order', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        expect(await actual(body)).toEqual(await expected(body));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    ['an empty object', {}],
    ['no values', { values: [] }],
    ['100,001 values', { values: Array.from({ length: 100_001 }, () => 'a') }],
    ['a text matchesLimit', { values: ['a'], matchesLimit: '5' }],
    ['a null matchesLimit', { values: ['a'], matchesLimit: null }],
    ['unknown fields', { b: 1, values: ['a'], 2: 0 }],
    ['an array', ['a', { values: ['a'] }]],
  ])('%s as the global pipe', async (_name, body) => {
    expect(await actual(body)).toEqual(await expected(body));
  });

  it('hands over the values array itself, not a copy of 100,000 values', () => {
    const values = ['10.0.0.1', { any: 'json' }];
    expect(pipe.transform({ values })).toEqual({ values, matchesLimit: 100 });
    expect(pipe.transform({ values }).values).toBe(values);
  });
});
