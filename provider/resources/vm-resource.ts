/**
 * `resource "orbit_vm"`: a QEMU VM on one host, started and watched over SSH and QMP
 * (provider/hosts/qemu-process.ts), with its disks in /var/lib/orbit/<name>/.
 *
 * What applies without a restart is applied in place, on the running guest:
 *   - `host`: a live migration, post-copy (provider/hosts/live-migration.ts); disks move too;
 *   - `memory_mib`, up to `max_memory_mib` (the size QEMU starts with): the memory balloon;
 *   - a disk's `size_mib`, growing only: `block_resize`.
 * Everything else (vCPUs, maximum memory, machine, boot, disks added or removed, NICs) needs a
 * new QEMU and is planned as a replacement, which terraform's plan marks "forces replacement".
 *
 * Read reports the VM as it runs: a VM whose QEMU is gone is gone (the next plan creates it
 * again, with the disks still on the host); memory, vCPUs and disk sizes come from QMP, the
 * rest from the spec the driver persisted when it started QEMU, so changes made behind
 * terraform's back show up as drift.
 */
import { createHash } from 'crypto';
import { AttributePath } from '../protocol/attribute-path';
import { t } from '../protocol/cty-type';
import { OrbitError } from '../framework/errors';
import { ModelOf, resolvePlanned, Unknowable } from '../framework/model';
import { ProviderContext } from '../framework/provider-context';
import { defineResource } from '../framework/resource';
import { block, computed, nested, optional, optionalComputed, required, schema } from '../framework/schema-builder';
import { between, integer, matches, oneOf } from '../framework/validators';
import { RemoteHost } from '../hosts/host-connections';
import { migrateVm, MIGRATION_DEFAULTS } from '../hosts/live-migration';
import { destroyVm, inspectVm, startVm, STOP_DEFAULTS, VmInspection } from '../hosts/qemu-process';
import { vmPaths } from '../hosts/qemu-command-line';
import { growVmDisk, observeVm, setVmMemory, VmObservation } from '../hosts/vm-live';
import { Accelerator, validateVmSpec, VM_LIMITS, VM_SPEC_DEFAULTS, VmSpec, VmSpecError, VmSpecInput } from '../hosts/vm-spec';
import { acceleratorOnHost } from './host-data-source';

const MIB = 1024 * 1024;
const ACCELERATORS = ['auto', 'kvm', 'tcg'] as const;
const DISK_FORMATS = ['qcow2', 'raw'] as const;
const NIC_MODELS = ['virtio-net-pci', 'e1000', 'rtl8139'] as const;
const NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const DEFAULT_MEMORY_MIB = 512;

const diskBlock = block({
  description: 'A disk image the VM owns, in /var/lib/orbit/<name>/disk<index>.<format>; created empty, moved with the VM, deleted with it.',
  attributes: {
    size_mib: required(t.number, {
      description: 'Virtual size in MiB. Growing it resizes the disk under the running guest; shrinking is refused at plan time.',
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

const networkBlock = block({
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

export const vmSchema = schema({
  description: 'A QEMU VM on a host. Changing host live-migrates it (post-copy); memory and disk growth apply to the running guest.',
  attributes: {
    id: computed(t.string, { useStateForUnknown: true, description: 'The VM name.' }),
    name: required(t.string, {
      requiresReplace: true,
      description: 'VM name: 1-40 of a-z, 0-9 and "-", starting with a letter. Unique among the hosts of the provider.',
      validators: [matches(NAME_PATTERN, '1-40 of a-z, 0-9 and "-", starting with a letter', 'web-1')],
    }),
    host: required(t.string, {
      description: 'The host the VM runs on (a name from the provider\'s hosts blocks). Changing it live-migrates the running VM (post-copy), disks included; it is never re-created for it.',
    }),
    vcpus: optional(t.number, {
      default: 1,
      requiresReplace: true,
      description: 'Virtual CPUs. Default 1. Changing it restarts the VM (replacement).',
      validators: [integer(), between(1, VM_LIMITS.maxVcpus)],
    }),
    memory_mib: optional(t.number, {
      default: DEFAULT_MEMORY_MIB,
      description: `Memory the guest has, in MiB. Default ${DEFAULT_MEMORY_MIB}. Changes up to max_memory_mib apply to the running guest through its balloon (the guest needs its virtio balloon driver); beyond it, the VM is replaced.`,
      validators: [integer(), between(VM_LIMITS.minMemoryMiB, VM_LIMITS.maxMemoryMiB)],
    }),
    max_memory_mib: optionalComputed(t.number, {
      description: 'Memory QEMU starts with, in MiB: the most memory_mib can grow to without a restart. Default: memory_mib (when memory_mib later grows beyond it unset, the VM is replaced with the new size). Changing it replaces the VM.',
      validators: [integer(), between(VM_LIMITS.minMemoryMiB, VM_LIMITS.maxMemoryMiB)],
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
      description: `QEMU machine type. Default "${VM_SPEC_DEFAULTS.machine}". Hosts the VM migrates between need the same QEMU version, or a versioned type such as "pc-i440fx-7.2".`,
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
      validators: [matches(/^\/[^\s]*$/, 'an absolute path without spaces', '/var/lib/orbit/images/vmlinuz')],
    }),
    initrd_path: optional(t.string, {
      requiresReplace: true,
      description: 'Direct kernel boot: the initramfs on the host. Needs kernel_path.',
      validators: [matches(/^\/[^\s]*$/, 'an absolute path without spaces', '/var/lib/orbit/images/initrd.img')],
    }),
    kernel_cmdline: optional(t.string, {
      requiresReplace: true,
      description: 'Direct kernel boot: the kernel command line. Needs kernel_path.',
      validators: [matches(/^[^\n\0]{0,2048}$/, 'one line of at most 2048 characters', 'console=ttyS0 root=/dev/vda1')],
    }),
    stop_timeout_ms: optional(t.number, {
      default: STOP_DEFAULTS.graceMs,
      description: `How long the guest gets to power off after the ACPI request when the VM is destroyed or replaced, before QEMU is told to quit. Default ${STOP_DEFAULTS.graceMs}; 0 skips the request.`,
      validators: [integer(), between(0, 3_600_000)],
    }),
    migration_postcopy_after_ms: optional(t.number, {
      default: MIGRATION_DEFAULTS.postcopyAfterMs,
      description: `Live migration: the longest pre-copy phase before switching to post-copy, in ms. Default ${MIGRATION_DEFAULTS.postcopyAfterMs}. It switches earlier when the first pass over memory leaves little to copy.`,
      validators: [integer(), between(0, 3_600_000)],
    }),
    status: computed(t.string, { description: 'QEMU\'s run state when last read: "running", "paused", ...' }),
    last_migration_downtime_ms: computed(t.number, { description: 'The guest-visible pause of the last live migration this resource made (QEMU\'s downtime), in ms; null before the first.' }),
    last_migration_total_ms: computed(t.number, { description: 'The duration of the last live migration this resource made, disks included, in ms; null before the first.' }),
  },
  blocks: {
    disk: nested.list(diskBlock, { maxItems: VM_LIMITS.maxDisks }),
    network: nested.list(networkBlock, { maxItems: VM_LIMITS.maxNics, requiresReplace: true }),
  },
});

export type Vm = ModelOf<typeof vmSchema.block>;
type PlannedVm = Unknowable<Vm>;

export const vmResource = defineResource({
  typeName: 'orbit_vm',
  schema: vmSchema,

  validate({ config }) {
    const { memory_mib: memory, max_memory_mib: max } = config;
    if (typeof memory === 'number' && typeof max === 'number' && memory > max) {
      throw new OrbitError(`memory_mib (${memory}) is more than max_memory_mib (${max})`, {
        attribute: 'memory_mib',
        value: memory,
        allowed: `at most max_memory_mib, ${max}`,
        fix: `lower memory_mib, or raise max_memory_mib to ${memory} or more (the VM then starts with that much)`,
      });
    }
    if (config.kernel_path === null) {
      for (const attribute of ['initrd_path', 'kernel_cmdline'] as const) {
        if (config[attribute] !== null && config[attribute] !== undefined) {
          throw new OrbitError(`${attribute} is set without kernel_path`, { attribute, fix: 'set kernel_path to the kernel image on the host, or remove ' + attribute });
        }
      }
      if (Array.isArray(config.disk) && config.disk.length === 0) {
        throw new OrbitError('The VM has nothing to boot: no kernel_path and no disk', {
          attribute: 'kernel_path',
          fix: 'set kernel_path (direct kernel boot), or add a disk block with a bootable image',
        });
      }
    }
  },

  modifyPlan({ planned, prior, config, provider, requireReplace }) {
    if (planned.name !== undefined) planned.id = planned.name;
    if (planned.host !== undefined) provider.host(planned.host, ['host']);

    // max_memory_mib left unset follows memory_mib, but only grows: a running VM keeps its size while it suffices.
    if (config.max_memory_mib === null && typeof planned.memory_mib === 'number') {
      const kept = prior !== null && prior.max_memory_mib !== null && prior.max_memory_mib >= planned.memory_mib ? prior.max_memory_mib : planned.memory_mib;
      planned.max_memory_mib = kept;
    }
    if (prior !== null && typeof planned.max_memory_mib === 'number' && planned.max_memory_mib !== prior.max_memory_mib) requireReplace('max_memory_mib');

    // "auto" and the accelerator it resolved to are the same thing: only a different accelerator restarts the VM.
    const accelerator = planned.accelerator;
    const replacing = prior !== null && isReplacing(prior, planned);
    if (prior !== null && typeof accelerator === 'string' && accelerator !== 'auto' && accelerator !== prior.accelerator_in_use) requireReplace('accelerator');
    if (typeof accelerator === 'string' && accelerator !== 'auto') planned.accelerator_in_use = accelerator;
    else if (prior !== null && accelerator === 'auto' && !replacing) planned.accelerator_in_use = prior.accelerator_in_use;
    else planned.accelerator_in_use = undefined;

    if (Array.isArray(planned.disk)) {
      planned.disk.forEach((disk, i) => {
        if (!disk) return;
        if (planned.name !== undefined && typeof disk.format === 'string') disk.path = diskPath(planned.name, i, disk.format);
        const before = prior?.disk[i];
        if (before && typeof disk.size_mib === 'number' && disk.size_mib < before.size_mib && before.format === disk.format && prior?.disk.length === planned.disk?.length) {
          throw new OrbitError(`disk[${i}].size_mib cannot shrink from ${before.size_mib} to ${disk.size_mib}`, {
            attribute: ['disk', i, 'size_mib'],
            value: disk.size_mib,
            allowed: `${before.size_mib} or more (disks only grow in place)`,
            detail: `Shrinking ${before.path} would cut off the data at its end.`,
            fix: `keep size_mib at ${before.size_mib} or more; to re-create the VM with an empty smaller disk, run terraform taint ADDRESS and apply`,
          });
        }
      });
    }
    if (Array.isArray(planned.network)) {
      planned.network.forEach((nic, i) => {
        if (nic && nic.mac === undefined && config.network?.[i]?.mac === null && planned.name !== undefined) nic.mac = derivedMac(planned.name, i);
      });
    }

    const migrating = prior !== null && planned.host !== undefined && planned.host !== prior.host && !replacing;
    const sameVm = prior !== null && !replacing ? prior : null;
    planned.last_migration_downtime_ms = migrating ? undefined : (sameVm?.last_migration_downtime_ms ?? null);
    planned.last_migration_total_ms = migrating ? undefined : (sameVm?.last_migration_total_ms ?? null);
  },

  async create({ planned, config, provider, signal }) {
    const remote = provider.remote(config.host, { attribute: ['host'], signal });
    const accelerator = await resolveAccelerator(provider, remote, config);
    const spec = specFrom(config, accelerator, provider.host(config.host).qemuBinary);
    await remote.withSession(async (session) => {
      const running = await startVm(session, spec);
      try {
        const memory = config.memory_mib ?? DEFAULT_MEMORY_MIB;
        if (memory < spec.memoryMiB) await setVmMemory(session, config.name, memory);
      } catch (error) {
        // Nothing half-built: the VM goes, with the disks this create made.
        await destroyVm(session, config.name, { removeDisks: running.started, graceMs: 0 }).catch(() => undefined);
        throw error;
      }
    });
    const state = await readVm(remote, { ...resolvePlanned(planned, {}), accelerator_in_use: accelerator });
    if (!state) throw new OrbitError(`VM "${config.name}" stopped right after it started on host "${config.host}"`, { attribute: 'host', value: config.host, detail: `Its serial log is ${vmPaths(config.name).serialLog} on the host.`, fix: 'read the serial log and QEMU\'s messages there, then apply again' });
    return resolvePlanned(planned, pickComputed(state));
  },

  async read({ state, provider, signal }) {
    return readVm(provider.remote(state.host, { attribute: ['host'], signal }), state);
  },

  async update({ prior, planned, config, provider, signal }) {
    let migration: { downtimeMs: number; totalMs: number } | undefined;
    if (config.host !== prior.host) migration = await migrate(provider, prior, config, signal);

    const remote = provider.remote(config.host, { attribute: ['host'], signal });
    await remote.withSession(async (session) => {
      for (const [i, disk] of config.disk.entries()) {
        if (disk.size_mib > (prior.disk[i]?.size_mib ?? disk.size_mib)) await growVmDisk(session, config.name, i, disk.size_mib * MIB);
      }
      const memory = config.memory_mib ?? DEFAULT_MEMORY_MIB;
      if (memory !== prior.memory_mib) await setVmMemory(session, config.name, memory);
    });
    const state = await readVm(remote, { ...prior, host: config.host });
    if (!state) {
      throw new OrbitError(`VM "${config.name}" is not running on host "${config.host}" any more`, {
        attribute: 'host',
        value: config.host,
        fix: 'run terraform plan again: it will plan to start the VM',
      });
    }
    return resolvePlanned(planned, {
      ...pickComputed(state),
      ...(migration ? { last_migration_downtime_ms: migration.downtimeMs, last_migration_total_ms: migration.totalMs } : {}),
    });
  },

  async delete({ state, provider, signal }) {
    const remote = provider.remote(state.host, { attribute: ['host'], signal });
    await remote.withSession((session) => destroyVm(session, state.name, { removeDisks: true, graceMs: state.stop_timeout_ms ?? STOP_DEFAULTS.graceMs }));
  },

  async importState({ id, provider, signal }) {
    const match = /^([^/]+)\/([^/]+)$/.exec(id);
    if (!match || !NAME_PATTERN.test(match[2])) {
      throw new OrbitError(`Invalid orbit_vm import id "${id}"`, {
        value: id,
        allowed: '<host>/<name>, e.g. "site-a/web-1"',
        fix: 'pass the host name and the VM name, separated by "/"',
      });
    }
    const [, host, name] = match;
    const inspection = await provider.remote(host, { signal }).withSession((session) => inspectVm(session, name, { skipStatus: true }));
    if (inspection.state !== 'running') {
      throw new OrbitError(`Host "${host}" runs no VM "${name}"`, {
        value: id,
        fix: `check the names (the VMs of a host are the directories in /run/orbit there); a stopped VM cannot be imported: start it, or let terraform create it`,
      });
    }
    return { id: name, host, name, accelerator: 'auto' };
  },
});

/** The attributes apply decides (the rest of the state is the plan). */
function pickComputed(state: Vm): Partial<Vm> {
  return { id: state.id, accelerator_in_use: state.accelerator_in_use, status: state.status, max_memory_mib: state.max_memory_mib, disk: state.disk, network: state.network };
}

function isReplacing(prior: Vm, planned: PlannedVm): boolean {
  return (
    planned.name !== prior.name ||
    planned.vcpus !== prior.vcpus ||
    planned.machine !== prior.machine ||
    planned.cpu_model !== prior.cpu_model ||
    planned.kernel_path !== prior.kernel_path ||
    planned.initrd_path !== prior.initrd_path ||
    planned.kernel_cmdline !== prior.kernel_cmdline ||
    (typeof planned.max_memory_mib === 'number' && planned.max_memory_mib !== prior.max_memory_mib) ||
    (typeof planned.accelerator === 'string' && planned.accelerator !== 'auto' && planned.accelerator !== prior.accelerator_in_use) ||
    (Array.isArray(planned.disk) && (planned.disk.length !== prior.disk.length || planned.disk.some((d, i) => d?.format !== prior.disk[i].format))) ||
    (Array.isArray(planned.network) &&
      (planned.network.length !== prior.network.length || planned.network.some((n, i) => n?.bridge !== prior.network[i].bridge || n?.model !== prior.network[i].model || (n?.mac !== undefined && n.mac !== prior.network[i].mac))))
  );
}

/**
 * The VM as it runs on `state.host`, or null when its QEMU is not running there. Attributes
 * that are not observable (the accelerator as configured, timeouts, migration results) come
 * from `state`.
 */
async function readVm(remote: RemoteHost, state: Pick<Vm, 'name' | 'host'> & Partial<Vm>): Promise<Vm | null> {
  const found = await remote.withSession(async (session) => {
    const inspection = await inspectVm(session, state.name, { skipStatus: true });
    if (inspection.state !== 'running') return null;
    if (inspection.incoming) return { inspection, observation: undefined };
    const spec = inspection.spec;
    if (!spec) return { inspection, observation: undefined };
    return { inspection, observation: await observeVm(session, state.name, spec.disks.length) };
  });
  if (!found) return null;
  const { inspection, observation } = found;
  if (!inspection.spec || !observation) throw unreadableVm(remote.name, state.name, inspection);
  return stateFrom(inspection.spec, observation, state, remote.name);
}

function stateFrom(spec: VmSpec, observed: VmObservation, known: Partial<Vm>, host: string): Vm {
  const kernel = spec.boot.kind === 'kernel' ? spec.boot : undefined;
  return {
    id: spec.name,
    name: spec.name,
    host,
    vcpus: observed.vcpus,
    memory_mib: observed.memoryMiB,
    max_memory_mib: observed.startedMemoryMiB,
    accelerator: known.accelerator ?? 'auto',
    accelerator_in_use: spec.accelerator,
    machine: spec.machine,
    cpu_model: spec.cpuModel,
    kernel_path: kernel?.kernel ?? null,
    initrd_path: kernel?.initrd ?? null,
    kernel_cmdline: kernel?.append ?? null,
    stop_timeout_ms: known.stop_timeout_ms ?? STOP_DEFAULTS.graceMs,
    migration_postcopy_after_ms: known.migration_postcopy_after_ms ?? MIGRATION_DEFAULTS.postcopyAfterMs,
    status: observed.status,
    last_migration_downtime_ms: known.last_migration_downtime_ms ?? null,
    last_migration_total_ms: known.last_migration_total_ms ?? null,
    disk: spec.disks.map((disk, i) => ({ size_mib: Math.ceil(observed.diskSizesBytes[i] / MIB), format: disk.format, path: disk.path })),
    network: spec.nics.map((nic) => ({ bridge: nic.bridge, mac: nic.mac, model: nic.model })),
  };
}

function specFrom(config: Vm, accelerator: Accelerator, qemuBinary: string): VmSpec {
  const input: VmSpecInput = {
    name: config.name,
    vcpus: config.vcpus ?? 1,
    memoryMiB: config.max_memory_mib ?? config.memory_mib ?? DEFAULT_MEMORY_MIB,
    accelerator,
    qemuBinary,
    machine: config.machine ?? VM_SPEC_DEFAULTS.machine,
    cpuModel: config.cpu_model ?? VM_SPEC_DEFAULTS.cpuModel,
    boot:
      config.kernel_path !== null
        ? { kind: 'kernel', kernel: config.kernel_path, ...(config.initrd_path !== null ? { initrd: config.initrd_path } : {}), ...(config.kernel_cmdline !== null ? { append: config.kernel_cmdline } : {}) }
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
    throw new OrbitError(`orbit_vm "${config.name}" cannot be turned into a QEMU command line`, {
      detail: error.issues.map((i) => `${i.field}: ${i.problem}`).join('\n'),
      fix: error.issues.map((i) => i.fix).join('; '),
    });
  }
}

async function resolveAccelerator(provider: ProviderContext, remote: RemoteHost, config: Vm): Promise<Accelerator> {
  const wanted = config.accelerator ?? 'auto';
  if (wanted === 'kvm' || wanted === 'tcg') return wanted;
  return (await acceleratorOnHost(remote, provider.host(config.host).qemuBinary, ['accelerator'])).accelerator;
}

async function migrate(provider: ProviderContext, prior: Vm, config: Vm, signal: AbortSignal): Promise<{ downtimeMs: number; totalMs: number }> {
  const where: AttributePath = ['host'];
  const destinationHost = provider.host(config.host, where);
  const source = provider.remote(prior.host, { attribute: where, signal });
  const destination = provider.remote(config.host, { attribute: where, signal });
  if ((config.accelerator ?? 'auto') === 'auto') {
    const there = (await acceleratorOnHost(destination, destinationHost.qemuBinary, ['accelerator'])).accelerator;
    if (there !== prior.accelerator_in_use) {
      throw new OrbitError(`VM "${config.name}" cannot live-migrate to host "${config.host}": it runs under ${prior.accelerator_in_use}, and guests on "${config.host}" run under ${there}`, {
        attribute: where,
        value: config.host,
        detail: 'A live migration keeps the accelerator; the VM was not touched and still runs on host "' + prior.host + '".',
        fix: `set accelerator = "${prior.accelerator_in_use}" to move it as it is (if "${config.host}" can run ${prior.accelerator_in_use}), or replace the VM (terraform apply -replace=ADDRESS) to restart it there`,
      });
    }
  }
  const result = await source.withSession((from) =>
    destination.withSession((to) =>
      migrateVm(from, to, config.name, {
        postcopyAfterMs: config.migration_postcopy_after_ms ?? MIGRATION_DEFAULTS.postcopyAfterMs,
        destinationAddress: destinationHost.dataAddress,
        destinationQemuBinary: destinationHost.qemuBinary,
      }),
    ),
  );
  return { downtimeMs: result.stats?.downtimeMs ?? 0, totalMs: result.stats?.wallMs ?? 0 };
}

function unreadableVm(host: string, name: string, inspection: VmInspection): OrbitError {
  if (inspection.incoming) {
    return new OrbitError(`VM "${name}" on host "${host}" is the destination of an unfinished live migration`, {
      attribute: 'host',
      value: host,
      fix: 'apply again: the migration is finished or rolled back; if it was abandoned, remove the half-started copy on that host',
    });
  }
  return new OrbitError(`VM "${name}" runs on host "${host}" without a readable spec (${inspection.specProblem ?? 'spec.json is missing'})`, {
    attribute: 'host',
    value: host,
    detail: `The driver persists the spec in ${vmPaths(name).specFile} when it starts QEMU.`,
    fix: 'a QEMU started by hand under this name cannot be managed: stop it on the host, then apply again',
  });
}

export function diskPath(name: string, index: number, format: string): string {
  return `${vmPaths(name).stateDir}/disk${index}.${format}`;
}

/** 52:54:00 (QEMU's prefix) + three bytes of sha256(name/index): the same on every plan, distinct per VM and NIC. */
export function derivedMac(name: string, index: number): string {
  const bytes = createHash('sha256').update(`${name}/${index}`).digest().subarray(0, 3);
  return ['52', '54', '00', ...[...bytes].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
