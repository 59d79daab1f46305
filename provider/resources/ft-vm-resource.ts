/**
 * `resource "orbit_ft_vm"`: a fault-tolerant VM, a QEMU COLO pair (provider/colo/colo.md). The
 * primary runs the guest, the secondary runs a lock-stepped replica that takes over with the
 * guest's memory, disk and TCP sessions intact when the primary is lost.
 *
 * `primary_host` and `secondary_host` are where the pair is built. Failover, fencing and
 * re-protection happen at runtime (the monitor agents, or `npm run orbit-ft`), and the pair
 * may then live on other hosts: Read looks for it on every configured host and reports where
 * it runs in computed attributes (`active_host`, `standby_host`, `protection`, checkpoint
 * figures). A failover is therefore not drift: the next plan is empty.
 *
 * Apply builds the whole COLO setup (colo-pair.ts); a failure leaves nothing on either host.
 * `checkpoint_delay_ms`, the monitor's settings, `failover` and `spare_hosts` change on the
 * running pair. A new `primary_host` or `secondary_host` moves that side of the pair by
 * re-protection (colo-move.ts), the guest running on. What needs new QEMUs (memory, vCPUs,
 * machine, boot, disks, NIC, accelerator) is a planned restart of the pair on the disks of its
 * active side (colo-rebuild.ts), announced by a warning in the plan. A rename is refused. Nothing
 * here ever replaces the pair; only destroy deletes its disks.
 */
import { t } from '../protocol/cty-type';
import { OrbitError } from '../framework/errors';
import { ModelOf, resolvePlanned, Unknowable } from '../framework/model';
import { defineResource, ProviderContext } from '../config/provider-context';
import { computed, nested, optional, required, schema } from '../framework/schema-builder';
import { between, integer, oneOf } from '../framework/validators';
import { reachableSessions } from '../config/host-connections';
import { CHECKPOINT_DELAY_RANGE_MS, COLO_DEFAULTS } from '../colo/colo-limits';
import { ColoPairInspection, destroyPair, inspectPair, startProtectedPair } from '../colo/colo-pair';
import { movePairSide } from '../colo/colo-move';
import { readPairRecord, writePairRecord } from '../colo/colo-pair-record';
import { STOP_DEFAULTS, withQmp } from '../qemu/qemu-process';
import { rebuildPair } from '../colo/colo-rebuild';
import { carryCdrom } from '../colo/colo-pair';
import { seedPath } from '../qemu/cloud-init-seed';
import { changeCdrom } from '../qemu/vm-live';
import { shellQuote } from '../ssh/remote-exec';
import { cdromOf, cloudInitBlock, cloudInitRestartReason, instanceIdOf, planInstanceId, plannedInstanceId, validateCloudInit, writeConfiguredSeed } from './cloud-init-block';
import { VM_LIMITS, VM_SPEC_DEFAULTS } from '../qemu/vm-spec';
import { locateAgentBundle } from '../monitor/agent-bundle';
import { DEFAULT_TIMING, FailoverTiming, fencedWithinMs, TIMING_RANGES, timingProblems, worstCaseRecoveryMs } from '../monitor/timing';
import {
  allHosts,
  checkMonitorHosts,
  installAgents,
  MonitoredPair,
  observeMonitor,
  publishSpec,
  removePairFromEtcd,
  removeUnneededAgents,
  requireMonitor,
  waitMonitored,
  waitUnwatched,
  withEtcd,
} from './ft-vm-monitor';
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
  vmMachineAttributes,
  renameRefused,
} from './vm-machine';

const HOST_CHANGE =
  "Changing it moves the pair's side on the old host to the new one while the guest runs on: a re-protection onto the new host, after a planned switch-over when the guest runs on the old one (clients see one failover's gap); one host per apply, never a new pair.";

export const ftVmSchema = schema({
  description:
    "A fault-tolerant VM: a QEMU COLO primary/secondary pair on two hosts. The guest keeps running, memory, disk and TCP sessions included, when the primary's QEMU or host dies. A cloud_init seed is built on the host the guest runs on and copied to the replica's host (and to any host a re-protection or move brings in), so the guest finds it after a failover; an edit rewrites it on both and swaps the media live, with a new instance id.",
  attributes: {
    ...vmMachineAttributes('rebuild'),
    primary_host: required(t.string, {
      description: `The host the pair is built with as primary (runs the guest clients talk to). After a failover the guest runs elsewhere (active_host); that is not drift. ${HOST_CHANGE}`,
    }),
    secondary_host: required(t.string, {
      description: `The host of the lock-stepped replica. Must differ from primary_host; ideally another failure domain (site). ${HOST_CHANGE}`,
    }),
    memory_mib: optional(t.number, {
      default: VM_SPEC_DEFAULTS.memoryMiB,
      description: `Guest memory in MiB. Default ${VM_SPEC_DEFAULTS.memoryMiB}. The secondary host needs about twice this (replica plus checkpoint buffer). Changing it restarts the pair on the same disks (a planned restart, as for vcpus).`,
      validators: [integer(), between(VM_LIMITS.minMemoryMiB, VM_LIMITS.maxMemoryMiB)],
    }),
    stop_timeout_ms: optional(t.number, {
      default: STOP_DEFAULTS.graceMs,
      description: `How long the guest gets to power off after the ACPI request when the pair is restarted for a change, before QEMU is told to quit. Default ${STOP_DEFAULTS.graceMs}; 0 skips the request.`,
      validators: [integer(), between(0, 3_600_000)],
    }),
    checkpoint_delay_ms: optional(t.number, {
      default: COLO_DEFAULTS.checkpointDelayMs,
      description: `Longest time between checkpoints while the two guests' outputs agree (QEMU x-checkpoint-delay), in ms. Default ${COLO_DEFAULTS.checkpointDelayMs}. A differing output forces a checkpoint at once. Changes apply to the running pair.`,
      validators: [integer(), between(CHECKPOINT_DELAY_RANGE_MS.min, CHECKPOINT_DELAY_RANGE_MS.max)],
    }),
    heartbeat_interval_ms: optional(t.number, {
      default: DEFAULT_TIMING.heartbeatIntervalMs,
      description: `Failover monitor: how often the active side renews its lease and the sides heartbeat each other, in ms. Default ${DEFAULT_TIMING.heartbeatIntervalMs}.`,
      validators: [integer(), between(TIMING_RANGES.heartbeatIntervalMs.min, TIMING_RANGES.heartbeatIntervalMs.max)],
    }),
    heartbeat_misses: optional(t.number, {
      default: DEFAULT_TIMING.heartbeatMisses,
      description: `Failover monitor: heartbeats (or lease renewals) missed in a row before a side acts. Default ${DEFAULT_TIMING.heartbeatMisses}.`,
      validators: [integer(), between(TIMING_RANGES.heartbeatMisses.min, TIMING_RANGES.heartbeatMisses.max)],
    }),
    fencing_deadline_ms: optional(t.number, {
      default: DEFAULT_TIMING.fencingDeadlineMs,
      description: `Failover monitor: how long a side that lost its lease has to stop its guest, in ms. Default ${DEFAULT_TIMING.fencingDeadlineMs}.`,
      validators: [integer(), between(TIMING_RANGES.fencingDeadlineMs.min, TIMING_RANGES.fencingDeadlineMs.max)],
    }),
    lease_ttl_ms: optional(t.number, {
      default: DEFAULT_TIMING.leaseTtlMs,
      description: `Failover monitor: lifetime of the active side's lease in etcd, in ms (whole seconds, at least 2000). Must exceed heartbeat_interval_ms x heartbeat_misses + fencing_deadline_ms, so a side cut off from etcd has stopped its guest before the other may take over. Default ${DEFAULT_TIMING.leaseTtlMs}.`,
      validators: [integer(), between(TIMING_RANGES.leaseTtlMs.min, TIMING_RANGES.leaseTtlMs.max)],
    }),
    failover: optional(t.string, {
      default: 'automatic',
      description:
        '"automatic": the failover monitor (agents on the pair\'s hosts, installed by apply; needs the provider\'s etcd and monitor blocks) fails over, fences and re-protects on its own. "manual": nothing watches the pair; an operator fails over with `orbit-ft`. Default "automatic". Changes in place.',
      validators: [oneOf(['automatic', 'manual'])],
    }),
    spare_hosts: optional(t.list(t.string), {
      description:
        "Hosts the monitor may re-protect the pair onto after a failover, in order of preference, after the pair's own two hosts (a host whose guest died is used again once its agent reports it healthy). Agents are installed on them too. Default: none. Changes in place.",
    }),
    agent_release: computed(t.string, {
      description:
        'The failover monitor agent release running on all reachable hosts of the pair, or what is off ("missing on site-a"); the next apply installs or upgrades it. Null with failover = "manual".',
    }),
    failover_count: computed(t.number, { description: 'Failovers the monitor agents carried out for this pair (from their events in etcd).' }),
    last_failover: computed(t.string, { description: 'The last of them: when, which host took over, how, and why.' }),
    worst_case_recovery_ms: computed(t.number, {
      description:
        "From losing the active side to the standby holding the role, in ms: lease_ttl_ms + 500 (etcd's expiry loop) + heartbeat_interval_ms. Excludes the COLO failover itself (tens of ms).",
    }),
    active_host: computed(t.string, { description: 'The host whose guest clients talk to now.' }),
    standby_host: computed(t.string, { description: 'The host holding the replica; null while unprotected.' }),
    protection: computed(t.string, {
      description:
        '"protected" (checkpointing to a live replica), "degraded" (the guest runs alone after a failover: re-protect it), "re-protecting", "failover-needed" (a side was lost and nobody failed over), or "split" (two guests serve: fence one).',
    }),
    checkpoint_count: computed(t.number, { description: "Checkpoints of the active host's QEMU since it started." }),
    last_checkpoint_pause_ms: computed(t.number, { description: 'How long the guest was paused for the last checkpoint, in ms.' }),
  },
  blocks: {
    disk: nested.list(diskBlock({ growsInPlace: false, change: 'rebuild' }), { maxItems: VM_LIMITS.maxDisks }),
    network: nested.list(networkBlock, { minItems: 1, maxItems: 1 }),
    cloud_init: nested.list(cloudInitBlock, { maxItems: 1 }),
  },
});

export type FtVm = ModelOf<typeof ftVmSchema.block>;

export const ftVmResource = defineResource({
  typeName: 'orbit_ft_vm',
  schema: ftVmSchema,

  validate({ config }) {
    const timing = timingOf(config);
    if (timing) {
      const problems = timingProblems(timing);
      if (problems.length > 0) {
        throw new OrbitError('The failover monitor timing is unsafe', {
          attribute: 'lease_ttl_ms',
          value: timing.leaseTtlMs,
          detail: `${problems.join('\n')}\nNow: heartbeat ${timing.heartbeatIntervalMs} ms x ${timing.heartbeatMisses} + fencing ${timing.fencingDeadlineMs} ms = ${fencedWithinMs(timing)} ms, lease ${timing.leaseTtlMs} ms.`,
          allowed: 'heartbeat_interval_ms x heartbeat_misses + fencing_deadline_ms < lease_ttl_ms, lease_ttl_ms in whole seconds >= 2000',
          fix: problems.map((p) => /Fix: (.*)$/.exec(p)?.[1]).find(Boolean) ?? 'adjust the values as described above',
        });
      }
    }
    if (typeof config.primary_host === 'string' && config.primary_host === config.secondary_host) {
      throw new OrbitError(`primary_host and secondary_host are the same host, "${config.primary_host}"`, {
        attribute: 'secondary_host',
        value: config.secondary_host,
        allowed: `a configured host other than "${config.primary_host}"`,
        fix: 'put the secondary on another host, ideally at another site: a pair on one host survives nothing',
      });
    }
    const spares = config.spare_hosts ?? [];
    spares.forEach((spare, index) => {
      if (typeof spare !== 'string') return;
      if (spare === config.primary_host || spare === config.secondary_host) {
        throw new OrbitError(`spare_hosts names "${spare}", which is already the pair's ${spare === config.primary_host ? 'primary' : 'secondary'} host`, {
          attribute: ['spare_hosts', index],
          value: spare,
          fix: 'list hosts other than primary_host and secondary_host (a spare is where the pair goes when one of them is lost)',
        });
      }
      if (spares.indexOf(spare) !== index) throw new OrbitError(`spare_hosts names "${spare}" twice`, { attribute: ['spare_hosts', index], value: spare, fix: 'list each spare host once' });
    });
    validateBoot(config);
    validateCloudInit(config.cloud_init);
  },

  async modifyPlan({ planned, prior, config, provider, diagnostics, signal }) {
    if (planned.primary_host !== undefined) provider.host(planned.primary_host, ['primary_host']);
    if (planned.secondary_host !== undefined) provider.host(planned.secondary_host, ['secondary_host']);
    if (prior !== null && planned.name !== undefined && planned.name !== prior.name) throw renameRefused('orbit_ft_vm', prior.name, planned.name);
    const rebuild = prior !== null ? pairRebuildReasons(prior, planned) : [];
    const move = prior !== null && planned.primary_host !== undefined && planned.secondary_host !== undefined ? hostMove(prior, planned.primary_host, planned.secondary_host) : undefined;
    if (move && rebuild.length > 0) throw moveAndRebuildRefused(prior!, move, rebuild);
    if (rebuild.length > 0) {
      diagnostics.warning(
        `orbit_ft_vm "${prior!.name}" will restart (a planned restart of the pair on the same disks)`,
        `Needs new QEMUs: ${rebuild.join(', ')}. The replica is dropped, the guest is asked to power off and gets stop_timeout_ms (${planned.stop_timeout_ms ?? STOP_DEFAULTS.graceMs} ms) before QEMU quits, then the pair starts again with the new settings on the disks of the host the guest runs on (active_host), and the replica is copied anew. The failover monitor leaves the pair alone meanwhile.`,
      );
    }
    if (move) {
      diagnostics.warning(
        `orbit_ft_vm "${prior!.name}": its side on "${move.from}" moves to "${move.to}", the guest running on`,
        `A re-protection onto "${move.to}" (disk and memory copied while the guest runs, then one checkpoint-sized pause). If "${move.from}" runs the guest clients talk to, a planned switch-over comes first: the replica on "${move.stays}" takes over, and clients see one failover's gap. The failover monitor leaves the pair alone meanwhile. Nothing is re-created; what the pair had on "${move.from}" is removed.`,
      );
    }
    planInstanceId(config.name, config, planned);
    planAccelerator(planned, prior, rebuild.length > 0);
    planMachine(
      planned,
      prior,
      (config.network ?? []).map((nic) => nic?.mac !== null),
    );
    const timing = timingOf(planned);
    planned.worst_case_recovery_ms = timing ? worstCaseRecoveryMs(timing) : undefined;
    (planned.spare_hosts ?? []).forEach((spare, index) => typeof spare === 'string' && provider.host(spare, ['spare_hosts', index]));
    if (planned.failover === 'automatic') {
      requireMonitor(provider, ['failover']);
      if (planned.primary_host !== undefined && planned.secondary_host !== undefined && planned.spare_hosts !== undefined) {
        checkMonitorHosts(provider, [planned.primary_host, planned.secondary_host, ...(planned.spare_hosts ?? []).filter((h): h is string => typeof h === 'string')], ['failover']);
      }
      // The release apply installs: a host running another one (or none) is a change to make.
      planned.agent_release = locateAgentBundle().release;
    } else if (planned.failover === 'manual') {
      planned.agent_release = null;
    }
    // The image must be wherever the guest may run: both hosts and every spare.
    const hosts = [planned.primary_host, planned.secondary_host, ...(planned.spare_hosts ?? [])].filter((h): h is string => typeof h === 'string');
    const priorHosts = prior ? [prior.primary_host, prior.secondary_host, ...(prior.spare_hosts ?? [])] : [];
    if (imagesNeedCheck(prior, planned, priorHosts, hosts)) await checkImagesOnHosts(provider, planned.disk, hosts, signal);
    if (prior && planned.agent_release !== prior.agent_release) {
      // Only the agents change, but the apply takes time while the pair lives on: what Read
      // observes of it is known only after.
      for (const key of ['active_host', 'standby_host', 'protection', 'status', 'checkpoint_count', 'last_checkpoint_pause_ms', 'failover_count', 'last_failover'] as const) planned[key] = undefined;
    }
  },

  async create({ planned, config, provider, signal }) {
    const primary = provider.remote(config.primary_host, { attribute: ['primary_host'], signal });
    const secondary = provider.remote(config.secondary_host, { attribute: ['secondary_host'], signal });
    const qemuBinary = sameQemuBinary(provider, config);
    const [accelerator, secondaryAccelerator] = await Promise.all([resolveAccelerator(provider, primary, config.accelerator), resolveAccelerator(provider, secondary, config.accelerator)]);
    if (accelerator !== secondaryAccelerator) {
      throw new OrbitError(`Guests run under ${accelerator} on "${config.primary_host}" but under ${secondaryAccelerator} on "${config.secondary_host}"`, {
        attribute: 'accelerator',
        detail: 'COLO replays the primary on the secondary checkpoint by checkpoint: both must run the same accelerator. Nothing was started.',
        fix: `choose hosts with the same accelerator, or set accelerator = "${secondaryAccelerator === 'tcg' ? 'tcg' : accelerator}" if both hosts can run it`,
      });
    }
    const spec = specFrom(config, { memoryMiB: config.memory_mib ?? VM_SPEC_DEFAULTS.memoryMiB, accelerator, qemuBinary, cdrom: cdromOf(config) });
    const [primarySession, secondarySession] = await Promise.all([primary.session(), secondary.session()]);
    const pair = monitoredPair(config);
    const automatic = config.failover !== 'manual';
    // The spec first, then the agents: they watch the pair from its first moment, and a
    // destroy of another pair running meanwhile sees that these hosts still need their agent.
    let release: string | null = null;
    if (automatic) {
      await withEtcd(provider, ['failover'], (etcd) => publishSpec(provider, etcd, pair));
      try {
        release = (await installAgents(provider, allHosts(pair), ['failover'], signal)).bundle.release;
      } catch (error) {
        await undoMonitor(provider, pair, signal);
        throw error;
      }
    }
    try {
      // On the primary only: the pair start carries it to the secondary.
      if (config.cloud_init.length > 0) await primary.withSession(() => writeConfiguredSeed(primarySession, config));
      await primary.withSession(() =>
        startProtectedPair(primarySession, secondarySession, spec, {
          checkpointDelayMs: config.checkpoint_delay_ms ?? COLO_DEFAULTS.checkpointDelayMs,
          primaryAddress: provider.host(config.primary_host).dataAddress,
          secondaryAddress: provider.host(config.secondary_host).dataAddress,
        }),
      );
      if (automatic) await waitMonitored(provider, pair, ['failover'], signal);
    } catch (error) {
      // Nothing half-built: no pair watched by nobody, no agents for nothing.
      if (automatic) await undoMonitor(provider, pair, signal);
      await destroyPair([primarySession, secondarySession], config.name, { removeDisks: true }).catch(() => undefined);
      throw error;
    }
    const state = await readFtVm(provider, signal, { ...resolvePlanned(planned, {}), accelerator_in_use: accelerator });
    if (!state) {
      throw new OrbitError(`The pair of VM "${config.name}" was started but no host runs its guest now`, {
        attribute: 'primary_host',
        value: config.primary_host,
        fix: 'read the COLO trace logs in /run/orbit/<name>/ on both hosts, then apply again',
      });
    }
    return resolvePlanned(planned, { ...observedPart(state), agent_release: release, failover_count: 0, last_failover: null });
  },

  async read({ state, provider, signal }) {
    const observed = await readFtVm(provider, signal, state);
    if (!observed || state.failover === 'manual' || !provider.etcd || !provider.monitor) return observed;
    const monitor = await observeMonitor(provider, monitoredPair(state), signal);
    return {
      ...observed,
      agent_release: monitor.agentRelease,
      failover_count: monitor.failoverCount ?? state.failover_count ?? 0,
      last_failover: monitor.lastFailover !== undefined ? monitor.lastFailover : (state.last_failover ?? null),
    };
  },

  async update({ prior, planned, config, provider, signal, logger }) {
    // Known only now when the plan had it unknown: still never a new VM under another name.
    if (config.name !== prior.name) throw renameRefused('orbit_ft_vm', prior.name, config.name);
    // Against the plan (defaults applied; the config leaves unset attributes null).
    const rebuild = pairRebuildReasons(prior, planned);
    const move = hostMove(prior, config.primary_host, config.secondary_host);
    if (move && rebuild.length > 0) throw moveAndRebuildRefused(prior, move, rebuild);
    const watched = prior.failover !== 'manual';
    if (move) await moveSide(provider, signal, prior, move, logger);
    if (rebuild.length > 0) await restartPair(provider, signal, prior, config, rebuild, logger);
    else if (config.cloud_init.length > 0 && instanceIdOf(config) !== prior.cloud_init[0]?.instance_id) await changeSeed(provider, signal, config);
    const delay = config.checkpoint_delay_ms ?? COLO_DEFAULTS.checkpointDelayMs;
    if (delay !== prior.checkpoint_delay_ms) await setCheckpointDelay(provider, signal, config.name, delay);
    const pair = monitoredPair(config);
    const before = monitoredPair(prior);
    let release: string | null = null;
    if (config.failover !== 'manual') {
      // Spec (timing, spares) and agents (missing, outdated, new spares) brought up to date; both are no-ops when current.
      await withEtcd(provider, ['failover'], (etcd) => publishSpec(provider, etcd, pair));
      try {
        release = (await installAgents(provider, allHosts(pair), ['failover'], signal)).bundle.release;
        if (!watched || move || rebuild.length > 0) await waitMonitored(provider, pair, ['failover'], signal);
      } catch (error) {
        // Back to what the state says (manual: unwatched); a pair already watched stays watched.
        if (!watched) await undoMonitor(provider, pair, signal).catch(() => undefined);
        throw error;
      }
      const dropped = allHosts(before).filter((h) => !allHosts(pair).includes(h));
      if (dropped.length > 0) await withEtcd(provider, ['spare_hosts'], (etcd) => removeUnneededAgents(provider, etcd, dropped, ['spare_hosts'], signal));
    } else if (watched) {
      await undoMonitor(provider, before, signal);
    }
    const state = await readFtVm(provider, signal, { ...prior, checkpoint_delay_ms: delay });
    if (!state) {
      throw new OrbitError(`No host runs the guest of VM "${config.name}" any more`, {
        attribute: 'primary_host',
        value: config.primary_host,
        fix: 'run terraform plan again: it will plan to create the pair',
      });
    }
    return resolvePlanned(planned, { ...observedPart(state), agent_release: release });
  },

  async delete({ state, provider, signal }) {
    // The monitor first: agents that still watched the pair would fail it over as it goes. Also
    // for a pair in state as manual: an update that failed half-way may have published it.
    const monitored = provider.etcd !== undefined && provider.monitor !== undefined;
    if (monitored) {
      const removing = undoMonitor(provider, monitoredPair(state), signal, { keepGuests: true });
      if (state.failover === 'manual') await removing.catch(() => undefined);
      else await removing;
    }
    const { sessions, unreachable } = await configuredSessions(provider, signal);
    await sessions[0]?.remote.withSession(() =>
      destroyPair(
        sessions.map((s) => s.session),
        state.name,
        { removeDisks: true },
      ),
    );
    if (monitored) {
      const removing = withEtcd(provider, ['failover'], (etcd) => removeUnneededAgents(provider, etcd, allHosts(monitoredPair(state)), ['failover'], signal));
      if (state.failover === 'manual') await removing.catch(() => undefined);
      else await removing;
    }
    const pairHosts = new Set([state.primary_host, state.secondary_host, state.active_host, state.standby_host].filter((h): h is string => typeof h === 'string'));
    const missed = unreachable.filter((u) => pairHosts.has(u.name));
    if (missed.length > 0) {
      throw new OrbitError(`The pair of VM "${state.name}" was removed from the reachable hosts, but ${missed.map((m) => `"${m.name}"`).join(' and ')} cannot be reached`, {
        attribute: 'primary_host',
        detail: missed.map((m) => `${m.name}: ${m.problem}`).join('\n'),
        fix: `run terraform destroy again once the host is back (or, if it is gone for good, remove the resource from the state: terraform state rm ADDRESS)`,
      });
    }
  },
});

/** What Read observes (and create/update return): placement, protection, checkpoints, run state, and the accelerator in use. */
/** What needs new QEMUs (a restart of the pair), one line each ("memory_mib 512 -> 768"); unknown values read "(known after apply)". A rename is refused on its own. */
function pairRebuildReasons(prior: FtVm, planned: Unknowable<FtVm>): string[] {
  const reasons = machineChanges(prior, planned, { diskGrowsInPlace: false }).filter((reason) => !reason.startsWith('name '));
  if (planned.memory_mib !== prior.memory_mib) reasons.push(`memory_mib ${prior.memory_mib} -> ${planned.memory_mib ?? '(known after apply)'}`);
  const seedReason = cloudInitRestartReason(prior, planned);
  if (seedReason) reasons.push(seedReason);
  return reasons;
}

interface HostMove {
  /** The host that leaves the pair, the one that joins it, and the pair's other host. */
  from: string;
  to: string;
  stays: string;
}

/**
 * The side that moves when the configured hosts change: none when the pair keeps its two hosts
 * (also when primary and secondary swap names: the pair runs where it runs); one host replaced
 * is a move; both replaced at once is refused (the guest would have nowhere to run meanwhile).
 */
function hostMove(prior: FtVm, primary: string, secondary: string): HostMove | undefined {
  const before = [prior.primary_host, prior.secondary_host];
  const after = [primary, secondary];
  const leaving = before.filter((h) => !after.includes(h));
  const joining = after.filter((h) => !before.includes(h));
  // The same host twice is validation's to report.
  if (leaving.length === 0 || joining.length !== leaving.length) return undefined;
  if (leaving.length === 2) {
    throw new OrbitError(`orbit_ft_vm "${prior.name}" cannot move both sides at once: ${before.join(' and ')} -> ${after.join(' and ')}`, {
      attribute: 'secondary_host',
      value: secondary,
      detail: 'A side moves by re-protection from the other side, which must stay where it is meanwhile.',
      fix: `change one host per apply: first primary_host = "${primary}" (keeping secondary_host = "${prior.secondary_host}"), apply, then secondary_host`,
    });
  }
  return { from: leaving[0], to: joining[0], stays: before.find((h) => h !== leaving[0])! };
}

/**
 * Moves one side of the pair (colo-move.ts), with the failover monitor away from the pair
 * meanwhile (a planned fence is not a fault). The caller puts the monitor back on the new hosts;
 * when the move fails the pair is put back under watch as it was, wherever it runs now.
 */
async function moveSide(provider: ProviderContext, signal: AbortSignal, prior: FtVm, move: HostMove, logger: { info(message: string): void }): Promise<void> {
  const watched = prior.failover !== 'manual';
  if (watched) await pauseMonitor(provider, monitoredPair(prior), signal);
  try {
    const [stays, from, to] = [move.stays, move.from, move.to].map((host) => provider.remote(host, { signal }));
    const result = await stays.withSession((staysSession) =>
      from.withSession((fromSession) =>
        to.withSession((toSession) =>
          movePairSide({ stays: staysSession, from: fromSession, to: toSession }, prior.name, {
            toAddress: provider.host(move.to).dataAddress,
            onProgress: (step) => logger.info(`orbit_ft_vm ${prior.name}: ${step}`),
          }),
        ),
      ),
    );
    logger.info(
      `orbit_ft_vm ${prior.name}: moved from ${move.from} to ${move.to}${result.switchedOver ? ' (after a switch-over)' : ''}; re-protection ${result.reprotection.wallMs} ms, guest stopped ${result.reprotection.guestStoppedMs} ms`,
    );
  } catch (error) {
    if (watched) {
      const pair = monitoredPair(prior);
      await withEtcd(provider, ['failover'], (etcd) => publishSpec(provider, etcd, pair)).catch(() => undefined);
    }
    throw error;
  }
}

function moveAndRebuildRefused(prior: FtVm, move: HostMove, rebuild: string[]): OrbitError {
  return new OrbitError(`orbit_ft_vm "${prior.name}" cannot move a side and restart in one apply`, {
    detail: `The side on "${move.from}" would move to "${move.to}", and ${rebuild.join(', ')} needs a restart of the pair.`,
    fix: 'apply the host change first, then the other changes (or the other way round)',
  });
}

/**
 * Restarts the pair with the new settings on its active side's disks (colo-rebuild.ts), with the
 * failover monitor away from the pair meanwhile. When it fails the pair is put back under watch.
 */
async function restartPair(provider: ProviderContext, signal: AbortSignal, prior: FtVm, config: FtVm, reasons: string[], logger: { info(message: string): void }): Promise<void> {
  const watched = prior.failover !== 'manual';
  if (watched) await pauseMonitor(provider, monitoredPair(prior), signal);
  try {
    const { pair } = await inspectConfiguredPair(provider, signal, prior.name);
    const activeName = pair.activeHost ?? prior.primary_host;
    // The replica where it is (a spare, after the monitor re-protected onto one), else the configured host the guest is not on.
    const standbyName = pair.standbyHost ?? [config.primary_host, config.secondary_host].find((h) => h !== activeName) ?? config.secondary_host;
    const active = provider.remote(activeName, { signal });
    const standby = provider.remote(standbyName, { signal });
    const accelerator = await resolveAccelerator(provider, active, config.accelerator);
    const spec = specFrom(config, { memoryMiB: config.memory_mib ?? VM_SPEC_DEFAULTS.memoryMiB, accelerator, qemuBinary: sameQemuBinary(provider, config), cdrom: cdromOf(config) });
    // The seed goes on the active side (the pair start carries it to the standby); a seed no longer used goes from both.
    if (config.cloud_init.length > 0) await active.withSession((session) => writeConfiguredSeed(session, config));
    const result = await active.withSession((activeSession) =>
      standby.withSession((standbySession) =>
        rebuildPair({ active: activeSession, standby: standbySession }, spec, {
          graceMs: config.stop_timeout_ms ?? STOP_DEFAULTS.graceMs,
          checkpointDelayMs: config.checkpoint_delay_ms ?? COLO_DEFAULTS.checkpointDelayMs,
          activeAddress: provider.host(activeName).dataAddress,
          standbyAddress: provider.host(standbyName).dataAddress,
          onProgress: (step) => logger.info(`orbit_ft_vm ${prior.name}: ${step}`),
        }),
      ),
    );
    if (config.cloud_init.length === 0 && prior.cloud_init.length > 0) {
      for (const remote of [active, standby]) await remote.withSession((session) => session.exec(`rm -f ${shellQuote(seedPath(config.name))}`));
    }
    logger.info(`orbit_ft_vm ${prior.name}: restarted (${reasons.join(', ')}) as ${result.primary} + ${result.secondary}: guest stopped by ${result.stop.method}, down ${result.downtimeMs} ms`);
  } catch (error) {
    if (watched) await withEtcd(provider, ['failover'], (etcd) => publishSpec(provider, etcd, monitoredPair(prior))).catch(() => undefined);
    throw error;
  }
}

/**
 * An edited cloud_init: the seed rebuilt on the active host, copied to the standby, and the
 * media swapped live on both (the standby first: until the active swaps too, its guest reads the
 * old seed, as the replica then does; after a failover the replica's guest must find the new one).
 */
async function changeSeed(provider: ProviderContext, signal: AbortSignal, config: FtVm): Promise<void> {
  const { pair } = await inspectConfiguredPair(provider, signal, config.name);
  const activeName = pair.activeHost ?? config.primary_host;
  const active = provider.remote(activeName, { signal });
  const iso = seedPath(config.name);
  await active.withSession(async (activeSession) => {
    await writeConfiguredSeed(activeSession, config);
    if (pair.standbyHost !== undefined) {
      await provider.remote(pair.standbyHost, { signal }).withSession(async (standbySession) => {
        await carryCdrom(activeSession, standbySession, { name: config.name, cdrom: iso }, 'Updating the cloud-init seed of');
        await changeCdrom(standbySession, config.name, iso);
      });
    }
    await changeCdrom(activeSession, config.name, iso);
  });
}

function observedPart(state: FtVm): Partial<FtVm> {
  const { active_host, standby_host, protection, checkpoint_count, last_checkpoint_pause_ms, status, accelerator_in_use, id, disk, network, worst_case_recovery_ms, failover_count, last_failover } =
    state;
  return { active_host, standby_host, protection, checkpoint_count, last_checkpoint_pause_ms, status, accelerator_in_use, id, disk, network, worst_case_recovery_ms, failover_count, last_failover };
}

/**
 * The pair as the configured hosts see it, or null when no host runs its guest (or only a
 * start that died half-way: the next apply builds it again). Unreachable hosts are skipped:
 * a dead host is what this resource is for.
 */
/**
 * The guest's run state as users mean it. A protected pair's primary stops for every checkpoint
 * (QEMU says `finish-migrate`, then `colo`, for tens of milliseconds): a read that lands in one
 * is a running guest, not a state change worth a diff.
 */
function guestStatus(qmpStatus: string | undefined, protection: string): string {
  if (protection === 'protected' && (qmpStatus === 'finish-migrate' || qmpStatus === 'colo')) return 'running';
  return qmpStatus ?? 'unknown';
}

async function readFtVm(provider: ProviderContext, signal: AbortSignal, state: FtVm | Unknowable<FtVm>): Promise<FtVm | null> {
  const name = state.name!;
  const { pair } = await inspectConfiguredPair(provider, signal, name);
  if (pair.protection === 'down' || pair.protection === 'starting') return null;
  const active = pair.hosts.find((h) => h.host === pair.activeHost) ?? pair.hosts.find((h) => h.vm?.state === 'running');
  const spec = active?.vm?.spec;
  if (!spec) {
    throw new OrbitError(`The guest of VM "${name}" runs on "${active?.host}" without a readable spec`, {
      attribute: 'primary_host',
      fix: 'inspect the pair with npm run orbit-ft -- status, then fence or destroy the copy that should not be there',
    });
  }
  const record = pair.hosts.find((h) => h.host === pair.activeHost)?.record;
  return {
    ...machineFromSpec(spec, { status: guestStatus(active.vm?.status, pair.protection), diskSizesBytes: [] }, { accelerator: state.accelerator }),
    primary_host: state.primary_host!,
    secondary_host: state.secondary_host!,
    memory_mib: spec.memoryMiB,
    stop_timeout_ms: state.stop_timeout_ms ?? STOP_DEFAULTS.graceMs,
    checkpoint_delay_ms: record?.checkpointDelayMs ?? state.checkpoint_delay_ms ?? COLO_DEFAULTS.checkpointDelayMs,
    ...timingAttributes(state),
    failover: state.failover ?? 'automatic',
    spare_hosts: state.spare_hosts ? (state.spare_hosts as unknown[]).filter((h): h is string => typeof h === 'string') : null,
    agent_release: state.agent_release ?? null,
    failover_count: state.failover_count ?? 0,
    last_failover: state.last_failover ?? null,
    // Not observable on the hosts beyond the drive: what was applied, with the id it carries.
    cloud_init: (state.cloud_init ?? []).flatMap((ci) => {
      if (!ci) return [];
      const applied = {
        user_data: ci.user_data ?? null,
        user_data_wo: null,
        user_data_wo_version: ci.user_data_wo_version ?? null,
        meta_data: ci.meta_data ?? null,
        network_config: ci.network_config ?? null,
      };
      return [{ ...applied, instance_id: plannedInstanceId(name, applied) }];
    }),
    active_host: pair.activeHost ?? active.host,
    standby_host: pair.standbyHost ?? null,
    protection: pair.protection,
    checkpoint_count: pair.checkpoints?.checkpoints ?? 0,
    last_checkpoint_pause_ms: pair.checkpoints?.lastPauseMs !== undefined ? Math.round(pair.checkpoints.lastPauseMs) : null,
  };
}

/** The timing settings as the runtime sees them; undefined while any is unknown. */
function timingOf(model: { heartbeat_interval_ms?: number | null; heartbeat_misses?: number | null; fencing_deadline_ms?: number | null; lease_ttl_ms?: number | null }): FailoverTiming | undefined {
  const values = [model.heartbeat_interval_ms, model.heartbeat_misses, model.fencing_deadline_ms, model.lease_ttl_ms];
  if (values.some((v) => v === undefined)) return undefined;
  return {
    heartbeatIntervalMs: model.heartbeat_interval_ms ?? DEFAULT_TIMING.heartbeatIntervalMs,
    heartbeatMisses: model.heartbeat_misses ?? DEFAULT_TIMING.heartbeatMisses,
    fencingDeadlineMs: model.fencing_deadline_ms ?? DEFAULT_TIMING.fencingDeadlineMs,
    leaseTtlMs: model.lease_ttl_ms ?? DEFAULT_TIMING.leaseTtlMs,
  };
}

/** The timing attributes of a state (not observable on the hosts: they are the monitor's settings), with the worst case. */
function timingAttributes(state: FtVm | Unknowable<FtVm>): Pick<FtVm, 'heartbeat_interval_ms' | 'heartbeat_misses' | 'fencing_deadline_ms' | 'lease_ttl_ms' | 'worst_case_recovery_ms'> {
  const timing = timingOf(state) ?? DEFAULT_TIMING;
  return {
    heartbeat_interval_ms: timing.heartbeatIntervalMs,
    heartbeat_misses: timing.heartbeatMisses,
    fencing_deadline_ms: timing.fencingDeadlineMs,
    lease_ttl_ms: timing.leaseTtlMs,
    worst_case_recovery_ms: worstCaseRecoveryMs(timing),
  };
}

/** Sets x-checkpoint-delay on the running primary and in every host's pair record (re-protection reads it there). */
async function setCheckpointDelay(provider: ProviderContext, signal: AbortSignal, vm: string, delayMs: number): Promise<void> {
  const { sessions, pair } = await inspectConfiguredPair(provider, signal, vm);
  for (const { remote, session } of sessions) {
    await remote.withSession(async () => {
      const record = await readPairRecord(session, vm);
      if (!record) return;
      if (pair.protection === 'protected' && remote.name === pair.activeHost) await withQmp(session, vm, (qmp) => qmp.execute('migrate-set-parameters', { 'x-checkpoint-delay': delayMs }));
      const { version: _version, updatedAt: _updatedAt, ...rest } = record;
      await writePairRecord(session, { ...rest, checkpointDelayMs: delayMs });
    });
  }
}

/** Every configured host that answers, with its pooled session. */
function configuredSessions(provider: ProviderContext, signal: AbortSignal) {
  return reachableSessions([...provider.hosts.keys()].map((name) => provider.remote(name, { signal })));
}

/** The pair as every configured host that answers sees it, with those hosts' sessions. */
async function inspectConfiguredPair(provider: ProviderContext, signal: AbortSignal, vm: string) {
  const { sessions } = await configuredSessions(provider, signal);
  if (sessions.length === 0) {
    throw new OrbitError(`No configured host can be reached to read the pair of VM "${vm}"`, { attribute: 'primary_host', fix: 'check the hosts and the network between terraform and them' });
  }
  const pair: ColoPairInspection = await sessions[0].remote.withSession(() =>
    inspectPair(
      sessions.map((s) => s.session),
      vm,
    ),
  );
  return { sessions, pair };
}

/** COLO needs the same QEMU on both hosts; the host layer checks the versions, this checks the configured binaries. */
function sameQemuBinary(provider: ProviderContext, config: FtVm): string {
  const primary = provider.host(config.primary_host).qemuBinary;
  const secondary = provider.host(config.secondary_host).qemuBinary;
  if (primary !== secondary) {
    throw new OrbitError(`Hosts "${config.primary_host}" and "${config.secondary_host}" are configured with different QEMU binaries`, {
      attribute: 'secondary_host',
      detail: `${config.primary_host}: ${primary}\n${config.secondary_host}: ${secondary}`,
      fix: 'install the same QEMU build at the same path on both hosts and set the same qemu_binary in their hosts blocks',
    });
  }
  return primary;
}

/** The pair as the monitor sees it, from a configuration or a state. */
function monitoredPair(model: { name?: string; primary_host?: string; secondary_host?: string; spare_hosts?: Array<string | undefined> | null } & Parameters<typeof timingOf>[0]): MonitoredPair {
  return {
    vm: model.name!,
    primary: model.primary_host!,
    secondary: model.secondary_host!,
    spares: (model.spare_hosts ?? []).filter((h): h is string => typeof h === 'string'),
    timing: timingOf(model) ?? DEFAULT_TIMING,
  };
}

/**
 * Holds the monitor off the pair for a planned change: its spec and role leave etcd (its events
 * stay), and every agent must have dropped it; one that still watches is an error (the pair is
 * put back under watch), since it would take the planned fence for a fault.
 */
async function pauseMonitor(provider: ProviderContext, pair: MonitoredPair, signal: AbortSignal): Promise<void> {
  await withEtcd(provider, ['failover'], async (etcd) => {
    await removePairFromEtcd(etcd, pair.vm, { keepEvents: true });
    const watching = await waitUnwatched(provider, pair.vm, allHosts(pair), signal);
    if (watching.length > 0) {
      await publishSpec(provider, etcd, pair);
      throw new OrbitError(`The failover agents on ${watching.join(', ')} still watch VM "${pair.vm}" after its spec was withdrawn`, {
        attribute: 'failover',
        detail: 'A side of the pair moves only while no agent watches it. Nothing was changed; the pair is watched as before.',
        fix: 'check the agents (npm run orbit-ft -- agents <vm>), then apply again',
      });
    }
  });
}

/**
 * Takes the pair out of the monitor: its spec (and role, events) leave etcd, the agents stop
 * watching it (waited for, so that none fails it over as it goes), and agents that no other
 * pair needs are removed; `keepGuests` leaves the agents for delete, which destroys the guests
 * first and removes the agents after.
 */
async function undoMonitor(provider: ProviderContext, pair: MonitoredPair, signal: AbortSignal, options: { keepGuests?: boolean } = {}): Promise<void> {
  await withEtcd(provider, ['failover'], async (etcd) => {
    await removePairFromEtcd(etcd, pair.vm);
    await waitUnwatched(provider, pair.vm, allHosts(pair), signal);
    if (!options.keepGuests) await removeUnneededAgents(provider, etcd, allHosts(pair), ['failover'], signal);
  });
}
