/**
 * Terraform values <-> msgpack, the encoding of every DynamicValue terraform sends
 * (docs/plugin-protocol/object-wire-format.md in terraform, go-cty's cty/msgpack).
 *
 * Encoding is driven by the type: objects always carry every attribute (null when unset),
 * `undefined` (unknown) becomes extension 0, and a `dynamic` value becomes
 * `[<type JSON as bin>, <value>]`. Decoding treats every extension as unknown, including
 * the refined unknowns (extension 12) terraform sends for values with known bounds.
 */
import { decode, encode, ExtData, ExtensionCodec } from '@msgpack/msgpack';
import { AttributePath } from './attribute-path';
import { CtyType, typeFromJson, typeToJson } from './cty-type';
import { DynamicValue } from './dynamic-value';
import { describeRaw, numberToWire } from './numbers';
import { decodeTree, expectArray, expectObject } from './value-tree';
import { ValueTypeError } from './value-error';

const UNKNOWN_EXTENSION = 0;
const REFINED_UNKNOWN_EXTENSION = 12;

/** Stands for an unknown value inside the wire tree handed to the msgpack encoder. */
class UnknownMarker {}
const UNKNOWN = new UnknownMarker();

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: UNKNOWN_EXTENSION,
  encode: (input: unknown) => (input instanceof UnknownMarker ? new Uint8Array([0]) : null),
  decode: () => UNKNOWN,
});
extensionCodec.register({ type: REFINED_UNKNOWN_EXTENSION, encode: () => null, decode: () => UNKNOWN });

const isUnknownOnWire = (raw: unknown) => raw instanceof UnknownMarker || raw instanceof ExtData;

export function encodeMsgpack(type: CtyType, value: unknown): Uint8Array {
  return encode(toWire(type, value, []), { extensionCodec, useBigInt64: true });
}

export function decodeMsgpack(type: CtyType, bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  return fromWire(type, decode(bytes, { extensionCodec, useBigInt64: true }), []);
}

function toWire(type: CtyType, value: unknown, path: AttributePath): unknown {
  if (value === undefined) return UNKNOWN;
  if (value === null) return null;
  switch (type.kind) {
    case 'string':
      if (typeof value !== 'string') throw new ValueTypeError(path, `expected a string, got ${describeRaw(value)}`);
      return value;
    case 'number':
      return numberToWire(value, path);
    case 'bool':
      if (typeof value !== 'boolean') throw new ValueTypeError(path, `expected true or false, got ${describeRaw(value)}`);
      return value;
    case 'list':
    case 'set':
      return expectArray(value, path).map((element, i) => toWire(type.element, element, [...path, i]));
    case 'tuple': {
      const elements = expectArray(value, path);
      if (elements.length !== type.elements.length) {
        throw new ValueTypeError(path, `expected ${type.elements.length} elements, got ${elements.length}`);
      }
      return elements.map((element, i) => toWire(type.elements[i], element, [...path, i]));
    }
    case 'map': {
      const entries = Object.entries(expectObject(value, path));
      return Object.fromEntries(entries.map(([k, v]) => [k, toWire(type.element, v, [...path, { key: k }])]));
    }
    case 'object': {
      const object = expectObject(value, path);
      for (const name of Object.keys(object)) {
        if (!(name in type.attributes)) throw new ValueTypeError([...path, name], 'no such attribute in the schema');
      }
      return Object.fromEntries(
        Object.entries(type.attributes).map(([name, attributeType]) => [name, toWire(attributeType, object[name] === undefined && !(name in object) ? null : object[name], [...path, name])]),
      );
    }
    case 'dynamic': {
      const dynamic = value instanceof DynamicValue ? value : DynamicValue.of(value);
      if (dynamic.value === null) return null;
      if (dynamic.value === undefined) return UNKNOWN;
      const typeJson = new TextEncoder().encode(JSON.stringify(typeToJson(dynamic.type)));
      return [typeJson, toWire(dynamic.type, dynamic.value, path)];
    }
  }
}

function fromWire(type: CtyType, raw: unknown, path: AttributePath): unknown {
  return decodeTree(type, raw, path, {
    isUnknown: isUnknownOnWire,
    dynamic(pairRaw, at, decode) {
      const pair = expectArray(pairRaw, at);
      if (pair.length !== 2 || !(pair[0] instanceof Uint8Array)) {
        throw new ValueTypeError(at, 'expected a dynamic value as [type, value]');
      }
      const concreteType = typeFromJson(JSON.parse(new TextDecoder().decode(pair[0])));
      return new DynamicValue(concreteType, decode(concreteType, pair[1], at));
    },
  });
}
