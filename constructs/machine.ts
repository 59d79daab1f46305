/**
 * What a VM is made of, shared by Vm and HighlyAvailableVm: name, CPUs, memory, boot, disks,
 * NICs and the QEMU machine settings.
 */
import { Token } from 'cdktf';
import { IConstruct } from 'constructs';
import { VM_LIMITS, VM_SPEC_DEFAULTS } from '../provider/qemu/vm-spec';
import { Boot } from './boot';
import { OrbitValidationError } from './errors';
import type { Host } from './host';
import type { Image } from './image';
import { checkPattern, checkWholeNumber } from './validation';

/** Provider defaults the constructs count with (capacity) and document. */
export const MACHINE_DEFAULTS = { memoryMib: VM_SPEC_DEFAULTS.memoryMiB, vcpus: VM_SPEC_DEFAULTS.vcpus } as const;

export enum Accelerator {
  /** What a test boot on the host found to work (KVM when available, else TCG). */
  AUTO = 'auto',
  KVM = 'kvm',
  /** QEMU's software emulation: slow, but runs anywhere. */
  TCG = 'tcg',
}

export enum DiskFormat {
  /** Allocated as written. */
  QCOW2 = 'qcow2',
  RAW = 'raw',
}

export enum NicModel {
  VIRTIO = 'virtio-net-pci',
  E1000 = 'e1000',
  RTL8139 = 'rtl8139',
}

export interface DiskProps {
  /** Size in MiB. */
  readonly sizeMib: number;
  /**
   * Image format.
   * @default DiskFormat.QCOW2
   */
  readonly format?: DiskFormat;
  /**
   * Start the disk from this image: a qcow2 overlay on it, grown to sizeMib (at least the
   * image's virtual size). The image must be placed on every host the VM may run on. Fixed once
   * the disk exists.
   * @default - an empty disk
   */
  readonly image?: Image;
}

export interface NetworkProps {
  /** The host bridge the NIC's tap joins (it must exist on every host the VM may run on), e.g. "vmbr0". */
  readonly bridge: string;
  /**
   * MAC address: six lowercase hex pairs separated by ":".
   * @default - 52:54:00 followed by three bytes derived from the VM name and the NIC index (stable)
   */
  readonly mac?: string;
  /**
   * NIC model.
   * @default NicModel.VIRTIO
   */
  readonly model?: NicModel;
}

export interface MachineProps {
  /**
   * The VM name: 1-40 of a-z, 0-9 and "-", starting with a letter; unique in the topology.
   * @default - the construct id, lower-cased, with other characters replaced by "-"
   */
  readonly name?: string;
  /**
   * Virtual CPUs.
   * @default 1
   */
  readonly vcpus?: number;
  /**
   * Guest memory in MiB.
   * @default 512
   */
  readonly memoryMib?: number;
  /**
   * How the VM boots.
   * @default Boot.fromFirstDisk()
   */
  readonly boot?: Boot;
  /**
   * Disk images the VM owns, created empty or from an image (an overlay on it) and deleted with it.
   * @default - no disks
   */
  readonly disks?: DiskProps[];
  /**
   * QEMU machine type. Hosts the VM moves between need the same QEMU version, or a versioned type such as "pc-i440fx-7.2".
   * @default "pc"
   */
  readonly machine?: string;
  /**
   * QEMU CPU model.
   * @default "qemu64", which runs under TCG and KVM and migrates between any x86 hosts
   */
  readonly cpuModel?: string;
  /**
   * The accelerator.
   * @default Accelerator.AUTO
   */
  readonly accelerator?: Accelerator;
}

/** The provider's limits, checked early here. */
export const LIMITS = { maxVcpus: VM_LIMITS.maxVcpus, minMemoryMib: VM_LIMITS.minMemoryMiB, maxMemoryMib: VM_LIMITS.maxMemoryMiB, maxDiskSizeMib: VM_LIMITS.maxDiskSizeMiB } as const;

const VM_NAME = new RegExp(`^[a-z][a-z0-9-]{0,${VM_LIMITS.nameMaxLength - 1}}$`);

/** The VM name: props.name, or one derived from the construct id. Throws when it is not a valid name. */
export function machineName(scope: IConstruct, props: MachineProps): string {
  const name =
    props.name ??
    scope.node.id
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  checkPattern(scope, props.name === undefined ? 'name (from the construct id)' : 'name', name, VM_NAME, {
    allowed: `1-${VM_LIMITS.nameMaxLength} of a-z, 0-9 and "-", starting with a letter`,
    fix: props.name === undefined ? 'set name explicitly, e.g. name: "web-1"' : 'use a name like "web-1"',
  });
  return name;
}

/** Construct-time checks of the machine props. */
export function checkMachineProps(scope: IConstruct, props: MachineProps): void {
  if (props.boot?.config.kernelPath === undefined && (props.disks ?? []).length === 0) {
    throw new OrbitValidationError(scope, {
      what: 'The VM has nothing to boot: it boots from its first disk (the default boot) but has no disks',
      prop: 'disks',
      value: props.disks ?? [],
      fix: 'add a disk (disks: [{ sizeMib: 8192 }]) holding a boot loader, or boot a kernel: boot: Boot.kernel({ kernelPath: ... })',
    });
  }
  checkWholeNumber(scope, 'vcpus', props.vcpus, { min: 1, max: LIMITS.maxVcpus, fix: 'give the number of virtual CPUs, e.g. 2' });
  checkWholeNumber(scope, 'memoryMib', props.memoryMib, { min: LIMITS.minMemoryMib, max: LIMITS.maxMemoryMib, fix: 'give the guest memory in MiB, e.g. 512' });
  (props.disks ?? []).forEach((disk, i) => checkWholeNumber(scope, `disks[${i}].sizeMib`, disk.sizeMib, { min: 1, max: LIMITS.maxDiskSizeMib, fix: 'give the disk size in MiB, e.g. 1024' }));
}

/** Checks one NIC. */
export function checkNetwork(scope: IConstruct, prop: string, network: NetworkProps): void {
  checkPattern(scope, `${prop}.bridge`, network.bridge, /^[A-Za-z0-9_.-]{1,15}$/, {
    allowed: 'a Linux interface name (1-15 of letters, digits, "_", "." and "-")',
    fix: 'name the bridge on the hosts, e.g. "vmbr0"',
  });
  checkPattern(scope, `${prop}.mac`, network.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, {
    allowed: 'six lowercase hex pairs separated by ":"',
    fix: 'use a locally administered address like "52:54:00:12:34:56", or leave mac unset',
  });
}

/** The L1 attributes common to orbit_vm and orbit_ft_vm. */
export function machineConfig(name: string, props: MachineProps) {
  return {
    name,
    vcpus: props.vcpus,
    memoryMib: props.memoryMib,
    machine: props.machine,
    cpuModel: props.cpuModel,
    accelerator: props.accelerator,
    ...(props.boot ?? Boot.fromFirstDisk()).config,
    disk: props.disks?.map((d) => ({ sizeMib: d.sizeMib, format: d.format, image: d.image?.path })),
  };
}

/** A number we can count with (capacity): the value when known, the provider default otherwise. */
export function countable(value: number | undefined, fallback: number): number {
  return value === undefined || Token.isUnresolved(value) ? fallback : value;
}

/** Every disk made from an image is qcow2, and its image is placed on every host the VM may run on. */
export function checkDiskImages(scope: IConstruct, disks: readonly DiskProps[] | undefined, hosts: ReadonlyArray<{ prop: string; host: Host }>): void {
  (disks ?? []).forEach((disk, i) => {
    if (!disk.image) return;
    if (disk.format === DiskFormat.RAW) {
      throw new OrbitValidationError(scope, {
        what: `disks[${i}] starts from an image, so it is a qcow2 overlay and cannot be raw`,
        prop: `disks[${i}].format`,
        value: disk.format,
        allowed: 'DiskFormat.QCOW2',
        fix: 'leave format unset',
      });
    }
    const image = disk.image;
    const missing = hosts.filter(({ host }) => !image.isOn(host));
    if (missing.length > 0) {
      throw new OrbitValidationError(scope, {
        what: `disks[${i}] starts from image "${image.imageName}", which is not placed on ${missing.map(({ prop, host }) => `${prop} "${host.hostName}"`).join(', ')}`,
        prop: `disks[${i}].image`,
        value: image.imageName,
        allowed: `an image whose hosts include ${missing.map(({ host }) => `"${host.hostName}"`).join(', ')} (it has ${image.hosts.map((h) => `"${h.hostName}"`).join(', ')})`,
        fix: `add ${missing.map(({ host }) => `"${host.hostName}"`).join(', ')} to the image's hosts`,
      });
    }
  });
}
