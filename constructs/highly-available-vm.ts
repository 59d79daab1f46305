/**
 * A fault-tolerant VM (orbit_ft_vm): a QEMU COLO pair, the primary running the guest clients
 * talk to and a lock-stepped secondary on another host (or site) ready to take over with no
 * data loss, watched by the failover monitor.
 *
 *   new HighlyAvailableVm(stack, 'web', {
 *     memoryMib: 1024,
 *     placement: Placement.separateSites(),
 *     network: { bridge: 'vmbr0' },
 *   });
 *
 * Every HighlyAvailableVm exposes its worst-case recovery time (failover-timing.ts) as the
 * property `worstCaseRecoveryMs` and the terraform output `<logical id>_worst_case_recovery_ms`.
 */
import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { FtVm } from '../provider/bindings/providers/orbit/ft-vm';
import { CrossSiteFailover } from './cross-site-failover';
import { OrbitValidationError } from './errors';
import { CHECKPOINT_DELAY_RANGE_MS, COLO_DEFAULTS } from '../provider/colo/colo-limits';
import { FAILOVER_TIMING_DEFAULTS, FAILOVER_TIMING_RANGES, FailoverTiming, FailoverTimingProps, failoverTiming, worstCaseRecoveryMs } from './failover-timing';
import type { Host } from './host';
import { useStableLogicalId } from './logical-id';
import { MACHINE_DEFAULTS, MachineProps, NetworkProps, checkDiskImages, checkMachineProps, checkNetwork, countable, machineConfig, machineName } from './machine';
import { FailureDomain, Placement } from './placement';
import { checkVmHost, pickHost } from './scheduler';
import { Topology } from './topology';
import { checkWholeNumber } from './validation';

export interface HighlyAvailableVmProps extends MachineProps, FailoverTimingProps {
  /** The pair's NIC (a COLO pair has exactly one); the bridge must exist on both hosts. */
  readonly network: NetworkProps;
  /**
   * The failure domain primary and secondary must not share.
   * @default Placement.separateHosts()
   */
  readonly placement?: Placement;
  /**
   * The host the pair is built with as primary. After a failover the guest runs on the other
   * host (activeHost); that is not drift.
   * @default - chosen automatically (see scheduler.ts), honouring placement and capacity
   */
  readonly primaryHost?: Host;
  /**
   * The host of the lock-stepped replica. It needs about twice memoryMib (replica plus checkpoint buffer).
   * @default - chosen automatically (see scheduler.ts), honouring placement and capacity
   */
  readonly secondaryHost?: Host;
  /**
   * Longest time between checkpoints while the two guests' outputs agree, in ms (100 to 3600000).
   * A differing output forces a checkpoint at once.
   * @default 2000
   */
  readonly checkpointDelayMs?: number;
  /**
   * How long the guest gets to power off after the ACPI request when a change restarts the pair (vcpus, memory, ...), in ms; 0 skips the request.
   * The pair restarts on the disks of its active side: no change deletes its data.
   * @default 30000
   */
  readonly stopTimeoutMs?: number;
  /**
   * Whether the monitor may fail over to the other site on its own when primary and secondary
   * are in different sites. AUTOMATIC needs a witness site in the topology. MANUAL leaves a
   * cross-site pair unwatched (failover = "manual"): an operator fails over with orbit-ft.
   * @default CrossSiteFailover.AUTOMATIC
   */
  readonly crossSiteFailover?: CrossSiteFailover;
  /**
   * Hosts the monitor may re-protect the pair onto after a failover, in order of preference,
   * after the pair's own two hosts (used again once healthy). Not witness hosts.
   * @default - none: the pair is re-protected onto its own hosts only
   */
  readonly spareHosts?: Host[];
}

export class HighlyAvailableVm extends Construct {
  /** The VM name on the hosts. */
  public readonly vmName: string;
  public readonly primaryHost: Host;
  public readonly secondaryHost: Host;
  public readonly placement: Placement;
  public readonly crossSiteFailover: CrossSiteFailover;
  /** The monitor timing, defaults applied. */
  public readonly timing: FailoverTiming;
  /** Hosts the monitor may re-protect onto (after the pair's own). */
  public readonly spareHosts: readonly Host[];
  /**
   * Worst-case time from losing the active half to the standby taking over, in ms:
   * leaseTtlMs + heartbeatIntervalMs (failover-timing.ts). Undefined when failover crosses sites
   * and is manual: then recovery waits for an operator.
   */
  public readonly worstCaseRecoveryMs?: number;
  /** The orbit_ft_vm resource (escape hatch). */
  public readonly resource: FtVm;
  /** The `<logical id>_worst_case_recovery_ms` output. */
  public readonly worstCaseRecoveryOutput: TerraformOutput;

  constructor(scope: Construct, id: string, props: HighlyAvailableVmProps) {
    super(scope, id);
    const topology = Topology.of(this);
    this.vmName = machineName(this, props);
    checkMachineProps(this, props);
    checkNetwork(this, 'network', props.network);
    checkWholeNumber(this, 'stopTimeoutMs', props.stopTimeoutMs, { min: 0, fix: 'give the ms the guest may take to power off, e.g. 30000' });
    checkWholeNumber(this, 'checkpointDelayMs', props.checkpointDelayMs, { ...CHECKPOINT_DELAY_RANGE_MS, fix: `use ${COLO_DEFAULTS.checkpointDelayMs} (the default) or leave it unset` });
    for (const name of Object.keys(FAILOVER_TIMING_RANGES) as Array<keyof FailoverTiming>) {
      checkWholeNumber(this, name, props[name], { ...FAILOVER_TIMING_RANGES[name], fix: `use ${FAILOVER_TIMING_DEFAULTS[name]} (the default) or leave it unset` });
    }
    topology._registerVmName(this.vmName, this);

    this.placement = props.placement ?? Placement.separateHosts();
    this.crossSiteFailover = props.crossSiteFailover ?? CrossSiteFailover.AUTOMATIC;
    this.timing = failoverTiming(props);

    const memoryMib = countable(props.memoryMib, MACHINE_DEFAULTS.memoryMib);
    const vcpus = countable(props.vcpus, MACHINE_DEFAULTS.vcpus);
    const primaryLoad = { memoryMib, vcpus };
    const secondaryLoad = { memoryMib: 2 * memoryMib, vcpus };
    if (props.primaryHost) checkVmHost(this, topology, 'primaryHost', props.primaryHost);
    if (props.secondaryHost) checkVmHost(this, topology, 'secondaryHost', props.secondaryHost);
    const apart = (a: Host, b: Host) => a !== b && (this.placement.separation !== FailureDomain.SITE || a.site !== b.site);
    const hasPartner = (h: Host) => topology.hosts.some((o) => !o.isWitness && apart(h, o));

    const primary = props.primaryHost ?? pickHost(topology, this.vmName, primaryLoad, (h) => (props.secondaryHost ? apart(h, props.secondaryHost) : hasPartner(h)));
    const secondary = props.secondaryHost ?? (primary && pickHost(topology, this.vmName, secondaryLoad, (h) => apart(primary, h)));
    if (!primary || !secondary) {
      const domain = this.placement.separation === FailureDomain.SITE ? 'sites' : 'hosts';
      const available = topology.hosts.filter((h) => !h.isWitness).map((h) => `"${h.hostName}" (site "${h.site.siteName}")`);
      throw new OrbitValidationError(this, {
        what: `Cannot place the pair: Placement.${domain === 'sites' ? 'separateSites' : 'separateHosts'}() needs two hosts in different ${domain}, outside witness sites`,
        prop: 'placement',
        value: `separate ${domain}`,
        allowed: `hosts available: ${available.join(', ') || 'none'}`,
        fix: domain === 'sites' ? 'declare a host in a second site, or use Placement.separateHosts()' : 'declare a second host',
      });
    }
    this.primaryHost = primary;
    this.secondaryHost = secondary;
    this.spareHosts = props.spareHosts ?? [];
    this.spareHosts.forEach((spare, index) => {
      checkVmHost(this, topology, `spareHosts[${index}]`, spare);
      if (spare === primary || spare === secondary || this.spareHosts.indexOf(spare) !== index) {
        throw new OrbitValidationError(this, {
          what: `spareHosts[${index}] is "${spare.hostName}", which is ${spare === primary ? 'the primary host' : spare === secondary ? 'the secondary host' : 'listed twice'}`,
          prop: `spareHosts[${index}]`,
          value: spare.hostName,
          fix: 'list other hosts, each once: a spare is where the pair goes when one of its hosts is lost',
        });
      }
    });
    checkDiskImages(this, props.disks, [{ prop: 'primaryHost', host: primary }, { prop: 'secondaryHost', host: secondary }, ...this.spareHosts.map((host, i) => ({ prop: `spareHosts[${i}]`, host }))]);
    topology._recordDemand({ host: primary, consumer: this, role: 'primary', ...primaryLoad });
    topology._recordDemand({ host: secondary, consumer: this, role: 'secondary', ...secondaryLoad });

    this.worstCaseRecoveryMs = this.failsOverAutomatically ? worstCaseRecoveryMs(this.timing) : undefined;

    this.resource = new FtVm(this, 'Resource', {
      ...machineConfig(this.vmName, props),
      primaryHost: primary.hostName,
      secondaryHost: secondary.hostName,
      checkpointDelayMs: props.checkpointDelayMs,
      stopTimeoutMs: props.stopTimeoutMs,
      heartbeatIntervalMs: this.timing.heartbeatIntervalMs,
      heartbeatMisses: this.timing.heartbeatMisses,
      fencingDeadlineMs: this.timing.fencingDeadlineMs,
      leaseTtlMs: this.timing.leaseTtlMs,
      failover: this.failsOverAutomatically ? 'automatic' : 'manual',
      spareHosts: this.spareHosts.length > 0 ? this.spareHosts.map((h) => h.hostName) : undefined,
      network: { bridge: props.network.bridge, mac: props.network.mac, model: props.network.model },
      provider: topology.provider,
    });
    topology._registerAddress(`${this.resource.terraformResourceType}.${useStableLogicalId(this.resource)}`, this.resource);
    this.node.defaultChild = this.resource;

    this.worstCaseRecoveryOutput = new TerraformOutput(this, 'worst_case_recovery_ms', {
      value: this.worstCaseRecoveryMs ?? 'manual: cross-site failover waits for an operator',
      description:
        `Worst-case time in ms from losing the active half of ${this.vmName} to the standby taking over ` +
        "(lease TTL + etcd's 500 ms expiry loop + heartbeat interval): the failover monitor's bound when the active host dies outright; a dead QEMU on a live host is failed over within about one heartbeat interval.",
    });
    topology._registerAddress(`output.${useStableLogicalId(this.worstCaseRecoveryOutput)}`, this.worstCaseRecoveryOutput);
  }

  /** Whether primary and secondary are in different sites. */
  public get crossesSites(): boolean {
    return this.primaryHost.site !== this.secondaryHost.site;
  }

  /** Whether the monitor fails over on its own (false only for a cross-site pair with manual failover). */
  public get failsOverAutomatically(): boolean {
    return !this.crossesSites || this.crossSiteFailover === CrossSiteFailover.AUTOMATIC;
  }

  /** The host running the guest clients talk to (a token). */
  public get activeHost(): string {
    return this.resource.activeHost;
  }

  /** The host holding the replica; null while unprotected (a token). */
  public get standbyHost(): string {
    return this.resource.standbyHost;
  }

  /** "protected", "degraded", "re-protecting", "failover-needed" or "split" (a token; see the orbit_ft_vm docs). */
  public get protection(): string {
    return this.resource.protection;
  }
}
