/**
 * Policy: the two halves of a HighlyAvailableVm never share the failure domain its placement
 * keeps them apart in: never one host, and never one site under Placement.separateSites().
 */
import { Annotations } from 'cdktf';
import { IConstruct } from 'constructs';
import { describeProblem } from '../errors';
import { HighlyAvailableVm } from '../highly-available-vm';
import { FailureDomain } from '../placement';
import { OrbitPolicy } from './orbit-policy';

export class PairSeparationPolicy implements OrbitPolicy {
  public readonly name = 'pair-separation';

  public visit(node: IConstruct): void {
    if (!(node instanceof HighlyAvailableVm)) return;
    const { primaryHost: primary, secondaryHost: secondary } = node;
    const others = (keep: (host: typeof primary) => boolean) =>
      primary.topology.hosts
        .filter((h) => !h.isWitness && keep(h))
        .map((h) => `"${h.hostName}"`)
        .join(', ') || 'none declared';
    if (primary === secondary) {
      Annotations.of(node).addError(
        describeProblem({
          what: `Primary and secondary of "${node.vmName}" are both on host "${primary.hostName}": losing that host loses both halves of the pair`,
          prop: 'secondaryHost',
          value: secondary.hostName,
          allowed: `a host other than "${primary.hostName}": ${others((h) => h !== primary)}`,
          fix: 'set secondaryHost (or primaryHost) to another host, or leave them unset for automatic placement',
        }),
      );
    } else if (node.placement.separation === FailureDomain.SITE && primary.site === secondary.site) {
      Annotations.of(node).addError(
        describeProblem({
          what: `Placement.separateSites() but primary "${primary.hostName}" and secondary "${secondary.hostName}" of "${node.vmName}" are both in site "${primary.site.siteName}"`,
          prop: 'secondaryHost',
          value: secondary.hostName,
          allowed: `a host outside site "${primary.site.siteName}": ${others((h) => h.site !== primary.site)}`,
          fix: 'pick hosts in two sites (or leave them unset for automatic placement), or use Placement.separateHosts() if one site is enough',
        }),
      );
    }
  }
}
