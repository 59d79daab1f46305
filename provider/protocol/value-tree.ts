/**
 * Walking a decoded wire tree (msgpack or JSON) against a type. Both encodings share the
 * shape of lists, maps and objects; they differ only in how unknowns and `dynamic` values
 * are written, which the caller supplies.
 */
import { AttributePath } from './attribute-path';
import { CtyType } from './cty-type';
import { describeRaw, numberFromWire } from './numbers';
import { ValueTypeError } from './value-error';

export interface TreeDecoding {
  /** True when `raw` stands for an unknown value (decoded as `undefined`). */
  isUnknown(raw: unknown): boolean;
  /** Decodes a `dynamic` value; `decode` continues the walk with the concrete type. */
  dynamic(raw: unknown, path: AttributePath, decode: (type: CtyType, raw: unknown, path: AttributePath) => unknown): unknown;
  /** Drop object attributes the type does not have instead of failing. */
  ignoreUnknownAttributes?: boolean;
}

/** Decodes `raw` as a value of `type`; missing object attributes become null. */
export function decodeTree(type: CtyType, raw: unknown, path: AttributePath, how: TreeDecoding): unknown {
  const decode = (t: CtyType, v: unknown, p: AttributePath): unknown => decodeTree(t, v, p, how);
  if (how.isUnknown(raw)) return undefined;
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
      return expectArray(raw, path).map((element, i) => decode(type.element, element, [...path, i]));
    case 'tuple':
      return expectArray(raw, path).map((element, i) => decode(type.elements[i] ?? { kind: 'dynamic' }, element, [...path, i]));
    case 'map':
      return Object.fromEntries(Object.entries(expectObject(raw, path)).map(([k, v]) => [k, decode(type.element, v, [...path, { key: k }])]));
    case 'object': {
      const object = expectObject(raw, path);
      if (!how.ignoreUnknownAttributes) {
        for (const name of Object.keys(object)) {
          if (!(name in type.attributes)) throw new ValueTypeError([...path, name], 'no such attribute in the schema');
        }
      }
      return Object.fromEntries(Object.entries(type.attributes).map(([name, attributeType]) => [name, name in object ? decode(attributeType, object[name], [...path, name]) : null]));
    }
    case 'dynamic':
      return how.dynamic(raw, path, decode);
  }
}

export function expectArray(value: unknown, path: AttributePath): unknown[] {
  if (!Array.isArray(value)) throw new ValueTypeError(path, `expected a list, got ${describeRaw(value)}`);
  return value;
}

export function expectObject(value: unknown, path: AttributePath): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ValueTypeError(path, `expected an object, got ${describeRaw(value)}`);
  }
  return value as Record<string, unknown>;
}
