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
import { isHostUnreachable, RemoteHost } from '../config/host-connections';
import { vmPaths } from '../qemu/qemu-command-line';
import { Accelerator, validateVmSpec, VM_LIMITS, VM_SPEC_DEFAULTS, VmSpec, VmSpecError, VmSpecInput } from '../qemu/vm-spec';
import { acceleratorOnHost } from './host-data-source';
import { IMAGE_DIR } from '../images/image-store';

export const VM_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const ACCELERATORS = ['auto', 'kvm', 'tcg'] as const;
const DISK_FORMATS = ['qcow2', 'raw'] as const;
const NIC_MODELS = ['virtio-net-pci', 'e1000', 'rtl8139'] as const;
const PATH = /^\/[^\s]*$/;
const IMAGE_PATH = new RegExp(`^${IMAGE_DIR}/[0-9a-f]{64}$`);
const MIB = 1024 * 1024;

/**
 * How a change that needs a new QEMU process applies: `restart`, a planned restart of the VM on
 * the same disks (orbit_vm); `rebuild`, a planned restart of the pair, rebuilt on the disks of
 * its active side (orbit_ft_vm). Never a replacement: no change deletes a disk, only destroy does.
 */
export type NewProcessChange = 'restart' | 'rebuild';

const CHANGE_NEEDS: Record<NewProcessChange, string> = {
  restart: 'Changing it restarts the VM on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms).',
  rebuild: "Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).",
};

/** `disk` blocks; `growsInPlace` says whether a larger size_mib is applied to the running VM. */
export function diskBlock(options: { growsInPlace: boolean; change: NewProcessChange }) {
  const where = options.change === 'restart' ? "the VM's host" : 'both hosts of the pair and every spare';
  return block({
    description: `${diskDescription(options.change)} With image, the disk starts as a copy-on-write overlay on an orbit_image placed on ${where}.`,
    attributes: {
      ...diskAttributes(options),
      image: optional(t.string, {
        description: `Start the disk from this image: \`orbit_image.NAME.path\` (the image must be placed on ${where}; checked at plan time once the image exists, else before anything starts). The disk is a qcow2 overlay on the read-only image, grown to size_mib (at least the image's virtual size; the guest grows its filesystem, as cloud images do on first boot). Fixed once the disk exists: a change is refused at plan time.`,
        validators: [matches(IMAGE_PATH, `${IMAGE_DIR}/<sha256>, the path attribute of an orbit_image`, `${IMAGE_DIR}/${'0'.repeat(64)}`)],
      }),
    },
  });
}

function diskDescription(change: NewProcessChange): string {
  return change === 'restart'
    ? 'A disk image the VM owns, in /var/lib/orbit/<name>/disk<index>.<format>: created if it is not there yet (empty, or from an image), kept across restarts (a removed disk block detaches the image and keeps it), deleted only when the VM is destroyed (unless keep_disks_on_destroy).'
    : 'A disk image the VM owns, in /var/lib/orbit/<name>/disk<index>.<format> on each host of the pair; created empty or from an image, deleted when the VM is destroyed.';
}

function diskAttributes(options: { growsInPlace: boolean; change: NewProcessChange }) {
  const restarts = options.change === 'restart';
  return {
    size_mib: required(t.number, {
      description: options.growsInPlace
        ? 'Virtual size in MiB. Growing it resizes the disk under the running guest; shrinking is refused at plan time.'
        : `Virtual size in MiB. ${CHANGE_NEEDS[options.change]}`,
      validators: [integer(), between(1, VM_LIMITS.maxDiskSizeMiB)],
    }),
    format: optional(t.string, {
      default: 'qcow2',
      description: restarts
        ? 'Image format: "qcow2" (default, allocated as written) or "raw". Fixed once the disk exists (a change is refused at plan time: the image would have to be converted).'
        : `Image format: "qcow2" (default, allocated as written) or "raw". ${CHANGE_NEEDS[options.change]}`,
      validators: [oneOf<string>(DISK_FORMATS)],
    }),
    path: computed(t.string, { description: 'Where the image is on the host.' }),
  };
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

/** The attributes every VM resource has (placement and memory are the resource's own). None forces a replacement. */
export function vmMachineAttributes(change: NewProcessChange) {
  return {
    id: computed(t.string, { useStateForUnknown: true, description: 'The VM name.' }),
    name: required(t.string, {
      description: 'VM name: 1-40 of a-z, 0-9 and "-", starting with a letter. Unique among the hosts of the provider. A rename is refused: the name names the VM\'s processes and disks on its hosts.',
      validators: [matches(VM_NAME_PATTERN, '1-40 of a-z, 0-9 and "-", starting with a letter', 'web-1')],
    }),
    vcpus: optional(t.number, {
      default: 1,
      description: `Virtual CPUs. Default 1. ${CHANGE_NEEDS[change]}`,
      validators: [integer(), between(1, VM_LIMITS.maxVcpus)],
    }),
    accelerator: optional(t.string, {
      default: 'auto',
      description: `"kvm", "tcg", or "auto" (default): what a test boot on the host found to work (the orbit_host probe, cached on the host). "auto" and the accelerator it found are the same; only a switch to another one is a change. ${CHANGE_NEEDS[change]}`,
      validators: [oneOf<string>(ACCELERATORS)],
    }),
    accelerator_in_use: computed(t.string, { description: 'The accelerator the VM runs with: "kvm" or "tcg".' }),
    machine: optional(t.string, {
      default: VM_SPEC_DEFAULTS.machine,
      description: `QEMU machine type. Default "${VM_SPEC_DEFAULTS.machine}". Hosts the VM moves between need the same QEMU version, or a versioned type such as "pc-i440fx-7.2". ${CHANGE_NEEDS[change]}`,
      validators: [matches(/^[A-Za-z0-9_.+-]{1,64}$/, 'a QEMU machine type name', 'pc-i440fx-7.2')],
    }),
    cpu_model: optional(t.string, {
      default: VM_SPEC_DEFAULTS.cpuModel,
      description: `QEMU CPU model. Default "${VM_SPEC_DEFAULTS.cpuModel}", which runs under TCG and KVM and migrates between any x86 hosts. ${CHANGE_NEEDS[change]}`,
      validators: [matches(/^[A-Za-z0-9_.+-]{1,64}$/, 'a QEMU CPU model name', 'qemu64')],
    }),
    kernel_path: optional(t.string, {
      description: `Direct kernel boot: the kernel image on the host (every host the VM may run on). Without it the VM boots from its first disk. ${CHANGE_NEEDS[change]}`,
      validators: [matches(PATH, 'an absolute path without spaces', '/var/lib/orbit/images/vmlinuz')],
    }),
    initrd_path: optional(t.string, {
      description: `Direct kernel boot: the initramfs on the host. Needs kernel_path. ${CHANGE_NEEDS[change]}`,
      validators: [matches(PATH, 'an absolute path without spaces', '/var/lib/orbit/images/initrd.img')],
    }),
    kernel_cmdline: optional(t.string, {
      description: `Direct kernel boot: the kernel command line. Needs kernel_path. ${CHANGE_NEEDS[change]}`,
      validators: [matches(/^[^\n\0]{0,2048}$/, 'one line of at most 2048 characters', 'console=ttyS0 root=/dev/vda1')],
    }),
    status: computed(t.string, {
      description: 'QEMU\'s run state when last read: "running", "paused", ...; "stopped" for an orbit_vm powered off (running = false); "unreachable" when its host did not answer.',
    }),
  } as const;
}

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
  disk: Array<{ size_mib: number; format: string | null; path: string | null; image: string | null }>;
  network: Array<{ bridge: string; mac: string | null; model: string | null }>;
}

type MaybeUnknownMachine = { [K in keyof VmMachine]?: unknown } & {
  name?: string;
  accelerator?: string | null;
  disk?: Array<{ size_mib?: number; format?: string | null; path?: string | null; image?: string | null } | undefined>;
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
 * Plans what is known before apply: the id, disk paths and derived MACs. A disk index that
 * exists keeps its image whatever else changes, so its format is fixed and its size only
 * grows: anything else fails the plan. `configuredMacs` says which NICs set their MAC.
 */
export function planMachine(planned: MaybeUnknownMachine, prior: VmMachine | null, configuredMacs: boolean[]): void {
  const name = planned.name;
  if (name !== undefined) planned.id = name;
  planned.disk?.forEach((disk, i) => {
    if (!disk) return;
    if (name !== undefined && typeof disk.format === 'string') disk.path = diskPath(name, i, disk.format);
    if (typeof disk.image === 'string' && disk.format === 'raw') {
      throw new OrbitError(`disk[${i}] is made from an image, so its format must be qcow2 (an overlay on the image), not raw`, {
        attribute: ['disk', i, 'format'],
        value: disk.format,
        allowed: 'qcow2',
        fix: 'remove format (qcow2 is the default) or set format = "qcow2"',
      });
    }
    const before = prior?.disk[i];
    if (!before) return;
    if (disk.image !== undefined && (disk.image ?? null) !== (before.image ?? null)) {
      throw new OrbitError(`disk[${i}].image cannot change from ${before.image ?? 'none'} to ${disk.image ?? 'none'}: the disk ${before.path} exists and holds the guest's data`, {
        attribute: ['disk', i, 'image'],
        value: disk.image,
        allowed: `${before.image ?? 'none (an empty disk)'} (a disk keeps the image it was made from)`,
        detail: 'Orbit never re-creates a disk on a change; only destroying the VM deletes its disks.',
        fix: 'keep image as it was; to start a disk from the new image, add it as a new disk block (or taint the VM to start over, losing its data)',
      });
    }
    if (typeof disk.format === 'string' && disk.format !== before.format) {
      throw new OrbitError(`disk[${i}].format cannot change from ${before.format} to ${disk.format}: the image ${before.path} holds the disk's data`, {
        attribute: ['disk', i, 'format'],
        value: disk.format,
        allowed: `${before.format} (a disk keeps its format)`,
        detail: 'Orbit never converts or re-creates a disk image on a change; only destroying the VM deletes its disks.',
        fix: `keep format = "${before.format}"`,
      });
    }
    if (typeof disk.size_mib === 'number' && disk.size_mib < before.size_mib) {
      throw new OrbitError(`disk[${i}].size_mib cannot shrink from ${before.size_mib} to ${disk.size_mib}`, {
        attribute: ['disk', i, 'size_mib'],
        value: disk.size_mib,
        allowed: `${before.size_mib} or more (disks only grow)`,
        detail: `Shrinking ${before.path} would cut off the data at its end.`,
        fix: `keep size_mib at ${before.size_mib} or more`,
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

/**
 * What in the shared part changes that needs a new QEMU process (a restart or a replacement),
 * one line each, e.g. "vcpus 1 -> 2"; empty when nothing does. Unknown values count as changes.
 */
export function machineChanges(prior: VmMachine, planned: MaybeUnknownMachine, options: { diskGrowsInPlace: boolean }): string[] {
  const changes: string[] = [];
  const show = (value: unknown) => (value === undefined ? '(known after apply)' : JSON.stringify(value));
  const compare = (label: string, before: unknown, after: unknown) => {
    if (before !== after) changes.push(`${label} ${show(before)} -> ${show(after)}`);
  };
  compare('name', prior.name, planned.name);
  compare('vcpus', prior.vcpus, planned.vcpus);
  compare('machine', prior.machine, planned.machine);
  compare('cpu_model', prior.cpu_model, planned.cpu_model);
  compare('kernel_path', prior.kernel_path, planned.kernel_path);
  compare('initrd_path', prior.initrd_path, planned.initrd_path);
  compare('kernel_cmdline', prior.kernel_cmdline, planned.kernel_cmdline);
  if (typeof planned.accelerator === 'string' && planned.accelerator !== 'auto') compare('accelerator', prior.accelerator_in_use, planned.accelerator);
  const disks = planned.disk;
  if (!Array.isArray(disks)) changes.push('disks (known after apply)');
  else {
    compare('disks', prior.disk.length, disks.length);
    disks.forEach((d, i) => {
      const before = prior.disk[i];
      if (!before) return;
      compare(`disk[${i}].format`, before.format, d?.format);
      if (!options.diskGrowsInPlace) compare(`disk[${i}].size_mib`, before.size_mib, d?.size_mib);
    });
  }
  const nics = planned.network;
  if (!Array.isArray(nics)) changes.push('NICs (known after apply)');
  else {
    compare('NICs', prior.network.length, nics.length);
    nics.forEach((n, i) => {
      const before = prior.network[i];
      if (!before) return;
      compare(`network[${i}].bridge`, before.bridge, n?.bridge);
      compare(`network[${i}].model`, before.model, n?.model);
      if (n?.mac !== undefined) compare(`network[${i}].mac`, before.mac, n.mac);
    });
  }
  return changes;
}

/** The host layer's spec for a configured VM (validated; a problem is an OrbitError listing every issue). */
export function specFrom(config: VmMachine, options: { memoryMiB: number; accelerator: Accelerator; qemuBinary: string; cdrom?: string }): VmSpec {
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
      return { path: diskPath(config.name, i, format), format, sizeMiB: disk.size_mib, ...(disk.image ? { backingImage: disk.image } : {}) };
    }),
    nics: config.network.map((nic, i) => ({ mac: nic.mac ?? derivedMac(config.name, i), bridge: nic.bridge, model: (nic.model ?? VM_SPEC_DEFAULTS.nicModel) as VmSpec['nics'][number]['model'] })),
    ...(options.cdrom !== undefined ? { cdrom: options.cdrom } : {}),
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
    disk: spec.disks.map((disk, i) => ({
      size_mib: Math.ceil((observed.diskSizesBytes[i] ?? (disk.sizeMiB ?? 0) * MIB) / MIB),
      format: disk.format,
      path: disk.path,
      image: disk.backingImage ?? null,
    })),
    network: spec.nics.map((nic) => ({ bridge: nic.bridge, mac: nic.mac, model: nic.model })),
  };
}

/**
 * Every disk image the plan knows is placed on every host the VM may run on; an error names
 * the disk, the image and the hosts without it. An image created in the same apply has no path
 * yet (known after apply): the host layer checks it then, before anything starts. A host that
 * cannot be reached is skipped here (the apply reaches it or fails).
 */
export async function checkImagesOnHosts(provider: ProviderContext, disks: MaybeUnknownMachine['disk'], hosts: readonly string[], signal: AbortSignal): Promise<void> {
  const fromImages = (disks ?? []).flatMap((disk, index) => (typeof disk?.image === 'string' ? [{ index, image: disk.image }] : []));
  if (fromImages.length === 0 || hosts.length === 0) return;
  const images = [...new Set(fromImages.map((d) => d.image))];
  const missingOn = new Map<string, string[]>();
  await Promise.all(
    [...new Set(hosts)].map(async (host) => {
      try {
        // The paths passed the IMAGE_PATH validator: hex digits under IMAGE_DIR, safe in the shell.
        const { stdout } = await provider.remote(host, { signal }).exec(`${images.map((image) => `[ -f ${image} ] || echo ${image}`).join('\n')}\ntrue`, { timeoutMs: 20_000 });
        for (const image of stdout.split('\n').filter(Boolean)) missingOn.set(image, [...(missingOn.get(image) ?? []), host]);
      } catch (error) {
        if (!isHostUnreachable(error)) throw error;
      }
    }),
  );
  const first = fromImages.find((d) => missingOn.has(d.image));
  if (!first) return;
  const absent = missingOn.get(first.image)!.sort();
  throw new OrbitError(`disk[${first.index}].image ${first.image} is not placed on ${absent.map((h) => `"${h}"`).join(', ')}`, {
    attribute: ['disk', first.index, 'image'],
    value: first.image,
    allowed: `an image placed on every host the VM may run on (${[...new Set(hosts)].map((h) => `"${h}"`).join(', ')})`,
    fix: `add ${absent.map((h) => `"${h}"`).join(', ')} to the hosts of the orbit_image whose path this is`,
  });
}

/** Whether a plan must check the disks' images: a new VM, new hosts, or disks added or made from another image. */
export function imagesNeedCheck(prior: VmMachine | null, planned: MaybeUnknownMachine, priorHosts: readonly string[], plannedHosts: readonly string[]): boolean {
  if (prior === null) return true;
  if (plannedHosts.some((h) => !priorHosts.includes(h))) return true;
  return (planned.disk ?? []).some((disk, i) => typeof disk?.image === 'string' && disk.image !== prior.disk[i]?.image);
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

/** A rename is refused for every VM resource: the name names the VM's processes and disks on its hosts. */
export function renameRefused(typeName: 'orbit_vm' | 'orbit_ft_vm', priorName: string, name: string): OrbitError {
  const what = typeName === 'orbit_vm' ? 'VM' : 'pair';
  return new OrbitError(`${typeName} "${priorName}" cannot be renamed to "${name}"`, {
    attribute: 'name',
    value: name,
    allowed: `"${priorName}" (a VM keeps its name)`,
    detail: `The name names the ${what}'s processes, taps and disks on its hosts (/var/lib/orbit/${priorName}/); a rename would be a new ${what} with new, empty disks, and Orbit never deletes disks on a change.`,
    fix: `keep name = "${priorName}"; to start over under the new name (a new ${what} with new disks; the old disks are deleted${typeName === 'orbit_vm' ? ' unless keep_disks_on_destroy = true' : ''}), mark it for replacement and apply: terraform taint ADDRESS && terraform apply`,
  });
}
