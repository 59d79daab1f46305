import { ChildProcess, spawn } from 'node:child_process';
import { fence } from '../../provider/colo/colo-failover';
import { destroyPair, inspectPair, startProtectedPair } from '../../provider/colo/colo-pair';
import { reprotect } from '../../provider/colo/colo-reprotect';
import { vmPaths } from '../../provider/qemu/qemu-command-line';
import { SshSession } from '../../provider/ssh/ssh-session';
import { waitForGuestReport } from '../../scripts/guest/guest';
import { LabDescription } from '../../scripts/lab/description';
import { labUp } from '../../scripts/lab/lab';
import { labAccelerator } from '../../scripts/lab/lab-accelerator';
import { connectToLabHost } from '../../scripts/lab/lab-ssh';
import { coloGuestSpec, crashAndFailover, diskCounter, guestErrorsOnSurvivor, readGuestReportThroughCheckpoints } from '../support/colo-guest';
import { vmTraces } from '../support/guest-vm';
import { setTimeout as sleep } from 'timers/promises';

/**
 * The same guest through N crashes of its primary (ORBIT_COLO_LOOPS, default 6): each time the
 * primary's QEMU is SIGKILLed, the secondary fails over, the dead side is fenced and the guest
 * is re-protected onto that host again, so the pair swaps sites every round. The guest must
 * never lose state: one boot throughout, a counter that never goes back behind what a client
 * saw, and a disk that carries the counter on. Every round is counted and reported.
 *
 * The same loop reproduces faults on demand: ORBIT_COLO_CRASH=secondary crashes the secondary
 * instead (the primary fails over and is re-protected onto the same secondary host), and
 * ORBIT_COLO_LOAD=<n> keeps n busy loops on this machine's cores throughout, and
 * ORBIT_COLO_FAILOVER_DELAY_MS=<ms> waits a random 0..ms between the crash and the failover call
 * (as an inspection or a monitor's decision would). A round whose
 * survivor stops answering leaves a gdb backtrace of every thread of the survivor's QEMU in
 * the log.
 */

const LOOPS = Number(process.env.ORBIT_COLO_LOOPS ?? 6);
const CRASH: 'primary' | 'secondary' = process.env.ORBIT_COLO_CRASH === 'secondary' ? 'secondary' : 'primary';
const LOAD = Number(process.env.ORBIT_COLO_LOAD ?? 0);
const FAILOVER_DELAY_MS = Number(process.env.ORBIT_COLO_FAILOVER_DELAY_MS ?? 0);
jest.setTimeout(120_000 + LOOPS * 60_000);

const VM = { name: 'colo-loop', ip: '10.89.0.81' };

let lab: LabDescription;
let siteA: SshSession;
let siteB: SshSession;
const busyLoops: ChildProcess[] = [];

beforeAll(async () => {
  lab = await labUp();
  siteA = await connectToLabHost(lab, 'site-a', { defaultTimeoutMs: 60_000 });
  siteB = await connectToLabHost(lab, 'site-b', { defaultTimeoutMs: 60_000 });
  await destroyPair([siteA, siteB], VM.name, { removeDisks: true });
  for (let i = 0; i < LOAD; i++) busyLoops.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
});

afterAll(async () => {
  for (const loop of busyLoops) loop.kill('SIGKILL');
  const open = [siteA, siteB].filter((s) => s?.isOpen);
  await destroyPair(open, VM.name, { removeDisks: true }).catch((e) => console.error(e));
  for (const s of open) expect(await vmTraces(s, VM.name)).toEqual([]);
  await Promise.all(open.map((s) => s.close()));
});

interface Round {
  round: number;
  primary: string;
  ok: boolean;
  failoverCallMs?: number;
  failoverToAnswerMs?: number;
  counter?: string;
  disk?: string;
  reprotectMs?: number;
  guestStoppedMs?: number;
  /** The first answer through the new pair's colo-compare. */
  firstAnswerAfterReprotect?: string;
  /** The steps while the guest is stopped (re-protection's phasesMs "switch-over.*"). */
  switchOverMs?: Record<string, number>;
  problem?: string;
}

/** Every thread's stack of the VM's QEMU on that host, for a survivor that stopped answering. */
async function qemuBacktrace(session: SshSession, vm: string): Promise<string> {
  const { stdout } = await session.exec(`gdb -p "$(cat ${vmPaths(vm).pidFile})" -batch -nx -ex 'info threads' -ex 'thread apply all bt' 2>&1 | grep -v '^\\[New LWP' || true`, { timeoutMs: 60_000 });
  return stdout;
}

test(`${LOOPS} crashes of the ${CRASH} in a row: every failover keeps boot, counter and disk`, async () => {
  const accelerator = (await labAccelerator(lab)).accelerator;
  const started = await startProtectedPair(siteA, siteB, coloGuestSpec(lab, { ...VM, accelerator }));
  console.log(`colo-loop pair started in ${started.setupMs} ms`);
  const first = await waitForGuestReport(VM.ip, 7000, 90_000);
  let [primary, secondary] = [siteA, siteB];
  let lastSeen = first.counter;
  const rounds: Round[] = [];

  for (let round = 1; round <= LOOPS; round++) {
    const entry: Round = { round, primary: primary.host.name, ok: false };
    rounds.push(entry);
    try {
      // Let a few checkpoints happen (and the disk counter move) before the crash.
      await sleep(3000);
      const [lost, survivor] = CRASH === 'primary' ? [primary, secondary] : [secondary, primary];
      const beforeFailover = async () => sleep(Math.random() * FAILOVER_DELAY_MS);
      const m = await crashAndFailover(lost, survivor, VM.name, VM.ip, { beforeFailover }).catch(async (error) => {
        console.log(`round ${round}: ${survivor.host.name}'s QEMU after the failover, every thread:\n${await qemuBacktrace(survivor, VM.name).catch((e) => String(e))}`);
        throw error;
      });
      entry.failoverCallMs = m.failoverCallMs;
      entry.failoverToAnswerMs = m.failoverToAnswerMs;
      entry.counter = `${m.before.counter} -> ${m.after.counter}`;
      entry.disk = `${m.before.disk} -> ${m.after.disk}`;
      const problems: string[] = [];
      if (m.after.boot !== first.boot) problems.push(`the guest rebooted (boot ${first.boot} -> ${m.after.boot})`);
      if (m.after.counter < m.before.counter || m.after.counter < lastSeen) problems.push(`counter went back: saw ${Math.max(lastSeen, m.before.counter)}, then ${m.after.counter}`);
      if ((m.after.disk ?? -1) < (m.before.disk ?? 0)) problems.push(`disk counter went back: ${m.before.disk} -> ${m.after.disk}`);
      const deadline = Date.now() + 15_000;
      let sector = await diskCounter(survivor, VM.name).catch(() => undefined);
      while (!(sector && sector.boot === first.boot && sector.counter >= (m.before.disk ?? 0)) && Date.now() < deadline) {
        await sleep(250);
        sector = await diskCounter(survivor, VM.name).catch(() => undefined);
      }
      if (!(sector && sector.boot === first.boot && sector.counter >= (m.before.disk ?? 0))) problems.push(`the survivor's disk image does not carry the counter on: ${JSON.stringify(sector)}`);
      // Errors of runs a later checkpoint replaced are reported, not failed: the guest that carries on never had them.
      const errors = await guestErrorsOnSurvivor(survivor, VM.name, m.before.counter);
      if (errors.replaced.length > 0) console.log(`round ${round}: ${survivor.host.name}'s log has guest errors of runs a checkpoint replaced:\n${errors.replaced.join('\n')}`);
      if (errors.surviving.length > 0)
        problems.push(`guest errors (last report before the crash: counter ${m.before.counter}, first after the failover: ${m.after.counter}):\n${errors.surviving.join('\n')}`);
      if (problems.length > 0) throw new Error(problems.join('; '));
      lastSeen = m.after.counter;

      await fence(lost, VM.name);
      const rp = await reprotect(survivor, lost, VM.name);
      entry.reprotectMs = rp.wallMs;
      entry.guestStoppedMs = rp.guestStoppedMs;
      entry.switchOverMs = Object.fromEntries(Object.entries(rp.phasesMs ?? {}).filter(([phase]) => phase.startsWith('switch-over.')));
      if (rp.ramCopy !== 'while-running') throw new Error(`the lab QEMU re-protected with ramCopy ${rp.ramCopy}, not while-running: is it the lab build?`);
      const { report: now, waitedMs, checkpoints } = await readGuestReportThroughCheckpoints(survivor, VM.name, VM.ip, 7000);
      entry.firstAnswerAfterReprotect = `${waitedMs} ms, ${checkpoints} checkpoints`;
      if (now.boot !== first.boot || now.counter < lastSeen) throw new Error(`after re-protection: boot ${now.boot}, counter ${now.counter} (saw ${lastSeen})`);
      lastSeen = now.counter;
      entry.ok = true;
      [primary, secondary] = [survivor, lost];
    } catch (error) {
      entry.problem = error instanceof Error ? error.message.split('\n')[0] : String(error);
      // The whole message: after the first line come the host's and QEMU's evidence (silentGuestEvidence).
      console.log(`round ${round} failed: ${error instanceof Error ? error.message : String(error)}\n${JSON.stringify(await inspectPair([siteA, siteB], VM.name).catch((e) => String(e)))}`);
      break;
    }
  }

  const ok = rounds.filter((r) => r.ok);
  const spread = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `min ${sorted[0]} / median ${sorted[Math.floor(sorted.length / 2)]} / max ${sorted[sorted.length - 1]} ms`;
  };
  console.log(
    `colo-loop: ${ok.length} of ${LOOPS} failovers kept the guest's state (${rounds.length - ok.length} failed)\n` +
      `failover call -> first answer: ${spread(ok.map((r) => r.failoverToAnswerMs!))}\n` +
      `re-protection: ${spread(ok.map((r) => r.reprotectMs!))}; guest stopped: ${spread(ok.map((r) => r.guestStoppedMs!))}\n` +
      rounds.map((r) => JSON.stringify(r)).join('\n'),
  );
  expect(rounds.filter((r) => !r.ok)).toEqual([]);
  expect(ok).toHaveLength(LOOPS);
});
