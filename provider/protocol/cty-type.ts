/**
 * Terraform's type system (cty) as data, plus the TypeScript type each cty type maps to.
 *
 * Values map to plain JavaScript: string, number, boolean, arrays for lists/sets/tuples,
 * plain objects for maps/objects, `null` for null and `undefined` for "not known until apply".
 * A `dynamic` value carries its own type (see {@link DynamicValue}).
 */
import type { DynamicValue } from './dynamic-value';

export interface StringType {
  readonly kind: 'string';
}
export interface NumberType {
  readonly kind: 'number';
}
export interface BoolType {
  readonly kind: 'bool';
}
/** Any type, decided by the value (`dynamic` in terraform, `any` in variable constraints). */
export interface DynamicType {
  readonly kind: 'dynamic';
}
export interface ListType<E extends CtyType = CtyType> {
  readonly kind: 'list';
  readonly element: E;
}
export interface SetType<E extends CtyType = CtyType> {
  readonly kind: 'set';
  readonly element: E;
}
export interface MapType<E extends CtyType = CtyType> {
  readonly kind: 'map';
  readonly element: E;
}
export interface ObjectType<A extends Readonly<Record<string, CtyType>> = Readonly<Record<string, CtyType>>> {
  readonly kind: 'object';
  readonly attributes: A;
}
export interface TupleType<E extends readonly CtyType[] = readonly CtyType[]> {
  readonly kind: 'tuple';
  readonly elements: E;
}

export type CtyType = StringType | NumberType | BoolType | DynamicType | ListType | SetType | MapType | ObjectType | TupleType;

/**
 * The TypeScript type of a known, non-null value of cty type `T`. The checks are wrapped in
 * tuples so that they do not distribute over the CtyType union (which recurses without end).
 */
export type ValueOf<T extends CtyType> = [T] extends [StringType]
  ? string
  : [T] extends [NumberType]
    ? number
    : [T] extends [BoolType]
      ? boolean
      : [T] extends [DynamicType]
        ? DynamicValue
        : [T] extends [ListType<infer E>]
          ? ValueOf<E>[]
          : [T] extends [SetType<infer E>]
            ? ValueOf<E>[]
            : [T] extends [MapType<infer E>]
              ? Record<string, ValueOf<E>>
              : [T] extends [ObjectType<infer A>]
                ? { [K in keyof A]: ValueOf<A[K]> | null }
                : [T] extends [TupleType<infer E>]
                  ? { -readonly [I in keyof E]: E[I] extends CtyType ? ValueOf<E[I]> : never }
                  : unknown;

/** Constructors for cty types: `t.list(t.string)`, `t.object({ a: t.number })`. */
export const t = {
  string: { kind: 'string' } as StringType,
  number: { kind: 'number' } as NumberType,
  bool: { kind: 'bool' } as BoolType,
  dynamic: { kind: 'dynamic' } as DynamicType,
  list: <E extends CtyType>(element: E): ListType<E> => ({ kind: 'list', element }),
  set: <E extends CtyType>(element: E): SetType<E> => ({ kind: 'set', element }),
  map: <E extends CtyType>(element: E): MapType<E> => ({ kind: 'map', element }),
  object: <A extends Record<string, CtyType>>(attributes: A): ObjectType<A> => ({ kind: 'object', attributes }),
  tuple: <const E extends readonly CtyType[]>(elements: E): TupleType<E> => ({ kind: 'tuple', elements }),
};

/** Terraform's JSON form of a type, e.g. `"string"`, `["list","string"]`, `["object",{"a":"number"}]`. */
export type TypeJson = string | [string, unknown] | [string, unknown, unknown];

export function typeToJson(type: CtyType): TypeJson {
  switch (type.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'dynamic':
      return type.kind;
    case 'list':
    case 'set':
    case 'map':
      return [type.kind, typeToJson(type.element)];
    case 'object':
      return ['object', Object.fromEntries(Object.entries(type.attributes).map(([k, v]) => [k, typeToJson(v)]))];
    case 'tuple':
      return ['tuple', type.elements.map(typeToJson)];
  }
}

export function typeFromJson(json: unknown): CtyType {
  if (json === 'string' || json === 'number' || json === 'bool' || json === 'dynamic') {
    return { kind: json } as CtyType;
  }
  if (Array.isArray(json) && json.length >= 2) {
    const [kind, arg] = json;
    switch (kind) {
      case 'list':
      case 'set':
      case 'map':
        return { kind, element: typeFromJson(arg) };
      case 'object':
        if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) {
          return t.object(Object.fromEntries(Object.entries(arg).map(([k, v]) => [k, typeFromJson(v)])));
        }
        break;
      case 'tuple':
        if (Array.isArray(arg)) return t.tuple(arg.map(typeFromJson));
        break;
    }
  }
  throw new Error(`not a terraform type: ${JSON.stringify(json)}`);
}

/** Human-readable type, as terraform prints it: `list(string)`, `object({a=number})`. */
export function describeType(type: CtyType): string {
  switch (type.kind) {
    case 'list':
    case 'set':
    case 'map':
      return `${type.kind}(${describeType(type.element)})`;
    case 'object':
      return `object({${Object.entries(type.attributes)
        .map(([k, v]) => `${k}=${describeType(v)}`)
        .join(', ')})`;
    case 'tuple':
      return `tuple([${type.elements.map(describeType).join(', ')}])`;
    default:
      return type.kind;
  }
}
