/**
 * One host's side of a COLO pair: can it take part (QEMU features, same QEMU as its peer),
 * and what is it doing now (QEMU process, pair record, COLO mode, checkpoints).
 */
import { checkpointTraceCommand, CheckpointStats, parseCheckpointTraceOutput } from './colo-checkpoint-trace';
import { coloPaths } from './colo-command-line';
import { ColoError, ColoOperation, ColoPairRecord, readPairRecord } from './colo-pair-record';
import { errorMessage, RemoteCommandError } from '../ssh/host-errors';
import { inspectVm, VmInspection, withQmp } from '../qemu/qemu-process';
import { shellQuote } from '../ssh/remote-exec';
import { SshSession } from '../ssh/ssh-session';
import { VmSpec } from '../qemu/vm-spec';

/**
 * Builds with Orbit's COLO patches (scripts/qemu-colo/) say so in their `-version` line. Stock
 * QEMU 7.2 cannot run COLO under TCG (the primary deadlocks at the first checkpoint and the
 * secondary's memory goes stale; shared/notes/colo-on-our-machines.md §5, §11), and cannot
 * enter COLO from a migration paused before the switch-over (patch 0005).
 */
export const ORBIT_COLO_BUILD_MARKER = 'Orbit COLO';

/**
 * How re-protection copies the guest's RAM to the new secondary:
 * - `while-running`: `migrate` with `pause-before-switchover`; the guest stops only for the last
 *   dirty pages and the device state. Needs patch 0005 (a stock 7.2 ends such a migration as
 *   "completed" instead of entering COLO).
 * - `guest-stopped`: the sequence of QEMU's docs/COLO-FT.txt, `stop` and then `migrate`; the guest
 *   stays stopped for the whole copy (its RAM size over the link's bandwidth). Works on any 7.2.
 */
export type RamCopyMode = 'while-running' | 'guest-stopped';

/** The fastest RAM copy the QEMU of this `-version` line supports. */
export function ramCopyModeFor(qemuVersion: string): RamCopyMode {
  return qemuVersion.includes(ORBIT_COLO_BUILD_MARKER) ? 'while-running' : 'guest-stopped';
}

/** Where a host remembers QEMU binaries that passed checkColoHost (one file per binary identity). */
const COLO_CHECK_CACHE_DIR = '/var/lib/orbit/cache/colo-host-check';
const COLO_OBJECTS = ['colo-compare', 'filter-mirror', 'filter-redirector', 'filter-rewriter', 'iothread'];
const COLO_BLOCK_DRIVERS = ['quorum', 'replication', 'nbd', 'qcow2'];
const CHECK_TIMEOUT_MS = 30_000;

/**
 * Checks that the host can run its side of the pair: the QEMU binary with every COLO object
 * and block driver, qemu-img, and (under TCG) a QEMU with the TCG COLO fixes. Reports every
 * problem at once. Returns the QEMU `-version` line.
 */
export async function checkColoHost(session: SshSession, spec: VmSpec, operation: ColoOperation): Promise<string> {
  const bin = shellQuote(spec.qemuBinary);
  const checks = [
    `echo "version $(${bin} -version 2>&1 | head -n 1)"`,
    `${bin} -object colo-compare,help >/dev/null 2>&1 || problem ${shellQuote(`qemuBinary: ${spec.qemuBinary} has no colo-compare object (-object colo-compare,help fails)`)}`,
    `objects=$(${bin} -object help 2>&1 || true)`,
    `for o in ${COLO_OBJECTS.join(' ')}; do printf '%s\\n' "$objects" | grep -qw -- "$o" || problem "qemuBinary: ${spec.qemuBinary} does not list the $o object (-object help)"; done`,
    `drivers=$(${bin} -drive format=help 2>&1 || true)`,
    `for d in ${COLO_BLOCK_DRIVERS.join(' ')}; do printf '%s\\n' "$drivers" | tr ' ' '\\n' | grep -qx -- "$d" || problem "qemuBinary: ${spec.qemuBinary} has no $d block driver (-drive format=help)"; done`,
  ];
  const script = [
    'problem() { printf "problem %s\\n" "$1"; }',
    'command -v qemu-img >/dev/null 2>&1 || problem "qemu-img is not installed on the host (Debian package qemu-utils)"',
    `if ! command -v ${bin} >/dev/null 2>&1; then problem ${shellQuote(`qemuBinary: ${spec.qemuBinary} is not installed (or not on PATH) on the host`)}; exit 0; fi`,
    // Each check starts the QEMU binary, which takes seconds on a loaded host. A binary that
    // passed them is remembered on the host by its identity (device, inode, size, mtime): a
    // re-protection need not ask again, and a replaced binary is checked anew.
    `passed=${COLO_CHECK_CACHE_DIR}/$(stat -L -c '%d-%i-%s-%Y' "$(command -v ${bin})")-$(printf '%s' ${bin} | sha256sum | cut -c1-16)`,
    'if [ -s "$passed" ]; then cat "$passed"; exit 0; fi',
    `out=$(\n${checks.join('\n')}\n)`,
    'printf "%s\\n" "$out"',
    'case "$out" in *"problem "*) ;; "version "*) mkdir -p "${passed%/*}" && printf "%s\\n" "$out" > "$passed.$$" && mv "$passed.$$" "$passed" ;; esac',
  ].join('\n');
  const { stdout } = await session.exec(script, { timeoutMs: CHECK_TIMEOUT_MS });
  const lines = stdout.split('\n');
  const problems = lines.filter((l) => l.startsWith('problem ')).map((l) => l.slice(8));
  const version =
    lines
      .find((l) => l.startsWith('version '))
      ?.slice(8)
      .trim() ?? '';
  if (version && !/QEMU emulator version/.test(version)) problems.push(`qemuBinary: ${spec.qemuBinary} -version does not look like QEMU: ${version}`);
  if (problems.length === 0 && spec.accelerator === 'tcg' && !version.includes(ORBIT_COLO_BUILD_MARKER)) {
    problems.push(
      `accelerator: tcg with ${version}, a QEMU without the TCG COLO fixes: its primary deadlocks at the first checkpoint. ` +
        `Use accelerator "kvm" on hosts with real KVM, or a QEMU built by scripts/qemu-colo/build.sh ("${ORBIT_COLO_BUILD_MARKER}" in -version)`,
    );
  }
  if (problems.length > 0) {
    throw new ColoError(
      session.host,
      spec.name,
      operation,
      `the host cannot run its side of the COLO pair; nothing was started:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      `install a QEMU 7.2 with COLO (colo-compare, filters, quorum and replication block drivers) on the host, or give its path as qemuBinary`,
    );
  }
  return version;
}

/** Virtual size in bytes of each disk image on the host; `undefined` for an image that does not exist. */
export async function diskSizesOnHost(session: SshSession, spec: VmSpec): Promise<Array<number | undefined>> {
  const sizes: Array<number | undefined> = [];
  for (const disk of spec.disks) {
    const { stdout } = await session.exec(`if [ -e ${shellQuote(disk.path)} ]; then qemu-img info -U --output=json -f ${disk.format} ${shellQuote(disk.path)}; else echo missing; fi`, {
      timeoutMs: CHECK_TIMEOUT_MS,
    });
    sizes.push(stdout.trim() === 'missing' ? undefined : (JSON.parse(stdout) as { 'virtual-size': number })['virtual-size']);
  }
  return sizes;
}

export interface ColoHostState {
  host: string;
  reachable: boolean;
  /** Why the host could not be asked (SSH), when not reachable. */
  problem?: string;
  vm?: VmInspection;
  record?: ColoPairRecord;
  /** query-colo-status: `primary`, `secondary` or `none` (not in COLO). */
  coloMode?: string;
  /** Why the last COLO ended (`request` = failover, `error` = peer lost). */
  coloExitReason?: string;
  /** query-migrate status (`colo` while a primary checkpoints). */
  migrationStatus?: string;
  /** From this host's trace log, when it is the primary. */
  checkpoints?: CheckpointStats;
}

/** Everything one host knows about the pair of VM `vm`; an unreachable host is reported, not thrown. */
export async function coloHostState(session: SshSession, vm: string): Promise<ColoHostState> {
  const state: ColoHostState = { host: session.host.name, reachable: true };
  try {
    state.record = await readPairRecord(session, vm);
    state.vm = await inspectVm(session, vm, { skipStatus: true });
    if (state.vm.state === 'running') {
      await withQmp(session, vm, async (qmp) => {
        state.vm!.status = (await qmp.execute<{ status: string }>('query-status')).status;
        const colo = await qmp.execute<{ mode: string; reason: string }>('query-colo-status');
        state.coloMode = colo.mode;
        state.coloExitReason = colo.reason;
        state.migrationStatus = (await qmp.execute<{ status?: string }>('query-migrate')).status;
      }).catch((error) => {
        state.vm!.statusProblem = errorMessage(error);
      });
    }
    if (state.record && (state.record.role === 'primary' || state.record.role === 'solo')) {
      const { stdout } = await session.exec(checkpointTraceCommand(coloPaths(vm).traceLog), { timeoutMs: CHECK_TIMEOUT_MS });
      state.checkpoints = parseCheckpointTraceOutput(stdout);
    }
  } catch (error) {
    if (error instanceof ColoError || error instanceof RemoteCommandError) throw error;
    state.reachable = false;
    state.problem = errorMessage(error).split('\nFix:')[0];
  }
  return state;
}
