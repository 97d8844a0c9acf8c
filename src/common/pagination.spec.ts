import { BadRequestException } from '@nestjs/common';
import { decodeCursor, encodeCursor } from './pagination';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
const uuid = '0b5e5f3c-1a2b-4c3d-8e9f-0123456789ab';

describe('pagination cursors', () => {
  it.each([
    [['alpha'], 1],
    [[42], 1],
    [['name', 7], 2],
    [['ünïcødé 🚀'], ['text']],
    [[uuid], ['uuid']],
    [[0], ['int']],
  ] as const)('round-trips %j (shape %j)', (key, shape) => {
    expect(decodeCursor(encodeCursor(key), shape)).toEqual(key);
  });

  it('treats an absent cursor as the first page', () => {
    expect(decodeCursor(undefined, ['text'])).toBeNull();
  });

  // Issue 14: base64 of ["\u0000"] reached Postgres and answered 500.
  it.each([
    ['NUL in text', 'WyJcdTAwMDAiXQ', 1],
    ['NUL in text (typed)', b64('["a\\u0000b"]'), ['text']],
    ['lone high surrogate', b64('["\\ud800"]'), ['text']],
    ['lone low surrogate', b64('["x\\udc00"]'), 1],
    [
      'invalid UTF-8 bytes',
      Buffer.from([0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d]).toString('base64url'),
      1,
    ],
    [
      'CESU-8 surrogate bytes',
      Buffer.from([0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d]).toString('base64url'),
      1,
    ],
    ['not base64url', 'WyJhIl0=', 1],
    ['standard base64 alphabet', b64('["??>"]').replace(/_/g, '/').replace(/-/g, '+') + '+', 1],
    ['non-canonical trailing bits', 'WyJhIl1', 1],
    ['not JSON', b64('nope'), 1],
    ['not an array', b64('{"a":1}'), 1],
    ['wrong arity', b64('["a","b"]'), 1],
    ['nested value', b64('[["a"]]'), 1],
    ['boolean', b64('[true]'), 1],
    ['fraction', b64('[1.5]'), ['int']],
    ['negative', b64('[-1]'), ['int']],
    ['unsafe integer', b64('[9007199254740993]'), ['int']],
    ['text for an int', b64('["1"]'), ['int']],
    ['non-UUID for a uuid', b64('["x"]'), ['uuid']],
    ['number for text', b64('[1]'), ['text']],
    ['empty', '', 1],
  ] as const)('rejects %s with 400', (_what, cursor, shape) => {
    expect(() => decodeCursor(cursor, shape)).toThrow(BadRequestException);
  });
});
