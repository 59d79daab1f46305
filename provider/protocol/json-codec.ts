/**
 * Terraform values <-> JSON, the encoding of stored state (`raw_state.json` in
 * UpgradeResourceState) and the alternative encoding of DynamicValue. JSON cannot express
 * unknown values, so only wholly known values pass through here. A `dynamic` value is
 * `{"value": ..., "type": ...}`, as in terraform's state files.
 */
import { AttributePath } from './attribute-path';
import { CtyType, typeFromJson, typeToJson } from './cty-type';
import { DynamicValue } from './dynamic-value';
import { decodeTree, expectArray, expectObject } from './value-tree';
import { ValueTypeError } from './value-error';

export interface FromJsonOptions {
  /** Drop object attributes the type does not have (state written before an attribute was removed). */
  ignoreUnknownAttributes?: boolean;
}

/** Decodes JSON-shaped data (already parsed) as a value of `type`. Missing object attributes become null. */
export function fromJsonValue(type: CtyType, raw: unknown, path: AttributePath = [], options: FromJsonOptions = {}): unknown {
  return decodeTree(type, raw, path, {
    isUnknown: () => false,
    ignoreUnknownAttributes: options.ignoreUnknownAttributes,
    dynamic(wrappedRaw, at, decode) {
      const wrapped = expectObject(wrappedRaw, at);
      if (!('type' in wrapped) || !('value' in wrapped)) {
        throw new ValueTypeError(at, 'expected a dynamic value as {"value": ..., "type": ...}');
      }
      const concrete = typeFromJson(wrapped.type);
      return new DynamicValue(concrete, decode(concrete, wrapped.value, at));
    },
  });
}

/** Encodes a wholly known value of `type` as JSON-shaped data. */
export function toJsonValue(type: CtyType, value: unknown, path: AttributePath = []): unknown {
  if (value === undefined) throw new ValueTypeError(path, 'an unknown value cannot be written as JSON');
  if (value === null) return null;
  switch (type.kind) {
    case 'string':
    case 'bool':
      return value;
    case 'number':
      return typeof value === 'bigint' ? Number(value) : value;
    case 'list':
    case 'set':
      return expectArray(value, path).map((v, i) => toJsonValue(type.element, v, [...path, i]));
    case 'tuple':
      return expectArray(value, path).map((v, i) => toJsonValue(type.elements[i], v, [...path, i]));
    case 'map':
      return Object.fromEntries(Object.entries(expectObject(value, path)).map(([k, v]) => [k, toJsonValue(type.element, v, [...path, { key: k }])]));
    case 'object': {
      const object = expectObject(value, path);
      return Object.fromEntries(Object.entries(type.attributes).map(([name, t]) => [name, toJsonValue(t, name in object ? object[name] : null, [...path, name])]));
    }
    case 'dynamic': {
      const dynamic = value instanceof DynamicValue ? value : DynamicValue.of(value);
      return { value: toJsonValue(dynamic.type, dynamic.value, path), type: typeToJson(dynamic.type) };
    }
  }
}
