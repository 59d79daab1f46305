/** Walking a block's value attribute by attribute, through nested blocks, with attribute paths. */
import { AttributePath } from '../protocol/attribute-path';
import { DynamicValue } from '../protocol/dynamic-value';
import { AttributeSchema, BlockSchema, NestedBlockSchema } from '../protocol/schema';
import { valuesEqual } from '../protocol/value-equality';

export type BlockValue = Record<string, unknown>;

export interface AttributeVisit {
  readonly name: string;
  readonly attribute: AttributeSchema;
  readonly value: unknown;
  readonly path: AttributePath;
  /** The object holding the attribute, to replace its value. */
  readonly container: BlockValue;
}

/** Calls `visit` for every attribute of `value`, then for those of every known nested block element. */
export function visitAttributes(block: BlockSchema, value: BlockValue, visit: (v: AttributeVisit) => void, path: AttributePath = []): void {
  for (const [name, attribute] of Object.entries(block.attributes)) {
    visit({ name, attribute, value: value[name], path: [...path, name], container: value });
  }
  for (const [name, nested] of Object.entries(block.blocks)) {
    for (const element of nestedElements(nested, name, value[name], path)) {
      visitAttributes(nested.block, element.value, visit, element.path);
    }
  }
}

export interface NestedElement {
  readonly value: BlockValue;
  /** Set elements have no address, so their path stops at the block. */
  readonly path: AttributePath;
}

export function nestedElements(nested: NestedBlockSchema, name: string, collection: unknown, path: AttributePath): NestedElement[] {
  if (collection === null || collection === undefined) return [];
  const known = (e: unknown): e is BlockValue => e !== null && e !== undefined;
  switch (nested.nesting) {
    case 'list':
      return (collection as unknown[]).flatMap((e, i) => (known(e) ? [{ value: e, path: [...path, name, i] }] : []));
    case 'set':
      return (collection as unknown[]).filter(known).map((e) => ({ value: e, path: [...path, name] }));
    case 'map':
      return Object.entries(collection as Record<string, unknown>).flatMap(([key, e]) => (known(e) ? [{ value: e, path: [...path, name, { key }] }] : []));
    case 'single':
    case 'group':
      return [{ value: collection as BlockValue, path: [...path, name] }];
  }
}

/**
 * Pairs each element of a planned nested block with its element in the configuration:
 * lists by index, maps by key, sets by equal non-computed attributes. `config` is
 * `undefined` when no partner can be told (unknown configuration).
 */
export function pairWithConfig(
  nested: NestedBlockSchema,
  name: string,
  planned: unknown,
  config: unknown,
  path: AttributePath,
): Array<{ planned: BlockValue; config: BlockValue | null | undefined; path: AttributePath }> {
  const elements = nestedElements(nested, name, planned, path);
  if (config === undefined) return elements.map((e) => ({ planned: e.value, config: undefined, path: e.path }));
  switch (nested.nesting) {
    case 'list':
      return elements.map((e) => {
        const index = e.path[e.path.length - 1] as number;
        return { planned: e.value, config: elementOrNull((config as unknown[] | null)?.[index]), path: e.path };
      });
    case 'map':
      return elements.map((e) => {
        const key = (e.path[e.path.length - 1] as { key: string }).key;
        return { planned: e.value, config: elementOrNull((config as Record<string, unknown> | null)?.[key]), path: e.path };
      });
    case 'single':
    case 'group':
      return elements.map((e) => ({ planned: e.value, config: elementOrNull(config), path: e.path }));
    case 'set': {
      const candidates = [...((config as unknown[] | null) ?? [])];
      return elements.map((e) => {
        const index = candidates.findIndex((c) => c !== undefined && c !== null && sameConfiguredAttributes(nested.block, e.value, c as BlockValue));
        const partner = index >= 0 ? (candidates.splice(index, 1)[0] as BlockValue) : undefined;
        return { planned: e.value, config: partner, path: e.path };
      });
    }
  }
}

function elementOrNull(value: unknown): BlockValue | null | undefined {
  return value === undefined ? undefined : (value as BlockValue | null);
}

function sameConfiguredAttributes(block: BlockSchema, planned: BlockValue, config: BlockValue): boolean {
  return Object.entries(block.attributes).every(([name, attribute]) => attribute.computed || valuesEqual(attribute.type, planned[name], config[name]));
}

/** A deep copy that keeps DynamicValue instances (structuredClone would drop their class). */
export function cloneValue<T>(value: T): T {
  if (value === null || value === undefined || typeof value !== 'object') return value;
  if (value instanceof DynamicValue) return new DynamicValue(value.type, cloneValue(value.value)) as T;
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneValue(v)])) as T;
}

/** The path of the first unknown value inside `value`, or undefined when it is wholly known. */
export function firstUnknownPath(value: unknown, path: AttributePath = []): AttributePath | undefined {
  if (value === undefined) return path;
  if (value === null || typeof value !== 'object') return undefined;
  if (value instanceof DynamicValue) return firstUnknownPath(value.value, path);
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [step, inner] of entries) {
    const found = firstUnknownPath(inner, [...path, step]);
    if (found) return found;
  }
  return undefined;
}

/** Replaces unknown values by null (what is left of a state when an operation failed half-way). */
export function unknownsToNull(value: unknown): unknown {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof DynamicValue) return new DynamicValue(value.type, unknownsToNull(value.value));
  if (Array.isArray(value)) return value.map(unknownsToNull);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unknownsToNull(v)]));
}

/** Write-only attributes are never in plan or state. */
export function clearWriteOnly(block: BlockSchema, value: BlockValue): void {
  visitAttributes(block, value, ({ attribute, name, container }) => {
    if (attribute.writeOnly) container[name] = null;
  });
}
