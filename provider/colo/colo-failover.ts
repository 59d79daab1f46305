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
import { coloPaths, coloPorts } from './colo-command-line';
import { ColoError, readPairRecord, writePairRecord } from './colo-pair-record';
import { errorMessage } from '../ssh/host-errors';
import { QmpClient } from '../qemu/qmp-client';
import { describeStepError, primaryFailoverSteps, runQmpSteps, secondaryFailoverSteps, StepLog } from './colo-qmp';
import { connectQmpOverSsh, QMP_TIMEOUT_MS } from '../qemu/qmp-over-ssh';
import { vmPaths } from '../qemu/qemu-command-line';
import { inspectVm, killVm } from '../qemu/qemu-process';
import { SshSession } from '../ssh/ssh-session';

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

/** How long cutting the lost side's sockets may take (it is best effort). */
const CUT_TIMEOUT_MS = 5000;

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
  const cuts: Array<Promise<void>> = [];
  try {
    const [record, peer] = await Promise.all([readPairRecord(survivor, vm), options.peer ? inspectVm(options.peer, vm, { skipStatus: true }) : undefined]);
    if (!record) throw fail(`${survivor.host.name} has no pair record for the VM (${vmPaths(vm).stateDir}/colo.json)`, 'fail over on a host of the pair (inspectPair lists them)');
    if (record.role === 'fenced') throw fail(`${survivor.host.name} was fenced: its guest was stopped for good`, 'fail over on the other host of the pair');
    if (peer?.state === 'running' && record.role === 'secondary') {
      throw fail(
        `the primary's QEMU still runs on ${options.peer!.host.name} (pid ${peer.pid}); failing over now would make two guests serve`,
        `fence the primary first (fence on ${options.peer!.host.name}), or fail over only once it is known dead`,
      );
    }
    // The lost side may be unreachable rather than dead (host down, link cut): nothing answers
    // the survivor's replication sockets, not even with a reset. A primary then hangs in a
    // checkpoint (draining a write to the secondary's NBD export with the BQL held), and its
    // monitor cannot even take the failover command. Aborting those connections makes the
    // stuck calls fail at once, as they would if the lost side had died outright. The cut runs
    // beside the QMP sequence rather than before it: a stuck QEMU answers once the cut is done,
    // and one that is not stuck need not wait for a process start (most of a second on a
    // loaded host).
    const cutting = record.role === 'primary' || record.role === 'secondary' ? cutReplicationLinks(survivor, vm, record.role) : Promise.resolve();
    cuts.push(cutting);
    const connected = await connecting;
    if ('qmp' in connected) qmp = connected.qmp;
    if (!qmp) {
      const here = await inspectVm(survivor, vm, { skipStatus: true });
      if (here.state !== 'running') {
        throw fail(
          `the VM's QEMU does not run on ${survivor.host.name}, so its guest cannot take over`,
          'fail over on the other host if its guest runs; if neither runs, the guest is lost: start the VM again from the disk of the last primary',
        );
      }
      const reason = 'error' in connected ? errorMessage(connected.error).split('\nFix:')[0] : 'no connection';
      throw fail(
        `the VM's QEMU runs on ${survivor.host.name} but its QMP does not answer: ${reason}`,
        'check the QEMU process on the host (hung, or another QMP client holds the socket), then fail over again',
      );
    }
    const base = { vm, host: survivor.host.name, steps: [] as StepLog[], generation: record.generation };
    if (record.role === 'solo') {
      const { status } = await qmp.execute<{ status: string }>('query-status');
      return { ...base, survivorWas: record.startedAs, alreadyFailedOver: true, qmpMs: 0, status };
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
    await cutting;
    await qmp.close();
    qmp = undefined;
    const generation = record.generation + 1;
    await writePairRecord(survivor, {
      vm,
      role: 'solo',
      startedAs: record.startedAs,
      primary: { name: survivor.host.name, address: survivorAddress(record, survivor) },
      checkpointDelayMs: record.checkpointDelayMs,
      generation,
    });
    return { ...base, survivorWas, alreadyFailedOver: false, qmpMs, callMs: Date.now() - started, status, generation };
  } finally {
    // Never leave a cut running behind the caller's back (it is best effort and bounded).
    await Promise.allSettled(cuts);
    if (qmp) await qmp.close();
    // Refused before the connection was taken: close it whenever it comes.
    else void connecting.then((c) => ('qmp' in c ? c.qmp.close() : undefined)).catch(() => undefined);
  }
}

/**
 * Aborts the survivor's established TCP connections of the pair's replication (`ss -K`, the
 * kernel's socket destroy: the blocked calls in QEMU fail with ECONNABORTED). By port, so that
 * nothing else between the two hosts (SSH, other pairs) is touched. A primary's connections go
 * out to the secondary's migration and NBD ports and in to its own mirror and compare ports; a
 * secondary's the other way round.
 */
export async function cutReplicationLinks(session: SshSession, vm: string, role: 'primary' | 'secondary'): Promise<void> {
  const p = coloPorts(vm);
  const [out, into] = role === 'primary' ? ['dport', 'sport'] : ['sport', 'dport'];
  const filter = `( ${out} = :${p.migration} or ${out} = :${p.nbd} or ${into} = :${p.mirror} or ${into} = :${p.compareSecondary} )`;
  // Best effort: a kernel without socket destroy (CONFIG_INET_DIAG_DESTROY) refuses, a host too
  // loaded to run `ss` in time gives up; the failover proceeds either way (it never waits on this).
  await session.exec(`ss -K -t state established '${filter}' >/dev/null 2>&1; true`, { timeoutMs: CUT_TIMEOUT_MS, allowFailure: true }).catch(() => undefined);
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
