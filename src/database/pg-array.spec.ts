import { pgArray, pgArrayOrNull } from './pg-array';

describe('pgArray', () => {
  it.each([
    [[], '{}'],
    [['a', 'b'], '{"a","b"}'],
    [['', 'NULL', null], '{"","NULL",NULL}'],
    [['a "quoted" word', 'back\\slash'], '{"a \\"quoted\\" word","back\\\\slash"}'],
    [['{x,y}', ' sp ', 'ü → 😀'], '{"{x,y}"," sp ","ü → 😀"}'],
    [[1, null, 100], '{1,NULL,100}'],
  ])('%j → %s', (values, literal) => {
    expect(pgArray(values)).toBe(literal);
  });

  it('is null only when every element is', () => {
    expect(pgArrayOrNull([null, null])).toBeNull();
    expect(pgArrayOrNull([])).toBeNull();
    expect(pgArrayOrNull([null, 'x'])).toBe('{NULL,"x"}');
  });
});
