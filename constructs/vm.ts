/**
 * A VM on one host (orbit_vm). Changing its host live-migrates it; it is not protected against
 * the host failing (use HighlyAvailableVm for that).
 *
 *   new Vm(stack, 'build', { memoryMib: 1024, disks: [{ sizeMib: 8192 }], networks: [{ bridge: 'vmbr0' }] });
 */
import { Construct } from 'constructs';
import { Vm as VmResource } from '../provider/bindings/providers/orbit/vm';
import { OrbitValidationError } from './errors';
import type { Host } from './host';
import { useStableLogicalId } from './logical-id';
import { checkDiskImages, MACHINE_DEFAULTS, MachineProps, NetworkProps, checkMachineProps, checkNetwork, countable, machineConfig, machineName } from './machine';
import { checkVmHost, pickHost } from './scheduler';
import { Topology } from './topology';
import { checkWholeNumber, isKnown } from './validation';
import { CloudInit } from './cloud-init';
import { derivedMac } from '../provider/resources/vm-machine';

export interface VmProps extends MachineProps {
  /**
   * The host the VM runs on. Changing it later live-migrates the VM (post-copy), disks included.
   * @default - chosen automatically among the non-witness hosts: deterministic and capacity-aware (see scheduler.ts)
   */
  readonly host?: Host;
  /**
   * Memory QEMU starts with, in MiB: how far memoryMib can grow without a restart. Counted against the host's capacity.
   * @default - memoryMib
   */
  readonly maxMemoryMib?: number;
  /**
   * NICs, each on a host bridge.
   * @default - no NICs
   */
  readonly networks?: NetworkProps[];
  /**
   * How long the guest gets to power off after the ACPI request when the VM is destroyed or restarted, in ms; 0 skips the request.
   * @default 30000
   */
  readonly stopTimeoutMs?: number;
  /**
   * Leave the disk images on the host when the VM is destroyed; a VM declared again with the same name attaches them.
   * No other change deletes a disk: changes that need a new QEMU restart the VM on the same disks.
   * @default false
   */
  readonly keepDisksOnDestroy?: boolean;
  /**
   * Whether the guest runs. false powers it off (ACPI power-off with stopTimeoutMs, then QEMU quits) and keeps it
   * defined on its host, disks and settings included; true starts it again on the same disks. Changes made while it
   * is off take effect when it starts; moving it to another host needs it running.
   * @default true
   */
  readonly running?: boolean;
  /**
   * What cloud-init in the guest is told at boot (a NoCloud seed built on the host): CloudInit.basic(...) or
   * CloudInit.documents(...). An edit rewrites the seed with a new instance id (applied at the guest's next boot), never a new VM.
   * @default - no seed: the image boots with its own defaults
   */
  readonly cloudInit?: CloudInit;
  /**
   * Live migration: the longest pre-copy phase before switching to post-copy, in ms.
   * @default 5000
   */
  readonly migrationPostcopyAfterMs?: number;
}

export class Vm extends Construct {
  /** The VM name on the hosts. */
  public readonly vmName: string;
  /** The host the VM is declared on. */
  public readonly host: Host;
  /** The orbit_vm resource (escape hatch). */
  public readonly resource: VmResource;

  constructor(scope: Construct, id: string, props: VmProps = {}) {
    super(scope, id);
    const topology = Topology.of(this);
    this.vmName = machineName(this, props);
    checkMachineProps(this, props);
    checkWholeNumber(this, 'maxMemoryMib', props.maxMemoryMib, { min: 64, fix: 'give at least memoryMib, or leave it unset' });
    checkWholeNumber(this, 'stopTimeoutMs', props.stopTimeoutMs, { min: 0, fix: 'give the ms the guest may take to power off, e.g. 30000' });
    checkWholeNumber(this, 'migrationPostcopyAfterMs', props.migrationPostcopyAfterMs, { min: 0, fix: 'give a duration in ms, e.g. 5000' });
    (props.networks ?? []).forEach((n, i) => checkNetwork(this, `networks[${i}]`, n));
    if (isKnown(props.maxMemoryMib) && isKnown(props.memoryMib) && props.maxMemoryMib < props.memoryMib) {
      throw new OrbitValidationError(this, {
        what: `maxMemoryMib (${props.maxMemoryMib}) is below memoryMib (${props.memoryMib})`,
        prop: 'maxMemoryMib',
        value: props.maxMemoryMib,
        allowed: `at least memoryMib (${props.memoryMib})`,
        fix: `raise maxMemoryMib to ${props.memoryMib} or more, or leave it unset`,
      });
    }
    topology._registerVmName(this.vmName, this);

    const load = {
      memoryMib: countable(props.maxMemoryMib ?? props.memoryMib, MACHINE_DEFAULTS.memoryMib),
      vcpus: countable(props.vcpus, MACHINE_DEFAULTS.vcpus),
    };
    const host = props.host ?? pickHost(topology, this.vmName, load);
    if (!host) {
      throw new OrbitValidationError(this, {
        what: 'There is no host to place the VM on: the topology has no hosts outside witness sites',
        fix: 'declare a host in a non-witness site (site.addHost(...)) before the VM',
      });
    }
    checkVmHost(this, topology, 'host', host);
    this.host = host;
    checkDiskImages(this, props.disks, [{ prop: 'host', host }]);
    topology._recordDemand({ host, consumer: this, role: 'vm', ...load });

    this.resource = new VmResource(this, 'Resource', {
      ...machineConfig(this.vmName, props),
      host: host.hostName,
      maxMemoryMib: props.maxMemoryMib,
      stopTimeoutMs: props.stopTimeoutMs,
      keepDisksOnDestroy: props.keepDisksOnDestroy,
      running: props.running,
      cloudInit: props.cloudInit?.render(this, this.vmName, props.networks?.length ? (props.networks[0].mac ?? derivedMac(this.vmName, 0)) : undefined),
      migrationPostcopyAfterMs: props.migrationPostcopyAfterMs,
      network: props.networks?.map((n) => ({ bridge: n.bridge, mac: n.mac, model: n.model })),
      provider: topology.provider,
    });
    topology._registerAddress(`${this.resource.terraformResourceType}.${useStableLogicalId(this.resource)}`, this.resource);
    this.node.defaultChild = this.resource;
  }

  /** QEMU's run state when last read: "running", "paused", "stopped" (powered off), ... (a token). */
  public get status(): string {
    return this.resource.status;
  }

  /** The accelerator the VM runs with, "kvm" or "tcg" (a token). */
  public get acceleratorInUse(): string {
    return this.resource.acceleratorInUse;
  }
}
