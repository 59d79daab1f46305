/**
 * A fault-tolerant VM pair with QEMU 7.2 COLO: start it, inspect it, destroy it. Failover and
 * fencing are in colo-failover.ts, re-protection in colo-reprotect.ts.
 *
 * Start (docs/COLO-FT.txt, shared/notes/colo-on-our-machines.md §8):
 *  1. Checks on both hosts (QEMU features, same QEMU version, the VM nowhere yet).
 *  2. The secondary starts with fresh disks of the primary's sizes, `-incoming tcp:`, and
 *     exports its disks over NBD.
 *  3. The primary starts paused (`-S`) and waits until the secondary has connected to its
 *     packet mirror and compare sockets.
 *  4. The primary's disks are copied into the secondary's exports (drive-mirror, then
 *     cancelled once in sync: the guest is paused, so they are identical). A fresh disk and
 *     an existing image take the same path.
 *  5. Replication children join the primary's quorum drives; `migrate` with `x-colo`; poll
 *     until `colo`. Both guests run from here on.
 * A failure anywhere leaves nothing: both QEMUs, taps, files and the disks this attempt made
 * are removed (an existing primary image is kept).
 */
import { ColoHostState, checkColoHost, coloHostState, diskSizesOnHost } from './colo-host';
import { CheckpointStats } from './colo-checkpoint-trace';
import { coloPaths, coloPorts, primaryColoArgs, secondaryColoArgs } from './colo-command-line';
import { CHECKPOINT_DELAY_RANGE_MS, COLO_DEFAULTS, COLO_SETUP_QMP_TIMEOUT_MS } from './colo-limits';
import { PhaseClock } from './phase-clock';
import { ColoError, ColoHostRef, ColoOperation, ColoPairRecord, removePairRecord, writePairRecord } from './colo-pair-record';
import { coloMigrateSteps, describeStepError, replicationChildSteps, runQmpSteps, secondaryExportUri, secondaryReadySteps, StepLog } from './colo-qmp';
import { errorMessage } from '../ssh/host-errors';
import { QmpClient } from '../qemu/qmp-client';
import { connectQmpOverSsh } from '../qemu/qmp-over-ssh';
import { vmPaths } from '../qemu/qemu-command-line';
import { destroyVm, RunningVm, startVmWithCommandLine } from '../qemu/qemu-process';
import { shellQuote } from '../ssh/remote-exec';
import { SshSession } from '../ssh/ssh-session';
import { validateVmSpec, VmSpec, VmSpecInput } from '../qemu/vm-spec';
import { pollUntil } from '../ssh/poll';

export interface ColoPairOptions {
  /** Longest time between checkpoints when the outputs agree (`x-checkpoint-delay`). Default 2000 ms. */
  checkpointDelayMs?: number;
  /** Address the primary listens on for the secondary. Default: the primary's SSH address. */
  primaryAddress?: string;
  /** Address the secondary listens on (migration, NBD). Default: the secondary's SSH address. */
  secondaryAddress?: string;
  /** The whole start. Default 3 minutes. */
  timeoutMs?: number;
  onProgress?: (phase: ColoStartPhase) => void;
}

export type ColoStartPhase = 'checks' | 'secondary' | 'primary' | 'disk-sync' | 'colo-migrate' | 'protected';

export interface ColoPairStarted {
  vm: string;
  primary: string;
  secondary: string;
  /** True when the pair was already protected as asked (nothing was done). */
  alreadyProtected: boolean;
  /** Wall time of the start, and of each phase. */
  setupMs: number;
  phaseMs: Partial<Record<ColoStartPhase, number>>;
  primaryPid?: number;
  secondaryPid?: number;
}

const PEER_CONNECT_MS = 20_000;
const COLO_WAIT_MS = 60_000;
// IPv4 addresses and host names: the chardev, NBD and migration URIs here do not bracket IPv6 addresses.
const ADDRESS = /^[A-Za-z0-9.-]{1,253}$/;

/** Refuses an address replication traffic cannot use; `undefined` when it is fine. */
export function replicationAddressProblem(address: string): string | undefined {
  return ADDRESS.test(address) ? undefined : `${JSON.stringify(address)} is not a host name or IPv4 address (IPv6 is not supported for replication traffic)`;
}

/** The spec restrictions of a COLO VM, on top of validateVmSpec. */
export function validateColoSpec(input: VmSpecInput | VmSpec, host: SshSession, operation: ColoOperation): VmSpec {
  const spec = validateVmSpec(input);
  if (spec.nics.length !== 1) {
    throw new ColoError(
      host.host,
      spec.name,
      operation,
      `the VM has ${spec.nics.length} NICs; a COLO pair compares the output of exactly one`,
      'give the VM exactly one NIC (nics: [{ mac, bridge }])',
    );
  }
  return spec;
}

export async function startProtectedPair(primary: SshSession, secondary: SshSession, input: VmSpecInput | VmSpec, options: ColoPairOptions = {}): Promise<ColoPairStarted> {
  const started = Date.now();
  const spec = validateColoSpec(input, primary, START);
  const clock = new PhaseClock<ColoStartPhase>('checks', options.onProgress);
  const checked = await checkPairStart(primary, secondary, spec, options);
  if ('alreadyProtected' in checked) return { ...checked.alreadyProtected, setupMs: Date.now() - started, phaseMs: clock.phasesMs };
  const plan = checked.plan;
  const vm = spec.name;
  const deadline = started + (options.timeoutMs ?? COLO_DEFAULTS.timeoutMs);
  const record = (role: 'primary' | 'secondary', pending?: 'starting'): Omit<ColoPairRecord, 'version' | 'updatedAt'> => ({
    vm,
    role,
    startedAs: role,
    primary: plan.primary,
    secondary: plan.secondary,
    checkpointDelayMs: plan.checkpointDelayMs,
    generation: 1,
    ...(pending ? { pending } : {}),
  });
  let qmp: QmpClient | undefined;
  try {
    await Promise.all([writePairRecord(primary, record('primary', 'starting')), writePairRecord(secondary, record('secondary', 'starting'))]);
    clock.enter('secondary');
    await carryCdrom(primary, secondary, spec, START);
    const secondaryVm = await startSecondary(secondary, spec, plan.primary, plan.secondary.address, plan.diskSizes, START);
    clock.enter('primary');
    const primaryArgs = primaryColoArgs(spec, plan.primary.address);
    const primaryVm = await startVmWithCommandLine(primary, spec, { commandLine: primaryArgs, operation: 'Starting the COLO primary of', logFile: coloPaths(vm).traceLog });
    qmp = await connectQmpOverSsh(primary, vmPaths(vm).qmpSocket, { label: `VM ${vm} (COLO primary)`, timeoutMs: COLO_SETUP_QMP_TIMEOUT_MS });
    await waitForSecondaryConnected(qmp, secondary.host.name, deadline);
    clock.enter('disk-sync');
    await syncDisksToSecondary(qmp, plan.secondary.address, vm, spec.disks.length, deadline);
    clock.enter('colo-migrate');
    await joinAndMigrate(qmp, plan.secondary.address, vm, spec.disks.length, plan.checkpointDelayMs, deadline);
    await Promise.all([writePairRecord(primary, record('primary')), writePairRecord(secondary, record('secondary'))]);
    clock.enter('protected');
    return {
      vm,
      primary: primary.host.name,
      secondary: secondary.host.name,
      alreadyProtected: false,
      setupMs: Date.now() - started,
      phaseMs: clock.phasesMs,
      primaryPid: primaryVm.pid,
      secondaryPid: secondaryVm.pid,
    };
  } catch (error) {
    await qmp?.close();
    qmp = undefined;
    throw await rollBackPairStart(primary, secondary, vm, plan, clock.current, error);
  } finally {
    await qmp?.close();
  }
}

const START: ColoOperation = 'Starting the COLO pair of';

/** What the checks found and decided, before anything is started. */
interface PairStartPlan {
  primary: ColoHostRef;
  secondary: ColoHostRef;
  checkpointDelayMs: number;
  diskSizes: number[];
  /** Images this start creates on the primary (a roll-back removes them; existing ones are kept). */
  createdOnPrimary: string[];
}

/**
 * Everything that can be known before anything starts: the options, both hosts' state (an
 * earlier start that died half-way is cleaned up; any other copy of the VM is refused), the
 * QEMUs, the disks.
 */
async function checkPairStart(
  primary: SshSession,
  secondary: SshSession,
  spec: VmSpec,
  options: ColoPairOptions,
): Promise<{ plan: PairStartPlan } | { alreadyProtected: Omit<ColoPairStarted, 'setupMs' | 'phaseMs'> }> {
  const vm = spec.name;
  const checkpointDelayMs = options.checkpointDelayMs ?? COLO_DEFAULTS.checkpointDelayMs;
  const primaryAddress = options.primaryAddress ?? primary.host.address;
  const secondaryAddress = options.secondaryAddress ?? secondary.host.address;
  const fail = (summary: string, fix: string) => new ColoError(primary.host, vm, START, summary, fix);
  if (!Number.isInteger(checkpointDelayMs) || checkpointDelayMs < CHECKPOINT_DELAY_RANGE_MS.min || checkpointDelayMs > CHECKPOINT_DELAY_RANGE_MS.max) {
    throw fail(
      `checkpointDelayMs ${checkpointDelayMs} is not a whole number from ${CHECKPOINT_DELAY_RANGE_MS.min} to ${CHECKPOINT_DELAY_RANGE_MS.max}`,
      'give the longest time between checkpoints in ms, e.g. 2000',
    );
  }
  for (const address of [primaryAddress, secondaryAddress]) {
    const problem = replicationAddressProblem(address);
    if (problem) throw fail(problem, 'give the address replication traffic should use (primaryAddress / secondaryAddress)');
  }
  if (samehost(primary, secondary) || primaryAddress === secondaryAddress) {
    throw fail(`the primary and the secondary are the same host (${primary.host.name}); a pair on one host survives nothing`, 'give two different hosts, ideally in different failure domains');
  }

  const [pState, sState] = await Promise.all([coloHostState(primary, vm), coloHostState(secondary, vm)]);
  for (const state of [pState, sState]) {
    if (!state.reachable) throw fail(`host ${state.host} cannot be asked about the VM: ${state.problem}`, `check that ${state.host} is up and reachable over SSH; nothing was started`);
  }
  if (isProtectedAs(pState, sState, primary.host.name, secondary.host.name)) {
    return { alreadyProtected: { vm, primary: primary.host.name, secondary: secondary.host.name, alreadyProtected: true, primaryPid: pState.vm?.pid, secondaryPid: sState.vm?.pid } };
  }
  const leftovers = [pState, sState].filter((s) => s.record?.pending === 'starting');
  if (leftovers.length > 0) {
    // An earlier start died half-way: nothing of value is on the secondary, and the primary never ran the guest.
    await destroySide(secondary, vm, true);
    await destroySide(primary, vm, false);
  } else {
    for (const [state, session] of [
      [pState, primary],
      [sState, secondary],
    ] as const) {
      if (state.vm?.state === 'running' || state.vm?.spec || state.record) {
        throw new ColoError(
          session.host,
          vm,
          START,
          `the VM already exists on ${session.host.name} (${describeSide(state)}), but not as this protected pair`,
          `inspect the pair (inspectPair / orbit-ft status); fail over or re-protect it, or destroy the VM on ${session.host.name} (destroyPair) to start over`,
        );
      }
    }
  }

  const [primaryVersion, secondaryVersion] = await Promise.all([checkColoHost(primary, spec, START), checkColoHost(secondary, spec, START)]);
  if (primaryVersion !== secondaryVersion) {
    throw fail(
      `the hosts run different QEMUs: ${primary.host.name} "${primaryVersion}", ${secondary.host.name} "${secondaryVersion}"`,
      'install the same QEMU build on both hosts (COLO migrates device state every checkpoint)',
    );
  }
  const existingSizes = await diskSizesOnHost(primary, spec);
  const createdOnPrimary = spec.disks.filter((_, i) => existingSizes[i] === undefined).map((d) => d.path);
  const diskSizes = spec.disks.map((disk, i) => {
    const size = existingSizes[i] ?? (disk.sizeMiB !== undefined ? disk.sizeMiB * 2 ** 20 : undefined);
    if (size === undefined)
      throw fail(`disks[${i}]: ${disk.path} does not exist on ${primary.host.name} and sizeMiB is not set`, 'create the image on the primary, or set sizeMiB to have an empty one created');
    return size;
  });
  return {
    plan: { primary: { name: primary.host.name, address: primaryAddress }, secondary: { name: secondary.host.name, address: secondaryAddress }, checkpointDelayMs, diskSizes, createdOnPrimary },
  };
}

/** Removes both sides of a start that failed (and the images it created); the error to throw says what is left. */
async function rollBackPairStart(primary: SshSession, secondary: SshSession, vm: string, plan: PairStartPlan, phase: ColoStartPhase, error: unknown): Promise<ColoError> {
  const cleanup = await Promise.allSettled([destroySide(secondary, vm, true), destroySide(primary, vm, false, plan.createdOnPrimary)]);
  const left = cleanup.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => errorMessage(r.reason).split('\n')[0]);
  const reason = error instanceof ColoError ? error.summary : describeStepError(error);
  return new ColoError(
    primary.host,
    vm,
    START,
    `${reason} (during ${phase}). ${left.length === 0 ? 'Both sides were removed: nothing is left on either host' : `Removing what was started failed: ${left.join('; ')}`}`,
    error instanceof ColoError ? error.fix : startFix(phase, plan.primary.address, plan.secondary.address),
    { cause: error },
  );
}

function startFix(phase: ColoStartPhase, primaryAddress: string, secondaryAddress: string): string {
  const ports = 'TCP ports 20000-32000';
  switch (phase) {
    case 'secondary':
    case 'primary':
      return `read QEMU's message above; check the host can run the VM, then start the pair again`;
    case 'disk-sync':
    case 'colo-migrate':
      return `check that the hosts reach each other (${primaryAddress} <-> ${secondaryAddress}, ${ports}) and that the secondary's QEMU still runs, then start the pair again`;
    default:
      return 'start the pair again; it resumes from nothing';
  }
}

/** Everything about the pair, from whichever of its hosts are given (the others are simply not asked). */
export interface ColoPairInspection {
  vm: string;
  /**
   *   protected        primary checkpoints to a live secondary
   *   starting         a start is under way (or died half-way: start again, or destroy)
   *   re-protecting    a re-protection is under way (or died half-way: run it again)
   *   degraded         one host runs the guest alone (after a failover): re-protect it
   *   failover-needed  COLO lost a side and nobody has failed over: the guest may be stalled
   *   split            two hosts run the guest on their own: fence one at once
   *   down             no host runs the guest
   */
  protection: 'protected' | 'starting' | 're-protecting' | 'degraded' | 'failover-needed' | 'split' | 'down';
  /** The host whose guest is the one clients talk to. */
  activeHost?: string;
  /** The host holding the replica, when protected. */
  standbyHost?: string;
  /** Checkpoints of the active host's QEMU (from its COLO trace log: QMP has no statistics in 7.2). */
  checkpoints?: CheckpointStats;
  generation: number;
  hosts: ColoHostState[];
}

export async function inspectPair(sessions: SshSession[], vm: string): Promise<ColoPairInspection> {
  const hosts = await Promise.all(sessions.map((s) => coloHostState(s, vm)));
  const running = (h: ColoHostState) => h.vm?.state === 'running';
  const generation = Math.max(0, ...hosts.map((h) => h.record?.generation ?? 0));
  const current = hosts.filter((h) => h.record && h.record.generation === generation);
  const result = (protection: ColoPairInspection['protection'], active?: ColoHostState, standby?: ColoHostState): ColoPairInspection => ({
    vm,
    protection,
    ...(active ? { activeHost: active.host } : {}),
    ...(standby ? { standbyHost: standby.host } : {}),
    ...(active?.checkpoints ? { checkpoints: active.checkpoints } : {}),
    generation,
    hosts,
  });
  const primaryInColo = hosts.find((h) => running(h) && h.coloMode === 'primary' && h.migrationStatus === 'colo');
  const secondaryInColo = hosts.find((h) => running(h) && h.coloMode === 'secondary');
  const pending = current.find((h) => h.record?.pending)?.record?.pending;
  if (pending === 'starting')
    return result(
      'starting',
      hosts.find((h) => h.record?.role === 'primary' && running(h)),
    );
  if (pending === 'reprotecting')
    return result(
      're-protecting',
      hosts.find((h) => h.record?.role === 'solo' && running(h)),
    );
  if (primaryInColo && secondaryInColo) return result('protected', primaryInColo, secondaryInColo);
  // A guest "serves" when its QEMU runs it outside COLO's lock-step: a solo survivor, or a primary whose COLO has ended.
  const serving = hosts.filter((h) => running(h) && h.vm?.status === 'running' && h.coloMode === 'none' && h.record?.role !== 'secondary');
  if (serving.length > 1) return result('split', serving[0]);
  if (serving.length === 1) return result('degraded', serving[0]);
  if (hosts.some((h) => running(h) && (h.coloMode === 'primary' || h.coloMode === 'secondary'))) {
    return result(
      'failover-needed',
      hosts.find((h) => running(h) && h.coloMode === 'primary'),
    );
  }
  return result('down');
}

/** Removes the pair from every given host: QEMU, taps, files, the pair record and, with removeDisks, the disks. */
export async function destroyPair(sessions: SshSession[], vm: string, options: { removeDisks?: boolean } = {}): Promise<void> {
  await Promise.all(sessions.map((s) => destroySide(s, vm, options.removeDisks ?? false)));
}

// --- shared with colo-reprotect.ts ---------------------------------------------------------------

/** Largest CD-ROM image a pair carries to a new secondary (a cloud-init seed is well under 1 MiB). */
export const CARRIED_CDROM_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Puts the active side's CD-ROM media (`spec.cdrom`, e.g. the cloud-init seed) on a host about
 * to run the secondary: its QEMU opens the same path, and after a failover the guest boots from
 * it. Read-only media, never replicated by COLO, so each host needs its own copy. Mode 0600: a
 * seed may hold secrets.
 */
export async function carryCdrom(from: SshSession, to: SshSession, spec: Pick<VmSpec, 'name' | 'cdrom'>, operation: ColoOperation): Promise<void> {
  const iso = spec.cdrom;
  if (iso === undefined) return;
  try {
    const size = Number((await from.exec(`stat -c %s ${shellQuote(iso)}`)).stdout.trim());
    if (!(size <= CARRIED_CDROM_MAX_BYTES)) throw new Error(`${iso} is ${size} bytes, more than the ${CARRIED_CDROM_MAX_BYTES} a pair carries to a new host`);
    const data = await from.readFile(iso);
    await to.exec(`mkdir -p -m 0700 ${shellQuote(iso.slice(0, iso.lastIndexOf('/')) || '/')}`);
    await to.writeFile(iso, data, { mode: 0o600 });
  } catch (error) {
    throw new ColoError(
      to.host,
      spec.name,
      operation,
      `the CD-ROM media ${iso} could not be copied from ${from.host.name}: ${errorMessage(error).split('\n')[0]}`,
      `check that ${iso} exists on ${from.host.name} and that ${to.host.name} has space in its directory`,
      { cause: error },
    );
  }
}

/** Starts the secondary (fresh disks of the given sizes, active/hidden images on tmpfs) and readies its NBD exports. */
export async function startSecondary(session: SshSession, spec: VmSpec, primary: ColoHostRef, secondaryAddress: string, diskSizes: number[], operation: ColoOperation): Promise<RunningVm> {
  const args = secondaryColoArgs(spec, primary.address, secondaryAddress, diskSizes);
  const running = await startVmWithCommandLine(session, spec, {
    commandLine: { diskArgs: args.diskArgs, extraArgs: args.extraArgs, incoming: args.incoming },
    freshDiskSizesBytes: diskSizes,
    setup: args.setup,
    operation: 'Starting the COLO secondary of',
    logFile: coloPaths(spec.name).traceLog,
  });
  const qmp = await connectQmpOverSsh(session, vmPaths(spec.name).qmpSocket, { label: `VM ${spec.name} (COLO secondary)`, timeoutMs: COLO_SETUP_QMP_TIMEOUT_MS });
  try {
    await runQmpSteps(qmp, secondaryReadySteps(secondaryAddress, coloPorts(spec.name), spec.disks.length));
  } catch (error) {
    throw new ColoError(
      session.host,
      spec.name,
      operation,
      `the secondary refused to get ready: ${describeStepError(error)}`,
      `check that ${secondaryAddress} is an address of ${session.host.name} and that its port ${coloPorts(spec.name).nbd} is free`,
      { cause: error },
    );
  } finally {
    await qmp.close();
  }
  return running;
}

/** Waits until the secondary has connected to the primary's packet mirror and compare sockets. */
export async function waitForSecondaryConnected(qmp: QmpClient, secondaryName: string, deadline: number): Promise<void> {
  const wanted = ['mirror0', 'compare1'];
  let missing = wanted;
  let chardevs: Array<{ label: string; filename: string }> = [];
  await pollUntil(
    'the secondary to connect',
    async () => {
      chardevs = await qmp.execute<Array<{ label: string; filename: string }>>('query-chardev');
      missing = wanted.filter((id) => !chardevs.some((c) => c.label === id && c.filename.includes('<->')));
      return missing.length === 0 || undefined;
    },
    {
      deadline: Math.min(deadline, Date.now() + PEER_CONNECT_MS),
      probeErrors: 'throw',
      timeoutError: () =>
        new Error(
          `the secondary on ${secondaryName} did not connect to the primary's ${missing.join(' and ')} socket${missing.length > 1 ? 's' : ''} within ${PEER_CONNECT_MS} ms (${chardevs
            .filter((c) => missing.includes(c.label))
            .map((c) => c.filename)
            .join(', ')})`,
        ),
    },
  );
}

interface BlockJob {
  device: string;
  ready: boolean;
  len: number;
  offset: number;
}

/**
 * Copies every disk into the secondary's NBD export (`drive-mirror`), and ends the copies once
 * in sync (cancelling a ready mirror completes it without switching to the copy). The caller
 * makes sure the guest does not write meanwhile (paused) or stops it before this returns.
 */
export async function syncDisksToSecondary(qmp: QmpClient, secondaryAddress: string, vm: string, diskCount: number, deadline: number, beforeCancel?: () => Promise<void>): Promise<void> {
  const ports = coloPorts(vm);
  const jobs = Array.from({ length: diskCount }, (_, i) => `colo-sync${i}`);
  if (jobs.length === 0) {
    await beforeCancel?.();
    return;
  }
  await waitForNoBlockJobs(qmp, deadline);
  for (let i = 0; i < diskCount; i++) {
    await qmp.execute('drive-mirror', { device: `colo-disk${i}`, 'job-id': jobs[i], target: secondaryExportUri(secondaryAddress, ports, i), mode: 'existing', format: 'raw', sync: 'full' });
  }
  let running: BlockJob[] = [];
  await pollUntil(
    'the disk copies to be in sync',
    async () => {
      running = (await qmp.execute<BlockJob[]>('query-block-jobs')).filter((j) => jobs.includes(j.device));
      const gone = jobs.filter((job) => !running.some((j) => j.device === job));
      if (gone.length > 0)
        throw new Error(`the disk copy ${gone.join(', ')} to the secondary's NBD export stopped before it was in sync (did the secondary die, or is ${secondaryAddress}:${ports.nbd} unreachable?)`);
      return running.every((j) => j.ready) || undefined;
    },
    {
      deadline,
      probeErrors: 'throw',
      timeoutError: () =>
        new Error(`the disk copy to the secondary was not in sync before the deadline (${running.map((j) => `${j.device} ${Math.round((100 * j.offset) / Math.max(1, j.len))}%`).join(', ')})`),
    },
  );
  await beforeCancel?.();
  for (const job of jobs) {
    const ended = qmp.waitForEvent('BLOCK_JOB_COMPLETED', (e) => e.data.device === job, 60_000);
    // Awaited below; if the cancel itself fails (the copy died meanwhile), it must not end as an unhandled rejection.
    ended.catch(() => undefined);
    await qmp.execute('block-job-cancel', { device: job });
    const event = await ended;
    if (event.data.error) throw new Error(`the disk copy ${job} ended with an error: ${String(event.data.error)}`);
  }
}

/** A former secondary commits its active/hidden images into the disk after failover (a block job): copying waits for it. */
export async function waitForNoBlockJobs(qmp: QmpClient, deadline: number): Promise<void> {
  let jobs: BlockJob[] = [];
  await pollUntil(
    'the block jobs to end',
    async () => {
      jobs = await qmp.execute<BlockJob[]>('query-block-jobs');
      return jobs.length === 0 || undefined;
    },
    { deadline, probeErrors: 'throw', timeoutError: () => new Error(`block jobs ${jobs.map((j) => j.device).join(', ')} still run on the primary`) },
  );
}

/** Replication children towards the secondary, then the COLO migration; resolves once the primary checkpoints. */
export async function joinAndMigrate(
  qmp: QmpClient,
  secondaryAddress: string,
  vm: string,
  diskCount: number,
  checkpointDelayMs: number,
  deadline: number,
  options: { log?: StepLog[] } = {},
): Promise<void> {
  const ports = coloPorts(vm);
  const log = options.log ?? [];
  await runQmpSteps(qmp, replicationChildSteps(secondaryAddress, ports, diskCount), log);
  await runQmpSteps(qmp, coloMigrateSteps(secondaryAddress, ports, checkpointDelayMs), log);
  await waitForColoMigration(qmp, 'colo', deadline);
}

/**
 * Polls the COLO migration until it reaches `status` ("pre-switchover": RAM copied, the guest
 * stopped; "colo": checkpointing); fails as soon as it ended otherwise.
 */
export async function waitForColoMigration(qmp: QmpClient, status: 'pre-switchover' | 'colo', deadline: number): Promise<void> {
  let last: string | undefined;
  await pollUntil(
    `the COLO migration to reach "${status}"`,
    async () => {
      const info = await qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
      last = info.status;
      if (info.status === status) return true;
      if (info.status === 'failed' || info.status === 'cancelled' || info.status === 'completed') {
        throw new Error(`the COLO migration ended as ${info.status}${info['error-desc'] ? `: ${info['error-desc']}` : ''}`);
      }
      return undefined;
    },
    {
      // Reaching pre-switchover copies all of the guest's RAM: that takes what RAM size over
      // bandwidth takes, bounded by the operation's deadline only.
      deadline: status === 'colo' ? Math.min(deadline, Date.now() + COLO_WAIT_MS) : deadline,
      // Often: the guest is stopped while it waits for either state.
      everyMs: 20,
      probeErrors: 'throw',
      timeoutError: () => new Error(`the COLO migration did not reach "${status}" within ${status === 'colo' ? `${COLO_WAIT_MS} ms` : 'the deadline'} (status ${last ?? 'none'})`),
    },
  );
}

/**
 * Removes the VM and its pair record from one host; `createdDisks` are removed even when other
 * disks are kept. The record goes last: a destroy cut off half-way leaves a side that is still
 * known as this pair's (and is replaced by the next start or re-protection), never a VM without
 * a record, which they refuse to touch.
 */
export async function destroySide(session: SshSession, vm: string, removeDisks: boolean, createdDisks: string[] = [], options: { keepCdrom?: boolean } = {}): Promise<void> {
  await destroyVm(session, vm, { removeDisks, graceMs: 0, ...options });
  await removePairRecord(session, vm);
  if (createdDisks.length > 0) {
    await session.exec(`rm -f ${shellQuote(...createdDisks)}; rmdir ${shellQuote(vmPaths(vm).stateDir)} 2>/dev/null || true`, { timeoutMs: 15_000 });
  }
}

function isProtectedAs(p: ColoHostState, s: ColoHostState, primaryName: string, secondaryName: string): boolean {
  return (
    p.record?.role === 'primary' &&
    !p.record.pending &&
    p.record.secondary?.name === secondaryName &&
    s.record?.role === 'secondary' &&
    s.record.primary.name === primaryName &&
    p.vm?.state === 'running' &&
    s.vm?.state === 'running' &&
    p.migrationStatus === 'colo' &&
    s.coloMode === 'secondary'
  );
}

function describeSide(state: ColoHostState): string {
  const parts = [state.vm?.state === 'running' ? `QEMU runs, pid ${state.vm.pid}, status ${state.vm.status ?? 'unknown'}` : 'no QEMU runs'];
  if (state.record) parts.push(`pair record says ${state.record.role}${state.record.pending ? ` (${state.record.pending})` : ''}`);
  else if (state.vm?.spec) parts.push('a spec.json is there');
  return parts.join(', ');
}

function samehost(a: SshSession, b: SshSession): boolean {
  return a.host.name === b.host.name || (a.host.address === b.host.address && a.host.port === b.host.port);
}
