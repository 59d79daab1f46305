/**
 * The topology of a stack: its sites and hosts, the witness, and the `orbit` provider wired to
 * them. Declared once per stack; every Vm and HighlyAvailableVm in the stack places itself on
 * its hosts.
 *
 *   const topology = new Topology(stack, 'Topology');
 *   const a = topology.addSite('a');
 *   a.addHost('site-a', { address: '10.0.0.11', sshKey: SshKey.fromFile('~/.ssh/orbit'), hostKey: HostKey.publicKey('ssh-ed25519 AAAA...') });
 *
 * It also adds the Orbit policies (see policies/) to the stack, so `cdktf synth` fails on a
 * topology the VMs cannot safely run on.
 */
import { TerraformStack } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import { OrbitProvider, OrbitProviderMonitor } from '../provider/bindings/providers/orbit/provider';
import { HostDemand, HostLoad, sumLoad } from './capacity';
import { OrbitValidationError } from './errors';
import type { Host } from './host';
import { addOrbitPolicies } from './policies';
import { FailoverMonitorProps } from './failover-monitor';
import { Site, SiteProps } from './site';
import { checkWholeNumber } from './validation';

/** The etcd cluster holding runtime specs, leases and fencing tokens. */
export interface EtcdProps {
  /** Client URLs, e.g. ["https://10.0.0.2:2379"]. */
  readonly endpoints: string[];
  /**
   * CA certificate (PEM) to verify the etcd servers.
   * @default - the system's trusted CAs
   */
  readonly caPath?: string;
  /**
   * Client certificate (PEM) for TLS client authentication; needs keyPath.
   * @default - no client certificate
   */
  readonly certPath?: string;
  /**
   * Client private key (PEM) for TLS client authentication; needs certPath.
   * @default - no client certificate
   */
  readonly keyPath?: string;
}

export interface TopologyProps {
  /**
   * The etcd cluster the provider and the failover monitors use.
   * @default - none configured
   */
  readonly etcd?: EtcdProps;
  /**
   * The failover monitor: agents on the hosts of every HighlyAvailableVm that fails over
   * automatically (needs `etcd` too). See failover-monitor.ts.
   * @default - none: HighlyAvailableVms with automatic failover fail synth (monitor policy)
   */
  readonly monitor?: FailoverMonitorProps;
  /**
   * Add the Orbit policies (separate hosts, host capacity, witness for cross-site failover,
   * failover timing, a monitor for automatic failover) to the stack as Aspects.
   * @default true
   */
  readonly policies?: boolean;
}

const topologies = new WeakMap<TerraformStack, Topology>();

export class Topology extends Construct {
  /** The Topology of `scope`'s stack; throws when the stack has none. */
  public static of(scope: IConstruct): Topology {
    const topology = Topology.tryOf(scope);
    if (!topology) {
      throw new OrbitValidationError(scope, {
        what: `The stack "${TerraformStack.of(scope).node.id}" has no Topology, so there are no hosts to place VMs on`,
        fix: 'create one first: `const topology = new Topology(stack, "Topology")`, then its sites and hosts (or `Topology.fromLabDescription(...)`)',
      });
    }
    return topology;
  }

  /** The Topology of `scope`'s stack, if it has one. */
  public static tryOf(scope: IConstruct): Topology | undefined {
    return topologies.get(TerraformStack.of(scope));
  }

  /** The `orbit` provider, configured with every host of the topology. */
  public readonly provider: OrbitProvider;
  public readonly etcd?: EtcdProps;
  public readonly monitor?: FailoverMonitorProps;
  private readonly allSites: Site[] = [];
  private readonly allHosts: Host[] = [];
  private readonly allDemands: HostDemand[] = [];
  private readonly vmNames = new Map<string, IConstruct>();
  private readonly logicalIds = new Map<string, IConstruct>();

  constructor(scope: Construct, id: string, props: TopologyProps = {}) {
    super(scope, id);
    const stack = TerraformStack.of(this);
    const existing = topologies.get(stack);
    if (existing) {
      throw new OrbitValidationError(this, {
        what: `The stack already has a Topology (${existing.node.path}); a stack has one`,
        fix: 'declare all sites and hosts in that one Topology (`Topology.of(stack)` finds it)',
      });
    }
    topologies.set(stack, this);
    this.etcd = props.etcd;
    this.monitor = props.monitor;
    checkMonitorProps(this, props.monitor);
    this.provider = new OrbitProvider(this, 'Provider', { hosts: [], etcd: props.etcd, monitor: props.monitor && monitorConfig(props.monitor) });
    if (props.policies ?? true) addOrbitPolicies(stack);
  }

  /** Declares a site. */
  public addSite(id: string, props: SiteProps = {}): Site {
    return new Site(this, id, props);
  }

  public get sites(): readonly Site[] {
    return [...this.allSites];
  }

  /** Every host, in declaration order. */
  public get hosts(): readonly Host[] {
    return [...this.allHosts];
  }

  /** Sites marked as witness that have at least one host. */
  public get witnessSites(): readonly Site[] {
    return this.allSites.filter((s) => s.witness && s.hosts.length > 0);
  }

  /** The host named `name`; throws when there is none. */
  public host(name: string): Host {
    const host = this.allHosts.find((h) => h.hostName === name);
    if (!host) {
      throw new OrbitValidationError(this, {
        what: `There is no host named "${name}" in the topology`,
        allowed: this.allHosts.map((h) => `"${h.hostName}"`).join(', ') || 'none declared yet',
        fix: 'declare the host with site.addHost(...) before using it, or fix the name',
      });
    }
    return host;
  }

  /** What is placed on `host` so far. */
  public demandsOn(host: Host): readonly HostDemand[] {
    return this.allDemands.filter((d) => d.host === host);
  }

  /** Memory and vCPUs placed on `host` so far. */
  public loadOn(host: Host): HostLoad {
    return sumLoad(this.demandsOn(host));
  }

  /** @internal */
  public _registerSite(site: Site): void {
    if (this.allSites.some((s) => s.siteName === site.siteName)) {
      throw new OrbitValidationError(site, {
        what: `Another site is already named "${site.siteName}"`,
        prop: 'name',
        value: site.siteName,
        fix: 'give every site a unique name',
      });
    }
    this.allSites.push(site);
  }

  /** @internal */
  public _registerHost(host: Host): void {
    const same = this.allHosts.find((h) => h.hostName === host.hostName);
    if (same) {
      throw new OrbitValidationError(host, {
        what: `Another host (${same.node.path}) is already named "${host.hostName}"`,
        prop: 'name',
        value: host.hostName,
        fix: 'give every host a unique name',
      });
    }
    this.allHosts.push(host);
    this.provider.hosts = this.allHosts.map((h) => h.toProviderHost());
  }

  /** @internal */
  public _recordDemand(demand: HostDemand): void {
    this.allDemands.push(demand);
  }

  /** @internal VM names are unique among the provider's hosts. */
  public _registerVmName(name: string, owner: IConstruct): void {
    const other = this.vmNames.get(name);
    if (other) {
      throw new OrbitValidationError(owner, {
        what: `The VM name "${name}" is already used by ${other.node.path}; VM names are unique among the hosts of a topology`,
        prop: 'name',
        value: name,
        fix: 'set a different name (or construct id) on one of them',
      });
    }
    this.vmNames.set(name, owner);
  }

  /**
   * @internal Logical IDs are derived from construct paths, and two paths can map to one ID
   * ("a.b" and "a_b"). `address` is `<resource type>.<logical id>` or `output.<logical id>`.
   */
  public _registerAddress(address: string, owner: IConstruct): void {
    const other = this.logicalIds.get(address);
    if (other && other !== owner) {
      throw new OrbitValidationError(owner, {
        what: `Its terraform address ${address} is already taken by ${other.node.path}`,
        fix: 'rename one of the two constructs (their ids differ only in characters terraform does not allow)',
      });
    }
    this.logicalIds.set(address, owner);
  }
}

function checkMonitorProps(scope: Construct, monitor: FailoverMonitorProps | undefined): void {
  if (!monitor) return;
  checkWholeNumber(scope, 'monitor.heartbeatPort', monitor.heartbeatPort, { min: 1, max: 65535, fix: 'use a free UDP port, or leave it unset (7400)' });
  checkWholeNumber(scope, 'monitor.metricsPort', monitor.metricsPort, { min: 0, max: 65535, fix: 'use a free TCP port, 0 for no metrics, or leave it unset (9464)' });
}

function monitorConfig(monitor: FailoverMonitorProps): OrbitProviderMonitor {
  return {
    signingKeyPath: monitor.signingKeyPath,
    heartbeatKeyPath: monitor.heartbeatKeyPath,
    agentSshKeyPath: monitor.agentSshKeyPath,
    heartbeatPort: monitor.heartbeatPort,
    metricsPort: monitor.metricsPort,
    nodeBinary: monitor.nodeBinary,
    serviceManager: monitor.serviceManager,
  };
}
