/**
 * The test guest as a COLO pair on lab hosts (TEST ONLY): its spec with the lab's COLO QEMU,
 * a crash of one side (SIGKILL of its QEMU, as a host failure looks to the survivor), and a
 * failover measured from the outside: when the guest answered again, and whether its state
 * (boot, counter, disk) carried on.
 */
import { execFile } from 'child_process';
import { checkpointTraceCommand, CheckpointStats, parseCheckpointTraceOutput } from '../../provider/colo/colo-checkpoint-trace';
import { coloPaths, coloPorts } from '../../provider/colo/colo-command-line';
import { failover, FailoverResult } from '../../provider/colo/colo-failover';
import { tapName, vmPaths } from '../../provider/qemu/qemu-command-line';
import { connectQmpOverSsh } from '../../provider/qemu/qmp-over-ssh';
import { SshSession } from '../../provider/ssh/ssh-session';
import { VmSpecInput } from '../../provider/qemu/vm-spec';
import { GuestReport, readGuestReport } from '../../scripts/guest/guest';
import { LabDescription } from '../../scripts/lab/description';
import { labHost } from '../../scripts/lab/lab-ssh';
import { HOST_VM_BRIDGE, VM_BRIDGE } from '../../scripts/lab/topology';
import { pollGuest } from './guest-poller';
import { guestVmSpec } from './guest-vm';
import { setTimeout as sleep } from 'timers/promises';

/** The lab's COLO-capable QEMU; without it COLO cannot run here, and the tests say so instead of skipping. */
export function labColoQemu(lab: LabDescription): string {
  if (!lab.qemuBinary) {
    throw new Error('The lab has no COLO-capable QEMU (lab.json has no qemuBinary): run `bash scripts/qemu-colo/build.sh`, then `npm run lab -- up` again.');
  }
  return lab.qemuBinary;
}

export function coloGuestSpec(lab: LabDescription, opts: { name: string; ip: string; accelerator: 'kvm' | 'tcg'; redisPort?: number }): VmSpecInput {
  return { ...guestVmSpec({ ...opts, host: labHost(lab, 'site-a'), withDisk: true, memoryMiB: 128 }), qemuBinary: labColoQemu(lab) };
}

/** The host's QEMU process of the VM, matched as the driver matches it (TEST ONLY). */
const qemuPattern = (vm: string) => `'^[^ ]+ -name guest=${vm},debug-threads=on( |$)'`;

/**
 * How long a SIGKILLed QEMU may take to be gone. pkill returns once the signal is sent; the
 * process still exists until every thread has left the kernel (a CI run saw the failover's peer
 * check find it there). The wait ends at the exit, this bound only catches a process that never
 * exits.
 */
const KILLED_QEMU_EXIT_LIMIT_MS = 30_000;

/**
 * SIGKILL of the VM's QEMU on the host: to its peer, indistinguishable from the host dying.
 * Returns when the process is gone, with the host's clock at the kill (the lab hosts share this
 * machine's clock, so the SSH round trip before the kill is not counted as outage).
 */
export async function crashQemu(session: SshSession, vm: string): Promise<number> {
  const script = [
    'now_ms() { date +%s%3N; }',
    'at=$(now_ms)',
    `pkill -KILL --ns $$ --nslist mnt -f ${qemuPattern(vm)}`,
    `while pgrep --ns $$ --nslist mnt -f ${qemuPattern(vm)} > /dev/null; do`,
    `  [ $(( $(now_ms) - at )) -ge ${KILLED_QEMU_EXIT_LIMIT_MS} ] && { echo "still-running $at"; exit 0; }`,
    '  sleep 0.02',
    'done',
    'echo "gone $at"',
  ].join('\n');
  const { stdout } = await session.exec(script, { timeoutMs: KILLED_QEMU_EXIT_LIMIT_MS + 15_000 });
  const m = /^(gone|still-running) (\d+)$/m.exec(stdout);
  if (!m) throw new Error(`No kill time from ${session.host.name}: ${JSON.stringify(stdout)}`);
  if (m[1] === 'still-running') throw new Error(`VM ${vm}'s QEMU on ${session.host.name} still runs ${KILLED_QEMU_EXIT_LIMIT_MS} ms after its SIGKILL`);
  return Number(m[2]);
}

export interface FailoverMeasurement {
  result: FailoverResult;
  /** Last report a client got before the crash, and the first after it. */
  before: GuestReport;
  after: GuestReport;
  /**
   * From the failover call (made as soon as the crashed QEMU is gone) to the first answer of a
   * request sent after that: the outage a client sees when detection is instant.
   */
  failoverToAnswerMs: number;
  /** The failover call itself (SSH, pair record, QMP sequence). */
  failoverCallMs: number;
  /** Requests that failed between the crash and the first answer. */
  failedRequests: number;
}

/**
 * Crashes `lost`'s QEMU while a client keeps asking the guest, fails over on `survivor`, and
 * measures when the guest answers again (requests every 25 ms, each with its own connection).
 */
export async function crashAndFailover(
  lost: SshSession,
  survivor: SshSession,
  vm: string,
  ip: string,
  options: { peerCheck?: boolean; /** Runs after the crash, before the failover (and its clock) starts. */ beforeFailover?: () => Promise<void> } = {},
): Promise<FailoverMeasurement> {
  const poller = pollGuest(ip, { intervalMs: 25, timeoutMs: 1500 });
  // Under COLO an answer waits for a checkpoint (up to a second or more under load): crash only a guest seen answering.
  await poller.answering().catch(async (error: Error) => {
    await poller.stop();
    const evidence = [`${lost.host.name}:\n${await silentGuestEvidence(lost, vm, ip)}`, `${survivor.host.name}:\n${await silentGuestEvidence(survivor, vm)}`];
    throw new Error(`Before any crash (nothing was killed yet): ${error.message}\n${evidence.join('\n')}`);
  });
  await sleep(500);
  const crashAt = Date.now();
  await crashQemu(lost, vm);
  await options.beforeFailover?.();
  // The QEMU is gone (crashQemu waits for its exit): from here on only the survivor can answer.
  const failoverAt = Date.now();
  const result = await failover(survivor, vm, options.peerCheck === false ? {} : { peer: lost });
  const failoverDoneAt = Date.now();
  // Until a request the poller started after the failover is answered. Not a separate fresh
  // request: it could answer while every poller slot still waits on a request sent before the
  // failover (colo-compare drops what it held when it is deleted, and TCP retransmits a lost SYN
  // only after a second), which left no sample to measure and read as a "silent guest".
  const answered = await poller.answeredSince(failoverAt, 20_000);
  const samples = await poller.stop();
  const beforeCrash = samples.filter((s) => s.report && s.doneAt < crashAt).sort((a, b) => a.doneAt - b.doneAt);
  const afterCrash = samples.filter((s) => s.report && s.at >= failoverAt).sort((a, b) => a.doneAt - b.doneAt);
  if (beforeCrash.length === 0) throw new Error(`The guest at ${ip} did not answer before the crash: the pair was not serving`);
  if (!answered || afterCrash.length === 0) {
    const { stdout } = await survivor.exec(`tail -n 8 /run/orbit/${vm}/colo-trace.log; tail -c 400 /var/lib/orbit/${vm}/serial.log`).catch(() => ({ stdout: '' }));
    throw new Error(`The guest at ${ip} did not answer within 20 s after the failover on ${survivor.host.name}: ${JSON.stringify(result)}\n${stdout}\n${await silentGuestEvidence(survivor, vm, ip)}`);
  }
  const first = afterCrash[0];
  return {
    result,
    before: beforeCrash[beforeCrash.length - 1].report!,
    after: first.report!,
    failoverToAnswerMs: first.doneAt - failoverAt,
    failoverCallMs: failoverDoneAt - failoverAt,
    failedRequests: samples.filter((s) => s.error && s.at >= crashAt && s.at < first.doneAt).length,
  };
}

/** The counter the guest wrote into sector 0 of the disk image on the host: `orbit-counter <n> boot=<id>`. */
export async function diskCounter(session: SshSession, vm: string): Promise<{ counter: number; boot: string }> {
  const { stdout } = await session.exec(`dd if=/var/lib/orbit/${vm}/disk.raw bs=512 count=1 2>/dev/null | head -c 120`);
  const m = /^orbit-counter (\d+) boot=(\S+)/.exec(stdout);
  if (!m) throw new Error(`Sector 0 of ${vm}'s disk on ${session.host.name} holds no counter: ${JSON.stringify(stdout.slice(0, 60))}`);
  return { counter: Number(m[1]), boot: m[2] };
}

/**
 * What the host, the guest and QEMU say about a guest that runs but does not answer (colo.md,
 * Limits): the tap's counters and the guest's own (ORBIT-NET lines) twice, 2 s apart, the packets
 * on the tap in between, the bridge's idea of the guest's MAC, QEMU's `info network` (which
 * filters are left) and the state of virtio-net's queues.
 */
export async function silentGuestEvidence(survivor: SshSession, vm: string, ip?: string): Promise<string> {
  const tap = tapName(vm, 0);
  const parts: string[] = [];
  // The guest's own counters (its ORBIT-NET serial lines) beside the tap's: which side stops.
  const tapStats = () =>
    survivor.exec(`ip -s -s link show ${tap} 2>&1 | tail -n 8; bridge fdb show dev ${tap} 2>&1 | head -n 4; grep ORBIT-NET ${vmPaths(vm).serialLog} | tail -n 3`, { timeoutMs: 10_000 }).then(
      (r) => r.stdout,
      (e: Error) => e.message,
    );
  parts.push(`tap ${tap}:\n${await tapStats()}`);
  // Meanwhile, the packets themselves: which way they go, and whether the guest's replies make sense (sequence numbers, resets).
  // Fresh requests meanwhile (the test's own client has stopped by now): something to watch,
  // each given long enough to show whether answers are slow (held until checkpoints) or absent.
  const coloTrace = await traceColoTraffic(survivor, vm);
  const probes = ip ? pollGuest(ip, { intervalMs: 200, timeoutMs: 10_000 }) : undefined;
  const capture = await survivor.exec(`timeout 2 tcpdump -l -nn -tt -i ${tap} -c 40 2>&1 | tail -n 40`, { timeoutMs: 10_000, allowFailure: true }).then(
    (r) => r.stdout,
    (e: Error) => e.message,
  );
  const probed = (await probes?.stop()) ?? [];
  if (ip) {
    const took = probed.map((p) => `${p.doneAt - p.at}${p.report ? '' : '!'}`).join(' ');
    parts.push(`fresh requests to ${ip} during the capture: ${probed.filter((p) => p.report).length} of ${probed.length} answered (ms each, ! = no answer): ${took}`);
  }
  parts.push(await coloTrace.stop());
  parts.push(`tap ${tap} 2 s later:\n${await tapStats()}`);
  parts.push(`packets on ${tap} for 2 s:\n${capture}`);
  // Where the bridges believe the guests' MACs are: the host's own bridge and the lab's shared one
  // (a MAC learned behind the wrong port sends the clients' frames away from a guest that then
  // has no reason to send anything).
  const hostFdb = await survivor.exec(`bridge fdb show br ${HOST_VM_BRIDGE} | grep -i '^52:54:' || true`, { timeoutMs: 10_000 }).then(
    (r) => r.stdout,
    (e: Error) => e.message,
  );
  const labFdb = await new Promise<string>((resolve) =>
    execFile('bridge', ['fdb', 'show', 'br', VM_BRIDGE], (error, stdout) =>
      resolve(
        error
          ? error.message
          : stdout
              .split('\n')
              .filter((l) => /^52:54:/i.test(l))
              .join('\n'),
      ),
    ),
  );
  parts.push(`${HOST_VM_BRIDGE} on ${survivor.host.name}:\n${hostFdb}\n${VM_BRIDGE} (the lab's):\n${labFdb}`);
  try {
    const qmp = await connectQmpOverSsh(survivor, coloPaths(vm).failoverQmpSocket, { label: 'evidence', timeoutMs: 5000 });
    try {
      parts.push(`info network:\n${await qmp.execute<string>('human-monitor-command', { 'command-line': 'info network' })}`);
      parts.push(`status: ${JSON.stringify(await qmp.execute('query-status'))}`);
      // COLO's streams between the pair: a socket chardev's filename starts "disconnected:" while it is not connected.
      const chardevs = await qmp.execute<Array<{ label: string; filename: string }>>('query-chardev').catch(() => []);
      parts.push(`chardevs: ${chardevs.map((c) => `${c.label}=${c.filename}`).join('; ')}`);
      // A device left disabled (scripts/qemu-colo/patches/0004) never moves its queues.
      const virtio = await qmp.execute<Array<{ path: string; name: string }>>('x-query-virtio').catch(() => []);
      for (const device of virtio) {
        const status: Record<string, unknown> = await qmp.execute<Record<string, unknown>>('x-query-virtio-status', { path: device.path }).catch((e: Error) => ({ error: e.message }));
        parts.push(`virtio ${device.name} ${device.path}: disabled=${String(status.disabled)} broken=${String(status.broken)} started=${String(status.started)} status=${String(status.status)}`);
        if (device.name !== 'virtio-net') continue;
        // RX is queue 0, TX queue 1: inuse > 0 on TX is a packet QEMU took and never completed;
        // RX with avail = used means the guest gave no buffers back.
        for (const queue of [0, 1]) {
          const q = await qmp.execute<Record<string, unknown>>('x-query-virtio-queue-status', { path: device.path, queue }).catch((e: Error) => ({ error: e.message }));
          parts.push(`  queue ${queue}: ${JSON.stringify(q)}`);
        }
      }
    } finally {
      await qmp.close();
    }
  } catch (error) {
    parts.push(`QMP: ${(error as Error).message}`);
  }
  return parts.join('\n');
}

const COLO_TRAFFIC_TRACE_EVENTS = ['colo_compare_*', 'colo_old_packet_check_found', 'colo_filter_rewriter_*'];

/**
 * On a host of a COLO pair: its COLO sockets now (a queue that does not drain is a stuck
 * stream between the pair) and, until `stop`, QEMU's own trace of colo-compare and
 * filter-rewriter (which packets it compared, held or dropped). Not a COLO pair: says so.
 */
async function traceColoTraffic(session: SshSession, vm: string): Promise<{ stop(): Promise<string> }> {
  const paths = coloPaths(vm);
  const ports = Object.values(coloPorts(vm)).join('|');
  const sockets = await session.exec(`ss -tnio | grep -A1 -E ':(${ports})\\b' | sed 's/  *$//' || true`, { timeoutMs: 10_000 }).then(
    (r) => r.stdout,
    (e: Error) => e.message,
  );
  const from = Number((await session.exec(`stat -c %s ${paths.traceLog} 2>/dev/null || echo 0`, { timeoutMs: 10_000 }).catch(() => ({ stdout: '0' }))).stdout.trim());
  const setTracing = async (enable: boolean) => {
    const qmp = await connectQmpOverSsh(session, paths.failoverQmpSocket, { label: 'evidence', timeoutMs: 5000 });
    try {
      for (const name of COLO_TRAFFIC_TRACE_EVENTS) await qmp.execute('trace-event-set-state', { name, enable });
    } finally {
      await qmp.close();
    }
  };
  const enabled = await setTracing(true).then(
    () => '',
    (e: Error) => e.message,
  );
  return {
    async stop() {
      if (enabled) return `COLO sockets on ${session.host.name}:\n${sockets}\nno COLO trace: ${enabled}`;
      await setTracing(false).catch(() => undefined);
      const trace = await session.exec(`tail -c +${from + 1} ${paths.traceLog} | grep -E 'colo_(compare|old_packet|filter_rewriter)' | tail -n 60`, { timeoutMs: 10_000, allowFailure: true }).then(
        (r) => r.stdout,
        (e: Error) => e.message,
      );
      return `COLO sockets on ${session.host.name}:\n${sockets}\ncolo-compare / filter-rewriter meanwhile (last 60 lines):\n${trace}`;
    },
  };
}

/**
 * ORBIT-GUEST-ERROR lines in a COLO survivor's serial log, split by the run they belong to. A
 * secondary runs the guest between checkpoints and each checkpoint replaces that run with the
 * primary's, but its console output stays in the log. A client saw counter `seenCounter` before the
 * crash: the checkpoint that released that answer gave the secondary a state at least that far, so
 * an error printed after a lower counter belongs to a replaced run (`replaced`, with the counter it
 * followed); any other error happened in the guest that carries on (`surviving`).
 */
export async function guestErrorsOnSurvivor(session: SshSession, vm: string, seenCounter: number): Promise<{ surviving: string[]; replaced: string[] }> {
  const { stdout } = await session.exec(`grep -E 'ORBIT-COUNTER|ORBIT-GUEST-ERROR' ${vmPaths(vm).serialLog} || true`, { timeoutMs: 30_000 });
  return splitGuestErrors(stdout, seenCounter);
}

/** guestErrorsOnSurvivor's rule on the log's text. */
export function splitGuestErrors(serialLog: string, seenCounter: number): { surviving: string[]; replaced: string[] } {
  const surviving: string[] = [];
  const replaced: string[] = [];
  let counter = -1;
  for (const line of serialLog.split('\n')) {
    const tick = /ORBIT-COUNTER (\d+)/.exec(line);
    if (tick) counter = Number(tick[1]);
    else if (line.includes('ORBIT-GUEST-ERROR')) (counter >= 0 && counter < seenCounter ? replaced : surviving).push(`after counter ${counter}: ${line.trim()}`);
  }
  return { surviving, replaced };
}

/** colo-compare holds at most the SYN-ACK, the report and the FIN of a report exchange, each until a checkpoint at the latest. */
const CHECKPOINTS_PER_EXCHANGE = 3;

async function checkpointsOn(primary: SshSession, vm: string): Promise<CheckpointStats> {
  const { stdout } = await primary.exec(checkpointTraceCommand(coloPaths(vm).traceLog));
  return parseCheckpointTraceOutput(stdout) ?? { checkpoints: 0 };
}

/**
 * Reads the guest's report over one connection through a protected pair's colo-compare, for as
 * long as the pair makes checkpoints: each checkpoint releases what colo-compare held, so the
 * exchange waits for at most three of them, however long they take on this machine. Fails once
 * more completed without an answer (the guest or the network is stuck, not slow), and then with
 * the pauses measured. `limitMs` only bounds a pair that stopped checkpointing altogether.
 */
export async function readGuestReportThroughCheckpoints(
  primary: SshSession,
  vm: string,
  ip: string,
  port: number,
  limitMs = 120_000,
): Promise<{ report: GuestReport; waitedMs: number; checkpoints: number }> {
  const before = await checkpointsOn(primary, vm);
  const started = Date.now();
  const abort = new AbortController();
  let outcome: { report: GuestReport } | { error: unknown } | undefined;
  const reading = readGuestReport(ip, port, limitMs, abort.signal).then(
    (report) => (outcome = { report }),
    (error) => (outcome = { error }),
  );
  try {
    for (;;) {
      await Promise.race([reading, sleep(250)]);
      const waitedMs = Date.now() - started;
      const now = await checkpointsOn(primary, vm);
      // The count includes a checkpoint that may have begun before the request: one more.
      const passed = now.checkpoints - before.checkpoints;
      if (outcome && 'report' in outcome) return { report: outcome.report, waitedMs, checkpoints: passed };
      if (outcome) throw outcome.error;
      if (passed > CHECKPOINTS_PER_EXCHANGE + 1) {
        throw new Error(
          `The guest at ${ip}:${port} did not answer through ${passed} checkpoints (${Date.now() - started} ms; checkpoint pauses: last ${now.lastPauseMs} ms, ` +
            `median ${now.pauseMedianMs} ms, max ${now.pauseMaxMs} ms): each releases what colo-compare held, so the guest or its network is stuck`,
        );
      }
    }
  } finally {
    abort.abort();
    await reading;
  }
}
