import { CtyType, t } from './cty-type';

/**
 * A value of a `dynamic` attribute: the value together with its concrete type, because
 * terraform needs the type on the wire. `DynamicValue.of(x)` infers the type from `x`.
 */
export class DynamicValue {
  static of(value: unknown): DynamicValue {
    return new DynamicValue(inferType(value), value);
  }

  constructor(
    readonly type: CtyType,
    readonly value: unknown,
  ) {}
}

/** Infers the cty type of a plain JavaScript value: arrays become tuples, objects become objects. */
export function inferType(value: unknown): CtyType {
  if (typeof value === 'string') return t.string;
  if (typeof value === 'number' || typeof value === 'bigint') return t.number;
  if (typeof value === 'boolean') return t.bool;
  if (value instanceof DynamicValue) return value.type;
  if (Array.isArray(value)) return t.tuple(value.map(inferType));
  if (value !== null && typeof value === 'object') {
    return t.object(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inferType(v)])));
  }
  // null and unknown carry no type of their own
  return t.dynamic;
}
