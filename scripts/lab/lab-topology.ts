/**
 * The Topology of the lab (`npm run lab -- up`): one Site per lab site, one Host per lab host,
 * with the lab's SSH key, each host's pinned key and the lab's QEMU.
 *
 *   const topology = labTopology(stack, 'Topology', readLabDescription());
 *   new HighlyAvailableVm(stack, 'web', { primaryHost: topology.host('site-a'), ... });
 */
import { Construct } from 'constructs';
import type { LabDescription } from './description';
import { ServiceManager } from '../../constructs/failover-monitor';
import { HostKey } from '../../constructs/host-key';
import { SshKey } from '../../constructs/ssh-key';
import { Topology, TopologyProps } from '../../constructs/topology';

export interface LabTopologyOptions extends Omit<TopologyProps, 'etcd' | 'monitor'> {
  /**
   * Lab sites that are witnesses (run no VMs, give the third vote).
   * @default ["witness"]
   */
  readonly witnessSites?: string[];
  /**
   * Memory capacity to declare for every lab host, in MiB.
   * @default - not declared (no capacity checks)
   */
  readonly hostMemoryMib?: number;
  /**
   * vCPU capacity to declare for every lab host.
   * @default - not declared (no capacity checks)
   */
  readonly hostVcpus?: number;
  /**
   * The failover monitor with the lab's keys (scripts/lab/monitor-keys.ts): the provider gets the
   * lab's etcd (TLS with its client certificate) and monitor block, every host its agent's
   * certificate, and agents re-protect with the lab's SSH key. Off: neither etcd nor monitor
   * (HighlyAvailableVms must then fail over manually).
   * @default true
   */
  readonly monitor?: boolean;
}

/** The lab description fields this needs (LabDescription has them all). */
export type LabTopologyDescription = Pick<LabDescription, 'hosts' | 'qemuBinary' | 'etcd' | 'monitor' | 'privateKeyPath'>;

export function labTopology(scope: Construct, id: string, lab: LabTopologyDescription, options: LabTopologyOptions = {}): Topology {
  const { witnessSites = ['witness'], hostMemoryMib, hostVcpus, monitor = true, ...topologyProps } = options;
  const provider = lab.etcd.clients?.provider;
  const etcdProps = monitor ? { endpoints: lab.etcd.endpoints, caPath: lab.etcd.caPath, ...(provider ? { certPath: provider.certPath, keyPath: provider.keyPath } : {}) } : undefined;
  const monitorProps = monitor
    ? { signingKeyPath: lab.monitor.signingKeyPath, heartbeatKeyPath: lab.monitor.heartbeatKeyPath, agentSshKeyPath: lab.privateKeyPath, serviceManager: ServiceManager.DAEMON }
    : undefined;
  const topology = new Topology(scope, id, { ...topologyProps, etcd: etcdProps, monitor: monitorProps });
  for (const siteName of [...new Set(lab.hosts.map((h) => h.site))]) {
    const site = topology.addSite(siteName, { witness: witnessSites.includes(siteName) });
    for (const h of lab.hosts.filter((x) => x.site === siteName)) {
      site.addHost(h.name, {
        address: h.address,
        sshPort: h.sshPort,
        sshUser: h.sshUser,
        sshKey: SshKey.fromFile(h.privateKeyPath),
        hostKey: HostKey.publicKey(h.hostKey),
        qemuBinary: lab.qemuBinary,
        ...(monitor && lab.etcd.clients?.[h.name] ? { agentCertPath: lab.etcd.clients[h.name].certPath, agentKeyPath: lab.etcd.clients[h.name].keyPath } : {}),
        memoryMib: hostMemoryMib,
        vcpus: hostVcpus,
      });
    }
  }
  return topology;
}
