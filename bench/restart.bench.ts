/**
 * A planned restart on the same disks (what a vCPU or max-memory change of orbit_vm does now),
 * side by side with what such a change did before: destroy with the disks, start afresh. The
 * same test guest on site-a, ROUNDS of each, alternating. Per round: QEMU down (from the stop
 * request to QMP answering with the new spec), the guest-visible gap (the longest time a client
 * polling the guest's TCP report every 25 ms got no answer), and whether the guest found its
 * counter on the disk at boot (the data). Stops are `quit` (the test guest ignores ACPI; the
 * ACPI wait would only add stop_timeout_ms to both). A failed round keeps the guest's serial log
 * under bench/results/. Leaves the lab up and removes its VM.
 */
import * as fs from 'fs';
import { destroyVm, restartVm, startVm } from '../provider/qemu/qemu-process';
import { vmPaths } from '../provider/qemu/qemu-command-line';
import { VmSpecInput } from '../provider/qemu/vm-spec';
import { SshSession } from '../provider/ssh/ssh-session';
import { waitForGuestReport } from '../scripts/guest/guest';
import { labUp } from '../scripts/lab/lab';
import { labAccelerator } from '../scripts/lab/lab-accelerator';
import { connectToLabHost, labHost } from '../scripts/lab/lab-ssh';
import { longestSilenceMs, pollGuest } from '../test/support/guest-poller';
import { guestVmSpec } from '../test/support/guest-vm';
import { BenchResult, median } from './bench-result';

const VM = 'drv-restart';
const IP = '10.89.0.74';
const ROUNDS = Number(process.env.ORBIT_BENCH_ROUNDS ?? 3);
/** How long a guest may take to answer after a start, whatever the machine: it only ends a stuck round. */
const ANSWER_LIMIT_MS = 120_000;

interface Round {
  how: 'restart' | 'replace';
  downMs: number;
  gapMs: number;
  dataKept: boolean;
}

export async function run(): Promise<BenchResult[]> {
  const lab = await labUp();
  const accelerator = (await labAccelerator(lab)).accelerator;
  const host = labHost(lab, 'site-a');
  const session = await connectToLabHost(lab, host.name, { defaultTimeoutMs: 60_000 });
  const rounds: Round[] = [];
  try {
    await destroyVm(session, VM, { removeDisks: true, graceMs: 0 });
    const spec = (vcpus: number): VmSpecInput => ({ ...guestVmSpec({ name: VM, ip: IP, host, accelerator, withDisk: true }), vcpus });
    await startVm(session, spec(1));
    await waitForGuestReport(IP, 7000, ANSWER_LIMIT_MS);
    console.error(`restart bench: ${ROUNDS} rounds each of a planned restart and a destroy + start, ${accelerator}`);
    for (let i = 0; i < ROUNDS; i++) {
      for (const how of ['restart', 'replace'] as const) {
        const vcpus = rounds.length % 2 === 0 ? 2 : 1;
        rounds.push(await measure(session, how, spec(vcpus)));
        const r = rounds[rounds.length - 1];
        console.error(`  ${how.padEnd(7)} QEMU down ${r.downMs} ms, guest gap ${r.gapMs} ms, data ${r.dataKept ? 'kept' : 'gone'}`);
      }
    }
  } finally {
    await destroyVm(session, VM, { removeDisks: true, graceMs: 0 }).catch(() => undefined);
    await session.close();
  }
  const of = (how: Round['how']) => rounds.filter((r) => r.how === how);
  const restart = of('restart');
  const replace = of('replace');
  const gapRatio = median(replace.map((r) => r.gapMs)) / median(restart.map((r) => r.gapMs));
  return [
    { name: 'planned restart: QEMU down (median)', value: median(restart.map((r) => r.downMs)), unit: 'ms', note: `${restart.length} rounds` },
    { name: 'planned restart: guest gap (median)', value: median(restart.map((r) => r.gapMs)), unit: 'ms', note: `max ${Math.max(...restart.map((r) => r.gapMs))} ms` },
    { name: 'planned restart: data kept', value: restart.filter((r) => r.dataKept).length, unit: 'of', note: `${restart.length} rounds` },
    { name: 'destroy + start: guest gap (median)', value: median(replace.map((r) => r.gapMs)), unit: 'ms', note: `max ${Math.max(...replace.map((r) => r.gapMs))} ms` },
    { name: 'destroy + start: data kept', value: replace.filter((r) => r.dataKept).length, unit: 'of', note: `${replace.length} rounds (the disk is new)` },
    { name: 'ratio guest gap destroy+start / restart', value: gapRatio, unit: 'x', note: 'same run, same guest' },
  ];
}

async function measure(session: SshSession, how: Round['how'], spec: VmSpecInput): Promise<Round> {
  const before = await waitForGuestReport(IP, 7000, ANSWER_LIMIT_MS);
  const poller = pollGuest(IP, { intervalMs: 25, timeoutMs: 1000 });
  await poller.answering();
  const started = Date.now();
  let downMs: number;
  if (how === 'restart') {
    downMs = (await restartVm(session, spec, { graceMs: 0 })).downtimeMs;
  } else {
    await destroyVm(session, VM, { removeDisks: true, graceMs: 0 });
    await startVm(session, spec);
    downMs = Date.now() - started;
  }
  const answered = await poller.answeredSince(Date.now(), ANSWER_LIMIT_MS);
  const samples = await poller.stop();
  if (!answered) {
    const kept = `bench/results/restart-${how}-${Date.now()}.serial.log`;
    fs.mkdirSync('bench/results', { recursive: true });
    fs.writeFileSync(kept, (await session.exec(`cat ${vmPaths(VM).serialLog}`, { allowFailure: true })).stdout);
    throw new Error(`The guest did not answer within ${ANSWER_LIMIT_MS} ms of a ${how}; its serial log is in ${kept}`);
  }
  const after = samples.find((s) => s.report && s.at >= started && s.report.boot !== before.boot)?.report ?? (await waitForGuestReport(IP, 7000, ANSWER_LIMIT_MS));
  return { how, downMs, gapMs: longestSilenceMs(samples, started), dataKept: after.prev !== null && before.disk !== null && after.prev >= before.disk };
}
