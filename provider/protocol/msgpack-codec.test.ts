import { decode, encode, ExtensionCodec } from '@msgpack/msgpack';
import { t } from './cty-type';
import { DynamicValue } from './dynamic-value';
import { decodeMsgpack, encodeMsgpack } from './msgpack-codec';
import { blockValueType, BlockSchema } from './schema';
import { ValueTypeError } from './value-error';
import { block, nested, optional, required } from '../framework/schema-builder';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('msgpack values', () => {
  test('unknown is extension 0 with a zero byte, exactly like terraform writes it', () => {
    expect(hex(encodeMsgpack(t.string, undefined))).toBe('d40000');
    expect(decodeMsgpack(t.string, Buffer.from('d40000', 'hex'))).toBeUndefined();
  });

  test('refined unknowns (extension 12 with refinements) and other extensions decode as unknown', () => {
    // ext 12 carrying {1: false} (not null) and {2: "pre"} (string prefix)
    const refinements = encode({ 1: false, 2: 'pre' });
    const refined = Buffer.concat([Buffer.from([0xc7, refinements.length, 12]), Buffer.from(refinements)]);
    expect(decodeMsgpack(t.string, refined)).toBeUndefined();
    expect(decodeMsgpack(t.number, Buffer.from('d40700', 'hex'))).toBeUndefined();
  });

  test('null and empty values', () => {
    expect(hex(encodeMsgpack(t.string, null))).toBe('c0');
    expect(decodeMsgpack(t.string, Buffer.alloc(0))).toBeNull();
    expect(decodeMsgpack(t.list(t.string), Buffer.from('c0', 'hex'))).toBeNull();
  });

  test('objects always carry every attribute; missing ones are null, present-but-undefined ones unknown', () => {
    const type = t.object({ a: t.string, b: t.number, c: t.bool });
    const bytes = encodeMsgpack(type, { a: 'x', c: undefined });
    expect(decode(bytes, { extensionCodec: new ExtensionCodec() })).toEqual({ a: 'x', b: null, c: expect.anything() });
    expect(decodeMsgpack(type, bytes)).toEqual({ a: 'x', b: null, c: undefined });
  });

  test('an attribute the type does not have is an error with its path', () => {
    expect(() => encodeMsgpack(t.object({ a: t.string }), { a: 'x', nope: 1 })).toThrow(new ValueTypeError(['nope'], 'no such attribute in the schema'));
  });

  test('nested blocks: lists of objects, empty when absent', () => {
    const schema: BlockSchema = block({
      attributes: { name: required(t.string) },
      blocks: { rule: nested.list(block({ attributes: { port: required(t.number), proto: optional(t.string) } })) },
    });
    const type = blockValueType(schema);
    const value = {
      name: 'a',
      rule: [
        { port: 22, proto: undefined },
        { port: 443, proto: 'udp' },
      ],
    };
    expect(decodeMsgpack(type, encodeMsgpack(type, value))).toEqual(value);
    expect(decodeMsgpack(type, encodeMsgpack(type, { name: 'b', rule: [] }))).toEqual({ name: 'b', rule: [] });
  });

  test('dynamic values travel as [type JSON as bin, value]', () => {
    const value = DynamicValue.of({ answer: 42, words: ['a', 'b'], ok: true });
    const bytes = encodeMsgpack(t.dynamic, value);
    const raw = decode(bytes) as [Uint8Array, unknown];
    expect(raw[0]).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(Buffer.from(raw[0]).toString())).toEqual(['object', { answer: 'number', words: ['tuple', ['string', 'string']], ok: 'bool' }]);
    const back = decodeMsgpack(t.dynamic, bytes) as DynamicValue;
    expect(back).toBeInstanceOf(DynamicValue);
    expect(back.value).toEqual({ answer: 42, words: ['a', 'b'], ok: true });
    expect(back.type).toEqual(value.type);
  });

  test('a dynamic value that is null or unknown has no type wrapper', () => {
    expect(hex(encodeMsgpack(t.dynamic, null))).toBe('c0');
    expect(hex(encodeMsgpack(t.dynamic, undefined))).toBe('d40000');
    expect(decodeMsgpack(t.dynamic, Buffer.from('d40000', 'hex'))).toBeUndefined();
  });

  test('maps, sets and tuples', () => {
    const type = t.object({ m: t.map(t.number), s: t.set(t.string), tu: t.tuple([t.string, t.number]) });
    const value = { m: { a: 1, b: 2 }, s: ['x', 'y'], tu: ['z', 3] };
    expect(decodeMsgpack(type, encodeMsgpack(type, value))).toEqual(value);
  });

  describe('numbers', () => {
    test('integers stay integers, also beyond 32 bits', () => {
      expect(hex(encodeMsgpack(t.number, 5))).toBe('05');
      expect(hex(encodeMsgpack(t.number, 2 ** 40))).toBe('cf0000010000000000');
      expect(decodeMsgpack(t.number, encodeMsgpack(t.number, 2 ** 40))).toBe(2 ** 40);
      expect(decodeMsgpack(t.number, encodeMsgpack(t.number, -(2 ** 53) + 1))).toBe(-(2 ** 53) + 1);
    });

    test('fractions are sent as their shortest decimal, which terraform reads like the literal in a configuration', () => {
      expect(decode(encodeMsgpack(t.number, 0.1))).toBe('0.1');
      expect(decodeMsgpack(t.number, encodeMsgpack(t.number, 0.1))).toBe(0.1);
    });

    test('numbers terraform sends as decimal strings or floats are read', () => {
      expect(decodeMsgpack(t.number, encode('0.25'))).toBe(0.25);
      expect(decodeMsgpack(t.number, encode(1.5))).toBe(1.5);
    });

    test('integers beyond 2^53 are refused rather than rounded', () => {
      const big = Buffer.from('cf0020000000000001', 'hex'); // 2^53 + 1 as uint64
      expect(() => decodeMsgpack(t.number, big)).toThrow(/9007199254740993 is larger than Orbit handles exactly/);
      expect(() => decodeMsgpack(t.number, encode('123456789012345678901'))).toThrow(/larger than Orbit handles exactly/);
    });

    test('NaN is not a number terraform knows', () => {
      expect(() => encodeMsgpack(t.number, NaN)).toThrow(/NaN/);
    });
  });

  test('type errors name the path', () => {
    const type = t.object({ list: t.list(t.object({ port: t.number })) });
    expect(() => encodeMsgpack(type, { list: [{ port: 1 }, { port: 'x' }] })).toThrow('list[1].port: expected a number, got the string "x"');
  });
});
