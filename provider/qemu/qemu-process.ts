/**
 * The QEMU process driver: start, inspect, stop and destroy one VM on one host over SSH.
 *
 * A VM is a daemonized QEMU (`-daemonize -pidfile`; it outlives the SSH session), its taps on
 * the host bridges, and its files (qemu-command-line.ts says where). Every operation is safe
 * to run again after any failure: start returns the running VM when the spec is the same,
 * stop and destroy finish whatever an earlier attempt left.
 *
 * A VM's QEMU is found by its command line (`-name guest=<vm>,...`) among the processes in
 * the caller's mount namespace, not by trusting the pidfile: a stale pidfile can name a reused
 * pid, and on hosts that share a pid namespace (the lab) another host's QEMU of the same VM
 * is visible too.
 */
import { describeHost, errorMessage, HostAddress, HostError, HostTimeoutError, RemoteCommandError } from '../ssh/host-errors';
import { QmpClient } from './qmp-client';
import { connectQmpOverSsh, QMP_TIMEOUT_MS } from './qmp-over-ssh';
import { QemuArgsOptions, qemuArgs, tapName, tapPrefix, vmPaths } from './qemu-command-line';
import { shellQuote } from '../ssh/remote-exec';
import { SshSession } from '../ssh/ssh-session';
import { validateVmSpec, VmSpec, vmSpecDifferences, VmSpecInput } from './vm-spec';

/** A driver operation on a VM failed on its host; the message says what, where and the fix. */
export class VmError extends HostError {
  constructor(
    host: HostAddress,
    readonly vm: string,
    readonly operation: string,
    summary: string,
    fix: string,
    options?: { cause?: unknown },
  ) {
    super(host, `${operation} VM ${vm} on host ${describeHost(host)} failed: ${summary}`, fix, options);
  }
}

export interface RunningVm {
  name: string;
  pid: number;
  spec: VmSpec;
  /** False when the VM was already running with this spec (nothing was done). */
  started: boolean;
  /** Disk images this start created empty (the others were there already and were kept as they were). */
  createdDisks: string[];
  /** QMP run state, e.g. `running`, `paused`, `inmigrate`. */
  status: string;
}

export interface VmInspection {
  name: string;
  state: 'running' | 'absent';
  /** The QEMU process; several means something else started a second one (destroy removes all). */
  pids: number[];
  pid?: number;
  /** The spec persisted by the last start, if any (also when the VM is not running). */
  spec?: VmSpec;
  /** Why spec.json could not be used, when it exists but is unreadable. */
  specProblem?: string;
  /** The VM is the destination of a migration that has not finished (or was abandoned). */
  incoming: boolean;
  /** QMP run state (`running`, `paused`, `inmigrate`, `postmigrate`, ...) when running and QMP answered. */
  status?: string;
  /** Why there is no status although the process runs (QMP busy with another client, hung, ...). */
  statusProblem?: string;
}

export interface StopResult {
  wasRunning: boolean;
  /** How it ended: the guest powered off (`acpi`), QEMU quit on request (`quit`), SIGKILL (`kill`), or it was not running (`none`). */
  method: 'acpi' | 'quit' | 'kill' | 'none';
  elapsedMs: number;
}

export interface DestroyResult {
  stop: StopResult;
  removedTaps: string[];
  removedDisks: string[];
  /** Disk images left in place (destroy without removeDisks). */
  keptDisks: string[];
}

export interface StopOptions {
  /** How long the guest gets to power off after the ACPI request; 0 skips it. Default 30 s. */
  graceMs?: number;
}

export interface DestroyOptions extends StopOptions {
  /** Also delete every disk image named in the persisted spec, and /var/lib/orbit/<vm>. Default false. */
  removeDisks?: boolean;
  /** Delete only these disk images (say, the ones a failed create made); the others stay. */
  removeTheseDisks?: readonly string[];
  /** Keep a CD-ROM image in the VM's directory (a seed), which otherwise goes with the VM: a restart starts with it again. Default false. */
  keepCdrom?: boolean;
}

export interface RestartResult {
  stop: StopResult;
  running: RunningVm;
  /** From the stop request to QEMU answering again with the new spec. */
  downtimeMs: number;
}

/** For live-migration.ts: a destination QEMU waiting for the migration stream. */
export interface IncomingVmOptions {
  /** Size in bytes of every disk image, created fresh (an existing image is an error). */
  diskSizesBytes: number[];
  /** Who sends the VM, written to the incoming marker for whoever finds it later. */
  from: string;
}

/** For COLO (colo-pair.ts): a VM whose command line is amended (replaced disk arguments, extra objects). */
export interface CustomCommandLineOptions {
  commandLine: QemuArgsOptions;
  /** Size in bytes of every disk image, created fresh (an existing image is an error). Without it, disks are handled as by startVm. */
  freshDiskSizesBytes?: number[];
  /** Shell lines run on the host (under `set -e`) after the disks and taps are made and before QEMU starts. */
  setup?: string[];
  /** How errors name the operation, e.g. `Starting the COLO secondary of`. */
  operation?: string;
  /** The `-D` log in extraArgs: a daemonized QEMU writes its errors there, not to stderr, so a failed start shows its tail. */
  logFile?: string;
}

export const STOP_DEFAULTS = { graceMs: 30_000, quitWaitMs: 10_000, killWaitMs: 10_000 } as const;
const PREPARE_TIMEOUT_MS = 30_000;
const LAUNCH_TIMEOUT_MS = 90_000;
const CLEANUP_TIMEOUT_MS = 30_000;
/** What a host-side wait's remote call may take beyond the wait itself (SSH round trip, a loaded host). */
const WAIT_GONE_SLACK_MS = 5_000;
const VM_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Starts the VM unless it already runs with the same spec (then returns it, `started: false`).
 * A VM that runs with a different spec is an error, never restarted behind the caller's back.
 */
export async function startVm(session: SshSession, input: VmSpecInput | VmSpec): Promise<RunningVm> {
  const spec = validateVmSpec(input);
  const existing = await inspectVm(session, spec.name);
  if (existing.state === 'running') return adoptRunning(session, spec, existing);
  return launch(session, spec, {});
}

/** Starts a migration destination: the same spec with `-incoming defer`, fresh disks, an incoming marker. */
export async function startIncomingVm(session: SshSession, spec: VmSpec, options: IncomingVmOptions): Promise<RunningVm> {
  const existing = await inspectVm(session, spec.name, { skipStatus: true });
  if (existing.state === 'running') {
    throw new VmError(
      session.host,
      spec.name,
      'Starting the migration destination of',
      `a QEMU for the VM already runs there (pid ${existing.pid})`,
      'destroy the VM on this host first if it is a leftover (destroyVm), or migrate to another host',
    );
  }
  if (options.diskSizesBytes.length !== spec.disks.length) throw new Error(`startIncomingVm: ${spec.disks.length} disks but ${options.diskSizesBytes.length} sizes`);
  return launch(session, spec, { incoming: options });
}

/** Starts a VM with an amended command line; a QEMU of the VM that already runs there is an error. */
export async function startVmWithCommandLine(session: SshSession, spec: VmSpec, options: CustomCommandLineOptions): Promise<RunningVm> {
  const operation = options.operation ?? 'Starting';
  const existing = await inspectVm(session, spec.name, { skipStatus: true });
  if (existing.state === 'running') {
    throw new VmError(session.host, spec.name, operation, `a QEMU for the VM already runs there (pid ${existing.pid})`, 'destroy the VM on this host first if it is a leftover (destroyVm)');
  }
  if (options.freshDiskSizesBytes && options.freshDiskSizesBytes.length !== spec.disks.length) {
    throw new Error(`startVmWithCommandLine: ${spec.disks.length} disks but ${options.freshDiskSizesBytes.length} sizes`);
  }
  return launch(session, spec, { custom: options });
}

function adoptRunning(session: SshSession, spec: VmSpec, existing: VmInspection): RunningVm {
  const fix = `stop or destroy the VM on this host first (or give the spec it runs with); the driver never restarts a running VM by itself`;
  if (existing.pids.length > 1) {
    throw new VmError(
      session.host,
      spec.name,
      'Starting',
      `${existing.pids.length} QEMU processes run for it (pids ${existing.pids.join(', ')})`,
      `destroy the VM on this host (destroyVm kills all of them), then start it again`,
    );
  }
  if (existing.incoming) {
    throw new VmError(
      session.host,
      spec.name,
      'Starting',
      'the QEMU there is the destination of an unfinished live migration',
      'finish the migration, or destroy the VM on this host if the migration was abandoned',
    );
  }
  if (!existing.spec) {
    throw new VmError(session.host, spec.name, 'Starting', `a QEMU runs for it (pid ${existing.pid}) without a readable spec.json (${existing.specProblem ?? 'missing'})`, fix);
  }
  const differences = vmSpecDifferences(existing.spec, spec);
  if (differences.length > 0) {
    throw new VmError(session.host, spec.name, 'Starting', `it already runs (pid ${existing.pid}) with a different spec: ${differences.join('; ')}`, fix);
  }
  return { name: spec.name, pid: existing.pid!, spec, started: false, createdDisks: [], status: existing.status ?? 'unknown' };
}

/** Whether the VM's QEMU runs, with its persisted spec and QMP run state. Read only. */
export async function inspectVm(session: SshSession, name: string, options: { skipStatus?: boolean } = {}): Promise<VmInspection> {
  assertVmName(name);
  const paths = vmPaths(name);
  const script = [
    vmShellFunctions(name),
    'echo "pids:" $(vm_pids)',
    `if [ -e ${shellQuote(paths.incomingMarker)} ]; then echo incoming; fi`,
    `if [ -e ${shellQuote(paths.specFile)} ]; then echo spec-follows; cat ${shellQuote(paths.specFile)}; fi`,
  ].join('\n');
  const { stdout } = await session.exec(script, { timeoutMs: PREPARE_TIMEOUT_MS });
  const lines = stdout.split('\n');
  const pids = (lines[0] ?? '')
    .replace(/^pids:/, '')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  const specAt = lines.indexOf('spec-follows');
  const incoming = lines.slice(1, specAt < 0 ? undefined : specAt).includes('incoming');
  const inspection: VmInspection = { name, state: pids.length > 0 ? 'running' : 'absent', pids, incoming };
  if (pids.length > 0) inspection.pid = Math.min(...pids);
  if (specAt >= 0) {
    const parsed = parsePersistedSpec(lines.slice(specAt + 1).join('\n'));
    if ('spec' in parsed) inspection.spec = parsed.spec;
    else inspection.specProblem = parsed.problem;
  }
  if (pids.length > 0 && !options.skipStatus) {
    try {
      inspection.status = await withQmp(session, name, async (qmp) => (await qmp.execute<{ status: string }>('query-status')).status);
    } catch (error) {
      inspection.statusProblem = errorMessage(error);
    }
  }
  return inspection;
}

/**
 * Stops the VM: ACPI power-down with `graceMs` to comply, then QMP `quit`, then SIGKILL.
 * Leaves taps, spec and disks (start again brings it back); stopping a stopped VM is a no-op.
 */
export async function stopVm(session: SshSession, name: string, options: StopOptions = {}): Promise<StopResult> {
  assertVmName(name);
  const graceMs = options.graceMs ?? STOP_DEFAULTS.graceMs;
  if (!Number.isInteger(graceMs) || graceMs < 0) throw new RangeError(`stopVm: graceMs must be a whole number of milliseconds >= 0, got ${graceMs}`);
  const started = Date.now();
  const done = async (method: StopResult['method']): Promise<StopResult> => {
    await session.exec(`rm -f ${shellQuote(vmPaths(name).pidFile, vmPaths(name).qmpSocket)}`, { timeoutMs: CLEANUP_TIMEOUT_MS });
    return { wasRunning: method !== 'none', method, elapsedMs: Date.now() - started };
  };
  if ((await vmPids(session, name)).length === 0) return done('none');

  if (graceMs > 0) {
    const asked = await withQmp(session, name, (qmp) => qmp.execute('system_powerdown')).then(
      () => true,
      () => false,
    );
    if (asked && (await waitGone(session, name, graceMs))) return done('acpi');
  }
  // QEMU may close the connection before it answers `quit`; whether it is gone is checked below.
  await withQmp(session, name, (qmp) => qmp.execute('quit')).catch(() => undefined);
  if (await waitGone(session, name, STOP_DEFAULTS.quitWaitMs)) return done('quit');

  const pids = await vmPids(session, name);
  if (pids.length > 0) await session.exec(`kill -s KILL ${pids.join(' ')} 2>/dev/null || true`, { timeoutMs: CLEANUP_TIMEOUT_MS });
  if (await waitGone(session, name, STOP_DEFAULTS.killWaitMs)) return done('kill');
  throw new VmError(
    session.host,
    name,
    'Stopping',
    `its QEMU (pids ${(await vmPids(session, name)).join(', ')}) survived SIGKILL for ${STOP_DEFAULTS.killWaitMs} ms`,
    'the process is stuck in the kernel (D state, e.g. on dead storage): check `cat /proc/<pid>/stack` on the host, then stop again',
  );
}

/**
 * Powers the VM off and leaves it defined on the host: its spec and disks stay, its QEMU,
 * taps and run directory go. startVm brings it back on the same disks.
 */
export async function powerOffVm(session: SshSession, name: string, options: StopOptions = {}): Promise<StopResult> {
  const stop = await stopVm(session, name, options);
  await removeTaps(session, name);
  await session.exec(`rm -rf ${shellQuote(vmPaths(name).runDir)}`, { timeoutMs: CLEANUP_TIMEOUT_MS });
  return stop;
}

/**
 * Defines the VM on the host without running the guest: the host is checked, the disks are
 * made (from images, at their sizes) and the spec is persisted, as a start would, but QEMU
 * starts paused (`-S`: not one guest instruction runs) and quits at once. startVm runs it later.
 */
export async function defineVm(session: SshSession, input: VmSpecInput | VmSpec): Promise<{ createdDisks: string[] }> {
  const spec = validateVmSpec(input);
  const running = await startVmWithCommandLine(session, spec, { commandLine: { extraArgs: ['-S'] }, operation: 'Defining' });
  try {
    await powerOffVm(session, spec.name, { graceMs: 0 });
  } catch (error) {
    await destroyVm(session, spec.name, { removeTheseDisks: running.createdDisks, graceMs: 0 }).catch(() => undefined);
    throw error;
  }
  return { createdDisks: running.createdDisks };
}

/** SIGKILLs the VM's QEMU (fencing: no grace, no guest shutdown) and waits until it is gone; returns the pids killed. */
export async function killVm(session: SshSession, name: string): Promise<number[]> {
  assertVmName(name);
  const pids = await vmPids(session, name);
  if (pids.length > 0) await session.exec(`kill -s KILL ${pids.join(' ')} 2>/dev/null || true`, { timeoutMs: CLEANUP_TIMEOUT_MS });
  if (!(await waitGone(session, name, STOP_DEFAULTS.killWaitMs))) {
    throw new VmError(
      session.host,
      name,
      'Killing',
      `its QEMU (pids ${(await vmPids(session, name)).join(', ')}) survived SIGKILL for ${STOP_DEFAULTS.killWaitMs} ms`,
      'the process is stuck in the kernel (D state): check `cat /proc/<pid>/stack` on the host',
    );
  }
  return pids;
}

/**
 * Stops the VM and removes everything it has on the host: its processes (also orphans a
 * pidfile no longer names), taps, /run/orbit/<vm>, spec and serial log, and, with
 * `removeDisks`, its disk images and /var/lib/orbit/<vm>. Destroying an absent VM is a no-op.
 */
export async function destroyVm(session: SshSession, name: string, options: DestroyOptions = {}): Promise<DestroyResult> {
  assertVmName(name);
  const before = await inspectVm(session, name, { skipStatus: true });
  const stop = await stopVm(session, name, options);
  const paths = vmPaths(name);
  const disks = before.spec?.disks.map((d) => d.path) ?? [];
  const removeAll = options.removeDisks === true;
  const toRemove = removeAll ? disks : [...(options.removeTheseDisks ?? [])];
  const script = [
    vmShellFunctions(name),
    // Anything still there is an orphan (a second start by hand, a QEMU whose pidfile was lost).
    'pids=$(vm_pids); if [ -n "$pids" ]; then kill -s KILL $pids 2>/dev/null || true; wait_gone 10000 || { echo "QEMU $pids survives SIGKILL" >&2; exit 1; }; fi',
    'for tap in $(vm_taps); do ip link del "$tap" && echo "tap $tap"; done',
    `rm -rf ${shellQuote(paths.runDir)}`,
    `rm -f ${shellQuote(paths.specFile, paths.serialLog, paths.incomingMarker)}`,
    // A CD-ROM image the VM's own directory holds was made for it (a cloud-init seed, which may hold secrets): it goes too.
    ...(before.spec?.cdrom?.startsWith(`${paths.stateDir}/`) && (removeAll || !options.keepCdrom) ? [`rm -f ${shellQuote(before.spec.cdrom)}`] : []),
    ...toRemove.map((d) => `if [ -e ${shellQuote(d)} ]; then rm -f ${shellQuote(d)} && echo ${shellQuote(`disk ${d}`)}; fi`),
    removeAll ? `rm -rf ${shellQuote(paths.stateDir)}` : `rmdir ${shellQuote(paths.stateDir)} 2>/dev/null || true`,
    // Proof: nothing of the VM is left (disks only when they were to be kept).
    'left=""',
    '[ -z "$(vm_pids)" ] || left="$left process"',
    '[ -z "$(vm_taps)" ] || left="$left taps($(vm_taps | tr "\\n" " "))"',
    `[ ! -e ${shellQuote(paths.runDir)} ] || left="$left ${paths.runDir}"`,
    ...(removeAll ? [`[ ! -e ${shellQuote(paths.stateDir)} ] || left="$left ${paths.stateDir}"`] : []),
    'if [ -n "$left" ]; then echo "still there:$left" >&2; exit 1; fi',
  ].join('\n');
  let stdout: string;
  try {
    ({ stdout } = await session.exec(script, { timeoutMs: CLEANUP_TIMEOUT_MS }));
  } catch (error) {
    const detail = error instanceof RemoteCommandError ? error.stderr.trim() || `exit code ${error.exitCode}` : errorMessage(error);
    throw new VmError(session.host, name, 'Destroying', detail, 'run destroy again; if it keeps failing, remove what is listed by hand (ip link del <tap>, rm -rf <dir>)', { cause: error });
  }
  const lines = stdout.split('\n');
  const removedDisks = lines.filter((l) => l.startsWith('disk ')).map((l) => l.slice(5));
  return {
    stop,
    removedTaps: lines.filter((l) => l.startsWith('tap ')).map((l) => l.slice(4)),
    removedDisks,
    keptDisks: disks.filter((d) => !toRemove.includes(d)),
  };
}

/**
 * A planned restart on the same disks: the host is checked for the new spec while the guest
 * still runs, then the guest is stopped as by stopVm (ACPI power-off with `graceMs`, quit,
 * kill) and QEMU starts again with `input`. Disk images are never removed or rewritten; disks
 * the new spec adds are created empty. When the new spec does not start, the VM is started
 * again with the spec it ran with, and the error says so.
 */
export async function restartVm(session: SshSession, input: VmSpecInput | VmSpec, options: StopOptions = {}): Promise<RestartResult> {
  const spec = validateVmSpec(input);
  const before = await inspectVm(session, spec.name, { skipStatus: true });
  const operation = 'Restarting';
  if (before.state !== 'running') throw new VmError(session.host, spec.name, operation, 'its QEMU does not run there', 'start the VM instead (terraform apply plans that after a refresh)');
  if (before.incoming) throw new VmError(session.host, spec.name, operation, 'it is the destination of an unfinished live migration', 'finish or roll back the migration first');
  if (!before.spec)
    throw new VmError(session.host, spec.name, operation, `it runs without a readable spec.json (${before.specProblem ?? 'missing'})`, 'stop the QEMU started by hand, then start the VM');
  const previous = before.spec;
  await prepareHost(session, spec, operation, {});
  const stopping = Date.now();
  const stop = await stopVm(session, spec.name, options);
  await removeTaps(session, spec.name);
  try {
    const running = await launch(session, spec, {});
    return { stop, running, downtimeMs: Date.now() - stopping };
  } catch (error) {
    const back = await launch(session, previous, {}).then(
      () => 'it runs again with its previous settings',
      (e: unknown) => `starting it again with its previous settings failed too (${errorMessage(e)}); its disks are untouched`,
    );
    throw new VmError(session.host, spec.name, operation, `the new settings did not start: ${errorMessage(error)}\n${back}`, 'fix what the message names and apply again', { cause: error });
  }
}

/** Runs `use` with a QMP connection to the VM and closes it after: QEMU serves one QMP client at a time. */
export async function withQmp<T>(session: SshSession, name: string, use: (qmp: QmpClient) => Promise<T>, timeoutMs = QMP_TIMEOUT_MS): Promise<T> {
  const qmp = await connectQmpOverSsh(session, vmPaths(name).qmpSocket, { label: `VM ${name}`, timeoutMs });
  try {
    return await use(qmp);
  } finally {
    await qmp.close();
  }
}

export function assertVmName(name: string): void {
  if (typeof name !== 'string' || !VM_NAME.test(name)) {
    throw new RangeError(`Invalid VM name ${JSON.stringify(name)}: 1-40 of a-z, 0-9 and "-", starting with a letter.`);
  }
}

// ---------------------------------------------------------------------------------------------

interface LaunchOptions {
  incoming?: IncomingVmOptions;
  custom?: CustomCommandLineOptions;
}

/** Sizes of disks to create fresh (the migration destination, a COLO secondary), if any. */
function freshDiskSizes(options: LaunchOptions): number[] | undefined {
  return options.incoming?.diskSizesBytes ?? options.custom?.freshDiskSizesBytes;
}

function launchCommandLine(options: LaunchOptions): QemuArgsOptions {
  if (options.incoming) return { incoming: 'defer' };
  return options.custom?.commandLine ?? {};
}

async function launch(session: SshSession, spec: VmSpec, options: LaunchOptions): Promise<RunningVm> {
  const paths = vmPaths(spec.name);
  const operation = options.incoming ? 'Starting the migration destination of' : (options.custom?.operation ?? 'Starting');
  const stateDirExisted = await prepareHost(session, spec, operation, options);
  const persisted = JSON.stringify({ version: 1, spec }, null, 2) + '\n';
  await session.writeFile(paths.specFile, persisted, { mode: 0o600, timeoutMs: PREPARE_TIMEOUT_MS });
  if (options.incoming) {
    await session.writeFile(paths.incomingMarker, `from=${options.incoming.from} at=${new Date().toISOString()}\n`, { mode: 0o600, timeoutMs: PREPARE_TIMEOUT_MS });
  }

  const createdDisks: string[] = [];
  let pid: number;
  try {
    const { stdout } = await session.exec(launchScript(spec, options), { timeoutMs: LAUNCH_TIMEOUT_MS });
    const lines = stdout.split('\n');
    createdDisks.push(...lines.filter((l) => l.startsWith('created ')).map((l) => l.slice(8)));
    const already = lines.find((l) => l.startsWith('already '));
    if (already) {
      // Another start won the race; judge it like any running VM.
      if (options.incoming || options.custom) throw new VmError(session.host, spec.name, operation, 'a QEMU for the VM was started meanwhile by someone else', 'destroy it and try again');
      return adoptRunning(session, spec, await inspectVm(session, spec.name));
    }
    pid = Number(lines.find((l) => l.startsWith('pid '))?.slice(4));
  } catch (error) {
    if (error instanceof RemoteCommandError) {
      createdDisks.push(
        ...error.stdout
          .split('\n')
          .filter((l) => l.startsWith('created '))
          .map((l) => l.slice(8)),
      );
    }
    await undoLaunch(session, spec, stateDirExisted, createdDisks);
    if (error instanceof VmError) throw error;
    const stderr = error instanceof RemoteCommandError ? error.stderr.trim() : errorMessage(error);
    throw new VmError(
      session.host,
      spec.name,
      operation,
      `QEMU did not start: ${stderr || 'no error output'}`,
      `read QEMU's message above; the taps and files this attempt made were removed. To reproduce, run on the host: ${spec.qemuBinary} ${shellQuote(...qemuArgs(spec, launchCommandLine(options))).slice(0, 300)}...`,
      { cause: error },
    );
  }

  let status: string;
  try {
    status = await withQmp(session, spec.name, async (qmp) => (await qmp.execute<{ status: string }>('query-status')).status);
  } catch (error) {
    throw new VmError(
      session.host,
      spec.name,
      operation,
      `QEMU started (pid ${pid}) but its QMP socket ${paths.qmpSocket} does not answer: ${errorMessage(error)}`,
      `inspect the VM; destroy it if QEMU hangs, then start again`,
      { cause: error },
    );
  }
  return { name: spec.name, pid, spec, started: true, createdDisks, status };
}

/** Checks the host can run the spec (reports every problem at once), then creates the VM's directories. Returns whether the state directory existed. */
async function prepareHost(session: SshSession, spec: VmSpec, operation: string, options: LaunchOptions): Promise<boolean> {
  const paths = vmPaths(spec.name);
  const checks: string[] = [
    'problems=0',
    'problem() { printf "problem %s\\t%s\\n" "$1" "$2"; problems=1; }',
    `command -v ${shellQuote(spec.qemuBinary)} >/dev/null 2>&1 || problem qemuBinary ${shellQuote(`${spec.qemuBinary} is not installed (or not on PATH) on the host; install qemu-system-x86 or give its absolute path`)}`,
  ];
  if (spec.accelerator === 'kvm') checks.push(`[ -c /dev/kvm ] || problem accelerator ${shellQuote('kvm requested but the host has no /dev/kvm; use accelerator "tcg" or enable KVM on the host')}`);
  if (spec.boot.kind === 'kernel') {
    checks.push(`[ -r ${shellQuote(spec.boot.kernel)} ] || problem boot.kernel ${shellQuote(`${spec.boot.kernel} does not exist on the host (or is unreadable); copy the kernel there`)}`);
    if (spec.boot.initrd !== undefined)
      checks.push(`[ -r ${shellQuote(spec.boot.initrd)} ] || problem boot.initrd ${shellQuote(`${spec.boot.initrd} does not exist on the host (or is unreadable); copy the initrd there`)}`);
  }
  if (spec.cdrom !== undefined)
    checks.push(`[ -r ${shellQuote(spec.cdrom)} ] || problem cdrom ${shellQuote(`${spec.cdrom} does not exist on the host (or is unreadable); build or copy the ISO there first`)}`);
  spec.disks.forEach((disk, i) => {
    const at = `disks[${i}].path`;
    const dir = disk.path.slice(0, disk.path.lastIndexOf('/')) || '/';
    const parentOk = dir === paths.stateDir ? 'true' : `[ -d ${shellQuote(dir)} ]`;
    if (disk.backingImage !== undefined && disk.sizeMiB !== undefined) {
      const image = shellQuote(disk.backingImage);
      const virtualSize = `$(qemu-img info --force-share --output=json ${image} | sed -n 's/^ *"virtual-size": \\([0-9]*\\),*$/\\1/p' | head -n 1)`;
      checks.push(
        `if [ ! -e ${shellQuote(disk.path)} ]; then`,
        `  if [ ! -f ${image} ]; then problem disks[${i}].backingImage ${shellQuote(`the image ${disk.backingImage} is not on the host; place it there first (an orbit_image with this host in hosts)`)}`,
        `  elif [ "${virtualSize}" -gt ${disk.sizeMiB * 1024 * 1024} ]; then problem disks[${i}].sizeMiB ${shellQuote(`${disk.sizeMiB} MiB is smaller than the image ${disk.backingImage}; give at least its virtual size`)}; fi`,
        'fi',
      );
    }
    if (freshDiskSizes(options)) {
      checks.push(
        `[ ! -e ${shellQuote(disk.path)} ] || problem ${at} ${shellQuote(`${disk.path} already exists on the destination; it would be overwritten. Remove it if it is a leftover, or use another host`)}`,
      );
      checks.push(`${parentOk} || problem ${at} ${shellQuote(`the directory ${dir} does not exist on the destination; create it`)}`);
    } else if (disk.sizeMiB === undefined) {
      checks.push(
        `[ -e ${shellQuote(disk.path)} ] || problem ${at} ${shellQuote(`${disk.path} does not exist on the host and sizeMiB is not set; create the image, or set sizeMiB to have an empty one created`)}`,
      );
    } else {
      checks.push(
        `[ -e ${shellQuote(disk.path)} ] || ${parentOk} || problem ${at} ${shellQuote(`the directory ${dir} does not exist on the host; create it (only /var/lib/orbit/${spec.name}/ is created automatically)`)}`,
      );
    }
  });
  spec.nics.forEach((nic, i) => {
    checks.push(
      `[ -d /sys/class/net/${nic.bridge}/bridge ] || problem nics[${i}].bridge ${shellQuote(`there is no bridge ${nic.bridge} on the host; create it (ip link add ${nic.bridge} type bridge) or name an existing one`)}`,
    );
  });
  checks.push(
    'if [ "$problems" != 0 ]; then exit 3; fi',
    `if [ -d ${shellQuote(paths.stateDir)} ]; then echo state-existed; fi`,
    `mkdir -p ${shellQuote(paths.stateDir)} ${shellQuote(paths.runDir)}`,
    `chmod 700 ${shellQuote(paths.runDir)}`,
  );
  const result = await session.exec(checks.join('\n'), { timeoutMs: PREPARE_TIMEOUT_MS, allowFailure: true });
  if (result.code === 3) {
    const problems = result.stdout
      .split('\n')
      .filter((l) => l.startsWith('problem '))
      .map((l) => l.slice(8).split('\t'));
    throw new VmError(
      session.host,
      spec.name,
      operation,
      `the host cannot run this spec; nothing was started:\n${problems.map(([field, text]) => `  - ${field}: ${text}`).join('\n')}`,
      'fix the items above (on the host or in the spec) and start again',
    );
  }
  if (result.code !== 0) {
    throw new RemoteCommandError(session.host, { command: 'VM host checks', exitCode: result.code, signal: result.signal, stdout: result.stdout, stderr: result.stderr });
  }
  return result.stdout.includes('state-existed');
}

function launchScript(spec: VmSpec, options: LaunchOptions): string {
  const paths = vmPaths(spec.name);
  const log = options.custom?.logFile;
  const showLog = (before: string, after: string) => (log ? `${before}tail -n 20 ${shellQuote(log)} >&2 2>/dev/null${after}` : '');
  const lines = [
    vmShellFunctions(spec.name),
    // One start at a time per VM; the lock file lives and dies with the run directory.
    `exec 9>${shellQuote(`${paths.runDir}/start.lock`)}`,
    'flock -w 30 9 || { echo "another start of this VM holds the lock for 30 s" >&2; exit 1; }',
    'pids=$(vm_pids)',
    'if [ -n "$pids" ]; then echo "already $pids"; exit 0; fi',
    'set -e',
    `rm -f ${shellQuote(paths.pidFile, paths.qmpSocket)}`,
  ];
  spec.disks.forEach((disk, i) => {
    const fresh = freshDiskSizes(options);
    const size = fresh ? `${fresh[i]}` : disk.sizeMiB !== undefined ? `${disk.sizeMiB}M` : undefined;
    if (size !== undefined) {
      // The backing format is read from the image (an image store entry: a verified qcow2 or raw without a backing file of its own).
      const backing = disk.backingImage
        ? ` -b ${shellQuote(disk.backingImage)} -F "$(qemu-img info --force-share --output=json ${shellQuote(disk.backingImage)} | sed -n 's/^ *"format": "\\([a-z0-9]*\\)",*$/\\1/p' | head -n 1)"`
        : '';
      lines.push(`if [ ! -e ${shellQuote(disk.path)} ]; then qemu-img create -q -f ${disk.format}${backing} ${shellQuote(disk.path, size)}; echo ${shellQuote(`created ${disk.path}`)}; fi`);
    }
  });
  spec.nics.forEach((nic, i) => {
    const tap = tapName(spec.name, i);
    lines.push(`ip link show dev ${tap} >/dev/null 2>&1 || ip tuntap add dev ${tap} mode tap`, `ip link set dev ${tap} master ${nic.bridge}`, `ip link set dev ${tap} up`);
  });
  lines.push(
    ...(options.custom?.setup ?? []),
    'cd /',
    `${shellQuote(spec.qemuBinary, ...qemuArgs(spec, launchCommandLine(options)))} </dev/null${showLog(' || { status=$?; ', '; exit $status; }')}`,
    'pid=$(vm_pids)',
    `[ -n "$pid" ] || { echo "QEMU exited right after it daemonized" >&2;${showLog(' ', ';')} exit 1; }`,
    'echo "pid $pid"',
  );
  return lines.join('\n');
}

/** After a failed start: removes the taps, the run directory and what this attempt created. */
async function undoLaunch(session: SshSession, spec: VmSpec, keepStateDir: boolean, createdDisks: string[]): Promise<void> {
  const paths = vmPaths(spec.name);
  const script = [
    vmShellFunctions(spec.name),
    'pids=$(vm_pids); if [ -n "$pids" ]; then kill -s KILL $pids 2>/dev/null || true; wait_gone 5000 || true; fi',
    'for tap in $(vm_taps); do ip link del "$tap" || true; done',
    `rm -rf ${shellQuote(paths.runDir)}`,
    ...createdDisks.map((d) => `rm -f ${shellQuote(d)}`),
    keepStateDir ? `rm -f ${shellQuote(paths.incomingMarker)}` : `rm -rf ${shellQuote(paths.stateDir)}`,
  ].join('\n');
  await session.exec(script, { timeoutMs: CLEANUP_TIMEOUT_MS }).catch(() => undefined);
}

/** Removes the VM's taps (a restart may change its NICs; launch makes the ones the spec has). */
async function removeTaps(session: SshSession, name: string): Promise<void> {
  await session.exec(`${vmShellFunctions(name)}\nfor tap in $(vm_taps); do ip link del "$tap"; done`, { timeoutMs: CLEANUP_TIMEOUT_MS });
}

async function vmPids(session: SshSession, name: string): Promise<number[]> {
  const { stdout } = await session.exec(`${vmShellFunctions(name)}\nvm_pids`, { timeoutMs: CLEANUP_TIMEOUT_MS });
  return stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** True when the VM's QEMU is gone within `timeoutMs`; the waiting happens on the host. */
async function waitGone(session: SshSession, name: string, timeoutMs: number): Promise<boolean> {
  // The wait is measured in time on the host (a loaded host makes every pgrep round slower), and
  // the call's own deadline leaves room for the SSH round trip: a wait that still overruns it
  // counts as "not gone yet", so the caller escalates (quit, then SIGKILL) instead of giving up.
  try {
    const { code } = await session.exec(`${vmShellFunctions(name)}\nwait_gone ${Math.max(1, Math.ceil(timeoutMs))}`, { timeoutMs: timeoutMs + WAIT_GONE_SLACK_MS, allowFailure: true });
    return code === 0;
  } catch (error) {
    if (error instanceof HostTimeoutError) return false;
    throw error;
  }
}

/**
 * Shell functions for scripts about one VM:
 *   vm_pids     its QEMU processes in this mount namespace (matched on `-name guest=<vm>,`)
 *   wait_gone N  waits up to N milliseconds (measured on the host's clock) for them to exit
 *   vm_taps     its taps (by their deterministic names)
 * The `-name` regex cannot match the shell running these scripts: its command line starts with
 * the shell and `-c`. The name is validated (a-z, 0-9, "-"), so it is safe in the regex.
 */
function vmShellFunctions(name: string): string {
  assertVmName(name);
  return [
    `vm_pids() { pgrep --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${name},debug-threads=on( |$)' || true; }`,
    'now_ms() { awk \'{ printf "%d\\n", $1 * 1000 }\' /proc/uptime; }',
    'wait_gone() { end=$(( $(now_ms) + $1 )); while [ -n "$(vm_pids)" ]; do [ "$(now_ms)" -ge "$end" ] && return 1; sleep 0.1; done; return 0; }',
    `vm_taps() { ip -o link show | sed -n 's/^[0-9]*: \\([^:@]*\\)[:@].*/\\1/p' | grep -x '${tapPrefix(name)}[0-9]\\{1,2\\}' || true; }`,
  ].join('\n');
}

function parsePersistedSpec(text: string): { spec: VmSpec } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problem: `spec.json is not JSON (${errorMessage(error)})` };
  }
  const record = parsed as { version?: unknown; spec?: unknown };
  if (record?.version !== 1) return { problem: `spec.json has version ${JSON.stringify(record?.version)}, this driver reads version 1` };
  try {
    return { spec: validateVmSpec(record.spec) };
  } catch (error) {
    return { problem: `spec.json holds an invalid spec (${errorMessage(error)})` };
  }
}
