import { t } from './cty-type';
import { DynamicValue } from './dynamic-value';
import { conformsToPlan, isWhollyKnown, valuesEqual, valuesIdentical } from './value-equality';

describe('value equality', () => {
  test('sets ignore order and duplicates; lists do not', () => {
    expect(valuesEqual(t.set(t.string), ['a', 'b'], ['b', 'a'])).toBe(true);
    expect(valuesEqual(t.list(t.string), ['a', 'b'], ['b', 'a'])).toBe(false);
  });

  test('unknown equals nothing, except in valuesIdentical', () => {
    expect(valuesEqual(t.string, undefined, undefined)).toBe(false);
    expect(valuesIdentical(t.string, undefined, undefined)).toBe(true);
    expect(valuesIdentical(t.list(t.string), ['a', undefined], ['a', undefined])).toBe(true);
  });

  test('dynamic values compare type and value', () => {
    expect(valuesEqual(t.dynamic, DynamicValue.of({ a: 1 }), DynamicValue.of({ a: 1 }))).toBe(true);
    expect(valuesEqual(t.dynamic, DynamicValue.of({ a: 1 }), DynamicValue.of({ a: '1' }))).toBe(false);
  });

  test('a result conforms to a plan when every known part matches', () => {
    const type = t.object({ id: t.string, size: t.number, tags: t.list(t.string) });
    expect(conformsToPlan(type, { id: undefined, size: 5, tags: ['a', undefined] }, { id: 'x', size: 5, tags: ['a', 'b'] })).toBe(true);
    expect(conformsToPlan(type, { id: undefined, size: 5, tags: ['a'] }, { id: 'x', size: 6, tags: ['a'] })).toBe(false);
    expect(isWhollyKnown({ a: [1, { b: undefined }] })).toBe(false);
  });
});
