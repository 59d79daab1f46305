/**
 * Policy: a pair that fails over automatically needs the failover monitor. Without the
 * topology's `monitor` and `etcd` nothing would watch it, and the promised recovery time would
 * be fiction; with an etcd that takes client certificates, every host that gets an agent (the
 * pair's two and its spares) needs one of its own.
 */
import { Annotations } from 'cdktf';
import { IConstruct } from 'constructs';
import { describeProblem } from '../errors';
import { HighlyAvailableVm } from '../highly-available-vm';
import { OrbitPolicy } from './orbit-policy';

export class FailoverMonitorPolicy implements OrbitPolicy {
  public readonly name = 'failover-monitor';

  public visit(node: IConstruct): void {
    if (!(node instanceof HighlyAvailableVm) || !node.failsOverAutomatically) return;
    const topology = node.primaryHost.topology;
    const missing = [!topology.etcd && 'etcd', !topology.monitor && 'monitor'].filter(Boolean);
    if (missing.length > 0) {
      Annotations.of(node).addError(
        describeProblem({
          what: `"${node.vmName}" fails over automatically, but the topology has no ${missing.join(' and no ')}: nothing would watch the pair`,
          prop: 'topology',
          value: `${missing.join(', ')} missing`,
          allowed: 'a Topology with etcd and monitor, or a pair that fails over manually',
          fix: `give the Topology ${missing.map((m) => `\`${m}: {...}\``).join(' and ')} (see FailoverMonitorProps), or set crossSiteFailover: CrossSiteFailover.MANUAL on a cross-site pair`,
        }),
      );
      return;
    }
    if (!topology.etcd?.certPath) return;
    for (const host of [node.primaryHost, node.secondaryHost, ...node.spareHosts]) {
      if (host.hasAgentCertificate) continue;
      Annotations.of(node).addError(
        describeProblem({
          what: `Host "${host.hostName}" gets a failover monitor agent for "${node.vmName}", but has no etcd client certificate, which this etcd requires`,
          prop: 'agentCertPath',
          value: `host ${host.hostName}`,
          fix: `give host "${host.hostName}" agentCertPath and agentKeyPath (a client certificate from the etcd cluster's CA)`,
        }),
      );
    }
  }
}
