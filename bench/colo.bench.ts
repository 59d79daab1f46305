/**
 * What fault tolerance costs and what it buys, side by side in one run on the lab: the same
 * test guest (128 MiB, one vCPU, a 16 MiB disk, the lab's COLO QEMU build) first unprotected
 * on site-a, then as a COLO pair site-a -> site-b.
 *
 * Per setup, over the same window:
 *   - the guest's own clock: its 100 ms counter ticks per second of wall time (10/s at best),
 *     and a CPU-bound workload in the guest (`orbit.cpu=1`, a shell loop): iterations per
 *     second, both in a window without client traffic;
 *   - a network-bound workload: one client asking the guest's TCP service back to back:
 *     requests per second and latency p50/p99 (every answer differs between primary and
 *     replica, so under COLO each one waits for a checkpoint: the worst case for COLO).
 * Under COLO also: checkpoint pauses p50/p99 (from the primary's COLO trace log), and then
 * ROUNDS times: kill -9 the primary's QEMU, fail over on the secondary, time from the failover
 * call to the first answer; re-protect onto the host just lost, repeat.
 *
 * On this machine both QEMUs of the pair share two cores with each other (and with the
 * client), so the slowdown includes CPU contention that separate hosts would not have.
 */
import { checkpointPauses } from '../provider/colo/colo-checkpoint-trace';
import { coloPaths } from '../provider/colo/colo-command-line';
import { destroyPair, startProtectedPair } from '../provider/colo/colo-pair';
import { reprotect } from '../provider/colo/colo-reprotect';
import { destroyVm, startVm } from '../provider/qemu/qemu-process';
import { SshSession } from '../provider/ssh/ssh-session';
import { readGuestReport, waitForGuestReport } from '../scripts/guest/guest';
import { labUp } from '../scripts/lab/lab';
import { labAccelerator } from '../scripts/lab/lab-accelerator';
import { connectToLabHost } from '../scripts/lab/lab-ssh';
import { coloGuestSpec, crashAndFailover } from '../test/support/colo-guest';
import { BenchResult, median } from './bench-result';
import { setTimeout as sleep } from 'timers/promises';

const VM = { name: 'colo-bench', ip: '10.89.0.71' };
const WINDOW_MS = Number(process.env.ORBIT_BENCH_WINDOW_MS ?? 15_000);
const ROUNDS = Number(process.env.ORBIT_BENCH_ROUNDS ?? 5);
const SETTLE_MS = 5000;

interface Throughput {
  ticksPerS: number;
  cpuPerS: number;
  requestsPerS: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

export async function run(): Promise<BenchResult[]> {
  const lab = await labUp();
  const accelerator = (await labAccelerator(lab)).accelerator;
  const names = ['site-a', 'site-b', 'witness'];
  const sessions = new Map<string, SshSession>();
  for (const name of names) sessions.set(name, await connectToLabHost(lab, name, { defaultTimeoutMs: 60_000 }));
  const ssh = (name: string) => sessions.get(name)!;
  const all = () => names.map(ssh);
  const spec = { ...coloGuestSpec(lab, { ...VM, accelerator }) };
  spec.boot = { ...(spec.boot as { kind: 'kernel'; kernel: string; initrd?: string; append?: string }), append: `${(spec.boot as { append?: string }).append} orbit.cpu=1` };
  const results: BenchResult[] = [];
  try {
    await destroyPair(all(), VM.name, { removeDisks: true });

    console.error('  unprotected guest on site-a ...');
    await startVm(ssh('site-a'), spec);
    await waitForGuestReport(VM.ip, 7000, 90_000);
    await sleep(SETTLE_MS);
    const plain = await measure(VM.ip);
    await destroyVm(ssh('site-a'), VM.name, { removeDisks: true, graceMs: 0 });
    console.error(`  unprotected: ${JSON.stringify(plain)}`);

    console.error('  COLO pair site-a -> site-b ...');
    const started = await startProtectedPair(ssh('site-a'), ssh('site-b'), spec);
    await waitForGuestReport(VM.ip, 7000, 120_000);
    await sleep(SETTLE_MS);
    const windowStart = Date.now();
    const colo = await measure(VM.ip);
    const pauses = await checkpointPausesSince(ssh('site-a'), VM.name, windowStart);
    console.error(`  COLO: ${JSON.stringify(colo)}; ${pauses.length} checkpoints in the window`);

    const failovers: number[] = [];
    const keptState: boolean[] = [];
    let primary = 'site-a';
    let secondary = 'site-b';
    for (let round = 0; round < ROUNDS; round++) {
      const m = await crashAndFailover(ssh(primary), ssh(secondary), VM.name, VM.ip);
      failovers.push(m.failoverToAnswerMs);
      keptState.push(m.after.boot === m.before.boot && m.after.counter >= m.before.counter);
      console.error(
        `  failover ${round + 1}: ${primary} killed, ${secondary} answered ${m.failoverToAnswerMs} ms after the failover call (call ${m.failoverCallMs} ms), counter ${m.before.counter} -> ${m.after.counter}`,
      );
      [primary, secondary] = [secondary, primary];
      await reprotect(ssh(primary), ssh(secondary), VM.name);
      await sleep(2000);
    }

    const note = `${accelerator.toUpperCase()}, 128 MiB guest, ${WINDOW_MS / 1000} s windows, both QEMUs on this machine's 2 cores`;
    const row = (name: string, a: number, b: number, unit: string) => {
      results.push({ name: `unprotected: ${name}`, value: a, unit, note });
      results.push({ name: `COLO: ${name}`, value: b, unit, note });
      results.push({ name: `ratio COLO / unprotected: ${name}`, value: b / a, unit: 'x' });
    };
    row('counter ticks per second', plain.ticksPerS, colo.ticksPerS, '/s');
    row('CPU loop iterations per second', plain.cpuPerS, colo.cpuPerS, '/s');
    row('TCP requests per second', plain.requestsPerS, colo.requestsPerS, '/s');
    row('TCP latency p50', plain.latencyP50Ms, colo.latencyP50Ms, 'ms');
    row('TCP latency p99', plain.latencyP99Ms, colo.latencyP99Ms, 'ms');
    const pauseMs = pauses.map((p) => p.ms);
    results.push({ name: 'COLO: checkpoint pause p50', value: percentile(pauseMs, 50), unit: 'ms', note: `${pauseMs.length} checkpoints` });
    results.push({ name: 'COLO: checkpoint pause p99', value: percentile(pauseMs, 99), unit: 'ms', note: `${pauseMs.length} checkpoints` });
    results.push({ name: 'COLO: pair setup', value: started.setupMs, unit: 'ms', note: 'checks, both QEMUs, disk sync, COLO migration' });
    results.push({
      name: 'failover call -> service answers, p50',
      value: median(failovers),
      unit: 'ms',
      note: `${ROUNDS} kills of the primary QEMU; state kept ${keptState.filter(Boolean).length}/${ROUNDS}`,
    });
    results.push({ name: 'failover call -> service answers, max', value: Math.max(...failovers), unit: 'ms', note: `${ROUNDS} kills` });
  } finally {
    await destroyPair(all(), VM.name, { removeDisks: true }).catch((e) => console.error(e));
    for (const session of sessions.values()) await session.close();
  }
  return results;
}

/**
 * Two windows of WINDOW_MS: a quiet one (only a report at each end) for the counter and CPU-loop
 * rates, then one of back-to-back requests. Kept apart because each request forks processes
 * in the guest, which would take CPU from the loop.
 */
async function measure(ip: string): Promise<Throughput> {
  const first = await readGuestReport(ip, 7000, 10_000);
  const quietFrom = Date.now();
  await sleep(WINDOW_MS);
  const second = await readGuestReport(ip, 7000, 10_000);
  const quietSeconds = (Date.now() - quietFrom) / 1000;

  const busyFrom = Date.now();
  const latencies: number[] = [];
  while (Date.now() - busyFrom < WINDOW_MS) {
    const t = Date.now();
    await readGuestReport(ip, 7000, 10_000);
    latencies.push(Date.now() - t);
  }
  return {
    ticksPerS: (second.counter - first.counter) / quietSeconds,
    cpuPerS: ((second.cpu ?? 0) - (first.cpu ?? 0)) / quietSeconds,
    requestsPerS: latencies.length / ((Date.now() - busyFrom) / 1000),
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
  };
}

async function checkpointPausesSince(session: SshSession, vm: string, sinceMs: number): Promise<Array<{ at: number; ms: number }>> {
  const { stdout } = await session.exec(`grep -E "colo_vm_state_change|Send 'checkpoint-request'" ${coloPaths(vm).traceLog} || true`);
  // The trace's clock is the host's (this machine's, in the lab): compare directly.
  return checkpointPauses(stdout).pauses.filter((p) => p.at >= sinceMs);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
