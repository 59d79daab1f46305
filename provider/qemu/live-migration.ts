/**
 * Live migration of a running VM from one host to another, post-copy by default (QEMU 7.2).
 *
 *  1. The destination QEMU starts with the VM's persisted spec and `-incoming defer`, its
 *     disks created empty at the source's virtual size.
 *  2. Disks (local to each host) are copied while the guest runs: the destination exports
 *     them over NBD, the source mirrors into the exports (`blockdev-mirror`, copy-mode
 *     write-blocking, so once the mirror is ready every guest write lands on both sides).
 *  3. RAM: `migrate` starts in pre-copy; after `postcopyAfterMs`, or as soon as the first pass
 *     is done with little left, `migrate-start-postcopy` switches over: the destination runs
 *     and pulls the pages it still lacks from the source (userfaultfd).
 *  4. With disks, `pause-before-switchover` stops the migration at the switch (guest paused,
 *     nothing written any more) so the mirrors finish and the NBD exports close before the
 *     destination may run: the disks are identical at the switch.
 *  5. On `completed` the source QEMU (paused, post-migrate) is destroyed with its taps, files
 *     and now stale disk copies.
 *
 * Until the switch-over a failure costs nothing: the migration is cancelled, the source keeps
 * running (QEMU resumes it if the failure came at the switch) and the half-started destination
 * is destroyed. After the switch the guest's state is split between the hosts (pages on the
 * source, CPUs on the destination), so a failure in post-copy leaves both QEMUs in place for
 * recovery (`migrate-recover`) and says so.
 *
 * Disk paths must be local to each host (not shared storage): the destination writes its own
 * copy, and a shared image would be mirrored onto itself.
 */
import { diskVirtualSize } from './disk-image';
import { createHash } from 'crypto';
import { describeHost, errorMessage, HostAddress, HostError } from '../ssh/host-errors';
import { QmpClient, QmpEvent } from './qmp-client';
import { connectQmpOverSsh, QMP_TIMEOUT_MS } from './qmp-over-ssh';
import { vmIds, vmPaths } from './qemu-command-line';
import { destroyVm, inspectVm, startIncomingVm, VmInspection } from './qemu-process';
import { shellQuote } from '../ssh/remote-exec';
import { SshSession } from '../ssh/ssh-session';
import { VmSpec } from './vm-spec';
import { setTimeout as sleep } from 'timers/promises';
import { pollUntil } from '../ssh/poll';

export type MigrationMode = 'postcopy' | 'precopy';
export type MigrationPhase = 'checks' | 'destination' | 'disk-mirror' | 'pre-copy' | 'switch-over' | 'post-copy' | 'cleanup';

export interface MigrationOptions {
  /** `postcopy` (default) bounds the pre-copy phase and then switches; `precopy` waits for pre-copy to converge. */
  mode?: MigrationMode;
  /** Longest pre-copy phase before the switch to post-copy. Default 5000 ms. */
  postcopyAfterMs?: number;
  /** Switch earlier, once the first pass over RAM is done and at most this much is left. Default 16 MiB. */
  postcopyWhenRemainingBytes?: number;
  /** Address the destination listens on and the source connects to. Default: the destination's SSH address. */
  destinationAddress?: string;
  /** The QEMU binary on the destination, when it differs from the source's (same QEMU version, another path). Default: the source's. */
  destinationQemuBinary?: string;
  /** First TCP port tried on the destination (NBD for disks, then the migration stream). Default: 49152 + a hash of the VM name. */
  port?: number;
  /** Pre-copy bandwidth limit (QEMU `max-bandwidth`); post-copy is never limited. Default 1 GiB/s. */
  maxBandwidthBytesPerSecond?: number;
  /** Post-copy bandwidth limit (QEMU `max-postcopy-bandwidth`). Default: unlimited, so that faulted pages are not delayed. */
  postcopyBandwidthBytesPerSecond?: number;
  /** Pre-copy: the pause QEMU may take to finish (`downtime-limit`). Default 300 ms. */
  downtimeLimitMs?: number;
  /** Pre-copy: throttle the guest's CPUs until the migration converges. Default false. */
  autoConverge?: boolean;
  /** The whole migration, disk copy included. Default 10 minutes. */
  timeoutMs?: number;
  /** Called on every status poll (about every 100 ms) and phase change. */
  onProgress?: (progress: MigrationProgress) => void;
}

export interface MigrationProgress {
  phase: MigrationPhase;
  elapsedMs: number;
  /** QEMU's migration status on the source (`active`, `postcopy-active`, ...), once migrating. */
  status?: string;
  ram?: { transferredBytes: number; remainingBytes: number; totalBytes: number; dirtyBytesPerSecond: number };
}

export interface MigrationStats {
  /** Wall time of migrateVm, from the first check to the removed source. */
  wallMs: number;
  /** QEMU's total-time (migrate to completed). */
  totalMs: number;
  /** QEMU's downtime: the guest stopped on the source until it ran on the destination. */
  downtimeMs: number;
  /** Copying the disks before the RAM migration started (0 without disks). */
  diskMirrorMs: number;
  /** Pre-copy phase: from `active` to the switch (or to the final stop, in pure pre-copy). */
  precopyMs: number;
  /** Post-copy phase: from the switch to `completed` (0 when pre-copy finished by itself). */
  postcopyMs: number;
  /** Bytes of the RAM migration stream, and by phase. */
  ramBytes: { total: number; precopy: number; downtime: number; postcopy: number };
  /** Bytes the disk mirrors copied. */
  diskBytes: number;
  /** Guest RAM size. */
  guestRamBytes: number;
  /** Passes over RAM (dirty bitmap syncs). */
  dirtySyncCount: number;
  /** Pages the destination asked for during post-copy. */
  postcopyRequests: number;
  /** Time the destination's vCPUs waited for faulted pages (post-copy blocktime), when reported. */
  postcopyBlocktimeMs?: number;
}

export interface MigrationResult {
  vm: string;
  from: string;
  to: string;
  /** How the migration ended: post-copy, or pre-copy when it converged before the switch (or was asked for). */
  mode: MigrationMode;
  /** True when an earlier run had already moved the VM and this one only removed the source. */
  alreadyMigrated: boolean;
  destinationPid?: number;
  stats?: MigrationStats;
  /** Source migration statuses with their times (ms since the migration started on the source). */
  timeline: Array<{ status: string; atMs: number }>;
}

/** A migration failed; `vmRunsOn` says where the guest is now. */
export class MigrationError extends HostError {
  constructor(
    source: HostAddress,
    readonly vm: string,
    readonly to: HostAddress,
    readonly phase: MigrationPhase,
    readonly vmRunsOn: 'source' | 'destination' | 'split',
    readonly reason: string,
    fix: string,
    options?: { cause?: unknown },
  ) {
    super(source, `Live migration of VM ${vm} from ${describeHost(source)} to ${describeHost(to)} failed ${PHASE_WORDS[phase]}: ${reason}. ${whereNow(vmRunsOn, source, to)}`, fix, options);
  }
}

const PHASE_WORDS: Record<MigrationPhase, string> = {
  checks: 'while checking both hosts',
  destination: 'while starting the destination',
  'disk-mirror': 'while copying the disks',
  'pre-copy': 'during pre-copy',
  'switch-over': 'at the switch-over',
  'post-copy': 'during post-copy',
  cleanup: 'while removing the source',
};

function whereNow(vmRunsOn: MigrationError['vmRunsOn'], source: HostAddress, to: HostAddress): string {
  switch (vmRunsOn) {
    case 'source':
      return `It failed before the switch-over: the VM is still running on ${source.name}, and the half-started destination on ${to.name} was removed`;
    case 'destination':
      return `The VM was moved and runs on ${to.name}; only the removal of the stopped source copy on ${source.name} failed`;
    case 'split':
      return `It failed after the switch-over to post-copy: the guest runs on ${to.name} but part of its memory is still only on ${source.name}; both QEMUs were left in place`;
  }
}

export const MIGRATION_DEFAULTS = {
  mode: 'postcopy' as MigrationMode,
  postcopyAfterMs: 5000,
  postcopyWhenRemainingBytes: 16 * 2 ** 20,
  maxBandwidthBytesPerSecond: 2 ** 30,
  downtimeLimitMs: 300,
  timeoutMs: 10 * 60_000,
} as const;

const POLL_MS = 100;
const PORT_TRIES = 20;
const CANCEL_WAIT_MS = 15_000;
const ADDRESS = /^[A-Za-z0-9.:-]{1,253}$/;

interface MigrateInfo {
  status?: string;
  'total-time'?: number;
  downtime?: number;
  'error-desc'?: string;
  'postcopy-blocktime'?: number;
  ram?: {
    transferred: number;
    remaining: number;
    total: number;
    'dirty-sync-count': number;
    'dirty-pages-rate': number;
    'page-size': number;
    'postcopy-requests': number;
    'precopy-bytes'?: number;
    'downtime-bytes'?: number;
    'postcopy-bytes'?: number;
  };
}

interface BlockJobInfo {
  device: string;
  ready: boolean;
  len: number;
  offset: number;
  status?: string;
}

/** Internal signal: the source's migration reports failure. */
class MigrationStreamFailed extends Error {}

/**
 * Moves the running VM `name` from `source` to `destination`. Safe to run again: a VM already
 * on the destination with a leftover source is finished off, and a leftover half-started
 * destination is removed before a new attempt.
 */
export async function migrateVm(source: SshSession, destination: SshSession, name: string, options: MigrationOptions = {}): Promise<MigrationResult> {
  const run = new Migration(source, destination, name, options);
  const checked = await run.check();
  if ('done' in checked) return checked.done;
  // From here on, anything that goes wrong before the switch rolls back to the source.
  try {
    const destinationPid = await run.startDestination(checked.spec, checked.diskSizes);
    await run.mirrorDisks();
    const info = await run.copyRam();
    return await run.finish(info, destinationPid, checked.sourceStatus);
  } catch (error) {
    throw await run.failure(error);
  } finally {
    await run.closeQmp();
  }
}

/** One migration in progress: its phase, its two QMP connections, and what has happened so far (for the roll-back). */
class Migration {
  private readonly started = Date.now();
  private readonly mode: MigrationMode;
  private readonly timeoutMs: number;
  private readonly deadline: number;
  private readonly address: string;
  private readonly from: HostAddress;
  private readonly to: HostAddress;
  private phase: MigrationPhase = 'checks';
  private mirrors: Array<{ job: string; node: string; disk: string; bytes: number; sync: 'full' | 'top' }> = [];
  private destinationStarted = false;
  private srcQmp: QmpClient | undefined;
  private dstQmp: QmpClient | undefined;
  private nbdPort = 0;
  private migrationPort = 0;
  private diskMirrorMs = 0;
  /** This machine's clock at `migrate` (0: not issued). */
  private migrationStartedAt = 0;
  private preSwitchoverDone = false;
  private switchedOver = false;
  private readonly events: QmpEvent[] = [];

  constructor(
    private readonly source: SshSession,
    private readonly destination: SshSession,
    private readonly name: string,
    private readonly options: MigrationOptions,
  ) {
    this.mode = options.mode ?? MIGRATION_DEFAULTS.mode;
    this.timeoutMs = options.timeoutMs ?? MIGRATION_DEFAULTS.timeoutMs;
    this.deadline = this.started + this.timeoutMs;
    this.address = options.destinationAddress ?? destination.host.address;
    this.from = source.host;
    this.to = destination.host;
    checkOptions(options, this.address);
  }

  private readonly fail = (phase: MigrationPhase, vmRunsOn: MigrationError['vmRunsOn'], reason: string, fix: string, cause?: unknown) =>
    new MigrationError(this.from, this.name, this.to, phase, vmRunsOn, reason, fix, cause !== undefined ? { cause } : undefined);

  private report(progress: Omit<MigrationProgress, 'elapsedMs'>): void {
    this.options.onProgress?.({ ...progress, elapsedMs: Date.now() - this.started });
  }

  private timeLeft(what: string): number {
    const left = this.deadline - Date.now();
    if (left <= 0) throw this.timedOut(what);
    return left;
  }

  private timedOut(what: string): Error {
    return new Error(`the migration did not finish within ${this.timeoutMs} ms (while ${what})`);
  }

  /**
   * Where is the VM now? Finishes off a migration that already happened, removes the
   * destination of an attempt that never finished, refuses anything else in the way.
   */
  async check(): Promise<{ done: MigrationResult } | { spec: VmSpec; diskSizes: number[]; sourceStatus: string | undefined }> {
    const { source, destination, name, from, to, fail } = this;
    this.report({ phase: 'checks' });
    if (from.address === to.address && from.port === to.port) {
      throw fail('checks', 'source', 'source and destination are the same host', 'give another host as the destination');
    }
    const [src, dst] = await Promise.all([inspectVm(source, name), inspectVm(destination, name)]);
    const migrated = (): MigrationResult => ({ vm: name, from: from.name, to: to.name, mode: this.mode, alreadyMigrated: true, timeline: [], destinationPid: dst.pid });
    if (dst.state === 'running' && !dst.incoming) {
      if (src.state === 'absent') return { done: migrated() };
      if (src.status === 'postmigrate') {
        await removeSource(source, name, fail);
        return { done: migrated() };
      }
      throw fail(
        'checks',
        'source',
        `the VM runs on both hosts (source status ${src.status ?? 'unknown'}, destination status ${dst.status ?? 'unknown'})`,
        `find out which copy is the real one (inspectVm on both) and destroy the other before migrating`,
      );
    }
    const sourceSpec = runnableSource(src, fail);
    const spec = this.options.destinationQemuBinary ? { ...sourceSpec, qemuBinary: this.options.destinationQemuBinary } : sourceSpec;
    if (!dst.incoming && (dst.spec || dst.specProblem)) {
      throw fail(
        'checks',
        'source',
        `${to.name} has a stopped VM of the same name (its spec.json is there)`,
        `destroy it on ${to.name} (destroyVm, with removeDisks if its disks are not needed) or migrate elsewhere`,
      );
    }
    if (dst.incoming || dst.state === 'running') {
      // The destination of an earlier attempt that never finished: nothing of value is there yet.
      await destroyVm(destination, name, { removeDisks: true, graceMs: 0 });
    }
    const diskSizes = await diskVirtualSizes(source, spec, fail);
    // A disk made from an image is an overlay on it: the destination has the same image (content-addressed,
    // checked before it starts), so only what the overlay itself holds is copied.
    this.mirrors = spec.disks.map((disk, i) => ({
      job: `orbit-migrate-${vmIds.disk(i)}`,
      node: `orbit-migrate-${vmIds.disk(i)}`,
      disk: vmIds.disk(i),
      bytes: 0,
      sync: disk.backingImage ? 'top' : 'full',
    }));
    return { spec, diskSizes, sourceStatus: src.status };
  }

  /** Starts the destination QEMU waiting for the stream, exports its disks over NBD, and sets both QEMUs up; returns its pid. */
  async startDestination(spec: VmSpec, diskSizes: number[]): Promise<number> {
    const { name, address, mirrors, options } = this;
    this.phase = 'destination';
    this.report({ phase: this.phase });
    const incoming = await startIncomingVm(this.destination, spec, { diskSizesBytes: diskSizes, from: describeHost(this.from) });
    this.destinationStarted = true;
    const dstQmp = (this.dstQmp = await connectQmpOverSsh(this.destination, vmPaths(name).qmpSocket, { label: `VM ${name} (migration destination)`, timeoutMs: QMP_TIMEOUT_MS }));
    const srcQmp = (this.srcQmp = await connectQmpOverSsh(this.source, vmPaths(name).qmpSocket, { label: `VM ${name} (migration source)`, timeoutMs: QMP_TIMEOUT_MS }));
    const postcopy = this.mode === 'postcopy';
    await setCapabilities(dstQmp, { events: true, 'postcopy-ram': postcopy, 'postcopy-blocktime': postcopy });
    let nextPort = options.port ?? 49152 + (parseInt(createHash('sha256').update(name).digest('hex').slice(0, 6), 16) % 8000) * 2;
    if (mirrors.length > 0) {
      nextPort = 1 + (await listenOnFreePort(nextPort, (port) => dstQmp.execute('nbd-server-start', { addr: { type: 'inet', data: { host: address, port: String(port) } } })));
      for (const m of mirrors) await dstQmp.execute('block-export-add', { type: 'nbd', id: m.node, 'node-name': m.disk, name: m.disk, writable: true });
    }
    this.nbdPort = nextPort - 1;
    this.migrationPort = await listenOnFreePort(nextPort, (port) => dstQmp.execute('migrate-incoming', { uri: `tcp:${address}:${port}` }));
    await setCapabilities(srcQmp, { events: true, 'postcopy-ram': postcopy, 'pause-before-switchover': mirrors.length > 0, 'auto-converge': options.autoConverge ?? false });
    await srcQmp.execute('migrate-set-parameters', {
      'max-bandwidth': options.maxBandwidthBytesPerSecond ?? MIGRATION_DEFAULTS.maxBandwidthBytesPerSecond,
      'downtime-limit': options.downtimeLimitMs ?? MIGRATION_DEFAULTS.downtimeLimitMs,
      'max-postcopy-bandwidth': options.postcopyBandwidthBytesPerSecond ?? 0,
    });
    return incoming.pid;
  }

  /** Mirrors every disk into the destination's export until the copies are in sync (write-blocking from then on). */
  async mirrorDisks(): Promise<void> {
    const srcQmp = this.srcQmp!;
    if (this.mirrors.length === 0) return;
    this.phase = 'disk-mirror';
    this.report({ phase: this.phase });
    const mirrorStarted = Date.now();
    for (const m of this.mirrors) {
      await srcQmp.execute('blockdev-add', { driver: 'nbd', 'node-name': m.node, server: { type: 'inet', host: this.address, port: String(this.nbdPort) }, export: m.disk });
      await srcQmp.execute('blockdev-mirror', { 'job-id': m.job, device: m.disk, target: m.node, sync: m.sync, 'copy-mode': 'write-blocking' });
    }
    await waitForMirrorsReady(
      srcQmp,
      this.mirrors.map((m) => m.job),
      this.deadline,
      () => this.timedOut('copying the disks'),
      (progress) => this.report(progress),
    );
    this.diskMirrorMs = Date.now() - mirrorStarted;
  }

  /**
   * The RAM: `migrate`, then the switch to post-copy when it is due, and at the pause before the
   * switch-over the disk copies end; until QEMU reports `completed`. Returns its last answer.
   */
  async copyRam(): Promise<MigrateInfo> {
    const srcQmp = this.srcQmp!;
    const { options, events } = this;
    this.phase = 'pre-copy';
    this.report({ phase: this.phase });
    let wake: (() => void) | undefined;
    srcQmp.on('event', (event: QmpEvent) => {
      if (event.event !== 'MIGRATION') return;
      events.push(event);
      wake?.();
    });
    this.migrationStartedAt = Date.now();
    await srcQmp.execute('migrate', { uri: `tcp:${this.address}:${this.migrationPort}` });
    const postcopy = this.mode === 'postcopy';
    let switchRequested = false;
    const postcopyAfterMs = options.postcopyAfterMs ?? MIGRATION_DEFAULTS.postcopyAfterMs;
    if (postcopy && postcopyAfterMs === 0) {
      // Straight to post-copy: asked before the first pass, the switch comes at its first iteration.
      await srcQmp.execute('migrate-start-postcopy');
      switchRequested = true;
    }
    for (;;) {
      let info = await srcQmp.execute<MigrateInfo>('query-migrate');
      const status = info.status ?? 'none';
      if (status === 'postcopy-active' || status === 'postcopy-paused' || status === 'postcopy-recover') {
        this.switchedOver = true;
        this.phase = 'post-copy';
      }
      if (status === 'completed' && this.phase !== 'post-copy' && events.some((e) => e.data.status === 'postcopy-active')) {
        // A post-copy phase shorter than one poll: QEMU's own events saw it, so the progress says so too.
        this.phase = 'post-copy';
        this.report({ phase: this.phase, status: 'postcopy-active' });
      }
      this.report({ phase: this.phase, status, ...(info.ram ? { ram: ramProgress(info.ram) } : {}) });
      if (status === 'completed') {
        this.switchedOver = true;
        // QEMU announces `completed` a moment before it fills in total-time and downtime.
        for (let i = 0; i < 40 && !info['total-time']; i++) {
          await sleep(25);
          info = await srcQmp.execute<MigrateInfo>('query-migrate');
        }
        return info;
      }
      if (status === 'failed' || status === 'cancelled') throw new MigrationStreamFailed(`QEMU reports the migration ${status}${info['error-desc'] ? `: ${info['error-desc']}` : ''}`);
      if (status === 'postcopy-paused') throw new MigrationStreamFailed('the post-copy stream broke (status postcopy-paused)');
      if (status === 'pre-switchover' && !this.preSwitchoverDone) {
        this.phase = 'switch-over';
        this.report({ phase: this.phase, status });
        await finishDiskCopies(srcQmp, this.dstQmp!, this.mirrors);
        await srcQmp.execute('migrate-continue', { state: 'pre-switchover' });
        this.preSwitchoverDone = true;
      }
      if (postcopy && (status === 'active' || status === 'setup') && !switchRequested) {
        const ram = info.ram;
        const firstPassDone = (ram?.['dirty-sync-count'] ?? 0) >= 2;
        const remainingSmall = ram !== undefined && ram.remaining <= (options.postcopyWhenRemainingBytes ?? MIGRATION_DEFAULTS.postcopyWhenRemainingBytes);
        if (Date.now() - this.migrationStartedAt >= postcopyAfterMs || (firstPassDone && remainingSmall)) {
          switchRequested = true;
          // Refused only when the migration has meanwhile left `active`; the next poll sees where it went.
          await srcQmp.execute('migrate-start-postcopy').catch(() => undefined);
          continue;
        }
      }
      const left = this.timeLeft(`in status ${status}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL_MS, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  /** The VM runs on the destination: remove the source, and report what the migration took. */
  async finish(info: MigrateInfo, destinationPid: number, sourceStatus: string | undefined): Promise<MigrationResult> {
    const { name, events, mirrors } = this;
    const dstQmp = this.dstQmp!;
    this.phase = 'cleanup';
    this.report({ phase: this.phase, status: 'completed' });
    const timeline: MigrationResult['timeline'] = events.map((event) => ({
      status: String(event.data.status),
      atMs: Math.round(eventMs(event) - migrationStartedAtHost(events, this.migrationStartedAt)),
    }));
    const destinationInfo = await dstQmp.execute<MigrateInfo>('query-migrate').catch(() => ({}) as MigrateInfo);
    await waitForFinalState(dstQmp, sourceStatus === 'paused' ? 'paused' : 'running', this.deadline, () => this.timedOut('waiting for the destination to run'));
    if (mirrors.length > 0 && !this.preSwitchoverDone) await dstQmp.execute('nbd-server-stop').catch(() => undefined);
    await this.closeQmp();
    await this.destination.exec(`rm -f ${shellQuote(vmPaths(name).incomingMarker)}`, { timeoutMs: QMP_TIMEOUT_MS });
    await removeSource(this.source, name, this.fail);

    const ram = info.ram!;
    const switchAt = timeline.find((t) => ['pre-switchover', 'postcopy-active', 'device'].includes(t.status))?.atMs;
    const activeAt = timeline.find((t) => t.status === 'active')?.atMs ?? 0;
    const completedAt = timeline.find((t) => t.status === 'completed')?.atMs ?? info['total-time'] ?? 0;
    const usedPostcopy = timeline.some((t) => t.status === 'postcopy-active');
    const postcopyAt = timeline.find((t) => t.status === 'postcopy-active')?.atMs;
    return {
      vm: name,
      from: this.from.name,
      to: this.to.name,
      mode: usedPostcopy ? 'postcopy' : 'precopy',
      alreadyMigrated: false,
      destinationPid,
      timeline,
      stats: {
        wallMs: Date.now() - this.started,
        totalMs: info['total-time'] ?? 0,
        downtimeMs: info.downtime ?? 0,
        diskMirrorMs: this.diskMirrorMs,
        precopyMs: (switchAt ?? completedAt) - activeAt,
        postcopyMs: postcopyAt !== undefined ? completedAt - postcopyAt : 0,
        ramBytes: { total: ram.transferred, precopy: ram['precopy-bytes'] ?? 0, downtime: ram['downtime-bytes'] ?? 0, postcopy: ram['postcopy-bytes'] ?? 0 },
        diskBytes: mirrors.reduce((sum, m) => sum + m.bytes, 0),
        guestRamBytes: ram.total,
        dirtySyncCount: ram['dirty-sync-count'],
        postcopyRequests: ram['postcopy-requests'],
        ...(destinationInfo['postcopy-blocktime'] !== undefined ? { postcopyBlocktimeMs: destinationInfo['postcopy-blocktime'] } : {}),
      },
    };
  }

  /**
   * The error to throw for a failure at the current phase, after what can be undone was: before
   * the switch-over everything is rolled back to the source; after it, both QEMUs are left in
   * place (the guest's state is split between them).
   */
  async failure(error: unknown): Promise<MigrationError> {
    if (error instanceof MigrationError) return error;
    const { fail, phase, from, to } = this;
    const reason = errorMessage(error).split('\nFix:')[0];
    if (phase === 'cleanup') {
      await this.closeQmp();
      return fail('cleanup', 'destination', reason, `check the VM on ${to.name} (inspectVm); run the migration again to finish removing the source`, error);
    }
    if (this.switchedOver) {
      await this.closeQmp();
      return fail(
        'post-copy',
        'split',
        reason,
        `do not destroy either QEMU. If the network between the hosts broke, restore it and resume with migrate-recover (destination) and migrate with resume=true (source); if the source host died, the guest is lost: start the VM again from its disk on ${to.name}`,
        error,
      );
    }
    const sourceStatus = await rollBack(this.source, this.destination, this.name, this.srcQmp, this.dstQmp, this.mirrors, this.destinationStarted, this.migrationStartedAt > 0);
    this.srcQmp = this.dstQmp = undefined;
    if (sourceStatus === 'switched') {
      return fail(
        'post-copy',
        'split',
        `${reason}; the switch-over happened (or cannot be ruled out: the destination's QEMU is past waiting for the stream), so nothing was rolled back`,
        `do not destroy either QEMU: check query-migrate on ${from.name}; if it completes, the source can be destroyed, otherwise recover with migrate-recover`,
        error,
      );
    }
    if (sourceStatus !== 'running') {
      return fail(
        phase,
        'source',
        `${reason}; after the roll-back the VM on ${from.name} is in state ${sourceStatus}, not running`,
        `inspect the VM on ${from.name} (a paused VM resumes with the QMP command cont) and migrate again`,
        error,
      );
    }
    return fail(phase, 'source', reason, migrationFix(phase, to, this.address), error);
  }

  async closeQmp(): Promise<void> {
    const open = [this.srcQmp, this.dstQmp];
    this.srcQmp = this.dstQmp = undefined;
    await Promise.all(open.map((qmp) => qmp?.close()));
  }
}

function checkOptions(options: MigrationOptions, address: string): void {
  const wholeAtLeast = (value: number | undefined, min: number, what: string) => {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) throw new RangeError(`migrateVm: ${what} must be a whole number >= ${min}, got ${value}`);
  };
  if (options.mode !== undefined && options.mode !== 'postcopy' && options.mode !== 'precopy')
    throw new RangeError(`migrateVm: mode must be "postcopy" or "precopy", got ${JSON.stringify(options.mode)}`);
  wholeAtLeast(options.postcopyAfterMs, 0, 'postcopyAfterMs');
  wholeAtLeast(options.postcopyWhenRemainingBytes, 0, 'postcopyWhenRemainingBytes');
  wholeAtLeast(options.maxBandwidthBytesPerSecond, 1, 'maxBandwidthBytesPerSecond');
  wholeAtLeast(options.postcopyBandwidthBytesPerSecond, 1, 'postcopyBandwidthBytesPerSecond');
  wholeAtLeast(options.downtimeLimitMs, 1, 'downtimeLimitMs');
  wholeAtLeast(options.timeoutMs, 1, 'timeoutMs');
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535 - PORT_TRIES * 2)) {
    throw new RangeError(`migrateVm: port must be from 1 to ${65535 - PORT_TRIES * 2}, got ${options.port}`);
  }
  if (!ADDRESS.test(address)) throw new RangeError(`migrateVm: destinationAddress ${JSON.stringify(address)} is not a host name or IP address`);
}

function runnableSource(src: VmInspection, fail: (phase: MigrationPhase, vmRunsOn: MigrationError['vmRunsOn'], reason: string, fix: string) => MigrationError): VmSpec {
  if (src.state !== 'running') throw fail('checks', 'source', 'the VM is not running on the source', 'start it there first (startVm), or migrate from the host it runs on');
  if (!src.spec)
    throw fail(
      'checks',
      'source',
      `the source has no readable spec.json for the VM (${src.specProblem ?? 'missing'})`,
      'the destination is started from the persisted spec: restart the VM with startVm so that it is written',
    );
  if (src.pids.length > 1) throw fail('checks', 'source', `${src.pids.length} QEMU processes run for the VM on the source`, 'destroy the extra process (or the VM) first');
  if (src.incoming) throw fail('checks', 'source', 'the VM on the source is itself the destination of an unfinished migration', 'finish or abandon that migration first');
  if (src.status !== 'running' && src.status !== 'paused') {
    throw fail(
      'checks',
      'source',
      `the VM on the source is in state ${src.status ?? `unknown (${src.statusProblem ?? 'QMP did not answer'})`}`,
      'migrate a running (or paused) VM; check the VM with inspectVm',
    );
  }
  return src.spec;
}

/** Virtual size of every disk image on the source (qemu-img reads it while QEMU has it open). */
async function diskVirtualSizes(
  source: SshSession,
  spec: VmSpec,
  fail: (phase: MigrationPhase, vmRunsOn: MigrationError['vmRunsOn'], reason: string, fix: string, cause?: unknown) => MigrationError,
): Promise<number[]> {
  const sizes: number[] = [];
  for (const disk of spec.disks) {
    try {
      sizes.push(await diskVirtualSize(source, disk));
    } catch (error) {
      throw fail(
        'checks',
        'source',
        `cannot read the size of disk ${disk.path}: ${errorMessage(error).split('\n')[0]}`,
        'check that the image exists on the source and qemu-utils is installed',
        error,
      );
    }
  }
  return sizes;
}

async function setCapabilities(qmp: QmpClient, capabilities: Record<string, boolean>): Promise<void> {
  await qmp.execute('migrate-set-capabilities', { capabilities: Object.entries(capabilities).map(([capability, state]) => ({ capability, state })) });
}

/** Runs `listen` on `first`, then the next ports while the port is taken; resolves with the port that worked. */
async function listenOnFreePort(first: number, listen: (port: number) => Promise<unknown>): Promise<number> {
  for (let port = first; ; port++) {
    try {
      await listen(port);
      return port;
    } catch (error) {
      if (!/address already in use/i.test(errorMessage(error)) || port - first >= PORT_TRIES) throw error;
    }
  }
}

async function waitForMirrorsReady(qmp: QmpClient, jobs: string[], deadline: number, timeoutError: () => Error, report: (progress: Omit<MigrationProgress, 'elapsedMs'>) => void): Promise<void> {
  await pollUntil(
    'the disk mirrors to be in sync',
    async () => {
      const running = await qmp.execute<BlockJobInfo[]>('query-block-jobs');
      const ours = running.filter((j) => jobs.includes(j.device));
      const missing = jobs.filter((job) => !ours.some((j) => j.device === job));
      if (missing.length > 0) throw new Error(`the disk mirror ${missing.join(', ')} stopped before it was in sync (the NBD connection to the destination may have failed)`);
      if (ours.every((j) => j.ready)) return true;
      report({ phase: 'disk-mirror', status: ours.map((j) => `${j.device} ${Math.round((100 * j.offset) / Math.max(1, j.len))}%`).join(', ') });
      return undefined;
    },
    { deadline, everyMs: 200, probeErrors: 'throw', timeoutError },
  );
}

/**
 * At the switch (guest paused on the source): the mirrors finish their last writes and end
 * (cancelling a ready mirror completes it without pivoting), the source drops its NBD
 * connections, and the destination closes its exports so that its guest alone writes the disks.
 */
async function finishDiskCopies(srcQmp: QmpClient, dstQmp: QmpClient, mirrors: Array<{ job: string; node: string; bytes: number }>): Promise<void> {
  if (mirrors.length === 0) return;
  const jobs = await srcQmp.execute<BlockJobInfo[]>('query-block-jobs');
  for (const m of mirrors) {
    const job = jobs.find((j) => j.device === m.job);
    if (!job?.ready) throw new Error(`the disk mirror ${m.job} is ${job ? 'no longer in sync' : 'gone'} at the switch-over`);
    m.bytes = job.len;
    const ended = srcQmp.waitForEvent('BLOCK_JOB_COMPLETED', (e) => e.data.device === m.job, 60_000);
    await srcQmp.execute('block-job-cancel', { device: m.job });
    const event = await ended;
    if (event.data.error) throw new Error(`the disk mirror ${m.job} ended with an error: ${String(event.data.error)}`);
    await srcQmp.execute('blockdev-del', { 'node-name': m.node });
  }
  await dstQmp.execute('nbd-server-stop');
}

/** Waits until the destination has left the incoming states and checks it is `expected` (a paused source stays paused). */
async function waitForFinalState(qmp: QmpClient, expected: 'running' | 'paused', deadline: number, timeoutError: () => Error): Promise<void> {
  await pollUntil(
    `the destination VM to be ${expected}`,
    async () => {
      const { status } = await qmp.execute<{ status: string }>('query-status');
      if (status === expected) return true;
      if (status !== 'inmigrate' && status !== 'finish-migrate' && status !== 'paused') throw new Error(`the destination VM is in state ${status} after the migration completed, expected ${expected}`);
      return undefined;
    },
    { deadline, probeErrors: 'throw', timeoutError },
  );
}

/**
 * Undoes a migration that failed before the switch-over: cancel it, end the mirrors, make
 * sure the source runs, destroy the destination. Returns the source's run state, or `switched`
 * when it turns out the switch-over did happen (our view of the source may have been cut
 * off): then nothing is touched.
 */
async function rollBack(
  source: SshSession,
  destination: SshSession,
  name: string,
  srcQmp: QmpClient | undefined,
  dstQmp: QmpClient | undefined,
  mirrors: Array<{ job: string; node: string }>,
  destinationStarted: boolean,
  migrateIssued: boolean,
): Promise<string> {
  await dstQmp?.close();
  const qmp = srcQmp?.isOpen ? srcQmp : await connectQmpOverSsh(source, vmPaths(name).qmpSocket, { label: `VM ${name} (migration source)`, timeoutMs: QMP_TIMEOUT_MS }).catch(() => undefined);
  if (qmp) {
    try {
      // Before `migrate`, query-migrate reports the migration that brought the VM here (`completed` on a VM that arrived by one).
      const before = migrateIssued ? await qmp.execute<MigrateInfo>('query-migrate').catch(() => ({}) as MigrateInfo) : {};
      if (before.status?.startsWith('postcopy') || before.status === 'completed') return 'switched';
      if (migrateIssued) await qmp.execute('migrate_cancel').catch(() => undefined);
      const until = Date.now() + CANCEL_WAIT_MS;
      while (migrateIssued && Date.now() < until) {
        const info = await qmp.execute<MigrateInfo>('query-migrate').catch(() => ({ status: 'unknown' }) as MigrateInfo);
        if (info.status?.startsWith('postcopy') || info.status === 'completed') return 'switched';
        if (!['active', 'cancelling', 'setup', 'pre-switchover', 'device'].includes(info.status ?? '')) break;
        await sleep(POLL_MS);
      }
      const jobs = await qmp.execute<BlockJobInfo[]>('query-block-jobs').catch(() => [] as BlockJobInfo[]);
      for (const m of mirrors) {
        if (jobs.some((j) => j.device === m.job)) {
          const ended = qmp.waitForEvent('BLOCK_JOB_CANCELLED', (e) => e.data.device === m.job, 30_000).catch(() => undefined);
          await qmp.execute('block-job-cancel', { device: m.job, force: true }).catch(() => undefined);
          await ended;
        }
        await qmp.execute('blockdev-del', { 'node-name': m.node }).catch(() => undefined);
      }
      const { status } = await qmp.execute<{ status: string }>('query-status').catch(() => ({ status: 'unknown' }));
      // QEMU resumes a guest it paused for a failed switch; one paused by the user stays paused.
      if (status === 'finish-migrate' || status === 'postmigrate') await qmp.execute('cont').catch(() => undefined);
    } finally {
      await qmp.close();
    }
  }
  if (destinationStarted) {
    // Never destroy a destination that runs the guest: only one still waiting for the stream.
    const there = await inspectVm(destination, name).catch(() => undefined);
    const waitingForStream = there?.state !== 'running' || there.status === 'inmigrate';
    // Without word from the source, a destination in an unknown state may be running the guest.
    const mayRunGuest = qmp ? there?.state === 'running' && there.status !== undefined && there.status !== 'inmigrate' : !waitingForStream;
    if (mayRunGuest) return 'switched';
    await destroyVm(destination, name, { removeDisks: true, graceMs: 0 }).catch(() => undefined);
  }
  const after = await inspectVm(source, name).catch(() => undefined);
  return after?.status ?? (after?.state === 'absent' ? 'absent' : 'unknown');
}

async function removeSource(
  source: SshSession,
  name: string,
  fail: (phase: MigrationPhase, vmRunsOn: MigrationError['vmRunsOn'], reason: string, fix: string, cause?: unknown) => MigrationError,
): Promise<void> {
  try {
    await destroyVm(source, name, { removeDisks: true, graceMs: 0 });
  } catch (error) {
    throw fail('cleanup', 'destination', errorMessage(error).split('\nFix:')[0], 'run the migration again (it finishes the cleanup), or destroyVm on the source host', error);
  }
}

function migrationFix(phase: MigrationPhase, to: HostAddress, address: string): string {
  switch (phase) {
    case 'destination':
      return `check that ${to.name} can run the VM (the message above says what it refused) and that ${address} is an address of ${to.name}, then migrate again`;
    case 'disk-mirror':
      return `check that the source reaches ${address} (NBD, TCP) and that ${to.name} has room for the disks, then migrate again`;
    default:
      return `check that the destination QEMU on ${to.name} is still running (its serial log, host memory) and that the source reaches ${address} over TCP, then migrate again`;
  }
}

function ramProgress(ram: NonNullable<MigrateInfo['ram']>): NonNullable<MigrationProgress['ram']> {
  return { transferredBytes: ram.transferred, remainingBytes: ram.remaining, totalBytes: ram.total, dirtyBytesPerSecond: ram['dirty-pages-rate'] * (ram['page-size'] || 4096) };
}

function eventMs(event: QmpEvent): number {
  return event.timestamp.seconds * 1000 + event.timestamp.microseconds / 1000;
}

/** The host's clock at the `migrate` command: the `setup` event if there was one, else our own clock. */
function migrationStartedAtHost(events: QmpEvent[], localStart: number): number {
  const setup = events.find((e) => e.data.status === 'setup');
  return setup ? eventMs(setup) : events.length > 0 ? eventMs(events[0]) : localStart;
}
