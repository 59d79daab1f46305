/**
 * The Topology of the lab (`npm run lab -- up`): one Site per lab site, one Host per lab host,
 * with the lab's SSH key, each host's pinned key and the lab's QEMU.
 *
 *   const topology = labTopology(stack, 'Topology', readLabDescription());
 *   new HighlyAvailableVm(stack, 'web', { primaryHost: topology.host('site-a'), ... });
 */
import { Construct } from 'constructs';
import type { LabDescription } from '../scripts/lab/description';
import { HostKey } from './host-key';
import { SshKey } from './ssh-key';
import { Topology, TopologyProps } from './topology';

export interface LabTopologyOptions extends Omit<TopologyProps, 'etcd'> {
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
   * Configure the provider with the lab's etcd.
   * @default false
   */
  readonly etcd?: boolean;
}

/** The lab description fields this needs (LabDescription has them all). */
export type LabTopologyDescription = Pick<LabDescription, 'hosts' | 'qemuBinary' | 'etcd'>;

export function labTopology(scope: Construct, id: string, lab: LabTopologyDescription, options: LabTopologyOptions = {}): Topology {
  const { witnessSites = ['witness'], hostMemoryMib, hostVcpus, etcd = false, ...topologyProps } = options;
  const provider = lab.etcd.clients?.provider;
  const etcdProps = etcd ? { endpoints: lab.etcd.endpoints, caPath: lab.etcd.caPath, ...(provider ? { certPath: provider.certPath, keyPath: provider.keyPath } : {}) } : undefined;
  const topology = new Topology(scope, id, { ...topologyProps, etcd: etcdProps });
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
        memoryMib: hostMemoryMib,
        vcpus: hostVcpus,
      });
    }
  }
  return topology;
}
