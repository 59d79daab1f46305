/**
 * The TypeScript model of a resource, derived from its schema.
 *
 * Models use terraform's snake_case names as keys, so the code, the configuration, the state
 * and the attribute paths in error messages all read the same. A required attribute is `T`;
 * every other attribute is `T | null`. List and set blocks are arrays, map blocks records,
 * single blocks `object | null`, group blocks objects.
 *
 * Where values may not be known yet (validation, planning, the planned values handed to
 * create/update), unknown is `undefined`: `MaybeUnknown<M>`. Setting an attribute of a plan
 * to `undefined` plans it as "known after apply".
 */
import { CtyType, ValueOf } from '../protocol/cty-type';
import { DynamicValue } from '../protocol/dynamic-value';
import { AttributeSchema, BlockSchema, NestedBlockSchema } from '../protocol/schema';

type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type AttributeValue<A> = A extends AttributeSchema<infer T extends CtyType, infer Required> ? (Required extends true ? ValueOf<T> : ValueOf<T> | null) : never;

export type NestedBlockValue<B> =
  B extends NestedBlockSchema<infer N, infer K extends BlockSchema>
    ? N extends 'list' | 'set'
      ? ModelOf<K>[]
      : N extends 'map'
        ? Record<string, ModelOf<K>>
        : N extends 'single'
          ? ModelOf<K> | null
          : ModelOf<K>
    : never;

export type ModelOf<K extends BlockSchema> = Simplify<
  { -readonly [N in keyof K['attributes']]: AttributeValue<K['attributes'][N]> } & {
    -readonly [N in keyof K['blocks']]: NestedBlockValue<K['blocks'][N]>;
  }
>;

/** A value that may be unknown (`undefined`), at any depth. */
export type MaybeUnknown<T> = T extends DynamicValue
  ? T | undefined
  : T extends (infer E)[]
    ? MaybeUnknown<E>[] | undefined
    : T extends object
      ? { [K in keyof T]: MaybeUnknown<T[K]> } | undefined
      : T | undefined;

/** A model whose attributes may be unknown (the object itself is always there). */
export type Unknowable<M> = { [K in keyof M]: MaybeUnknown<M[K]> };

/**
 * The planned model with the values decided at apply filled in, typed as the full model:
 * `return resolvePlanned(planned, { id, active_host })` in create/update. Whatever is still
 * unknown is reported by the framework after apply.
 */
export function resolvePlanned<M>(planned: Unknowable<M>, decided: Partial<M>): M {
  return { ...planned, ...decided } as M;
}
