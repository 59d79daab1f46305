/**
 * Checks the state a resource returned from create/update against the plan terraform
 * approved. Terraform rejects a mismatch with "Provider produced inconsistent result after
 * apply", which tells the user nothing; this names the attribute and both values instead.
 */
import { AttributePath, formatPath } from '../protocol/attribute-path';
import { Diagnostic } from '../protocol/diagnostics';
import { AttributeSchema, BlockSchema, NestedBlockSchema, nestedBlockValueType } from '../protocol/schema';
import { conformsToPlan } from '../protocol/value-equality';
import { BlockValue, firstUnknownPath } from './schema-walk';

export function checkNewState(block: BlockSchema, planned: BlockValue, actual: BlockValue, operation: string): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const unknownAt = firstUnknownPath(actual);
  if (unknownAt) {
    problems.push({
      severity: 'error',
      summary: `${operation} left ${formatPath(unknownAt)} without a value`,
      detail: 'Every attribute must be known after apply. This is a bug in the Orbit provider; please report it.',
      path: unknownAt,
    });
  }
  for (const [name, attribute] of Object.entries(block.attributes)) {
    if (!conformsToPlan(attribute.type, planned[name], actual[name])) problems.push(mismatch(operation, [name], planned[name], actual[name], attribute));
  }
  for (const [name, nested] of Object.entries(block.blocks)) {
    if (!conformsToPlan(nestedBlockValueType(nested), planned[name], actual[name])) {
      problems.push(mismatch(operation, [name], redactBlocks(nested, planned[name]), redactBlocks(nested, actual[name])));
    }
  }
  return problems;
}

/** A nested block's value with its sensitive attributes (at any depth) shown as "(sensitive value)". */
function redactBlocks(nested: NestedBlockSchema, value: unknown): unknown {
  const redactOne = (item: unknown): unknown => {
    if (typeof item !== 'object' || item === null) return item;
    const out: Record<string, unknown> = { ...(item as Record<string, unknown>) };
    const block: BlockSchema = nested.block;
    for (const [name, attribute] of Object.entries(block.attributes)) if (attribute.sensitive && out[name] !== undefined && out[name] !== null) out[name] = '(sensitive value)';
    for (const [name, inner] of Object.entries(block.blocks)) out[name] = redactBlocks(inner, out[name]);
    return out;
  };
  if (Array.isArray(value)) return value.map(redactOne);
  if (nested.nesting === 'map' && typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactOne(v)]));
  return redactOne(value);
}

function mismatch(operation: string, path: AttributePath, planned: unknown, actual: unknown, attribute?: AttributeSchema): Diagnostic {
  const show = (v: unknown) => (attribute?.sensitive ? '(sensitive value)' : (JSON.stringify(v) ?? 'unknown'));
  return {
    severity: 'error',
    summary: `${operation} produced a different ${formatPath(path)} than planned`,
    detail:
      `Planned: ${show(planned)}\nResult:  ${show(actual)}\n\n` +
      'Terraform would reject this as an inconsistent result. The object was changed as far as shown in the state; ' +
      'run terraform plan to see where it stands. This is a bug in the Orbit provider; please report it.',
    path,
  };
}
