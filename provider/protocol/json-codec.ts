/**
 * Terraform values <-> JSON, the encoding of stored state (`raw_state.json` in
 * UpgradeResourceState) and the alternative encoding of DynamicValue. JSON cannot express
 * unknown values, so only wholly known values pass through here. A `dynamic` value is
 * `{"value": ..., "type": ...}`, as in terraform's state files.
 */
import { AttributePath } from './attribute-path';
import { CtyType, typeFromJson, typeToJson } from './cty-type';
import { DynamicValue } from './dynamic-value';
import { describeRaw, numberFromWire } from './numbers';
import { ValueTypeError } from './value-error';

export interface FromJsonOptions {
  /** Drop object attributes the type does not have (state written before an attribute was removed). */
  ignoreUnknownAttributes?: boolean;
}

/** Decodes JSON-shaped data (already parsed) as a value of `type`. Missing object attributes become null. */
export function fromJsonValue(type: CtyType, raw: unknown, path: AttributePath = [], options: FromJsonOptions = {}): unknown {
  const decode = (t: CtyType, v: unknown, p: AttributePath) => fromJsonValue(t, v, p, options);
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
      return asArray(raw, path).map((v, i) => decode(type.element, v, [...path, i]));
    case 'tuple':
      return asArray(raw, path).map((v, i) => decode(type.elements[i] ?? { kind: 'dynamic' }, v, [...path, i]));
    case 'map':
      return Object.fromEntries(
        Object.entries(asObject(raw, path)).map(([k, v]) => [k, decode(type.element, v, [...path, { key: k }])]),
      );
    case 'object': {
      const object = asObject(raw, path);
      if (!options.ignoreUnknownAttributes) {
        for (const name of Object.keys(object)) {
          if (!(name in type.attributes)) throw new ValueTypeError([...path, name], 'no such attribute in the schema');
        }
      }
      return Object.fromEntries(
        Object.entries(type.attributes).map(([name, t]) => [name, decode(t, object[name], [...path, name])]),
      );
    }
    case 'dynamic': {
      const wrapped = asObject(raw, path);
      if (!('type' in wrapped) || !('value' in wrapped)) {
        throw new ValueTypeError(path, 'expected a dynamic value as {"value": ..., "type": ...}');
      }
      const concrete = typeFromJson(wrapped.type);
      return new DynamicValue(concrete, decode(concrete, wrapped.value, path));
    }
  }
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
      return asArray(value, path).map((v, i) => toJsonValue(type.element, v, [...path, i]));
    case 'tuple':
      return asArray(value, path).map((v, i) => toJsonValue(type.elements[i], v, [...path, i]));
    case 'map':
      return Object.fromEntries(
        Object.entries(asObject(value, path)).map(([k, v]) => [k, toJsonValue(type.element, v, [...path, { key: k }])]),
      );
    case 'object': {
      const object = asObject(value, path);
      return Object.fromEntries(
        Object.entries(type.attributes).map(([name, t]) => [name, toJsonValue(t, name in object ? object[name] : null, [...path, name])]),
      );
    }
    case 'dynamic': {
      const dynamic = value instanceof DynamicValue ? value : DynamicValue.of(value);
      return { value: toJsonValue(dynamic.type, dynamic.value, path), type: typeToJson(dynamic.type) };
    }
  }
}

function asArray(value: unknown, path: AttributePath): unknown[] {
  if (!Array.isArray(value)) throw new ValueTypeError(path, `expected a list, got ${describeRaw(value)}`);
  return value;
}

function asObject(value: unknown, path: AttributePath): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValueTypeError(path, `expected an object, got ${describeRaw(value)}`);
  }
  return value as Record<string, unknown>;
}
