/**
 * What a VM is made of, as orbit_vm and orbit_ft_vm declare it: name, vCPUs, accelerator,
 * machine and CPU model, boot, disks and NICs. The shared schema pieces, their validation and
 * planning (disk paths, MACs, the accelerator), and the two-way mapping to the host layer's
 * VmSpec. Memory and placement differ between the resources and stay with them.
 */
import { createHash } from 'crypto';
import { AttributePath } from '../protocol/attribute-path';
import { t } from '../protocol/cty-type';
import { OrbitError } from '../framework/errors';
import { ProviderContext } from '../config/provider-context';
import { block, computed, optional, optionalComputed, required } from '../framework/schema-builder';
import { between, integer, matches, oneOf } from '../framework/validators';
import { RemoteHost } from '../config/host-connections';
import { vmPaths } from '../qemu/qemu-command-line';
import { Accelerator, validateVmSpec, VM_LIMITS, VM_SPEC_DEFAULTS, VmSpec, VmSpecError, VmSpecInput } from '../qemu/vm-spec';
import { acceleratorOnHost } from './host-data-source';

export const VM_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const ACCELERATORS = ['auto', 'kvm', 'tcg'] as const;
const DISK_FORMATS = ['qcow2', 'raw'] as const;
const NIC_MODELS = ['virtio-net-pci', 'e1000', 'rtl8139'] as const;
const PATH = /^\/[^\s]*$/;
const MIB = 1024 * 1024;

/** `disk` blocks; `growsInPlace` says whether a larger size_mib is applied to the running VM (else it replaces it). */
export function diskBlock(options: { growsInPlace: boolean }) {
  return block({
    description: 'A disk image the VM owns, in /var/lib/orbit/<name>/disk<index>.<format>; created empty, deleted with the VM.',
    attributes: {
      size_mib: required(t.number, {
        requiresReplace: !options.growsInPlace,
        description: options.growsInPlace
          ? 'Virtual size in MiB. Growing it resizes the disk under the running guest; shrinking is refused at plan time.'
          : 'Virtual size in MiB. Changing it replaces the VM.',
        validators: [integer(), between(1, VM_LIMITS.maxDiskSizeMiB)],
      }),
      format: optional(t.string, {
        default: 'qcow2',
        requiresReplace: true,
        description: 'Image format: "qcow2" (default, allocated as written) or "raw".',
        validators: [oneOf<string>(DISK_FORMATS)],
      }),
      path: computed(t.string, { description: 'Where the image is on the host.' }),
    },
  });
}

export const networkBlock = block({
  description: 'A NIC on a bridge of the host (the bridge must exist on every host the VM may run on).',
  attributes: {
    bridge: required(t.string, {
      description: 'The host bridge the NIC\'s tap joins, e.g. "vmbr0".',
      validators: [matches(/^[A-Za-z0-9_.-]{1,15}$/, 'a Linux interface name (1-15 of letters, digits, "_", "." and "-")', 'vmbr0')],
    }),
    mac: optionalComputed(t.string, {
      description: 'MAC address. Default: 52:54:00 followed by three bytes derived from the VM name and the NIC index (stable across plans).',
      validators: [matches(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'six lowercase hex pairs separated by ":"', '52:54:00:12:34:56')],
    }),
    model: optional(t.string, {
      default: 'virtio-net-pci',
      description: 'NIC model: "virtio-net-pci" (default), "e1000" or "rtl8139".',
      validators: [oneOf<string>(NIC_MODELS)],
    }),
  },
});

/** The attributes every VM resource has (placement and memory are the resource's own). */
export const vmMachineAttributes = {
  id: computed(t.string, { useStateForUnknown: true, description: 'The VM name.' }),
  name: required(t.string, {
    requiresReplace: true,
    description: 'VM name: 1-40 of a-z, 0-9 and "-", starting with a letter. Unique among the hosts of the provider.',
    validators: [matches(VM_NAME_PATTERN, '1-40 of a-z, 0-9 and "-", starting with a letter', 'web-1')],
  }),
  vcpus: optional(t.number, {
    default: 1,
    requiresReplace: true,
    description: 'Virtual CPUs. Default 1. Changing it restarts the VM (replacement).',
    validators: [integer(), between(1, VM_LIMITS.maxVcpus)],
  }),
  accelerator: optional(t.string, {
    default: 'auto',
    description: '"kvm", "tcg", or "auto" (default): what a test boot on the host found to work (the orbit_host probe, cached on the host).',
    validators: [oneOf<string>(ACCELERATORS)],
  }),
  accelerator_in_use: computed(t.string, { description: 'The accelerator the VM runs with: "kvm" or "tcg".' }),
  machine: optional(t.string, {
    default: VM_SPEC_DEFAULTS.machine,
    requiresReplace: true,
    description: `QEMU machine type. Default "${VM_SPEC_DEFAULTS.machine}". Hosts the VM moves between need the same QEMU version, or a versioned type such as "pc-i440fx-7.2".`,
    validators: [matches(/^[A-Za-z0-9_.+-]{1,64}$/, 'a QEMU machine type name', 'pc-i440fx-7.2')],
  }),
  cpu_model: optional(t.string, {
    default: VM_SPEC_DEFAULTS.cpuModel,
    requiresReplace: true,
    description: `QEMU CPU model. Default "${VM_SPEC_DEFAULTS.cpuModel}", which runs under TCG and KVM and migrates between any x86 hosts.`,
    validators: [matches(/^[A-Za-z0-9_.+-]{1,64}$/, 'a QEMU CPU model name', 'qemu64')],
  }),
  kernel_path: optional(t.string, {
    requiresReplace: true,
    description: 'Direct kernel boot: the kernel image on the host (every host the VM may run on). Without it the VM boots from its first disk.',
    validators: [matches(PATH, 'an absolute path without spaces', '/var/lib/orbit/images/vmlinuz')],
  }),
  initrd_path: optional(t.string, {
    requiresReplace: true,
    description: 'Direct kernel boot: the initramfs on the host. Needs kernel_path.',
    validators: [matches(PATH, 'an absolute path without spaces', '/var/lib/orbit/images/initrd.img')],
  }),
  kernel_cmdline: optional(t.string, {
    requiresReplace: true,
    description: 'Direct kernel boot: the kernel command line. Needs kernel_path.',
    validators: [matches(/^[^\n\0]{0,2048}$/, 'one line of at most 2048 characters', 'console=ttyS0 root=/dev/vda1')],
  }),
  status: computed(t.string, { description: 'QEMU\'s run state when last read: "running", "paused", ...' }),
} as const;

/** The model of the shared part, as both resources' models contain it. */
export interface VmMachine {
  id: string | null;
  name: string;
  vcpus: number | null;
  accelerator: string | null;
  accelerator_in_use: string | null;
  machine: string | null;
  cpu_model: string | null;
  kernel_path: string | null;
  initrd_path: string | null;
  kernel_cmdline: string | null;
  status: string | null;
  disk: Array<{ size_mib: number; format: string | null; path: string | null }>;
  network: Array<{ bridge: string; mac: string | null; model: string | null }>;
}

type MaybeUnknownMachine = { [K in keyof VmMachine]?: unknown } & {
  name?: string;
  accelerator?: string | null;
  disk?: Array<{ size_mib?: number; format?: string | null; path?: string | null } | undefined>;
  network?: Array<{ bridge?: string; mac?: string | null; model?: string | null } | undefined>;
};

/** Boot settings that only make sense together; values may be unknown (undefined). */
export function validateBoot(config: MaybeUnknownMachine): void {
  if (config.kernel_path !== null) return;
  for (const attribute of ['initrd_path', 'kernel_cmdline'] as const) {
    if (config[attribute] !== null && config[attribute] !== undefined) {
      throw new OrbitError(`${attribute} is set without kernel_path`, { attribute, fix: `set kernel_path to the kernel image on the host, or remove ${attribute}` });
    }
  }
  if (Array.isArray(config.disk) && config.disk.length === 0) {
    throw new OrbitError('The VM has nothing to boot: no kernel_path and no disk', {
      attribute: 'kernel_path',
      fix: 'set kernel_path (direct kernel boot), or add a disk block with a bootable image',
    });
  }
}

/**
 * Plans what is known before apply: the id, disk paths and derived MACs; refuses a shrinking
 * disk (with `prior`, the same VM's state). `configuredMacs` says which NICs set their MAC.
 */
export function planMachine(planned: MaybeUnknownMachine, prior: VmMachine | null, configuredMacs: boolean[]): void {
  const name = planned.name;
  if (name !== undefined) planned.id = name;
  planned.disk?.forEach((disk, i) => {
    if (!disk) return;
    if (name !== undefined && typeof disk.format === 'string') disk.path = diskPath(name, i, disk.format);
    const before = prior?.disk[i];
    if (before && typeof disk.size_mib === 'number' && disk.size_mib < before.size_mib && before.format === disk.format && prior?.disk.length === planned.disk?.length) {
      throw new OrbitError(`disk[${i}].size_mib cannot shrink from ${before.size_mib} to ${disk.size_mib}`, {
        attribute: ['disk', i, 'size_mib'],
        value: disk.size_mib,
        allowed: `${before.size_mib} or more (disks only grow)`,
        detail: `Shrinking ${before.path} would cut off the data at its end.`,
        fix: `keep size_mib at ${before.size_mib} or more; to re-create the VM with an empty smaller disk, run terraform taint ADDRESS and apply`,
      });
    }
  });
  planned.network?.forEach((nic, i) => {
    if (nic && nic.mac === undefined && !configuredMacs[i] && name !== undefined) nic.mac = derivedMac(name, i);
  });
}

/**
 * The accelerator planned: an explicit one is known now; "auto" keeps what the VM runs with
 * (unless it is replaced) or is decided at apply. Returns true when the change needs a new QEMU.
 */
export function planAccelerator(planned: MaybeUnknownMachine, prior: VmMachine | null, replacing: boolean): boolean {
  const accelerator = planned.accelerator;
  if (typeof accelerator === 'string' && accelerator !== 'auto') planned.accelerator_in_use = accelerator;
  else if (prior !== null && accelerator === 'auto' && !replacing) planned.accelerator_in_use = prior.accelerator_in_use;
  else planned.accelerator_in_use = undefined;
  return prior !== null && typeof accelerator === 'string' && accelerator !== 'auto' && accelerator !== prior.accelerator_in_use;
}

/** Whether anything in the shared part that needs a new QEMU changes (the schema's requiresReplace, which modifyPlan cannot see). */
export function machineChanges(prior: VmMachine, planned: MaybeUnknownMachine, options: { diskGrowsInPlace: boolean }): boolean {
  const disks = planned.disk;
  const nics = planned.network;
  return (
    planned.name !== prior.name ||
    planned.vcpus !== prior.vcpus ||
    planned.machine !== prior.machine ||
    planned.cpu_model !== prior.cpu_model ||
    planned.kernel_path !== prior.kernel_path ||
    planned.initrd_path !== prior.initrd_path ||
    planned.kernel_cmdline !== prior.kernel_cmdline ||
    (typeof planned.accelerator === 'string' && planned.accelerator !== 'auto' && planned.accelerator !== prior.accelerator_in_use) ||
    (Array.isArray(disks) &&
      (disks.length !== prior.disk.length || disks.some((d, i) => d?.format !== prior.disk[i].format || (!options.diskGrowsInPlace && d?.size_mib !== prior.disk[i].size_mib)))) ||
    (Array.isArray(nics) &&
      (nics.length !== prior.network.length ||
        nics.some((n, i) => n?.bridge !== prior.network[i].bridge || n?.model !== prior.network[i].model || (n?.mac !== undefined && n.mac !== prior.network[i].mac))))
  );
}

/** The host layer's spec for a configured VM (validated; a problem is an OrbitError listing every issue). */
export function specFrom(config: VmMachine, options: { memoryMiB: number; accelerator: Accelerator; qemuBinary: string }): VmSpec {
  const input: VmSpecInput = {
    name: config.name,
    vcpus: config.vcpus ?? 1,
    memoryMiB: options.memoryMiB,
    accelerator: options.accelerator,
    qemuBinary: options.qemuBinary,
    machine: config.machine ?? VM_SPEC_DEFAULTS.machine,
    cpuModel: config.cpu_model ?? VM_SPEC_DEFAULTS.cpuModel,
    boot:
      config.kernel_path !== null
        ? {
            kind: 'kernel',
            kernel: config.kernel_path,
            ...(config.initrd_path !== null ? { initrd: config.initrd_path } : {}),
            ...(config.kernel_cmdline !== null ? { append: config.kernel_cmdline } : {}),
          }
        : { kind: 'disk', diskIndex: 0 },
    disks: config.disk.map((disk, i) => {
      const format = (disk.format ?? 'qcow2') as 'qcow2' | 'raw';
      return { path: diskPath(config.name, i, format), format, sizeMiB: disk.size_mib };
    }),
    nics: config.network.map((nic, i) => ({ mac: nic.mac ?? derivedMac(config.name, i), bridge: nic.bridge, model: (nic.model ?? VM_SPEC_DEFAULTS.nicModel) as VmSpec['nics'][number]['model'] })),
  };
  try {
    return validateVmSpec(input);
  } catch (error) {
    if (!(error instanceof VmSpecError)) throw error;
    throw new OrbitError(`VM "${config.name}" cannot be turned into a QEMU command line`, {
      detail: error.issues.map((i) => `${i.field}: ${i.problem}`).join('\n'),
      fix: error.issues.map((i) => i.fix).join('; '),
    });
  }
}

/** The shared part of a VM's state, from the spec it runs with and what QMP says. */
export function machineFromSpec(spec: VmSpec, observed: { status: string; diskSizesBytes: number[] }, known: { accelerator?: string | null }): VmMachine {
  const kernel = spec.boot.kind === 'kernel' ? spec.boot : undefined;
  return {
    id: spec.name,
    name: spec.name,
    vcpus: spec.vcpus,
    accelerator: known.accelerator ?? 'auto',
    accelerator_in_use: spec.accelerator,
    machine: spec.machine,
    cpu_model: spec.cpuModel,
    kernel_path: kernel?.kernel ?? null,
    initrd_path: kernel?.initrd ?? null,
    kernel_cmdline: kernel?.append ?? null,
    status: observed.status,
    disk: spec.disks.map((disk, i) => ({ size_mib: Math.ceil((observed.diskSizesBytes[i] ?? (disk.sizeMiB ?? 0) * MIB) / MIB), format: disk.format, path: disk.path })),
    network: spec.nics.map((nic) => ({ bridge: nic.bridge, mac: nic.mac, model: nic.model })),
  };
}

/** "auto" becomes what the host's probe found (cached on the host); an explicit accelerator is taken as is. */
export async function resolveAccelerator(provider: ProviderContext, remote: RemoteHost, wanted: string | null, attribute: AttributePath = ['accelerator']): Promise<Accelerator> {
  if (wanted === 'kvm' || wanted === 'tcg') return wanted;
  return (await acceleratorOnHost(remote, provider.host(remote.name).qemuBinary, attribute)).accelerator;
}

export function diskPath(name: string, index: number, format: string): string {
  return `${vmPaths(name).stateDir}/disk${index}.${format}`;
}

/** 52:54:00 (QEMU's prefix) + three bytes of sha256(name/index): the same on every plan, distinct per VM and NIC. */
export function derivedMac(name: string, index: number): string {
  const bytes = createHash('sha256').update(`${name}/${index}`).digest().subarray(0, 3);
  return ['52', '54', '00', ...[...bytes].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
