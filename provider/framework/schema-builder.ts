/**
 * Builders for schemas:
 *
 *   schema({ version: 1, description: 'A VM.', attributes: {
 *     id:   computed(t.string, { useStateForUnknown: true }),
 *     name: required(t.string, { requiresReplace: true, validators: [matches(/^[a-z][a-z0-9-]*$/, 'a DNS label')] }),
 *     mode: optional(t.string, { default: 'safe', validators: [oneOf(['safe', 'fast'])] }),
 *   }, blocks: { disk: nested.list(block({ attributes: { size_gib: required(t.number) } })) } })
 *
 * Definition mistakes (bad names, impossible flag combinations, a default of the wrong type)
 * throw when the module loads, so they surface in the first unit test.
 */
import { CtyType, ValueOf } from '../protocol/cty-type';
import { encodeMsgpack } from '../protocol/msgpack-codec';
import { AttributeSchema, AttributeValidator, BlockSchema, Nesting, NestedBlockSchema, Schema } from '../protocol/schema';

interface Documented {
  description?: string;
  /** Markdown takes precedence over `description` in terraform's schema (docs, cdktf comments). */
  markdownDescription?: string;
  /** Marks the attribute deprecated; the text says what to use instead and is shown as a warning. */
  deprecated?: string;
}

interface ValueOptions<V> extends Documented {
  sensitive?: boolean;
  validators?: AttributeValidator<V>[];
  /** A change destroys and re-creates the object. */
  requiresReplace?: boolean;
}

export interface RequiredOptions<V> extends ValueOptions<V> {
  writeOnly?: boolean;
}

export interface OptionalOptions<V> extends ValueOptions<V> {
  writeOnly?: boolean;
  /** Planned when the configuration leaves the attribute unset (makes it optional+computed). */
  default?: V;
}

export interface ComputedOptions extends Documented {
  sensitive?: boolean;
  /** Keep the prior value on update instead of "known after apply" (values that never change, like ids). */
  useStateForUnknown?: boolean;
  requiresReplace?: boolean;
}

export interface OptionalComputedOptions<V> extends ValueOptions<V> {
  useStateForUnknown?: boolean;
  default?: V;
}

/** Must be set in configuration. */
export function required<T extends CtyType>(type: T, options: RequiredOptions<NoInfer<ValueOf<T>>> = {}): AttributeSchema<T, true> {
  return attribute(type, { required: true, optional: false, computed: false }, options as LooseOptions);
}

/** May be set in configuration; null when not (or `default`, which makes it optional+computed). */
export function optional<T extends CtyType>(type: T, options: OptionalOptions<NoInfer<ValueOf<T>>> = {}): AttributeSchema<T, false> {
  const loose = options as LooseOptions;
  return attribute(type, { required: false, optional: true, computed: loose.default !== undefined }, loose);
}

/** Set by the provider only. */
export function computed<T extends CtyType>(type: T, options: ComputedOptions = {}): AttributeSchema<T, false> {
  return attribute(type, { required: false, optional: false, computed: true }, options as LooseOptions);
}

/** Set in configuration, or by the provider when the configuration leaves it unset. */
export function optionalComputed<T extends CtyType>(type: T, options: OptionalComputedOptions<NoInfer<ValueOf<T>>> = {}): AttributeSchema<T, false> {
  return attribute(type, { required: false, optional: true, computed: true }, options as LooseOptions);
}

interface LooseOptions extends Documented {
  sensitive?: boolean;
  writeOnly?: boolean;
  default?: unknown;
  requiresReplace?: boolean;
  useStateForUnknown?: boolean;
  validators?: AttributeValidator<any>[];
}

function attribute<T extends CtyType, R extends boolean>(type: T, flags: { required: R; optional: boolean; computed: boolean }, options: LooseOptions): AttributeSchema<T, R> {
  if (options.writeOnly && flags.computed) throw new Error('a write-only attribute cannot be computed or have a default');
  if (options.default !== undefined) {
    try {
      encodeMsgpack(type, options.default);
    } catch (error) {
      throw new Error(`the default ${JSON.stringify(options.default)} does not fit the attribute's type: ${(error as Error).message}`);
    }
  }
  return {
    type,
    ...flags,
    sensitive: options.sensitive ?? false,
    writeOnly: options.writeOnly ?? false,
    description: options.description,
    markdownDescription: options.markdownDescription,
    deprecationMessage: options.deprecated,
    default: options.default,
    requiresReplace: options.requiresReplace ?? false,
    useStateForUnknown: options.useStateForUnknown ?? false,
    validators: options.validators ?? [],
  };
}

const NAME = /^[a-z_][a-z0-9_]*$/;

export interface BlockOptions<A, B> extends Documented {
  attributes?: A;
  blocks?: B;
}

export function block<const A extends Record<string, AttributeSchema<any, any>> = {}, const B extends Record<string, NestedBlockSchema<any, any>> = {}>(
  options: BlockOptions<A, B>,
): BlockSchema<A, B> {
  const attributes = (options.attributes ?? {}) as A;
  const blocks = (options.blocks ?? {}) as B;
  for (const name of [...Object.keys(attributes), ...Object.keys(blocks)]) {
    if (!NAME.test(name)) throw new Error(`"${name}" is not a valid terraform attribute name (allowed: lower_snake_case)`);
    if (name in attributes && name in blocks) throw new Error(`"${name}" is declared both as an attribute and as a block`);
  }
  return {
    attributes,
    blocks,
    description: options.description,
    markdownDescription: options.markdownDescription,
    deprecationMessage: options.deprecated,
  };
}

export interface NestedOptions {
  minItems?: number;
  maxItems?: number;
  /** Any change inside the block destroys and re-creates the object. */
  requiresReplace?: boolean;
}

function nestedBlock<N extends Nesting>(nesting: N) {
  return <K extends BlockSchema>(inner: K, options: NestedOptions = {}): NestedBlockSchema<N, K> => ({
    nesting,
    block: inner,
    minItems: options.minItems,
    maxItems: options.maxItems,
    requiresReplace: options.requiresReplace ?? false,
  });
}

/** Nested blocks: `rule { ... }` repeated (list, set), keyed (map), at most once (single) or always there (group). */
export const nested = {
  list: nestedBlock('list'),
  set: nestedBlock('set'),
  map: nestedBlock('map'),
  single: nestedBlock('single'),
  group: nestedBlock('group'),
};

export function schema<const A extends Record<string, AttributeSchema<any, any>> = {}, const B extends Record<string, NestedBlockSchema<any, any>> = {}>(
  options: BlockOptions<A, B> & { version?: number },
): Schema<BlockSchema<A, B>> {
  return { version: options.version ?? 0, block: block(options) };
}
