import { MigrationError, MigrationProgress, migrateVm } from '../../provider/qemu/live-migration';
import { vmPaths } from '../../provider/qemu/qemu-command-line';
import { destroyVm, inspectVm, startVm } from '../../provider/qemu/qemu-process';
import { SshSession } from '../../provider/ssh/ssh-session';
import { readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { LabDescription } from '../../scripts/lab/description';
import { labUp } from '../../scripts/lab/lab';
import { labAccelerator } from '../../scripts/lab/lab-accelerator';
import { connectToLabHost, labHost } from '../../scripts/lab/lab-ssh';
import { counterWentBack, longestSilenceMs, pollGuest } from '../support/guest-poller';
import { guestVmSpec, vmTraces } from '../support/guest-vm';
import { setTimeout as sleep } from 'timers/promises';

/**
 * Post-copy live migration between two lab hosts with the test guest running (and dirtying
 * memory): it carries on on the other host with the same boot and counter, answers TCP
 * throughout (bar a short pause), and nothing is left on the source. A destination that dies
 * before the switch-over, or cannot listen at all, costs nothing: the VM runs on at the source.
 */

jest.setTimeout(300_000);

const MIG = { name: 'drv-mig', ip: '10.89.0.72' };
const FAIL = { name: 'drv-migfail', ip: '10.89.0.73' };

let lab: LabDescription;
let siteA: SshSession;
let siteB: SshSession;
let accelerator: 'kvm' | 'tcg';

const traces = vmTraces;

async function cleanUp(): Promise<void> {
  for (const session of [siteA, siteB]) {
    if (!session?.isOpen) continue;
    for (const vm of [MIG, FAIL]) await destroyVm(session, vm.name, { removeDisks: true, graceMs: 0 }).catch((e) => console.error(e));
  }
}

beforeAll(async () => {
  lab = await labUp();
  accelerator = (await labAccelerator(lab)).accelerator;
  siteA = await connectToLabHost(lab, 'site-a', { defaultTimeoutMs: 60_000 });
  siteB = await connectToLabHost(lab, 'site-b', { defaultTimeoutMs: 60_000 });
  await cleanUp();
});

afterAll(async () => {
  await cleanUp();
  await siteA?.close();
  await siteB?.close();
});

test('post-copy migration site-a -> site-b of a running, memory-dirtying guest with a disk', async () => {
  const spec = guestVmSpec({ ...MIG, host: labHost(lab, 'site-a'), accelerator, withDisk: true, extraAppend: 'orbit.dirty=16' });
  await startVm(siteA, spec);
  await waitForGuestReport(MIG.ip, 7000, 90_000);
  await sleep(1000);
  const before = await readGuestReport(MIG.ip, 7000, 5000);
  expect(before.disk).not.toBeNull(); // the guest has written its counter to the disk

  const poller = pollGuest(MIG.ip);
  let samples: Awaited<ReturnType<typeof poller.stop>>;
  const phases: string[] = [];
  let migrationStart = 0;
  let migrationEnd = 0;
  let result;
  try {
    migrationStart = Date.now();
    result = await migrateVm(siteA, siteB, MIG.name, {
      // Pre-copy here converges in well under a second at full speed; slowed down, it is still
      // going after 1.5 s, and the switch to post-copy (never rate-limited) happens.
      postcopyAfterMs: 1500,
      maxBandwidthBytesPerSecond: 8 * 2 ** 20,
      onProgress: (p: MigrationProgress) => {
        if (phases[phases.length - 1] !== p.phase) phases.push(p.phase);
      },
    });
    migrationEnd = Date.now();
    await sleep(1500);
  } finally {
    samples = await poller.stop();
  }
  console.log(`drv-mig migrated: phases ${phases.join(' > ')}\n${JSON.stringify(result, null, 2)}`);

  expect(result.mode).toBe('postcopy');
  expect(result.alreadyMigrated).toBe(false);
  expect(phases).toEqual(['checks', 'destination', 'disk-mirror', 'pre-copy', 'switch-over', 'post-copy', 'cleanup']);
  expect(result.stats!.ramBytes.postcopy).toBeGreaterThan(0);
  expect(result.stats!.ramBytes.precopy).toBeGreaterThan(0);
  expect(result.stats!.diskBytes).toBeGreaterThanOrEqual(16 * 2 ** 20); // the image, plus guest writes copied again

  // The guest carried on: one boot, a counter that never went back, TCP answering throughout.
  const answered = samples.filter((s) => s.report).sort((a, b) => a.doneAt - b.doneAt);
  const reports = answered.map((s) => s.report!);
  const failures = samples.filter((s) => s.error);
  const silence = longestSilenceMs(samples, migrationStart, migrationEnd + 1500);
  console.log(`guest during migration: ${reports.length} answers, ${failures.length} failed requests, longest silence ${silence} ms`);
  expect(new Set(reports.map((r) => r.boot))).toEqual(new Set([before.boot]));
  expect(Math.min(...reports.map((r) => r.counter))).toBeGreaterThanOrEqual(before.counter);
  expect(counterWentBack(samples)).toEqual([]);
  expect(reports[reports.length - 1].counter).toBeGreaterThan(reports[0].counter);
  expect(answered.some((s) => s.at > migrationEnd)).toBe(true);
  expect(silence).toBeLessThan(10_000);
  const after = await readGuestReport(MIG.ip, 7000, 5000);
  expect(after.boot).toBe(before.boot);
  expect(after.counter).toBeGreaterThan(before.counter);
  expect(after.prev).toBe(before.prev);
  // The disk moved with it: the counter on the destination's disk is the running one.
  expect(after.disk).toBeGreaterThan(before.disk!);
  const { stdout: sector } = await siteB.exec(`dd if=/var/lib/orbit/${MIG.name}/disk.raw bs=512 count=1 2>/dev/null | head -c 80`);
  expect(sector).toMatch(new RegExp(`^orbit-counter \\d+ boot=${before.boot}`));

  // The guest's own check of its dirtied memory found no lost write on the destination.
  const { stdout: serialErrors } = await siteB.exec(`grep ORBIT-GUEST-ERROR ${vmPaths(MIG.name).serialLog} || true`);
  expect(serialErrors.trim()).toBe('');

  // The source is gone; the destination is an ordinary running VM.
  expect(await traces(siteA, MIG.name)).toEqual([]);
  const there = await inspectVm(siteB, MIG.name);
  expect(there).toMatchObject({ state: 'running', status: 'running', incoming: false, pid: result.destinationPid });
  expect(there.spec?.name).toBe(MIG.name);
});

test('migrating again after success only confirms it (idempotent)', async () => {
  const again = await migrateVm(siteA, siteB, MIG.name);
  expect(again.alreadyMigrated).toBe(true);
  expect((await inspectVm(siteB, MIG.name)).status).toBe('running');
  await destroyVm(siteB, MIG.name, { removeDisks: true, graceMs: 0 });
  expect(await traces(siteB, MIG.name)).toEqual([]);
});

test('a destination that dies during pre-copy: the migration fails before the switch-over and the VM runs on at the source', async () => {
  const spec = guestVmSpec({ ...FAIL, host: labHost(lab, 'site-a'), accelerator, withDisk: true });
  const started = await startVm(siteA, spec);
  const before = await waitForGuestReport(FAIL.ip, 7000, 90_000);

  let killed: Promise<unknown> | undefined;
  const error = await migrateVm(siteA, siteB, FAIL.name, {
    postcopyAfterMs: 120_000,
    maxBandwidthBytesPerSecond: 2 * 2 ** 20, // slow pre-copy, so that it is under way when the destination dies
    onProgress: (p) => {
      if (!killed && p.phase === 'pre-copy' && (p.ram?.transferredBytes ?? 0) > 2 ** 20) {
        killed = siteB.exec(`pkill -KILL --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${FAIL.name},'`);
      }
    },
  }).catch((e: unknown) => e);
  await killed;
  expect(killed).toBeDefined();
  expect(error).toBeInstanceOf(MigrationError);
  const failure = error as MigrationError;
  console.log(failure.message);
  expect(failure.phase).toBe('pre-copy');
  expect(failure.vmRunsOn).toBe('source');
  expect(failure.message).toMatch(/failed before the switch-over: the VM is still running on site-a/);

  const source = await inspectVm(siteA, FAIL.name);
  expect(source).toMatchObject({ state: 'running', status: 'running', pid: started.pid });
  const after = await readGuestReport(FAIL.ip, 7000, 5000);
  expect(after.boot).toBe(before.boot);
  expect(after.counter).toBeGreaterThan(before.counter);
  expect(await traces(siteB, FAIL.name)).toEqual([]);
  // The source's disk mirror is gone too: a later migration starts clean.
  const { stdout } = await siteA
    .exec(`echo '{"execute":"qmp_capabilities"}{"execute":"query-block-jobs"}' | timeout 5 socat - UNIX-CONNECT:${vmPaths(FAIL.name).qmpSocket} | tail -1`)
    .catch(() => ({ stdout: 'socat missing' }));
  if (stdout !== 'socat missing') expect(stdout).toMatch(/"return": \[\]/);
});

test('a destination that cannot listen on the given address: refused before anything moves, nothing left behind', async () => {
  const before = await readGuestReport(FAIL.ip, 7000, 5000);
  const error = await migrateVm(siteA, siteB, FAIL.name, { destinationAddress: '10.88.0.250' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MigrationError);
  const failure = error as MigrationError;
  console.log(failure.message);
  expect(failure.phase).toBe('destination');
  expect(failure.vmRunsOn).toBe('source');
  expect(failure.message).toMatch(/10\.88\.0\.250/);
  expect((await inspectVm(siteA, FAIL.name)).status).toBe('running');
  expect((await readGuestReport(FAIL.ip, 7000, 5000)).boot).toBe(before.boot);
  expect(await traces(siteB, FAIL.name)).toEqual([]);
});
