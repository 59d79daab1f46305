import { t } from './cty-type';
import { DynamicValue } from './dynamic-value';
import { fromJsonValue, toJsonValue } from './json-codec';

describe('JSON values (stored state)', () => {
  test('dynamic values are {value, type}, as in state files', () => {
    const value = fromJsonValue(t.object({ meta: t.dynamic }), { meta: { value: { a: 1 }, type: ['object', { a: 'number' }] } }) as {
      meta: DynamicValue;
    };
    expect(value.meta).toBeInstanceOf(DynamicValue);
    expect(value.meta.value).toEqual({ a: 1 });
    expect(toJsonValue(t.dynamic, value.meta)).toEqual({ value: { a: 1 }, type: ['object', { a: 'number' }] });
  });

  test('missing attributes are null; unknown ones are an error unless ignored', () => {
    const type = t.object({ a: t.string, b: t.number });
    expect(fromJsonValue(type, { a: 'x' })).toEqual({ a: 'x', b: null });
    expect(() => fromJsonValue(type, { a: 'x', gone: 1 })).toThrow('gone: no such attribute in the schema');
    expect(fromJsonValue(type, { a: 'x', gone: 1 }, [], { ignoreUnknownAttributes: true })).toEqual({ a: 'x', b: null });
  });

  test('unknown values cannot be written as JSON', () => {
    expect(() => toJsonValue(t.object({ a: t.string }), { a: undefined })).toThrow('a: an unknown value cannot be written as JSON');
  });
});
