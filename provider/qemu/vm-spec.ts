/**
 * What a VM is, as the QEMU process driver needs it: a typed spec, its defaults, and a
 * validation that reports every problem at once (field, bad value, allowed values, fix) before
 * anything touches a host.
 *
 * The validated spec is also what the driver persists on the host (spec.json) and compares
 * on the next start, so it is plain JSON with every default filled in.
 */

export type Accelerator = 'kvm' | 'tcg';
export type DiskFormat = 'raw' | 'qcow2';
export type NicModel = 'virtio-net-pci' | 'e1000' | 'rtl8139';

export interface VmDisk {
  /** Absolute path of the image on the host. */
  path: string;
  format: DiskFormat;
  /** When set and the image does not exist yet, it is created with this size. Without it, the image must exist. */
  sizeMiB?: number;
  /**
   * A new image is created as a qcow2 overlay on this read-only image (its format read from the
   * image), so the disk starts with the image's content. Needs format qcow2 and sizeMiB.
   */
  backingImage?: string;
}

export interface VmNic {
  /** Unicast MAC address, e.g. `52:54:00:89:00:46`. */
  mac: string;
  /** The host bridge the NIC's tap joins (must exist on the host). */
  bridge: string;
  model: NicModel;
}

/** Direct kernel boot (the test guest) or boot from one of the disks. */
export type VmBoot = { kind: 'kernel'; kernel: string; initrd?: string; append?: string } | { kind: 'disk'; diskIndex: number };

export interface VmSpec {
  name: string;
  vcpus: number;
  memoryMiB: number;
  accelerator: Accelerator;
  /** Command name on the host's PATH or an absolute path. */
  qemuBinary: string;
  /** Machine type. For migration between hosts with different QEMU versions, pin a versioned type (pc-i440fx-7.2). */
  machine: string;
  /** CPU model; the default `qemu64` runs under TCG and KVM and migrates between any x86 hosts. */
  cpuModel: string;
  boot: VmBoot;
  disks: VmDisk[];
  nics: VmNic[];
  /** A read-only ISO image on the host in the VM's CD-ROM drive (a cloud-init seed, say); its media can be changed while the VM runs. */
  cdrom?: string;
}

/** What callers give: everything with a default may be left out. */
export interface VmSpecInput {
  name: string;
  vcpus?: number;
  memoryMiB: number;
  accelerator: Accelerator;
  qemuBinary?: string;
  machine?: string;
  cpuModel?: string;
  boot: { kind: 'kernel'; kernel: string; initrd?: string; append?: string } | { kind: 'disk'; diskIndex?: number };
  disks?: Array<{ path: string; format?: DiskFormat; sizeMiB?: number; backingImage?: string }>;
  nics?: Array<{ mac: string; bridge: string; model?: NicModel }>;
  cdrom?: string;
}

export const VM_SPEC_DEFAULTS = {
  /** What the resources (and the constructs) give a VM whose configuration names no memory. */
  memoryMiB: 512,
  vcpus: 1,
  qemuBinary: 'qemu-system-x86_64',
  machine: 'pc',
  cpuModel: 'qemu64',
  diskFormat: 'raw' as DiskFormat,
  nicModel: 'virtio-net-pci' as NicModel,
} as const;

export const VM_LIMITS = {
  nameMaxLength: 40,
  minMemoryMiB: 64,
  maxMemoryMiB: 1024 * 1024,
  maxVcpus: 255,
  maxDisks: 16,
  maxNics: 8,
  maxDiskSizeMiB: 64 * 1024 * 1024,
} as const;

const NAME = new RegExp(`^[a-z][a-z0-9-]{0,${VM_LIMITS.nameMaxLength - 1}}$`);
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const COMMAND = /^[A-Za-z0-9_.+-]+$/;
const ABSOLUTE_PATH = /^\/[^\0\n]*$/;
const QEMU_WORD = /^[A-Za-z0-9_.+-]{1,64}$/;
const ACCELERATORS: readonly Accelerator[] = ['kvm', 'tcg'];
const FORMATS: readonly DiskFormat[] = ['raw', 'qcow2'];
const NIC_MODELS: readonly NicModel[] = ['virtio-net-pci', 'e1000', 'rtl8139'];

export interface VmSpecIssue {
  /** Where in the spec, e.g. `nics[1].mac`. */
  field: string;
  /** The problem, with the value and what is allowed. */
  problem: string;
  fix: string;
}

/** A spec the driver refuses; `issues` lists every problem, and nothing was started. */
export class VmSpecError extends Error {
  constructor(
    readonly vm: string,
    readonly issues: readonly VmSpecIssue[],
  ) {
    super(
      `Invalid spec for VM ${vm}: ${issues.length} problem${issues.length === 1 ? '' : 's'}; nothing was started\n` + issues.map((i) => `  - ${i.field}: ${i.problem}\n    Fix: ${i.fix}`).join('\n'),
    );
    this.name = 'VmSpecError';
  }
}

/** Checks `input`, fills in the defaults, and returns the spec; throws VmSpecError listing every problem. */
export function validateVmSpec(input: unknown): VmSpec {
  const issues: VmSpecIssue[] = [];
  const issue = (field: string, problem: string, fix: string) => issues.push({ field, problem, fix });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new VmSpecError('(unnamed)', [{ field: 'spec', problem: `expected an object, got ${describe(input)}`, fix: 'pass a VmSpecInput object' }]);
  }
  const raw = input as Record<string, unknown>;
  const known = ['name', 'vcpus', 'memoryMiB', 'accelerator', 'qemuBinary', 'machine', 'cpuModel', 'boot', 'disks', 'nics', 'cdrom'];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) issue(key, 'unknown field', `remove it; the fields are ${known.join(', ')}`);
  }

  const name = raw.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    issue(
      'name',
      `${describe(name)} is not a valid VM name (allowed: 1-${VM_LIMITS.nameMaxLength} of a-z, 0-9 and "-", starting with a letter)`,
      'use a name like "db-1"; it becomes a directory and part of interface names on the host',
    );
  }
  const vcpus = raw.vcpus ?? VM_SPEC_DEFAULTS.vcpus;
  if (!isIntegerIn(vcpus, 1, VM_LIMITS.maxVcpus)) issue('vcpus', `${describe(vcpus)} is not an integer from 1 to ${VM_LIMITS.maxVcpus}`, 'give the number of virtual CPUs, e.g. 2');
  const memoryMiB = raw.memoryMiB;
  if (!isIntegerIn(memoryMiB, VM_LIMITS.minMemoryMiB, VM_LIMITS.maxMemoryMiB)) {
    issue('memoryMiB', `${describe(memoryMiB)} is not an integer from ${VM_LIMITS.minMemoryMiB} to ${VM_LIMITS.maxMemoryMiB} (MiB)`, 'give the guest memory in MiB, e.g. 2048');
  }
  const accelerator = raw.accelerator;
  if (!ACCELERATORS.includes(accelerator as Accelerator)) {
    issue('accelerator', `${describe(accelerator)} is not one of ${ACCELERATORS.join(', ')}`, 'use "kvm" where KVM really works on the host (detect it by booting), otherwise "tcg"');
  }
  const qemuBinary = raw.qemuBinary ?? VM_SPEC_DEFAULTS.qemuBinary;
  if (typeof qemuBinary !== 'string' || !(COMMAND.test(qemuBinary) || (ABSOLUTE_PATH.test(qemuBinary) && !/\s/.test(qemuBinary)))) {
    issue(
      'qemuBinary',
      `${describe(qemuBinary)} is neither a command name nor an absolute path without spaces`,
      `use "${VM_SPEC_DEFAULTS.qemuBinary}" (on PATH) or e.g. "/opt/qemu/bin/qemu-system-x86_64"`,
    );
  }
  const machine = raw.machine ?? VM_SPEC_DEFAULTS.machine;
  if (typeof machine !== 'string' || !QEMU_WORD.test(machine)) {
    issue('machine', `${describe(machine)} is not a QEMU machine type name`, `use "pc", "q35" or a versioned type such as "pc-i440fx-7.2" (qemu-system-x86_64 -machine help lists them)`);
  }
  const cpuModel = raw.cpuModel ?? VM_SPEC_DEFAULTS.cpuModel;
  if (typeof cpuModel !== 'string' || !QEMU_WORD.test(cpuModel)) {
    issue('cpuModel', `${describe(cpuModel)} is not a QEMU CPU model name`, `use "${VM_SPEC_DEFAULTS.cpuModel}" (migrates anywhere) or a named model (qemu-system-x86_64 -cpu help)`);
  }

  const cdrom = raw.cdrom;
  if (cdrom !== undefined && (typeof cdrom !== 'string' || !ABSOLUTE_PATH.test(cdrom))) {
    issue('cdrom', `${describe(cdrom)} is not an absolute path`, 'give the ISO image on the host, e.g. "/var/lib/orbit/web-1/cidata.iso", or leave it out');
  }
  const disks = validateDisks(raw.disks, issue);
  const nics = validateNics(raw.nics, issue);
  const boot = validateBoot(raw.boot, disks.length, issue);

  const vmName = typeof name === 'string' && name ? name : '(unnamed)';
  if (issues.length > 0) throw new VmSpecError(vmName, issues);
  return {
    name: name as string,
    vcpus: vcpus as number,
    memoryMiB: memoryMiB as number,
    accelerator: accelerator as Accelerator,
    qemuBinary: qemuBinary as string,
    machine: machine as string,
    cpuModel: cpuModel as string,
    boot: boot!,
    disks,
    nics,
    ...(cdrom !== undefined ? { cdrom: cdrom as string } : {}),
  };
}

type Report = (field: string, problem: string, fix: string) => void;

function validateDisks(value: unknown, issue: Report): VmDisk[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    issue('disks', `expected a list, got ${describe(value)}`, 'give a list of { path, format, sizeMiB } (or leave it out for a diskless VM)');
    return [];
  }
  if (value.length > VM_LIMITS.maxDisks) issue('disks', `${value.length} disks, at most ${VM_LIMITS.maxDisks} are supported`, 'use fewer disks');
  const seen = new Set<string>();
  return value.map((disk: unknown, i): VmDisk => {
    const at = `disks[${i}]`;
    if (typeof disk !== 'object' || disk === null) {
      issue(at, `expected { path, format, sizeMiB }, got ${describe(disk)}`, 'give an object');
      return { path: '', format: 'raw' };
    }
    const d = disk as Record<string, unknown>;
    for (const key of Object.keys(d))
      if (!['path', 'format', 'sizeMiB', 'backingImage'].includes(key)) issue(`${at}.${key}`, 'unknown field', 'remove it; a disk has path, format, sizeMiB and backingImage');
    if (typeof d.path !== 'string' || !ABSOLUTE_PATH.test(d.path) || d.path.includes('/../') || d.path.endsWith('/')) {
      issue(`${at}.path`, `${describe(d.path)} is not an absolute file path`, 'give the image path on the host, e.g. /var/lib/orbit/db-1/root.qcow2');
    } else if (seen.has(d.path)) {
      issue(`${at}.path`, `"${d.path}" is used by an earlier disk too`, 'give every disk its own image');
    } else {
      seen.add(d.path);
    }
    const format = d.format ?? VM_SPEC_DEFAULTS.diskFormat;
    if (!FORMATS.includes(format as DiskFormat)) issue(`${at}.format`, `${describe(format)} is not one of ${FORMATS.join(', ')}`, 'use "raw" or "qcow2", matching the image');
    if (d.sizeMiB !== undefined && !isIntegerIn(d.sizeMiB, 1, VM_LIMITS.maxDiskSizeMiB)) {
      issue(`${at}.sizeMiB`, `${describe(d.sizeMiB)} is not an integer from 1 to ${VM_LIMITS.maxDiskSizeMiB}`, 'give the size of a new image in MiB, or leave it out when the image exists');
    }
    if (d.backingImage !== undefined) {
      if (typeof d.backingImage !== 'string' || !ABSOLUTE_PATH.test(d.backingImage) || d.backingImage.includes('/../')) {
        issue(`${at}.backingImage`, `${describe(d.backingImage)} is not an absolute file path`, 'give the path of the image on the host, e.g. /var/lib/orbit/images/<sha256>');
      }
      if (format !== 'qcow2') issue(`${at}.format`, `${describe(format)}: a disk made from an image is a qcow2 overlay`, 'use format "qcow2"');
      if (d.sizeMiB === undefined) issue(`${at}.sizeMiB`, 'a disk made from an image needs its size', "give sizeMiB (at least the image's virtual size)");
    }
    return {
      path: d.path as string,
      format: format as DiskFormat,
      ...(d.sizeMiB !== undefined ? { sizeMiB: d.sizeMiB as number } : {}),
      ...(d.backingImage !== undefined ? { backingImage: d.backingImage as string } : {}),
    };
  });
}

function validateNics(value: unknown, issue: Report): VmNic[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    issue('nics', `expected a list, got ${describe(value)}`, 'give a list of { mac, bridge } (or leave it out for a VM without network)');
    return [];
  }
  if (value.length > VM_LIMITS.maxNics) issue('nics', `${value.length} NICs, at most ${VM_LIMITS.maxNics} are supported`, 'use fewer NICs');
  const seen = new Set<string>();
  return value.map((nic: unknown, i): VmNic => {
    const at = `nics[${i}]`;
    if (typeof nic !== 'object' || nic === null) {
      issue(at, `expected { mac, bridge }, got ${describe(nic)}`, 'give an object');
      return { mac: '', bridge: '', model: VM_SPEC_DEFAULTS.nicModel };
    }
    const n = nic as Record<string, unknown>;
    for (const key of Object.keys(n)) if (!['mac', 'bridge', 'model'].includes(key)) issue(`${at}.${key}`, 'unknown field', 'remove it; a NIC has mac, bridge and model');
    const mac = typeof n.mac === 'string' ? n.mac.toLowerCase() : n.mac;
    if (typeof mac !== 'string' || !MAC.test(mac)) {
      issue(`${at}.mac`, `${describe(n.mac)} is not a MAC address (six hex pairs separated by ":")`, 'use a locally administered address such as 52:54:00:12:34:56');
    } else if (parseInt(mac.slice(0, 2), 16) & 1) {
      issue(`${at}.mac`, `${mac} is a multicast address`, 'the first octet must be even; use e.g. 52:54:00:...');
    } else if (seen.has(mac)) {
      issue(`${at}.mac`, `${mac} is used by an earlier NIC too`, 'give every NIC its own MAC address');
    } else {
      seen.add(mac);
    }
    if (typeof n.bridge !== 'string' || !IFNAME.test(n.bridge)) {
      issue(`${at}.bridge`, `${describe(n.bridge)} is not a Linux interface name (1-15 of letters, digits, "_", "." and "-")`, 'give the name of an existing bridge on the host, e.g. vmbr0');
    }
    const model = n.model ?? VM_SPEC_DEFAULTS.nicModel;
    if (!NIC_MODELS.includes(model as NicModel))
      issue(`${at}.model`, `${describe(model)} is not one of ${NIC_MODELS.join(', ')}`, `use "${VM_SPEC_DEFAULTS.nicModel}" unless the guest lacks virtio drivers`);
    return { mac: mac as string, bridge: n.bridge as string, model: model as NicModel };
  });
}

function validateBoot(value: unknown, diskCount: number, issue: Report): VmBoot | undefined {
  if (typeof value !== 'object' || value === null) {
    issue('boot', `expected { kind: "kernel", kernel, initrd, append } or { kind: "disk", diskIndex }, got ${describe(value)}`, 'say how the VM boots');
    return undefined;
  }
  const b = value as Record<string, unknown>;
  if (b.kind === 'kernel') {
    for (const key of Object.keys(b)) if (!['kind', 'kernel', 'initrd', 'append'].includes(key)) issue(`boot.${key}`, 'unknown field', 'remove it; kernel boot has kernel, initrd and append');
    if (typeof b.kernel !== 'string' || !ABSOLUTE_PATH.test(b.kernel)) issue('boot.kernel', `${describe(b.kernel)} is not an absolute path`, 'give the kernel image path on the host');
    if (b.initrd !== undefined && (typeof b.initrd !== 'string' || !ABSOLUTE_PATH.test(b.initrd)))
      issue('boot.initrd', `${describe(b.initrd)} is not an absolute path`, 'give the initrd path on the host, or leave it out');
    if (b.append !== undefined && (typeof b.append !== 'string' || /[\0\n]/.test(b.append) || b.append.length > 2048)) {
      issue('boot.append', `${describe(b.append)} is not a one-line kernel command line of at most 2048 characters`, 'give the kernel command line as one line');
    }
    return { kind: 'kernel', kernel: b.kernel as string, ...(b.initrd !== undefined ? { initrd: b.initrd as string } : {}), ...(b.append !== undefined ? { append: b.append as string } : {}) };
  }
  if (b.kind === 'disk') {
    for (const key of Object.keys(b)) if (!['kind', 'diskIndex'].includes(key)) issue(`boot.${key}`, 'unknown field', 'remove it; disk boot has diskIndex only');
    const diskIndex = b.diskIndex ?? 0;
    if (!isIntegerIn(diskIndex, 0, Math.max(0, diskCount - 1)) || diskCount === 0) {
      issue(
        'boot.diskIndex',
        diskCount === 0 ? 'boot from disk, but the VM has no disks' : `${describe(diskIndex)} is not a disk index from 0 to ${diskCount - 1}`,
        'add the boot disk to disks, or boot a kernel',
      );
    }
    return { kind: 'disk', diskIndex: diskIndex as number };
  }
  issue('boot.kind', `${describe(b.kind)} is not "kernel" or "disk"`, 'use kind "kernel" (direct kernel boot) or "disk"');
  return undefined;
}

/** Fields whose values differ between two specs, e.g. `memoryMiB: 128 -> 256`; empty when they are equal. */
export function vmSpecDifferences(before: VmSpec, after: VmSpec): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, at: string) => {
    if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const key of keys) walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], Array.isArray(a) ? `${at}[${key}]` : at ? `${at}.${key}` : key);
    } else if (a !== b) {
      out.push(`${at}: ${JSON.stringify(a) ?? 'unset'} -> ${JSON.stringify(b) ?? 'unset'}`);
    }
  };
  walk(before, after, '');
  return out;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}
