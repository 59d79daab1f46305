/**
 * Re-protection: after a failover, the guest runs alone on one host; this gives it a new
 * secondary (on the lost host once it is back, or on a spare) without stopping it for longer
 * than the last disk catch-up and the first checkpoint. docs/COLO-FT.txt, "Primary resume
 * replication" (the survivor was the primary) and "Secondary resume replication" (the
 * survivor was the secondary: it gets the primary's sockets, and its new filters go in front
 * of its filter-rewriter):
 *
 *  1. A fresh secondary starts on the new host and exports its (empty) disks over NBD.
 *  2. The active host mirrors its disks into them while the guest runs (drive-mirror).
 *  3. Once in sync, the replication nodes are opened (not yet attached), then `migrate` with
 *     `x-colo` and `pause-before-switchover`: the RAM is copied while the guest runs and the
 *     mirrors keep the disks in sync.
 *  4. In `pre-switchover` (QEMU stopped the guest; only the last dirty pages and the device
 *     state are left) the mirrors end, the replication nodes join the quorums, the filters and
 *     colo-compare are added, and `migrate-continue` lets COLO start and resume the guest on
 *     both sides.
 * Steps 3-4 need the lab QEMU's patch 0005 (RamCopyMode "while-running"). On a QEMU without it
 * (stock 7.2, e.g. Debian's on a KVM host) the documented sequence runs instead ("guest-stopped"):
 * `stop`, the mirrors end, the nodes join, the filters are added, `migrate`; the guest stays
 * stopped for the whole RAM copy (0.7-0.9 s for 128 MiB under TCG, growing with RAM).
 *
 * A failure undoes it: the new secondary is destroyed, whatever was added on the active host
 * is removed, and its guest runs on (resumed if it had been stopped), unprotected as before.
 * Running it again after such a failure, or after a crash half-way, is safe.
 */
import { checkColoHost, coloHostState, diskSizesOnHost, ORBIT_COLO_BUILD_MARKER, RamCopyMode, ramCopyModeFor } from './colo-host';
import { carryCdrom, destroySide, replicationAddressProblem, startSecondary, syncDisksToSecondary, waitForColoMigration, waitForSecondaryConnected } from './colo-pair';
import { ColoPorts, coloPorts } from './colo-command-line';
import { PhaseClock } from './phase-clock';
import { COLO_DEFAULTS, COLO_SETUP_QMP_TIMEOUT_MS } from './colo-limits';
import { ColoError, ColoHostRef, ColoPairRecord, writePairRecord } from './colo-pair-record';
import { coloMigrateSteps, describeStepError, primaryChardevSteps, primaryFailoverSteps, primaryFilterSteps, replicationAttachSteps, replicationOpenSteps, runQmpSteps } from './colo-qmp';
import { errorMessage } from '../ssh/host-errors';
import { QmpClient, QmpEvent } from '../qemu/qmp-client';
import { connectQmpOverSsh } from '../qemu/qmp-over-ssh';
import { vmPaths } from '../qemu/qemu-command-line';
import { SshSession } from '../ssh/ssh-session';
import { VmSpec } from '../qemu/vm-spec';

export interface ReprotectOptions {
  /** Address the new secondary listens on. Default: its SSH address. */
  secondaryAddress?: string;
  /** Default: the pair's current setting. */
  checkpointDelayMs?: number;
  /** The whole re-protection. Default 3 minutes. */
  timeoutMs?: number;
  /** Default: the fastest the hosts' QEMU supports (ramCopyModeFor). "while-running" on a QEMU without it is refused. */
  ramCopy?: RamCopyMode;
  onProgress?: (phase: ReprotectPhase) => void;
}

export type ReprotectPhase = 'checks' | 'secondary' | 'disk-sync' | 'ram-copy' | 'switch-over' | 'protected';

export interface ReprotectResult {
  vm: string;
  primary: string;
  secondary: string;
  alreadyProtected: boolean;
  /** Wall time, and how long the guest was stopped at the switch-over (QEMU's STOP to RESUME events). */
  wallMs: number;
  guestStoppedMs: number;
  /** Whether the RAM was copied while the guest ran (absent when it was already protected). */
  ramCopy?: RamCopyMode;
  generation: number;
  /** How long each phase took (ms), the checks split into their steps: where a re-protection's time goes. */
  phasesMs?: Record<string, number>;
}

export async function reprotect(active: SshSession, newSecondary: SshSession, vm: string, options: ReprotectOptions = {}): Promise<ReprotectResult> {
  const started = Date.now();
  const clock = new PhaseClock<ReprotectPhase>('checks', options.onProgress);
  const checked = await checkReprotection(active, newSecondary, vm, options, clock);
  if ('alreadyProtected' in checked) return { ...checked.alreadyProtected, wallMs: Date.now() - started };
  const plan = checked.plan;
  const deadline = started + (options.timeoutMs ?? COLO_DEFAULTS.timeoutMs);
  let qmp: QmpClient | undefined;
  try {
    await writePairRecord(active, { ...plan.base, generation: plan.record.generation, role: 'solo', startedAs: plan.record.startedAs, pending: 'reprotecting' });
    clock.enter('secondary');
    await writePairRecord(newSecondary, { ...plan.base, role: 'secondary', startedAs: 'secondary', pending: 'reprotecting' });
    await carryCdrom(active, newSecondary, plan.spec, OPERATION);
    await startSecondary(newSecondary, plan.spec, plan.base.primary, plan.base.secondary.address, plan.diskSizes, OPERATION);
    qmp = await connectQmpOverSsh(active, vmPaths(vm).qmpSocket, { label: `VM ${vm} (re-protecting primary)`, timeoutMs: COLO_SETUP_QMP_TIMEOUT_MS });
    // A former secondary lacks the primary's sockets; a former primary still has them.
    await runQmpSteps(qmp, primaryChardevSteps(plan.base.primary.address, plan.ports));
    await waitForSecondaryConnected(qmp, newSecondary.host.name, deadline);
    clock.enter('disk-sync');
    const stoppedAt = await copyUntilGuestStops(qmp, plan, clock, deadline);
    const resumedAt = await switchOver(qmp, plan, clock, deadline);
    // The active side first: until it is the COLO primary again (and so fenced if it loses the
    // role), the new replica must not count as a secondary that could be promoted.
    await writePairRecord(active, { ...plan.base, role: 'primary', startedAs: plan.record.startedAs });
    await writePairRecord(newSecondary, { ...plan.base, role: 'secondary', startedAs: 'secondary' });
    clock.enter('protected');
    return {
      vm,
      primary: active.host.name,
      secondary: newSecondary.host.name,
      alreadyProtected: false,
      wallMs: Date.now() - started,
      guestStoppedMs: resumedAt - stoppedAt,
      ramCopy: plan.ramCopy,
      generation: plan.base.generation,
      phasesMs: clock.phasesMs,
    };
  } catch (error) {
    const undone = await undo(active, newSecondary, vm, qmp, plan.spec.disks.length, plan.record);
    qmp = undefined;
    throw new ColoError(
      active.host,
      vm,
      OPERATION,
      `${error instanceof ColoError ? error.summary : describeStepError(error)} (during ${clock.current}). ${undone}`,
      error instanceof ColoError
        ? error.fix
        : `check that ${active.host.name} and ${newSecondary.host.name} reach each other (${plan.base.primary.address} <-> ${plan.base.secondary.address}, TCP ports 20000-32000), then re-protect again`,
      { cause: error },
    );
  } finally {
    await qmp?.close();
  }
}

const OPERATION = 'Re-protecting' as const;

/** What the checks found, and what the re-protection will write and start. */
interface ReprotectPlan {
  spec: VmSpec;
  /** The active host's pair record before the re-protection (restored by an undo). */
  record: ColoPairRecord;
  /** The pair record both sides get, with the next generation. */
  base: Omit<ColoPairRecord, 'version' | 'updatedAt' | 'role' | 'startedAs' | 'secondary'> & { secondary: ColoHostRef };
  diskSizes: number[];
  ramCopy: RamCopyMode;
  ports: ColoPorts;
}

/**
 * Everything that can be known before anything changes: both hosts' state, the pair record,
 * the QEMUs, the disks. Removes a stale copy on the new host, and what an interrupted
 * re-protection left on the active one.
 */
async function checkReprotection(
  active: SshSession,
  newSecondary: SshSession,
  vm: string,
  options: ReprotectOptions,
  clock: PhaseClock<ReprotectPhase>,
): Promise<{ plan: ReprotectPlan } | { alreadyProtected: Omit<ReprotectResult, 'wallMs'> }> {
  const fail = (summary: string, fix: string) => new ColoError(active.host, vm, OPERATION, summary, fix);
  let since = Date.now();
  if (active.host.name === newSecondary.host.name || (active.host.address === newSecondary.host.address && active.host.port === newSecondary.host.port)) {
    throw fail(`the new secondary is the active host itself (${active.host.name})`, 'give another host for the secondary');
  }
  const addressProblem = options.secondaryAddress !== undefined ? replicationAddressProblem(options.secondaryAddress) : undefined;
  if (addressProblem) throw fail(addressProblem, 'give the address the new secondary should listen on (secondaryAddress)');
  const [here, there] = await Promise.all([coloHostState(active, vm), coloHostState(newSecondary, vm)]);
  since = clock.step('inspect', since);
  if (!there.reachable)
    throw fail(`the new secondary ${newSecondary.host.name} cannot be asked about the VM: ${there.problem}`, `check that ${newSecondary.host.name} is up and reachable over SSH; nothing was changed`);
  const record = here.record;
  if (!record) throw fail(`${active.host.name} has no pair record for the VM`, 're-protect from the host that runs the guest (inspectPair says which)');
  if (here.vm?.state !== 'running') throw fail(`the guest does not run on ${active.host.name}`, 're-protect from the host that runs the guest (inspectPair says which)');
  if (record.role === 'primary' && !record.pending && record.secondary?.name === newSecondary.host.name && here.migrationStatus === 'colo' && there.coloMode === 'secondary') {
    return { alreadyProtected: { vm, primary: active.host.name, secondary: newSecondary.host.name, alreadyProtected: true, guestStoppedMs: 0, generation: record.generation } };
  }
  const resuming = record.role === 'solo' && record.pending === 'reprotecting';
  if (record.role !== 'solo' || (here.coloMode !== 'none' && !resuming)) {
    throw fail(
      `the guest on ${active.host.name} is not running alone (pair record: ${record.role}${record.pending ? `, ${record.pending}` : ''}; COLO mode ${here.coloMode ?? 'unknown'})`,
      'fail over first (a protected pair needs no re-protection); inspectPair shows the state',
    );
  }
  // The new host may hold a stale copy (a fenced or lost side, or an earlier attempt): it is replaced.
  if (there.vm?.state === 'running' && !(there.record && (there.record.role === 'fenced' || there.record.generation < record.generation || there.record.pending === 'reprotecting'))) {
    throw fail(
      `a QEMU of the VM runs on ${newSecondary.host.name} (pid ${there.vm.pid}) and is not a fenced or stale side of this pair`,
      `find out what it is (inspectPair); fence it (fence on ${newSecondary.host.name}) if it is a stale side, then re-protect again`,
    );
  }
  if (!there.record && there.vm?.spec) {
    throw fail(
      `${newSecondary.host.name} has a VM of the same name that is not part of this pair (spec.json without a pair record)`,
      `destroy it on ${newSecondary.host.name} if it is a leftover, or re-protect onto another host`,
    );
  }
  const spec = here.vm.spec;
  if (!spec)
    throw fail(`${active.host.name} has no readable spec.json for the VM (${here.vm.specProblem ?? 'missing'})`, 'the secondary is started from the persisted spec; destroy and start the pair again');
  const [activeVersion, secondaryVersion] = await Promise.all([checkColoHost(active, spec, OPERATION), checkColoHost(newSecondary, spec, OPERATION)]);
  if (activeVersion !== secondaryVersion) {
    throw fail(`the hosts run different QEMUs: ${active.host.name} "${activeVersion}", ${newSecondary.host.name} "${secondaryVersion}"`, 'install the same QEMU build on both hosts');
  }
  const ramCopy = options.ramCopy ?? ramCopyModeFor(activeVersion);
  if (ramCopy === 'while-running' && ramCopyModeFor(activeVersion) !== 'while-running') {
    throw fail(
      `ramCopy: "while-running" needs a QEMU that enters COLO after a pause before the switch-over; ${activeVersion} lacks the patch ("${ORBIT_COLO_BUILD_MARKER}" in -version)`,
      'leave ramCopy unset (the guest is then stopped for the RAM copy), or install a QEMU built by scripts/qemu-colo/build.sh',
    );
  }
  const diskSizes = (await diskSizesOnHost(active, spec)).map((size, i) => {
    if (size === undefined) throw fail(`disks[${i}] ${spec.disks[i].path} is missing on ${active.host.name}`, 'the running guest uses it: check the host');
    return size;
  });
  since = clock.step('hosts', since);
  if (there.vm?.state === 'running' || there.record || there.vm?.spec) await destroySide(newSecondary, vm, true);
  if (resuming) await cleanActive(active, vm, undefined, spec.disks.length);
  clock.step('cleanup', since);
  const base = {
    vm,
    primary: { name: active.host.name, address: record.primary.address },
    secondary: { name: newSecondary.host.name, address: options.secondaryAddress ?? newSecondary.host.address },
    checkpointDelayMs: options.checkpointDelayMs ?? record.checkpointDelayMs ?? COLO_DEFAULTS.checkpointDelayMs,
    generation: record.generation + 1,
  };
  return { plan: { spec, record, base, diskSizes, ramCopy, ports: coloPorts(vm) } };
}

/**
 * Mirrors the disks into the new secondary and, once they are in sync, lets the guest stop:
 * after copying its RAM while it runs (`while-running`: the migration pauses before the
 * switch-over), or at once (`guest-stopped`). The mirrors end only then: until the guest stops
 * they keep the copies in sync. Returns when QEMU stopped the guest (its STOP event).
 */
async function copyUntilGuestStops(qmp: QmpClient, plan: ReprotectPlan, clock: PhaseClock<ReprotectPhase>, deadline: number): Promise<number> {
  const { base, spec, ports, ramCopy } = plan;
  let stoppedAt: number | undefined;
  await syncDisksToSecondary(qmp, base.secondary.address, base.vm, spec.disks.length, deadline, async () => {
    if (ramCopy === 'while-running') clock.enter('ram-copy');
    await runQmpSteps(qmp, replicationOpenSteps(base.secondary.address, ports, spec.disks.length));
    const stopped = qmp.waitForEvent('STOP', () => true, Math.max(1, deadline - Date.now()));
    stopped.catch(() => undefined);
    if (ramCopy === 'while-running') {
      await runQmpSteps(qmp, coloMigrateSteps(base.secondary.address, ports, base.checkpointDelayMs, { pauseBeforeSwitchover: true }));
      await waitForColoMigration(qmp, 'pre-switchover', deadline);
    } else {
      await qmp.execute('stop');
    }
    stoppedAt = eventTime(await stopped);
    clock.enter('switch-over');
  });
  if (stoppedAt === undefined) throw new Error('the disk copies ended before the COLO migration had stopped the guest');
  return stoppedAt;
}

/**
 * With the guest stopped: the replication nodes join the quorums, the filters and colo-compare
 * are added, and the COLO migration goes on (or starts); COLO resumes the guest on both sides.
 * Returns when it did (QEMU's RESUME event). Each step's time is in the phases.
 */
async function switchOver(qmp: QmpClient, plan: ReprotectPlan, clock: PhaseClock<ReprotectPhase>, deadline: number): Promise<number> {
  const { base, spec, ports, ramCopy } = plan;
  let since = clock.step('end-mirrors', clock.currentSince);
  await runQmpSteps(qmp, replicationAttachSteps(spec.disks.length));
  await runQmpSteps(qmp, primaryFilterSteps(plan.record.startedAs === 'secondary'));
  since = clock.step('join', since);
  const resumed = qmp.waitForEvent('RESUME', () => true, Math.max(1, deadline - Date.now()));
  resumed.catch(() => undefined);
  if (ramCopy === 'while-running') {
    await qmp.execute('migrate-continue', { state: 'pre-switchover' });
  } else {
    await runQmpSteps(qmp, coloMigrateSteps(base.secondary.address, ports, base.checkpointDelayMs));
  }
  // COLO first: a migration that failed instead resumes the guest too.
  await waitForColoMigration(qmp, 'colo', deadline);
  const resumedAt = eventTime(await resumed);
  clock.step(ramCopy === 'while-running' ? 'last-copy-and-resume' : 'copy-and-resume', since);
  return resumedAt;
}

/** When QEMU emitted the event (the host's clock, ms). */
const eventTime = (event: QmpEvent): number => event.timestamp.seconds * 1000 + Math.round(event.timestamp.microseconds / 1000);

/** Back to "running alone": remove what was added on the active host, resume its guest, destroy the new secondary. */
async function undo(active: SshSession, newSecondary: SshSession, vm: string, qmp: QmpClient | undefined, diskCount: number, record: ColoPairRecord): Promise<string> {
  const problems: string[] = [];
  await cleanActive(active, vm, qmp, diskCount).catch((error) => problems.push(`cleaning up on ${active.host.name}: ${errorMessage(error).split('\n')[0]}`));
  await destroySide(newSecondary, vm, true).catch((error) => problems.push(`destroying the new secondary on ${newSecondary.host.name}: ${errorMessage(error).split('\n')[0]}`));
  const { version: _v, updatedAt: _u, pending: _p, ...rest } = record;
  await writePairRecord(active, rest).catch((error) => problems.push(`restoring the pair record on ${active.host.name}: ${errorMessage(error).split('\n')[0]}`));
  return problems.length === 0
    ? `It was undone: the guest runs on ${active.host.name} unprotected as before, and nothing is left on ${newSecondary.host.name}`
    : `Undoing it was incomplete (${problems.join('; ')}); inspect the pair`;
}

/** Removes from the active host what a re-protection adds (migration, disk copies, replication children, filters) and resumes its guest. */
async function cleanActive(active: SshSession, vm: string, qmp: QmpClient | undefined, diskCount: number): Promise<void> {
  const client = qmp?.isOpen ? qmp : await connectQmpOverSsh(active, vmPaths(vm).qmpSocket, { label: `VM ${vm}`, timeoutMs: COLO_SETUP_QMP_TIMEOUT_MS });
  try {
    await client.execute('migrate_cancel').catch(() => undefined);
    const jobs = await client.execute<Array<{ device: string }>>('query-block-jobs');
    for (const job of jobs.filter((j) => j.device.startsWith('colo-sync'))) await client.execute('block-job-cancel', { device: job.device, force: true }).catch(() => undefined);
    // The primary failover sequence removes exactly what re-protection adds, and tolerates its absence.
    await runQmpSteps(client, primaryFailoverSteps(diskCount));
  } finally {
    // Whatever else failed, the guest must not stay stopped.
    try {
      const { status } = await client.execute<{ status: string }>('query-status');
      if (status !== 'running') await client.execute('cont');
    } finally {
      await client.close();
    }
  }
}
