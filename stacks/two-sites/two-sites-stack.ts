/**
 * Example: two sites and a witness, the shape of a metro deployment.
 *
 *   east (2 hosts)  ----  west (2 hosts)
 *            \              /
 *             quorum (witness: etcd, no VMs)
 *
 * - `db`: fault-tolerant, halves in different sites, automatic failover (the witness allows it);
 * - `web`: fault-tolerant within one site (east-1 and east-2, pinned): failover stays automatic without the witness;
 *   after a failover the monitor re-protects it onto its own hosts or, failing those, the spare west-2;
 * - `reports`: fault-tolerant across sites with manual cross-site failover (an operator decides);
 * - `batch`: a plain VM, placed automatically.
 *
 * The failover monitor's agents run on every host of an automatic pair; they reach etcd with a
 * client certificate each (agentCertPath/agentKeyPath) and act only on specs signed with the
 * monitor's signing key, which stays where terraform runs.
 *
 * Addresses, keys, certificates and fingerprints are examples: replace them with yours.
 */
import { TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { CrossSiteFailover, HighlyAvailableVm, HostKey, Placement, SshKey, Topology, Vm } from '../../constructs';

export class TwoSitesStack extends TerraformStack {
  public readonly topology: Topology;
  public readonly db: HighlyAvailableVm;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const sshKey = SshKey.fromEnvironment('ORBIT_SSH_KEY');
    this.topology = new Topology(this, 'Topology', {
      etcd: {
        endpoints: ['https://10.30.0.2:2379', 'https://10.10.0.2:2379', 'https://10.20.0.2:2379'],
        caPath: '/etc/orbit/etcd/ca.crt',
        certPath: '/etc/orbit/etcd/terraform.crt',
        keyPath: '/etc/orbit/etcd/terraform.key',
      },
      monitor: {
        signingKeyPath: '/etc/orbit/monitor/signing.key',
        heartbeatKeyPath: '/etc/orbit/monitor/heartbeat.key',
        agentSshKeyPath: '/etc/orbit/monitor/agent_ed25519',
      },
    });
    const agentCert = (host: string) => ({ agentCertPath: `/etc/orbit/etcd/agents/${host}.crt`, agentKeyPath: `/etc/orbit/etcd/agents/${host}.key` });

    const east = this.topology.addSite('east');
    const east1 = east.addHost('east-1', {
      address: '10.10.0.11',
      sshKey,
      hostKey: HostKey.fingerprint('SHA256:sIppdn4RqQb0L3f++qEV4hk3dClqBfG7QvETaQ+m1L8'),
      memoryMib: 65536,
      vcpus: 32,
      ...agentCert('east-1'),
    });
    const east2 = east.addHost('east-2', {
      address: '10.10.0.12',
      sshKey,
      hostKey: HostKey.fingerprint('SHA256:r+8NqgHmbBlwCzYO8L0SUILHhCm+XWf+J1ykjQknipM'),
      memoryMib: 65536,
      vcpus: 32,
      ...agentCert('east-2'),
    });
    const west = this.topology.addSite('west');
    west.addHost('west-1', { address: '10.20.0.11', sshKey, hostKey: HostKey.fingerprint('SHA256:1yCU6pkbadjYMhIrwk9vPzxuhfOGIisXS52Y0rx6l68'), memoryMib: 65536, vcpus: 32, ...agentCert('west-1') });
    const west2 = west.addHost('west-2', {
      address: '10.20.0.12',
      sshKey,
      hostKey: HostKey.fingerprint('SHA256:Amagr4di7gBdbqZzJ9I124C7ql8OfjjC3id5nAnld8g'),
      memoryMib: 65536,
      vcpus: 32,
      ...agentCert('west-2'),
    });
    this.topology.addSite('quorum', { witness: true }).addHost('quorum-1', { address: '10.30.0.11', sshKey, hostKey: HostKey.fingerprint('SHA256:5sB2QcrRrnAsz1SuQxS12gJdgXD13rZ4eh82Qi/IgyA') });

    const network = { bridge: 'vmbr0' };
    this.db = new HighlyAvailableVm(this, 'db', {
      vcpus: 4,
      memoryMib: 8192,
      disks: [{ sizeMib: 102400 }],
      network,
      placement: Placement.separateSites(),
    });
    new HighlyAvailableVm(this, 'web', { vcpus: 2, memoryMib: 2048, disks: [{ sizeMib: 8192 }], network, primaryHost: east1, secondaryHost: east2, spareHosts: [west2] });
    new HighlyAvailableVm(this, 'reports', {
      memoryMib: 4096,
      disks: [{ sizeMib: 20480 }],
      network,
      placement: Placement.separateSites(),
      crossSiteFailover: CrossSiteFailover.MANUAL,
    });
    new Vm(this, 'batch', { vcpus: 8, memoryMib: 16384, disks: [{ sizeMib: 51200 }], networks: [network] });

    new TerraformOutput(this, 'db_active_host', { value: this.db.activeHost });
  }
}
