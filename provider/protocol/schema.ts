/**
 * The schema model: what a provider configuration, a resource or a data source accepts.
 *
 * Besides the facts terraform needs (types, required/optional/computed, sensitive, write-only,
 * descriptions, deprecation), an attribute carries how Orbit plans it (default, requires
 * replace, keep the prior value when unknown) and how its values are validated. Types are
 * generic so that the TypeScript model of a resource can be derived from its schema
 * (see framework/model.ts).
 */
import { AttributePath } from './attribute-path';
import { CtyType, ListType, MapType, ObjectType, SetType } from './cty-type';

/**
 * Checks one known, non-null value; throws (preferably an OrbitError) when it is invalid.
 * `path` is where the value is, for the error message.
 */
export type AttributeValidator<V = unknown> = (value: V, path: AttributePath) => void;

export interface AttributeSchema<T extends CtyType = CtyType, Required extends boolean = boolean> {
  readonly type: T;
  readonly required: Required;
  readonly optional: boolean;
  /** Set by the provider (alone, or when the configuration leaves it null if also optional). */
  readonly computed: boolean;
  /** Hidden in terraform's output. Still stored in state: use writeOnly for secrets that must not be. */
  readonly sensitive: boolean;
  /** Accepted in configuration, never stored in plan or state (terraform >= 1.11). */
  readonly writeOnly: boolean;
  readonly description?: string;
  readonly markdownDescription?: string;
  /** When set, the attribute is deprecated and this says what to use instead. */
  readonly deprecationMessage?: string;
  /** Planned when the configuration leaves the attribute null (the attribute is then optional+computed). */
  readonly default?: unknown;
  /** A change of this attribute destroys and re-creates the object. */
  readonly requiresReplace: boolean;
  /** On update, keep the prior value instead of planning "known after apply". */
  readonly useStateForUnknown: boolean;
  readonly validators: readonly AttributeValidator<any>[];
}

export type Nesting = 'single' | 'list' | 'set' | 'map' | 'group';

export interface BlockSchema<
  A extends Readonly<Record<string, AttributeSchema>> = Readonly<Record<string, AttributeSchema>>,
  B extends Readonly<Record<string, NestedBlockSchema>> = Readonly<Record<string, NestedBlockSchema>>,
> {
  readonly attributes: A;
  readonly blocks: B;
  readonly description?: string;
  readonly markdownDescription?: string;
  readonly deprecationMessage?: string;
}

export interface NestedBlockSchema<N extends Nesting = Nesting, K extends BlockSchema = BlockSchema<any, any>> {
  readonly nesting: N;
  readonly block: K;
  readonly minItems?: number;
  readonly maxItems?: number;
  /** Any change inside this block destroys and re-creates the object. */
  readonly requiresReplace: boolean;
}

export interface Schema<K extends BlockSchema = BlockSchema<any, any>> {
  /** Bump when the stored state layout changes; the resource then upgrades older state. */
  readonly version: number;
  readonly block: K;
}

const blockTypes = new WeakMap<BlockSchema, ObjectType>();

/** The object type of a block's value: its attributes plus one attribute per nested block. */
export function blockValueType(block: BlockSchema): ObjectType {
  let type = blockTypes.get(block);
  if (!type) {
    const attributes: Record<string, CtyType> = {};
    for (const [name, attribute] of Object.entries(block.attributes)) attributes[name] = attribute.type;
    for (const [name, nested] of Object.entries(block.blocks)) attributes[name] = nestedBlockValueType(nested);
    type = { kind: 'object', attributes };
    blockTypes.set(block, type);
  }
  return type;
}

export function nestedBlockValueType(nested: NestedBlockSchema): CtyType {
  const element = blockValueType(nested.block);
  switch (nested.nesting) {
    case 'single':
    case 'group':
      return element;
    case 'list':
      return { kind: 'list', element } satisfies ListType;
    case 'set':
      return { kind: 'set', element } satisfies SetType;
    case 'map':
      return { kind: 'map', element } satisfies MapType;
  }
}

/**
 * Fills in what terraform expects of every block value: each attribute present (null when
 * unset), list and set blocks as arrays, map blocks as objects, group blocks as objects.
 */
export function completeBlockValue(block: BlockSchema, value: unknown): Record<string, unknown> {
  const source = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(block.attributes)) out[name] = name in source ? source[name] : null;
  for (const [name, nested] of Object.entries(block.blocks)) {
    const v = source[name];
    if (v === undefined && name in source) {
      out[name] = undefined;
      continue;
    }
    switch (nested.nesting) {
      case 'list':
      case 'set':
        out[name] = ((v as unknown[] | null | undefined) ?? []).map((e) => (e === undefined ? e : completeBlockValue(nested.block, e)));
        break;
      case 'map':
        out[name] = Object.fromEntries(Object.entries((v as Record<string, unknown> | null | undefined) ?? {}).map(([k, e]) => [k, e === undefined ? e : completeBlockValue(nested.block, e)]));
        break;
      case 'single':
        out[name] = v === null || v === undefined ? null : completeBlockValue(nested.block, v);
        break;
      case 'group':
        out[name] = completeBlockValue(nested.block, v);
        break;
    }
  }
  return out;
}

/** Finds the attribute a path leads to (through nested blocks), if any. */
export function attributeAt(block: BlockSchema, path: AttributePath): AttributeSchema | undefined {
  let current: BlockSchema = block;
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    if (typeof step !== 'string') continue;
    const attribute = current.attributes[step];
    if (attribute) return attribute;
    const nested = current.blocks[step];
    if (!nested) return undefined;
    current = nested.block;
  }
  return undefined;
}
