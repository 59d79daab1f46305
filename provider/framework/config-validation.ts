/**
 * Validation the framework does for every configuration before the resource's own
 * `validate`: attribute validators on known values, deprecation warnings, and no nulls inside
 * collections (the models type elements as non-null).
 */
import { AttributePath, formatPath } from '../protocol/attribute-path';
import { CtyType } from '../protocol/cty-type';
import { Diagnostics } from '../protocol/diagnostics';
import { BlockSchema } from '../protocol/schema';
import { isWhollyKnown } from '../protocol/value-equality';
import { errorToDiagnostic } from './errors';
import { BlockValue, visitAttributes } from './schema-walk';

export function validateConfigValues(block: BlockSchema, config: BlockValue, diagnostics: Diagnostics): void {
  visitAttributes(block, config, ({ attribute, value, path }) => {
    if (value === null || value === undefined) return;
    if (attribute.deprecationMessage !== undefined) {
      diagnostics.warning(`${formatPath(path)} is deprecated`, attribute.deprecationMessage, path);
    }
    const nullAt = findNullElement(attribute.type, value, path);
    if (nullAt) {
      diagnostics.error(`null is not allowed inside ${formatPath(path)}`, 'Remove the null element, or give it a value.', nullAt);
      return;
    }
    if (!isWhollyKnown(value)) return;
    for (const validator of attribute.validators) {
      try {
        validator(value, path);
      } catch (error) {
        diagnostics.add(errorToDiagnostic(error, { block }));
      }
    }
  });
}

function findNullElement(type: CtyType, value: unknown, path: AttributePath): AttributePath | undefined {
  if (value === null || value === undefined) return undefined;
  switch (type.kind) {
    case 'list':
    case 'set':
      for (const [i, element] of (value as unknown[]).entries()) {
        const step = type.kind === 'list' ? [...path, i] : path;
        if (element === null) return step;
        const inner = findNullElement(type.element, element, step);
        if (inner) return inner;
      }
      return undefined;
    case 'map':
      for (const [key, element] of Object.entries(value as Record<string, unknown>)) {
        if (element === null) return [...path, { key }];
        const inner = findNullElement(type.element, element, [...path, { key }]);
        if (inner) return inner;
      }
      return undefined;
    case 'object':
      for (const [name, attributeType] of Object.entries(type.attributes)) {
        const inner = findNullElement(attributeType, (value as Record<string, unknown>)[name], [...path, name]);
        if (inner) return inner;
      }
      return undefined;
    default:
      return undefined;
  }
}
