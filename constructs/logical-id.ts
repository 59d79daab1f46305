/**
 * Stable, readable logical IDs. Construct IDs are API: an L1 resource created by an Orbit
 * construct gets the terraform address `<type>.<construct path below the stack>`, with path
 * parts joined by "_" and "Resource"/"Default" parts left out. So `new HighlyAvailableVm(stack,
 * 'web', ...)` is `orbit_ft_vm.web`, whatever else the stack holds and in whatever order.
 * Renaming or moving the construct renames the address, which terraform plans as a replacement.
 */
import { TerraformElement, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';

const HIDDEN = new Set(['Resource', 'Default']);

/** The logical ID for a construct at `scope`'s path. */
export function stableLogicalId(scope: IConstruct): string {
  const stack = TerraformStack.of(scope);
  const scopes = scope.node.scopes;
  const parts = scopes
    .slice(scopes.indexOf(stack) + 1)
    .map((c) => c.node.id)
    .filter((id) => !HIDDEN.has(id));
  const id = parts.map((p) => p.replace(/[^A-Za-z0-9_-]/g, '_')).join('_');
  return /^[A-Za-z_]/.test(id) ? id : `_${id}`;
}

/** Gives `element` its stable logical ID. */
export function useStableLogicalId(element: TerraformElement): string {
  const id = stableLogicalId(element);
  element.overrideLogicalId(id);
  return id;
}
