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
import { describeRaw, numberFromWire, numberToWire } from './numbers';
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
        Object.entries(type.attributes).map(([name, attributeType]) => [
          name,
          toWire(attributeType, object[name] === undefined && !(name in object) ? null : object[name], [...path, name]),
        ]),
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
  if (isUnknownOnWire(raw)) return undefined;
  if (raw === null || raw === undefined) return null;
  switch (type.kind) {
    case 'string':
      if (typeof raw !== 'string') throw new ValueTypeError(path, `expected a string, got ${describeRaw(raw)}`);
      return raw;
    case 'number':
      return numberFromWire(raw, path);
    case 'bool':
      if (typeof raw !== 'boolean') throw new ValueTypeError(path, `expected true or false, got ${describeRaw(raw)}`);
      return raw;
    case 'list':
    case 'set':
      return expectArray(raw, path).map((element, i) => fromWire(type.element, element, [...path, i]));
    case 'tuple':
      return expectArray(raw, path).map((element, i) => fromWire(type.elements[i] ?? { kind: 'dynamic' }, element, [...path, i]));
    case 'map':
      return Object.fromEntries(
        Object.entries(expectObject(raw, path)).map(([k, v]) => [k, fromWire(type.element, v, [...path, { key: k }])]),
      );
    case 'object': {
      const object = expectObject(raw, path);
      for (const name of Object.keys(object)) {
        if (!(name in type.attributes)) throw new ValueTypeError([...path, name], 'no such attribute in the schema');
      }
      return Object.fromEntries(
        Object.entries(type.attributes).map(([name, attributeType]) => [
          name,
          name in object ? fromWire(attributeType, object[name], [...path, name]) : null,
        ]),
      );
    }
    case 'dynamic': {
      const pair = expectArray(raw, path);
      if (pair.length !== 2 || !(pair[0] instanceof Uint8Array)) {
        throw new ValueTypeError(path, 'expected a dynamic value as [type, value]');
      }
      const concreteType = typeFromJson(JSON.parse(new TextDecoder().decode(pair[0])));
      return new DynamicValue(concreteType, fromWire(concreteType, pair[1], path));
    }
  }
}

function expectArray(value: unknown, path: AttributePath): unknown[] {
  if (!Array.isArray(value)) throw new ValueTypeError(path, `expected a list, got ${describeRaw(value)}`);
  return value;
}

function expectObject(value: unknown, path: AttributePath): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ValueTypeError(path, `expected an object, got ${describeRaw(value)}`);
  }
  return value as Record<string, unknown>;
}
