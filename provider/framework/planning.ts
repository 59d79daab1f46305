/**
 * Planning by terraform's rules (terraform docs/resource-instance-change-lifecycle.md):
 *
 *  1. Start from terraform's proposed new state (config values, prior values for computed
 *     attributes the configuration leaves unset).
 *  2. Attributes with a default that the configuration leaves null get the default.
 *  3. Write-only attributes are null.
 *  4. When the object is created or anything changed, computed attributes the configuration
 *     leaves unset become unknown ("known after apply"), except `useStateForUnknown` ones on
 *     update, which keep their prior value. When nothing changed the plan equals the prior
 *     state, so terraform reports no changes.
 *  5. `requiresReplace` attributes (and blocks) whose value changed are reported for replacement.
 *
 * After the resource's `modifyPlan`, `checkPlanAgainstConfig` verifies what terraform will
 * verify, so a mistake is reported with its path instead of "Provider produced invalid plan".
 */
import { AttributePath, formatPath } from '../protocol/attribute-path';
import { Diagnostic } from '../protocol/diagnostics';
import { BlockSchema, blockValueType, Nesting, nestedBlockValueType } from '../protocol/schema';
import { valuesEqual, valuesIdentical } from '../protocol/value-equality';
import { BlockValue, clearWriteOnly, cloneValue, pairWithConfig } from './schema-walk';

export interface PlanResult {
  planned: BlockValue;
  requiresReplace: AttributePath[];
}

export function planChange(block: BlockSchema, prior: BlockValue | null, proposed: BlockValue, config: BlockValue): PlanResult {
  const planned = cloneValue(proposed);
  applyDefaults(block, planned, config, []);
  clearWriteOnly(block, planned);
  const creating = prior === null;
  if (creating || !valuesEqual(blockValueType(block), planned, prior)) {
    markComputedUnknown(block, planned, config, creating, []);
  }
  return { planned, requiresReplace: creating ? [] : replacePaths(block, prior, planned, []) };
}

/** Whether the configuration sets the attribute; `undefined` config means "cannot tell", then a non-null plan counts as set. */
function isConfigured(config: BlockValue | null | undefined, planned: BlockValue, name: string): boolean {
  if (config === undefined) return planned[name] !== null;
  return config !== null && config[name] !== null;
}

function applyDefaults(block: BlockSchema, planned: BlockValue, config: BlockValue | null | undefined, path: AttributePath): void {
  for (const [name, attribute] of Object.entries(block.attributes)) {
    if (attribute.default !== undefined && !isConfigured(config, planned, name)) planned[name] = cloneValue(attribute.default);
  }
  for (const [name, nested] of Object.entries(block.blocks)) {
    for (const pair of pairWithConfig(nested, name, planned[name], config === null ? null : config?.[name], path)) {
      applyDefaults(nested.block, pair.planned, pair.config, pair.path);
    }
  }
}

function markComputedUnknown(block: BlockSchema, planned: BlockValue, config: BlockValue | null | undefined, creating: boolean, path: AttributePath): void {
  for (const [name, attribute] of Object.entries(block.attributes)) {
    if (!attribute.computed || attribute.default !== undefined || isConfigured(config, planned, name)) continue;
    const keepPrior = attribute.useStateForUnknown && !creating && planned[name] !== null && planned[name] !== undefined;
    if (!keepPrior) planned[name] = undefined;
  }
  for (const [name, nested] of Object.entries(block.blocks)) {
    for (const pair of pairWithConfig(nested, name, planned[name], config === null ? null : config?.[name], path)) {
      markComputedUnknown(nested.block, pair.planned, pair.config, creating, pair.path);
    }
  }
}

function replacePaths(block: BlockSchema, prior: BlockValue, planned: BlockValue, path: AttributePath): AttributePath[] {
  const paths: AttributePath[] = [];
  for (const [name, attribute] of Object.entries(block.attributes)) {
    if (attribute.requiresReplace && !valuesEqual(attribute.type, prior[name], planned[name])) paths.push([...path, name]);
  }
  for (const [name, nested] of Object.entries(block.blocks)) {
    const type = nestedBlockValueType(nested);
    if (valuesEqual(type, prior[name], planned[name])) continue;
    if (nested.requiresReplace) {
      paths.push([...path, name]);
      continue;
    }
    if (!hasRequiresReplace(nested.block)) continue;
    const before = prior[name];
    const after = planned[name];
    if (nested.nesting === 'list' && Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
      after.forEach((element, i) => {
        if (element && before[i]) paths.push(...replacePaths(nested.block, before[i] as BlockValue, element as BlockValue, [...path, name, i]));
      });
    } else if ((nested.nesting === 'single' || nested.nesting === 'group') && before && after) {
      paths.push(...replacePaths(nested.block, before as BlockValue, after as BlockValue, [...path, name]));
    } else {
      // elements added or removed, or a set/map changed: the block as a whole forces replacement
      paths.push([...path, name]);
    }
  }
  return paths;
}

function hasRequiresReplace(block: BlockSchema): boolean {
  return Object.values(block.attributes).some((a) => a.requiresReplace) || Object.values(block.blocks).some((b) => b.requiresReplace || hasRequiresReplace(b.block));
}

/**
 * The rules terraform enforces on a plan: configured attributes are planned exactly as
 * configured (unknown stays unknown), non-computed attributes the configuration leaves
 * unset stay null, write-only attributes are null.
 */
export function checkPlanAgainstConfig(block: BlockSchema, config: BlockValue, planned: BlockValue, typeName: string, path: AttributePath = []): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const bug = (where: AttributePath, what: string) =>
    problems.push({
      severity: 'error',
      summary: `${typeName}: the provider planned an invalid value for ${formatPath(where)}`,
      detail: `${what}\n\nThis is a bug in the Orbit provider (its plan customisation); please report it.`,
      path: where,
    });
  for (const [name, attribute] of Object.entries(block.attributes)) {
    const where = [...path, name];
    if (attribute.writeOnly) {
      if (planned[name] !== null) bug(where, 'A write-only attribute must be planned as null.');
      continue;
    }
    const configured = config[name] !== null;
    const mustEqualConfig = configured || !attribute.computed;
    if (mustEqualConfig && !valuesIdentical(attribute.type, config[name], planned[name])) {
      bug(where, configured ? 'A configured value must be planned exactly as configured.' : 'An attribute that is not computed must stay null when not configured.');
    }
  }
  for (const [name, nested] of Object.entries(block.blocks)) {
    const pairs = pairWithConfig(nested, name, planned[name], config[name], path);
    const configCount = countElements(nested.nesting, config[name]);
    if (configCount !== undefined && configCount !== countElements(nested.nesting, planned[name])) {
      bug([...path, name], `The configuration has ${configCount} "${name}" blocks; the plan must have as many.`);
      continue;
    }
    for (const pair of pairs) {
      if (pair.config) problems.push(...checkPlanAgainstConfig(nested.block, pair.config, pair.planned, typeName, pair.path));
    }
  }
  return problems;
}

function countElements(nesting: Nesting, collection: unknown): number | undefined {
  if (collection === undefined) return undefined;
  if (collection === null) return 0;
  if (nesting === 'single' || nesting === 'group') return 1;
  return Array.isArray(collection) ? collection.length : Object.keys(collection as object).length;
}
