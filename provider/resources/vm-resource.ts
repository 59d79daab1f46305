/**
 * `resource "orbit_vm"`: a QEMU VM on one host, started and watched over SSH and QMP
 * (provider/qemu/qemu-process.ts), with its disks in /var/lib/orbit/<name>/.
 *
 * What applies without a restart is applied in place, on the running guest:
 *   - `host`: a live migration, post-copy (provider/qemu/live-migration.ts); disks move too;
 *   - `memory_mib`, up to `max_memory_mib` (the size QEMU starts with): the memory balloon;
 *   - a disk's `size_mib`, growing only: `block_resize`.
 * Everything else (vCPUs, maximum memory, accelerator, machine, boot, disks added or removed,
 * NICs) needs a new QEMU: a planned restart on the same disks, an in-place update whose plan
 * carries a warning naming what restarts it. No change deletes a disk: only destroy does (and
 * not with keep_disks_on_destroy); a renamed VM is refused at plan time.
 *
 * Read reports the VM as it runs: a VM whose QEMU is gone is gone (the next plan creates it
 * again, with the disks still on the host); on a host that cannot be reached it is what it was,
 * with status "unreachable" and a warning; memory, vCPUs and disk sizes come from QMP, the
 * rest from the spec the driver persisted when it started QEMU, so changes made behind
 * terraform's back show up as drift.
 */
import { AttributePath } from '../protocol/attribute-path';
import { t } from '../protocol/cty-type';
import { OrbitError } from '../framework/errors';
import { ModelOf, resolvePlanned, Unknowable } from '../framework/model';
import { defineResource, ProviderContext } from '../config/provider-context';
import { computed, nested, optional, optionalComputed, required, schema } from '../framework/schema-builder';
import { between, integer } from '../framework/validators';
import { isHostUnreachable, RemoteHost } from '../config/host-connections';
import { errorMessage } from '../ssh/host-errors';
import { migrateVm, MIGRATION_DEFAULTS } from '../qemu/live-migration';
import { defineVm, destroyVm, inspectVm, powerOffVm, restartVm, startVm, STOP_DEFAULTS, VmInspection } from '../qemu/qemu-process';
import { SshSession } from '../ssh/ssh-session';
import { vmPaths } from '../qemu/qemu-command-line';
import { changeCdrom, growVmDisk, observeVm, setVmMemory, VmObservation } from '../qemu/vm-live';
import { diskVirtualSize, growDiskImage } from '../qemu/disk-image';
import { seedPath } from '../qemu/cloud-init-seed';
import { shellQuote } from '../ssh/remote-exec';
import { cdromOf, cloudInitBlock, cloudInitRestartReason, instanceIdOf, planInstanceId, plannedInstanceId, validateCloudInit, writeConfiguredSeed } from './cloud-init-block';
import { Accelerator, VM_LIMITS, VM_SPEC_DEFAULTS, VmSpec } from '../qemu/vm-spec';
import { acceleratorOnHost } from './host-data-source';
import {
  checkImagesOnHosts,
  diskBlock,
  imagesNeedCheck,
  machineChanges,
  machineFromSpec,
  networkBlock,
  planAccelerator,
  planMachine,
  resolveAccelerator,
  specFrom,
  validateBoot,
  VM_NAME_PATTERN,
  vmMachineAttributes,
  renameRefused,
} from './vm-machine';

const MIB = 1024 * 1024;

export const vmSchema = schema({
  description: 'A QEMU VM on a host. Changing host live-migrates it (post-copy); memory and disk growth apply to the running guest.',
  attributes: {
    ...vmMachineAttributes('restart'),
    host: required(t.string, {
      description: "The host the VM runs on (a name from the provider's hosts blocks). Changing it live-migrates the running VM (post-copy), disks included; it is never re-created for it.",
    }),
    memory_mib: optional(t.number, {
      default: VM_SPEC_DEFAULTS.memoryMiB,
      description: `Memory the guest has, in MiB. Default ${VM_SPEC_DEFAULTS.memoryMiB}. Changes up to max_memory_mib apply to the running guest through its balloon (the guest needs its virtio balloon driver); beyond it, the VM is replaced.`,
      validators: [integer(), between(VM_LIMITS.minMemoryMiB, VM_LIMITS.maxMemoryMiB)],
    }),
    max_memory_mib: optionalComputed(t.number, {
      description:
        'Memory QEMU starts with, in MiB: the most memory_mib can grow to without a restart. Default: memory_mib (when memory_mib later grows beyond it unset, the VM restarts with the new size). Changing it restarts the VM on the same disks.',
      validators: [integer(), between(VM_LIMITS.minMemoryMiB, VM_LIMITS.maxMemoryMiB)],
    }),
    stop_timeout_ms: optional(t.number, {
      default: STOP_DEFAULTS.graceMs,
      description: `How long the guest gets to power off after the ACPI request when the VM is destroyed or restarted, before QEMU is told to quit. Default ${STOP_DEFAULTS.graceMs}; 0 skips the request.`,
      validators: [integer(), between(0, 3_600_000)],
    }),
    migration_postcopy_after_ms: optional(t.number, {
      default: MIGRATION_DEFAULTS.postcopyAfterMs,
      description: `Live migration: the longest pre-copy phase before switching to post-copy, in ms. Default ${MIGRATION_DEFAULTS.postcopyAfterMs}. It switches earlier when the first pass over memory leaves little to copy.`,
      validators: [integer(), between(0, 3_600_000)],
    }),
    running: optional(t.bool, {
      default: true,
      description:
        'Whether the guest runs. Default true. false powers it off (ACPI power-off with stop_timeout_ms, then QEMU quits) and keeps it defined on its host: disks and settings stay, nothing is deleted. true starts it again on the same disks. A VM created with running = false gets its disks but never boots. Changes made while it is off (vCPUs, memory, disks, NICs) take effect when it starts; a host change needs it running.',
    }),
    keep_disks_on_destroy: optional(t.bool, {
      default: false,
      description:
        'Leave the disk images on the host when the VM is destroyed (in /var/lib/orbit/<name>/); a VM created again with the same name and disks attaches them. Default false: destroy deletes them. No other change ever deletes a disk.',
    }),
    last_migration_downtime_ms: computed(t.number, { description: "The guest-visible pause of the last live migration this resource made (QEMU's downtime), in ms; null before the first." }),
    last_migration_total_ms: computed(t.number, { description: 'The duration of the last live migration this resource made, disks included, in ms; null before the first.' }),
  },
  blocks: {
    disk: nested.list(diskBlock({ growsInPlace: true, change: 'restart' }), { maxItems: VM_LIMITS.maxDisks }),
    network: nested.list(networkBlock, { maxItems: VM_LIMITS.maxNics }),
    cloud_init: nested.list(cloudInitBlock, { maxItems: 1 }),
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
    validateBoot(config);
    validateCloudInit(config.cloud_init);
  },

  async modifyPlan({ planned, prior, config, provider, diagnostics, signal }) {
    if (planned.host !== undefined) provider.host(planned.host, ['host']);
    if (prior !== null && planned.name !== undefined && planned.name !== prior.name) throw renameRefused('orbit_vm', prior.name, planned.name);

    // max_memory_mib left unset follows memory_mib, but only grows: a running VM keeps its size while it suffices.
    if (config.max_memory_mib === null && typeof planned.memory_mib === 'number') {
      planned.max_memory_mib = prior !== null && prior.max_memory_mib !== null && prior.max_memory_mib >= planned.memory_mib ? prior.max_memory_mib : planned.memory_mib;
    }
    planMachine(
      planned,
      prior,
      (config.network ?? []).map((nic) => nic?.mac !== null),
    );
    const wasRunning = prior !== null && prior.running !== false;
    const willRun = planned.running !== false;
    if (prior !== null && planned.host !== undefined && planned.host !== prior.host && !(wasRunning && willRun)) throw stoppedHostChange(prior.name, prior.host, planned.host);
    // While the VM is off (or going off), new settings only change its definition: no restart.
    const restart = wasRunning && willRun ? restartReasons(prior, planned) : [];
    if (wasRunning && !willRun) {
      diagnostics.warning(
        `orbit_vm "${prior.name}" will be powered off`,
        `running = false: the guest is asked to power off and gets stop_timeout_ms (${planned.stop_timeout_ms ?? STOP_DEFAULTS.graceMs} ms) before QEMU quits. Its disks and settings stay on host "${prior.host}"; running = true starts it again.`,
        ['running'],
      );
    }
    // "auto" and the accelerator it resolved to are the same thing: only a different accelerator restarts the VM.
    planAccelerator(planned, prior, restart.length > 0);
    if (restart.length > 0) {
      diagnostics.warning(
        `orbit_vm "${prior!.name}" will restart (a planned restart on the same disks)`,
        `Needs a new QEMU process: ${restart.join(', ')}. The guest is asked to power off and gets stop_timeout_ms (${planned.stop_timeout_ms ?? STOP_DEFAULTS.graceMs} ms) before QEMU quits; then it boots again with the new settings. Its disks are kept as they are.`,
      );
    }
    (prior?.disk ?? []).slice(Array.isArray(planned.disk) ? planned.disk.length : undefined).forEach((removed, i) => {
      const index = (planned.disk?.length ?? 0) + i;
      diagnostics.warning(
        `orbit_vm "${prior!.name}": disk[${index}] is detached, not deleted`,
        `Its image ${removed.path} stays on host "${prior!.host}" (a disk block at index ${index} attaches it again); destroying the VM deletes it.`,
        ['disk'],
      );
    });

    planInstanceId(config.name, config, planned);
    const migrating = prior !== null && planned.host !== undefined && planned.host !== prior.host;
    const hosts = planned.host !== undefined ? [planned.host] : [];
    if (imagesNeedCheck(prior, planned, prior ? [prior.host] : [], hosts)) await checkImagesOnHosts(provider, planned.disk, hosts, signal);
    planned.last_migration_downtime_ms = migrating ? undefined : (prior?.last_migration_downtime_ms ?? null);
    planned.last_migration_total_ms = migrating ? undefined : (prior?.last_migration_total_ms ?? null);
  },

  async create({ planned, config, provider, signal }) {
    const remote = provider.remote(config.host, { attribute: ['host'], signal });
    const accelerator = await resolveAccelerator(provider, remote, config.accelerator);
    const memory = config.memory_mib ?? VM_SPEC_DEFAULTS.memoryMiB;
    const spec = specFrom(config, { memoryMiB: config.max_memory_mib ?? memory, accelerator, qemuBinary: provider.host(config.host).qemuBinary, cdrom: cdromOf(config) });
    await remote.withSession(async (session) => {
      if (spec.cdrom !== undefined) await writeConfiguredSeed(session, config);
      let createdDisks: string[] = [];
      try {
        if (config.running === false) {
          await defineVm(session, spec);
          return;
        }
        createdDisks = (await startVm(session, spec)).createdDisks;
        if (memory < spec.memoryMiB) await setVmMemory(session, config.name, memory);
      } catch (error) {
        // Nothing half-built: the VM goes, with the disks this create made (never ones it found there) and its seed.
        await destroyVm(session, config.name, { removeTheseDisks: createdDisks, graceMs: 0 }).catch(() => undefined);
        if (spec.cdrom !== undefined) await session.exec(`rm -f ${shellQuote(spec.cdrom)}`).catch(() => undefined);
        throw error;
      }
    });
    const state = await readVm(remote, { ...resolvePlanned(planned, {}), accelerator_in_use: accelerator });
    if (!state && config.running === false) throw vmNotDefined(config.name, config.host);
    if (!state) {
      throw new OrbitError(`VM "${config.name}" stopped right after it started on host "${config.host}"`, {
        attribute: 'host',
        value: config.host,
        detail: `Its serial log is ${vmPaths(config.name).serialLog} on the host.`,
        fix: "read the serial log and QEMU's messages there, then apply again",
      });
    }
    return resolvePlanned(planned, pickComputed(state));
  },

  async read({ state, provider, signal, diagnostics }) {
    try {
      return await readVm(provider.remote(state.host, { attribute: ['host'], signal }), state);
    } catch (error) {
      // A host that is down must not fail every plan of the configuration: the VM is what it was, as far as anyone knows.
      if (!isHostUnreachable(error)) throw error;
      diagnostics.warning(
        `orbit_vm "${state.name}": host "${state.host}" cannot be reached; the VM is shown as last applied, status "unreachable"`,
        `${errorMessage(error).split('\n')[0]}. Plans go on; a change to this VM fails until the host answers again.`,
        ['host'],
      );
      return { ...state, status: 'unreachable' };
    }
  },

  async update({ prior, planned, config, provider, signal, logger }) {
    // Known only now when the plan had it unknown: still never a new VM under another name.
    if (config.name !== prior.name) throw renameRefused('orbit_vm', prior.name, config.name);
    const wasRunning = prior.running !== false;
    const willRun = config.running !== false;
    let migration: { downtimeMs: number; totalMs: number } | undefined;
    if (config.host !== prior.host) {
      if (!(wasRunning && willRun)) throw stoppedHostChange(prior.name, prior.host, config.host);
      migration = await migrate(provider, prior, config, signal);
    }
    const seedChanged = config.cloud_init.length > 0 && instanceIdOf(config) !== prior.cloud_init[0]?.instance_id;
    // Once the VM runs (or is defined) without its CD-ROM, the seed it no longer uses goes: it may hold secrets.
    const dropSeed = async (session: SshSession) => {
      if (prior.cloud_init.length > 0 && config.cloud_init.length === 0) await session.exec(`rm -f ${shellQuote(seedPath(config.name))}`);
    };

    const remote = provider.remote(config.host, { attribute: ['host'], signal });
    const memory = config.memory_mib ?? VM_SPEC_DEFAULTS.memoryMiB;
    const specFor = (accelerator: Accelerator) =>
      specFrom(config, { memoryMiB: config.max_memory_mib ?? memory, accelerator, qemuBinary: provider.host(config.host).qemuBinary, cdrom: cdromOf(config) });
    if (!wasRunning || !willRun) {
      await remote.withSession(async (session) => {
        if (wasRunning) {
          // Growing first, on the running guest; then the power-off.
          await growDisks(session, prior, config, (i, bytes) => growVmDisk(session, config.name, i, bytes));
          const stop = await powerOffVm(session, config.name, { graceMs: config.stop_timeout_ms ?? STOP_DEFAULTS.graceMs });
          logger.info(`orbit_vm ${config.name}: powered off on ${config.host} (${stop.method}, ${stop.elapsedMs} ms)`);
        } else {
          await growDisks(session, prior, config, (i, bytes) => growDiskImage(session, { path: prior.disk[i].path!, format: prior.disk[i].format! }, bytes));
        }
        if (seedChanged) await writeConfiguredSeed(session, config);
        const spec = specFor(await resolveAccelerator(provider, remote, config.accelerator));
        if (!willRun) {
          // The settings of the next start (checked on the host now, as a start would).
          await defineVm(session, spec);
        } else {
          await startVm(session, spec);
          if (memory < spec.memoryMiB) await setVmMemory(session, config.name, memory);
        }
        await dropSeed(session);
      });
      const state = await readVm(remote, { ...prior, host: config.host, accelerator: config.accelerator, running: willRun, memory_mib: memory, cloud_init: config.cloud_init });
      if (!state) throw willRun ? vmGone(config.name, config.host) : vmNotDefined(config.name, config.host);
      return resolvePlanned(planned, pickComputed(state));
    }

    // The plan (defaults applied), as the user saw it: the config leaves unset attributes null.
    const restart = restartReasons(prior, planned);
    const accelerator = restart.length > 0 ? await resolveAccelerator(provider, remote, config.accelerator) : undefined;
    await remote.withSession(async (session) => {
      // Growing first, on the running guest: a restart finds the images at their new size.
      await growDisks(session, prior, config, (i, bytes) => growVmDisk(session, config.name, i, bytes));
      if (seedChanged) {
        await writeConfiguredSeed(session, config);
        // Already in the drive: the new image goes in as new media (no restart, the guest sees a media change).
        if (!accelerator && prior.cloud_init.length > 0) await changeCdrom(session, config.name, cdromOf(config)!);
      }
      if (accelerator) {
        const spec = specFor(accelerator);
        const restarted = await restartVm(session, spec, { graceMs: config.stop_timeout_ms ?? STOP_DEFAULTS.graceMs });
        logger.info(`orbit_vm ${config.name}: restarted on ${config.host} (${restart.join(', ')}): guest stopped by ${restarted.stop.method}, down ${restarted.downtimeMs} ms`);
        if (memory < spec.memoryMiB) await setVmMemory(session, config.name, memory);
      } else if (memory !== prior.memory_mib) {
        await setVmMemory(session, config.name, memory);
      }
      await dropSeed(session);
    });
    const state = await readVm(remote, { ...prior, host: config.host, accelerator: config.accelerator, cloud_init: config.cloud_init });
    if (!state) throw vmGone(config.name, config.host);
    return resolvePlanned(planned, {
      ...pickComputed(state),
      ...(migration ? { last_migration_downtime_ms: migration.downtimeMs, last_migration_total_ms: migration.totalMs } : {}),
    });
  },

  async delete({ state, provider, signal }) {
    const remote = provider.remote(state.host, { attribute: ['host'], signal });
    await remote.withSession((session) => destroyVm(session, state.name, { removeDisks: !state.keep_disks_on_destroy, graceMs: state.stop_timeout_ms ?? STOP_DEFAULTS.graceMs }));
  },

  async importState({ id, provider, signal }) {
    const match = /^([^/]+)\/([^/]+)$/.exec(id);
    if (!match || !VM_NAME_PATTERN.test(match[2])) {
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
        fix: 'check the names (the VMs of a host are the directories in /run/orbit there); a stopped VM cannot be imported: start it, or let terraform create it',
      });
    }
    return { id: name, host, name, accelerator: 'auto' };
  },
});

/** The attributes apply decides (the rest of the state is the plan). */
function pickComputed(state: Vm): Partial<Vm> {
  return {
    id: state.id,
    accelerator_in_use: state.accelerator_in_use,
    status: state.status,
    max_memory_mib: state.max_memory_mib,
    disk: state.disk,
    network: state.network,
    cloud_init: state.cloud_init,
  };
}

/** Grows the disks the config makes bigger (never shrinks: the plan refuses that), with `grow` (live, or on the image file). */
async function growDisks(session: SshSession, prior: Vm, config: Vm, grow: (index: number, bytes: number) => Promise<unknown>): Promise<void> {
  for (const [i, disk] of config.disk.entries()) {
    const before = prior.disk[i];
    if (before && disk.size_mib > before.size_mib) await grow(i, disk.size_mib * MIB);
  }
}

/** What needs a new QEMU process, one line each (empty: the change applies to the running VM). */
function restartReasons(prior: Vm, planned: PlannedVm): string[] {
  const reasons = machineChanges(prior, planned, { diskGrowsInPlace: true });
  if (planned.max_memory_mib !== prior.max_memory_mib) reasons.push(`max_memory_mib ${prior.max_memory_mib} -> ${planned.max_memory_mib ?? '(known after apply)'}`);
  const seedReason = cloudInitRestartReason(prior, planned);
  if (seedReason) reasons.push(seedReason);
  return reasons;
}

/**
 * The VM as it runs on `state.host`, or null when its QEMU is not running there. Attributes
 * that are not observable (the accelerator as configured, timeouts, migration results) come
 * from `state`.
 */
async function readVm(remote: RemoteHost, state: Pick<Vm, 'name' | 'host'> & Partial<Vm>): Promise<Vm | null> {
  const found = await remote.withSession(async (session) => {
    const inspection = await inspectVm(session, state.name, { skipStatus: true });
    if (inspection.state !== 'running') {
      // Off on purpose: still defined on the host (its spec is there), not gone.
      if (state.running !== false || !inspection.spec) return null;
      const spec = inspection.spec;
      const diskSizesBytes: number[] = [];
      for (const disk of spec.disks) diskSizesBytes.push(await diskVirtualSize(session, disk));
      return { inspection, observation: { status: 'stopped', memoryMiB: state.memory_mib ?? spec.memoryMiB, startedMemoryMiB: spec.memoryMiB, vcpus: spec.vcpus, diskSizesBytes } };
    }
    if (inspection.incoming || !inspection.spec) return { inspection, observation: undefined };
    return { inspection, observation: await observeVm(session, state.name, inspection.spec.disks.length) };
  });
  if (!found) return null;
  const { inspection, observation } = found;
  if (!inspection.spec || !observation) throw unreadableVm(remote.name, state.name, inspection);
  return stateFrom(inspection.spec, observation, state, remote.name);
}

function stateFrom(spec: VmSpec, observed: VmObservation, known: Partial<Vm>, host: string): Vm {
  return {
    ...machineFromSpec(spec, observed, known),
    host,
    vcpus: observed.vcpus,
    memory_mib: observed.memoryMiB,
    max_memory_mib: observed.startedMemoryMiB,
    running: observed.status !== 'stopped',
    stop_timeout_ms: known.stop_timeout_ms ?? STOP_DEFAULTS.graceMs,
    migration_postcopy_after_ms: known.migration_postcopy_after_ms ?? MIGRATION_DEFAULTS.postcopyAfterMs,
    keep_disks_on_destroy: known.keep_disks_on_destroy ?? false,
    // Not observable on the host beyond the drive: what was applied, with the id it carries.
    cloud_init: (known.cloud_init ?? []).map((ci) => ({ ...ci, instance_id: plannedInstanceId(known.name ?? spec.name, ci) })),
    last_migration_downtime_ms: known.last_migration_downtime_ms ?? null,
    last_migration_total_ms: known.last_migration_total_ms ?? null,
  };
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
        detail: `A live migration keeps the accelerator; the VM was not touched and still runs on host "${prior.host}".`,
        fix: `set accelerator = "${prior.accelerator_in_use}" to move it as it is (if "${config.host}" can run ${prior.accelerator_in_use}), or replace the VM (terraform apply -replace=ADDRESS) to restart it there`,
      });
    }
  }
  // The destination QEMU starts with the same CD-ROM: its seed must be there first.
  if (config.cloud_init.length > 0) await destination.withSession((to) => writeConfiguredSeed(to, config));
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

function stoppedHostChange(name: string, from: string, to: string): OrbitError {
  return new OrbitError(`orbit_vm "${name}" can change host only while it runs: a move is a live migration`, {
    attribute: 'host',
    value: to,
    detail: `It is (or is to be) powered off on host "${from}", where its disks are.`,
    fix: `apply running = true first (or together with the host change, keeping it true), then power it off on "${to}" if you want`,
  });
}

function vmGone(name: string, host: string): OrbitError {
  return new OrbitError(`VM "${name}" is not running on host "${host}" any more`, {
    attribute: 'host',
    value: host,
    fix: 'run terraform plan again: it will plan to start the VM',
  });
}

function vmNotDefined(name: string, host: string): OrbitError {
  return new OrbitError(`VM "${name}" is powered off but not defined on host "${host}" (its spec.json is gone)`, {
    attribute: 'host',
    value: host,
    fix: 'run terraform plan again: it will plan to define the VM anew (disks that are still there are kept and attached)',
  });
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
