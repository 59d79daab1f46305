/**
 * When one side of a COLO pair is lost: `failover` lets the other side's guest carry on alone
 * (it keeps running; it was never stopped), and `fence` stops a side's guest for good.
 *
 * Failover does not fence. Whoever calls it (the monitor agent, an operator) decides the
 * other side is dead or fences it first: failing over a secondary while its primary still
 * serves makes two guests serve. When a session to the peer is given, failover checks that
 * the peer's QEMU is gone and refuses otherwise.
 *
 * Both are safe to run again: a survivor that already failed over is returned as is, and
 * every QMP step tolerates "already done".
 */
import { coloPaths } from './colo-command-line';
import { ColoError, readPairRecord, writePairRecord } from './colo-pair-record';
import { errorMessage } from './host-errors';
import { QmpClient } from './qmp-client';
import { describeStepError, primaryFailoverSteps, runQmpSteps, secondaryFailoverSteps, StepLog } from './colo-qmp';
import { connectQmpOverSsh } from './qmp-over-ssh';
import { vmPaths } from './qemu-command-line';
import { inspectVm, killVm } from './qemu-process';
import { SshSession } from './ssh-session';

export interface FailoverOptions {
  /** The lost side's host, when it can still be reached: failover refuses while its guest runs. */
  peer?: SshSession;
}

export interface FailoverResult {
  vm: string;
  /** The host whose guest now runs alone. */
  host: string;
  /** What the survivor was: `secondary` when the primary was lost, `primary` when the secondary was. */
  survivorWas: 'primary' | 'secondary';
  alreadyFailedOver: boolean;
  /** The QMP sequence on the survivor. */
  qmpMs: number;
  /** The whole call: look-ups, QMP sequence, pair record. */
  callMs?: number;
  steps: StepLog[];
  /** QMP run state of the survivor afterwards (`running`). */
  status: string;
  generation: number;
}

const QMP_TIMEOUT_MS = 10_000;

export async function failover(survivor: SshSession, vm: string, options: FailoverOptions = {}): Promise<FailoverResult> {
  const operation = 'Failover of' as const;
  const fail = (summary: string, fix: string, cause?: unknown) => new ColoError(survivor.host, vm, operation, summary, fix, cause !== undefined ? { cause } : undefined);
  // Every millisecond here is outage: the pair record, the peer check and the QMP connection
  // are fetched at once, and the survivor's QEMU is proven alive by its QMP answering.
  const started = Date.now();
  const connecting = connectQmpOverSsh(survivor, coloPaths(vm).failoverQmpSocket, { label: `VM ${vm} (COLO failover)`, timeoutMs: QMP_TIMEOUT_MS }).then(
    (qmp) => ({ qmp }),
    (error: unknown) => ({ error }),
  );
  let qmp: QmpClient | undefined;
  try {
    const [record, peer, connected] = await Promise.all([
      readPairRecord(survivor, vm),
      options.peer ? inspectVm(options.peer, vm, { skipStatus: true }) : undefined,
      connecting,
    ]);
    if ('qmp' in connected) qmp = connected.qmp;
    if (!record) throw fail(`${survivor.host.name} has no pair record for the VM (${vmPaths(vm).stateDir}/colo.json)`, 'fail over on a host of the pair (inspectPair lists them)');
    if (record.role === 'fenced') throw fail(`${survivor.host.name} was fenced: its guest was stopped for good`, 'fail over on the other host of the pair');
    if (!qmp) {
      const here = await inspectVm(survivor, vm, { skipStatus: true });
      if (here.state !== 'running') {
        throw fail(
          `the VM's QEMU does not run on ${survivor.host.name}, so its guest cannot take over`,
          'fail over on the other host if its guest runs; if neither runs, the guest is lost: start the VM again from the disk of the last primary',
        );
      }
      const reason = 'error' in connected ? errorMessage(connected.error).split('\nFix:')[0] : 'no connection';
      throw fail(`the VM's QEMU runs on ${survivor.host.name} but its QMP does not answer: ${reason}`, 'check the QEMU process on the host (hung, or another QMP client holds the socket), then fail over again');
    }
    const base = { vm, host: survivor.host.name, steps: [] as StepLog[], generation: record.generation };
    if (record.role === 'solo') {
      const { status } = await qmp.execute<{ status: string }>('query-status');
      return { ...base, survivorWas: record.startedAs, alreadyFailedOver: true, qmpMs: 0, status };
    }
    if (peer?.state === 'running' && record.role === 'secondary') {
      throw fail(
        `the primary's QEMU still runs on ${options.peer!.host.name} (pid ${peer.pid}); failing over now would make two guests serve`,
        `fence the primary first (fence on ${options.peer!.host.name}), or fail over only once it is known dead`,
      );
    }

    const survivorWas = record.role;
    const qmpStarted = Date.now();
    let status: string;
    try {
      const steps = survivorWas === 'secondary' ? secondaryFailoverSteps() : primaryFailoverSteps(await coloDiskCount(qmp));
      await runQmpSteps(qmp, steps, base.steps);
      status = (await qmp.execute<{ status: string }>('query-status')).status;
      // A failover in the middle of a checkpoint can leave the guest stopped.
      if (status === 'paused' || status === 'colo') {
        await qmp.execute('cont');
        status = (await qmp.execute<{ status: string }>('query-status')).status;
      }
    } catch (error) {
      throw fail(
        `the ${survivorWas}'s QEMU refused a failover step: ${describeStepError(error)}`,
        `run failover again (every step tolerates being done already); if it keeps failing, read the QEMU trace log ${coloPaths(vm).traceLog} on the host`,
        error,
      );
    }
    const qmpMs = Date.now() - qmpStarted;
    await qmp.close();
    qmp = undefined;
    const generation = record.generation + 1;
    await writePairRecord(survivor, { vm, role: 'solo', startedAs: record.startedAs, primary: { name: survivor.host.name, address: survivorAddress(record, survivor) }, checkpointDelayMs: record.checkpointDelayMs, generation });
    return { ...base, survivorWas, alreadyFailedOver: false, qmpMs, callMs: Date.now() - started, status, generation };
  } finally {
    await qmp?.close();
  }
}

/** The COLO quorum drives of the VM (`colo-disk<i>`), from QEMU itself. */
async function coloDiskCount(qmp: QmpClient): Promise<number> {
  const devices = await qmp.execute<Array<{ device: string }>>('query-block');
  return devices.filter((d) => /^colo-disk\d+$/.test(d.device)).length;
}

function survivorAddress(record: { role: string; primary: { address: string }; secondary?: { address: string } }, survivor: SshSession): string {
  if (record.role === 'primary') return record.primary.address;
  return record.secondary?.address ?? survivor.host.address;
}

export interface FenceResult {
  vm: string;
  host: string;
  /** The QEMU processes killed (empty when none ran). */
  killedPids: number[];
}

/**
 * Stops the VM's guest on this host for good: SIGKILL (no shutdown: the other side may
 * already serve), and a pair record that says `fenced` so no primitive starts it again. Its
 * disks and files stay for inspection; re-protecting onto the host, or destroyPair, removes them.
 */
export async function fence(session: SshSession, vm: string): Promise<FenceResult> {
  const killedPids = await killVm(session, vm);
  const record = await readPairRecord(session, vm);
  if (record && record.role !== 'fenced') {
    const { version: _v, updatedAt: _u, pending: _p, ...rest } = record;
    await writePairRecord(session, { ...rest, role: 'fenced' });
  }
  return { vm, host: session.host.name, killedPids };
}
