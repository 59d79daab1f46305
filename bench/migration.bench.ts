/**
 * Post-copy vs pre-copy live migration of the same guest under a memory-dirtying workload,
 * side by side in one run on the lab (site-a <-> site-b). The guest (256 MiB) rewrites a
 * 64 MiB tmpfs file in a loop (`orbit.dirty=64`, ~60 MiB/s under TCG); the migration stream is
 * limited to 400 Mbit/s in pre-copy and post-copy alike, so neither gets a faster wire.
 *
 * Per mode: QEMU's total time and downtime, the guest-visible downtime (the longest time a
 * client polling the guest's TCP report every 50 ms got no answer, next to the same figure
 * measured just before the migration), and the bytes of the migration stream. Pre-copy runs
 * plain (it may never converge under this workload: then it is cancelled after 60 s and the
 * bytes it sent in vain are reported) and with auto-converge (guest CPU throttling).
 * Leaves the lab up and removes its VM.
 */
import { MigrationOptions, MigrationStats, migrateVm } from '../provider/qemu/live-migration';
import { destroyVm, startVm } from '../provider/qemu/qemu-process';
import { SshSession } from '../provider/ssh/ssh-session';
import { waitForGuestReport } from '../scripts/guest/guest';
import { labUp } from '../scripts/lab/lab';
import { labAccelerator } from '../scripts/lab/lab-accelerator';
import { connectToLabHost, labHost } from '../scripts/lab/lab-ssh';
import { longestSilenceMs, pollGuest } from '../test/support/guest-poller';
import { guestVmSpec } from '../test/support/guest-vm';
import { BenchResult, median } from './bench-result';
import { setTimeout as sleep } from 'timers/promises';

const VM = 'drv-bench';
const IP = '10.89.0.74';
const MEMORY_MIB = 256;
const DIRTY_MIB = 64;
/**
 * 400 Mbit/s. The TCG guest dirties ~60 MiB/s, so this puts the dirty rate just above the link
 * speed: the regime that post-copy is for (a KVM guest dirtying GB/s on a 10 Gbit link).
 */
const LINK_BYTES_PER_S = 50_000_000;
const ROUNDS = Number(process.env.ORBIT_BENCH_ROUNDS ?? 3);
const PRECOPY_GIVE_UP_MS = 60_000;
const BASELINE_MS = 2000;
const MiB = 2 ** 20;
/** A request every 25 ms, overlapping: see pollGuest. */
const POLL = { intervalMs: 25, timeoutMs: 1000 };

interface Mode {
  label: string;
  options: MigrationOptions;
}

const LINK = { maxBandwidthBytesPerSecond: LINK_BYTES_PER_S, postcopyBandwidthBytesPerSecond: LINK_BYTES_PER_S };
const MODES: Mode[] = [
  { label: 'post-copy', options: { mode: 'postcopy', postcopyAfterMs: 0, ...LINK } },
  // The usual hybrid: one pre-copy pass over RAM, then post-copy for what was dirtied meanwhile.
  { label: 'post-copy after 1 pass', options: { mode: 'postcopy', postcopyAfterMs: 30_000, postcopyWhenRemainingBytes: 2 ** 40, ...LINK } },
  { label: 'pre-copy', options: { mode: 'precopy', maxBandwidthBytesPerSecond: LINK_BYTES_PER_S, timeoutMs: PRECOPY_GIVE_UP_MS } },
  { label: 'pre-copy+auto-converge', options: { mode: 'precopy', autoConverge: true, maxBandwidthBytesPerSecond: LINK_BYTES_PER_S, timeoutMs: PRECOPY_GIVE_UP_MS } },
];

interface Run {
  mode: string;
  converged: boolean;
  /** What QEMU really did (a post-copy run whose pre-copy converged first ends as pre-copy). */
  usedMode?: string;
  /** Highest guest dirty rate QEMU measured during the migration. */
  dirtyBytesPerSecond: number;
  stats?: MigrationStats;
  /** Bytes sent, also when the migration was given up (from the last progress report). */
  bytes: number;
  guestSilenceMs: number;
  baselineSilenceMs: number;
}

export async function run(): Promise<BenchResult[]> {
  const lab = await labUp();
  const accelerator = (await labAccelerator(lab)).accelerator;
  const hosts = ['site-a', 'site-b'];
  const sessions = new Map<string, SshSession>();
  for (const name of hosts) sessions.set(name, await connectToLabHost(lab, name, { defaultTimeoutMs: 60_000 }));
  const ssh = (name: string) => sessions.get(name)!;
  const runs: Run[] = [];
  try {
    for (const name of hosts) await destroyVm(ssh(name), VM, { removeDisks: true, graceMs: 0 });
    let here = 'site-a';
    await startVm(ssh(here), guestVmSpec({ name: VM, ip: IP, host: labHost(lab, here), accelerator, memoryMiB: MEMORY_MIB, extraAppend: `orbit.dirty=${DIRTY_MIB}` }));
    await waitForGuestReport(IP, 7000, 90_000);
    await sleep(3000); // the dirtying loop gets going

    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        const there = here === 'site-a' ? 'site-b' : 'site-a';
        const baseline = pollGuest(IP, POLL);
        await sleep(BASELINE_MS);
        const baselineSilenceMs = longestSilenceMs(await baseline.stop());

        const poller = pollGuest(IP, POLL);
        let bytes = 0;
        let dirty = 0;
        const started = Date.now();
        let outcome: Run;
        try {
          const result = await migrateVm(ssh(here), ssh(there), VM, {
            ...mode.options,
            onProgress: (p) => {
              bytes = p.ram?.transferredBytes ?? bytes;
              dirty = Math.max(dirty, p.ram?.dirtyBytesPerSecond ?? 0);
            },
          });
          await sleep(1000);
          const samples = await poller.stop();
          here = there;
          outcome = {
            mode: mode.label,
            converged: true,
            usedMode: result.mode,
            dirtyBytesPerSecond: dirty,
            stats: result.stats,
            bytes: result.stats!.ramBytes.total,
            guestSilenceMs: longestSilenceMs(samples, started),
            baselineSilenceMs,
          };
        } catch (error) {
          const samples = await poller.stop();
          console.error(`  ${mode.label}: ${(error as Error).message.split('\n')[0]}`);
          outcome = { mode: mode.label, converged: false, dirtyBytesPerSecond: dirty, bytes, guestSilenceMs: longestSilenceMs(samples, started), baselineSilenceMs };
        }
        runs.push(outcome);
        const s = outcome.stats;
        console.error(
          `  round ${round + 1} ${mode.label}: ${outcome.converged ? `${outcome.usedMode}, total ${s!.totalMs} ms, downtime ${s!.downtimeMs} ms, pre-copy ${s!.precopyMs} ms, post-copy ${s!.postcopyMs} ms, passes ${s!.dirtySyncCount}, blocktime ${s!.postcopyBlocktimeMs ?? '-'} ms` : 'gave up'}, ` +
            `${(outcome.bytes / MiB).toFixed(0)} MiB sent, dirty rate up to ${(dirty / MiB).toFixed(0)} MiB/s, guest silent ${outcome.guestSilenceMs} ms (baseline ${baselineSilenceMs} ms)`,
        );
      }
    }
  } finally {
    for (const name of hosts) await destroyVm(ssh(name), VM, { removeDisks: true, graceMs: 0 }).catch(() => undefined);
    for (const session of sessions.values()) await session.close();
  }
  return summarize(runs);
}

function summarize(runs: Run[]): BenchResult[] {
  const results: BenchResult[] = [];
  const figures = new Map<string, { total?: number; downtime?: number; silence: number; bytes: number; converged: number; runs: number }>();
  for (const mode of MODES) {
    const mine = runs.filter((r) => r.mode === mode.label);
    const done = mine.filter((r) => r.converged);
    const note = `median of ${mine.length}${done.length < mine.length ? `; ${mine.length - done.length} did not converge in ${PRECOPY_GIVE_UP_MS / 1000} s` : ''}`;
    const f = {
      total: done.length ? median(done.map((r) => r.stats!.totalMs)) : undefined,
      downtime: done.length ? median(done.map((r) => r.stats!.downtimeMs)) : undefined,
      silence: median(mine.map((r) => r.guestSilenceMs)),
      bytes: median(mine.map((r) => r.bytes)),
      converged: done.length,
      runs: mine.length,
    };
    figures.set(mode.label, f);
    if (f.total !== undefined) results.push({ name: `${mode.label}: total time`, value: f.total, unit: 'ms', note });
    else results.push({ name: `${mode.label}: total time`, value: PRECOPY_GIVE_UP_MS, unit: 'ms', note: `never converged (given up after ${PRECOPY_GIVE_UP_MS / 1000} s, ${mine.length} runs)` });
    if (f.downtime !== undefined) results.push({ name: `${mode.label}: downtime (QEMU)`, value: f.downtime, unit: 'ms', note });
    results.push({ name: `${mode.label}: guest-visible downtime`, value: f.silence, unit: 'ms', note: `longest TCP silence; baseline ${median(mine.map((r) => r.baselineSilenceMs))} ms; ${note}` });
    results.push({ name: `${mode.label}: bytes sent`, value: f.bytes / MiB, unit: 'MiB', note: `${note}; guest ${MEMORY_MIB} MiB, ${DIRTY_MIB} MiB dirtied in a loop` });
  }
  const reference = 'post-copy after 1 pass';
  const ref = figures.get(reference)!;
  for (const other of ['pre-copy', 'pre-copy+auto-converge', 'post-copy']) {
    const f = figures.get(other)!;
    const ratio = (what: string, a: number | undefined, b: number | undefined, note?: string) => {
      if (a !== undefined && b !== undefined && b > 0) results.push({ name: `ratio ${other} / ${reference}: ${what}`, value: a / b, unit: 'x', ...(note ? { note } : {}) });
    };
    if (f.converged < f.runs) {
      // Times of a migration that never finished compare with nothing; the bytes it wasted do.
      ratio('bytes sent', f.bytes, ref.bytes, `sent in ${PRECOPY_GIVE_UP_MS / 1000} s without converging`);
      continue;
    }
    ratio('total time', f.total, ref.total);
    ratio('downtime (QEMU)', f.downtime, ref.downtime);
    ratio('guest-visible downtime', f.silence, ref.silence);
    ratio('bytes sent', f.bytes, ref.bytes);
  }
  return results;
}
