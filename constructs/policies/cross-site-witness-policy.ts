/**
 * Policy: automatic failover between two sites needs a witness. Two sites alone cannot tell a
 * dead site from a cut link, and guessing wrong runs the guest twice (split brain). A pair whose
 * halves are in different sites fails synth unless the topology has a witness site with a host,
 * or the pair opts into manual cross-site failover.
 */
import { Annotations } from 'cdktf';
import { IConstruct } from 'constructs';
import { CrossSiteFailover } from '../cross-site-failover';
import { describeProblem } from '../errors';
import { HighlyAvailableVm } from '../highly-available-vm';
import { OrbitPolicy } from './orbit-policy';

export class CrossSiteWitnessPolicy implements OrbitPolicy {
  public readonly name = 'cross-site-witness';

  public visit(node: IConstruct): void {
    if (!(node instanceof HighlyAvailableVm)) return;
    if (!node.crossesSites || node.crossSiteFailover !== CrossSiteFailover.AUTOMATIC) return;
    if (node.primaryHost.topology.witnessSites.length > 0) return;
    Annotations.of(node).addError(
      describeProblem({
        what:
          `"${node.vmName}" fails over automatically between sites "${node.primaryHost.site.siteName}" and "${node.secondaryHost.site.siteName}", ` +
          'but the topology has no witness: with two sites alone, a cut link looks like a dead site and both halves would run the guest',
        prop: 'crossSiteFailover',
        value: node.crossSiteFailover,
        allowed: 'CrossSiteFailover.AUTOMATIC with a witness site that has a host, or CrossSiteFailover.MANUAL',
        fix:
          'declare a witness in a third location (`topology.addSite("witness", { witness: true }).addHost(...)`), ' +
          'or set crossSiteFailover: CrossSiteFailover.MANUAL, or keep both halves in one site',
      }),
    );
  }
}
