import { tapName, vmPaths } from '../../provider/qemu/qemu-command-line';
import { destroyVm, inspectVm, restartVm, startVm, stopVm, VmError } from '../../provider/qemu/qemu-process';
import { SshSession } from '../../provider/ssh/ssh-session';
import { VmSpecError, VmSpecInput } from '../../provider/qemu/vm-spec';
import { readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { LabDescription, LabHost } from '../../scripts/lab/description';
import { labUp } from '../../scripts/lab/lab';
import { labAccelerator } from '../../scripts/lab/lab-accelerator';
import { connectToLabHost, labHost } from '../../scripts/lab/lab-ssh';
import { guestVmSpec, vmTraces } from '../support/guest-vm';

/**
 * The QEMU process driver on a real lab host: the test guest started as a VM over SSH, found
 * again, stopped (the busybox guest ignores ACPI, so the quit path runs), restarted with a new
 * spec on the same disk (and back to the old one when the new one does not start), destroyed
 * without a trace, and bad specs refused before anything starts.
 */

jest.setTimeout(240_000);

const VM = 'drv-basic';
const IP = '10.89.0.70';
const NAMES = [VM, 'drv-badspec', 'drv-badhost', 'drv-badqemu'];

let lab: LabDescription;
let host: LabHost;
let session: SshSession;
let accelerator: 'kvm' | 'tcg';
let spec: VmSpecInput;

const traces = (name: string) => vmTraces(session, name);

beforeAll(async () => {
  lab = await labUp();
  host = labHost(lab, 'site-a');
  accelerator = (await labAccelerator(lab)).accelerator;
  session = await connectToLabHost(lab, host.name, { defaultTimeoutMs: 60_000 });
  // An interrupted earlier run must not leave its VMs in the way.
  for (const name of NAMES) await destroyVm(session, name, { removeDisks: true, graceMs: 0 });
  spec = guestVmSpec({ name: VM, ip: IP, host, accelerator, withDisk: true });
});

afterAll(async () => {
  if (session?.isOpen) {
    for (const name of NAMES) await destroyVm(session, name, { removeDisks: true, graceMs: 0 }).catch((e) => console.error(e));
    await session.close();
  }
});

test('starts the test guest as a VM that answers on TCP and outlives the SSH session', async () => {
  const t = Date.now();
  const vm = await startVm(session, spec);
  expect(vm.started).toBe(true);
  expect(vm.status).toBe('running');
  expect(vm.pid).toBeGreaterThan(0);
  const report = await waitForGuestReport(IP, 7000, 90_000);
  console.log(`drv-basic: started (pid ${vm.pid}) and answering in ${Date.now() - t} ms; ${JSON.stringify(report)}`);
  expect(report.disk).not.toBeNull();

  // Files where the design says, spec persisted, tap on the bridge.
  const paths = vmPaths(VM);
  const { stdout } = await session.exec(
    `test -S ${paths.qmpSocket} && cat ${paths.pidFile} && ls ${paths.stateDir} | tr '\\n' ' ' && echo && cat /sys/class/net/${tapName(VM, 0)}/master/uevent | grep INTERFACE`,
  );
  const [pidLine, files, bridge] = stdout.trim().split('\n');
  expect(Number(pidLine)).toBe(vm.pid);
  expect(files.split(' ').filter(Boolean).sort()).toEqual(['disk.raw', 'serial.log', 'spec.json']);
  expect(bridge).toBe(`INTERFACE=${host.vmBridge}`);

  // A new SSH session sees the same VM still running.
  await session.close();
  session = await connectToLabHost(lab, host.name, { defaultTimeoutMs: 60_000 });
  expect((await inspectVm(session, VM)).pid).toBe(vm.pid);
  expect((await readGuestReport(IP, 7000, 5000)).boot).toBe(report.boot);
});

test('starting again with the same spec is idempotent: same process, same boot', async () => {
  const before = await readGuestReport(IP, 7000, 5000);
  const first = await inspectVm(session, VM);
  const again = await startVm(session, spec);
  expect(again.started).toBe(false);
  expect(again.pid).toBe(first.pid);
  const after = await readGuestReport(IP, 7000, 5000);
  expect(after.boot).toBe(before.boot);
  expect(after.counter).toBeGreaterThanOrEqual(before.counter);
});

test('a different spec for a running VM is refused, naming what differs', async () => {
  const error = await startVm(session, { ...spec, memoryMiB: 192 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(VmError);
  expect((error as Error).message).toMatch(/different spec: memoryMiB: 128 -> 192/);
  expect((error as Error).message).toMatch(/Fix: stop or destroy/);
});

test('inspect reports pid, persisted spec and QMP status; an unknown VM is absent', async () => {
  const info = await inspectVm(session, VM);
  expect(info.state).toBe('running');
  expect(info.pids).toHaveLength(1);
  expect(info.status).toBe('running');
  expect(info.incoming).toBe(false);
  expect(info.spec?.memoryMiB).toBe(128);
  expect(info.spec?.nics[0].mac).toBe(spec.nics![0].mac);
  expect(await inspectVm(session, 'drv-nothing-here')).toEqual({ name: 'drv-nothing-here', state: 'absent', pids: [], incoming: false });
});

test('stop: the busybox guest ignores ACPI, so QEMU quits after the grace period; start brings it back', async () => {
  const bootBefore = (await readGuestReport(IP, 7000, 5000)).boot;
  const stopped = await stopVm(session, VM, { graceMs: 2000 });
  console.log(`drv-basic: stopped by ${stopped.method} in ${stopped.elapsedMs} ms`);
  expect(stopped.wasRunning).toBe(true);
  expect(stopped.method).toBe('quit');
  expect(stopped.elapsedMs).toBeGreaterThanOrEqual(2000);
  const info = await inspectVm(session, VM);
  expect(info.state).toBe('absent');
  expect(info.spec?.name).toBe(VM); // the spec stays for the next start
  await expect(readGuestReport(IP, 7000, 2000)).rejects.toThrow();
  expect(await stopVm(session, VM, { graceMs: 0 })).toMatchObject({ wasRunning: false, method: 'none' });

  const restarted = await startVm(session, spec);
  expect(restarted.started).toBe(true);
  const report = await waitForGuestReport(IP, 7000, 90_000);
  expect(report.boot).not.toBe(bootBefore);
  expect(report.prev).not.toBeNull(); // the disk kept the counter across the stop
});

test('restart with a new spec (2 vCPUs, more memory): same disk image, the counter carries over', async () => {
  const before = await readGuestReport(IP, 7000, 5000);
  const inode = async () => (await session.exec(`stat -c %i ${vmPaths(VM).stateDir}/disk.raw`)).stdout.trim();
  const image = await inode();
  const restarted = await restartVm(session, { ...spec, vcpus: 2, memoryMiB: 160 }, { graceMs: 0 });
  console.log(`drv-basic: restarted (stopped by ${restarted.stop.method}), down ${restarted.downtimeMs} ms until QEMU answered`);
  expect(restarted.running).toMatchObject({ started: true, createdDisks: [], status: 'running' });
  const after = await waitForGuestReport(IP, 7000, 90_000);
  expect(after.boot).not.toBe(before.boot);
  expect(after.prev!).toBeGreaterThanOrEqual(before.disk!);
  expect(await inode()).toBe(image);
  expect((await inspectVm(session, VM)).spec).toMatchObject({ vcpus: 2, memoryMiB: 160 });
});

test('a restart whose new spec the host cannot run is refused before the guest is touched', async () => {
  const boot = (await readGuestReport(IP, 7000, 5000)).boot;
  const error = await restartVm(session, { ...spec, nics: [{ ...spec.nics![0], bridge: 'nosuchbr0' }] }, { graceMs: 0 }).catch((e: unknown) => e);
  expect((error as Error).message).toMatch(/there is no bridge nosuchbr0 on the host/);
  expect((await readGuestReport(IP, 7000, 5000)).boot).toBe(boot);
});

test('a restart whose new spec QEMU refuses starts the VM again as it was, and says so', async () => {
  const boot = (await readGuestReport(IP, 7000, 5000)).boot;
  const error = await restartVm(session, { ...spec, vcpus: 2, memoryMiB: 160, machine: 'no-such-machine' }, { graceMs: 0 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(VmError);
  expect((error as Error).message).toMatch(/the new settings did not start: .*no-such-machine.*\n.*it runs again with its previous settings/s);
  const back = await waitForGuestReport(IP, 7000, 90_000);
  expect(back.boot).not.toBe(boot);
  expect(back.prev).not.toBeNull();
  expect((await inspectVm(session, VM)).spec).toMatchObject({ vcpus: 2, memoryMiB: 160, machine: spec.machine ?? 'pc' });
  await restartVm(session, spec, { graceMs: 0 });
  await waitForGuestReport(IP, 7000, 90_000);
});

test('destroy removes process, tap and files; destroying again is a no-op', async () => {
  const before = await traces(VM);
  expect(before).toEqual(expect.arrayContaining([expect.stringMatching(/^process /), `tap ${tapName(VM, 0)}`, `dir ${vmPaths(VM).runDir}`]));
  const result = await destroyVm(session, VM, { removeDisks: true, graceMs: 0 });
  expect(result.stop.method).toBe('quit');
  expect(result.removedTaps).toEqual([tapName(VM, 0)]);
  expect(result.removedDisks).toEqual([`/var/lib/orbit/${VM}/disk.raw`]);
  expect(await traces(VM)).toEqual([]);
  await expect(readGuestReport(IP, 7000, 2000)).rejects.toThrow();

  const again = await destroyVm(session, VM, { removeDisks: true });
  expect(again).toEqual({ stop: expect.objectContaining({ wasRunning: false, method: 'none' }), removedTaps: [], removedDisks: [], keptDisks: [] });
});

test('destroy kills an orphan QEMU whose pidfile is gone, and without removeDisks keeps the disk', async () => {
  await startVm(session, spec);
  await session.exec(`rm -f ${vmPaths(VM).pidFile}`);
  const result = await destroyVm(session, VM, { graceMs: 0 });
  expect(result.keptDisks).toEqual([`/var/lib/orbit/${VM}/disk.raw`]);
  expect(await traces(VM)).toEqual([`dir ${vmPaths(VM).stateDir}`]);
  const { stdout } = await session.exec(`ls ${vmPaths(VM).stateDir}`);
  expect(stdout.trim()).toBe('disk.raw');
  await destroyVm(session, VM, { removeDisks: true });
  expect(await traces(VM)).toEqual([]);
});

test('a bad spec is refused with every problem named, and nothing is started', async () => {
  const bad = { ...guestVmSpec({ name: 'drv-badspec', ip: '10.89.0.71', host, accelerator }), memoryMiB: 12, accelerator: 'xen', nics: [{ mac: 'zz:00', bridge: host.vmBridge }] };
  const error = await startVm(session, bad as unknown as VmSpecInput).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(VmSpecError);
  const message = (error as Error).message;
  console.log(message);
  expect(message).toMatch(/Invalid spec for VM drv-badspec: 3 problems; nothing was started/);
  expect(message).toMatch(/memoryMiB: 12 is not an integer from 64/);
  expect(message).toMatch(/accelerator: "xen" is not one of kvm, tcg/);
  expect(message).toMatch(/nics\[0\]\.mac: "zz:00" is not a MAC address/);
  expect(await traces('drv-badspec')).toEqual([]);
});

test('a spec the host cannot run (no such bridge, no kernel) is refused before anything is created', async () => {
  const base = guestVmSpec({ name: 'drv-badhost', ip: '10.89.0.71', host, accelerator });
  const bad: VmSpecInput = { ...base, boot: { kind: 'kernel', kernel: '/nonexistent/vmlinuz' }, nics: [{ mac: '52:54:00:89:00:47', bridge: 'nobr0' }] };
  const error = await startVm(session, bad).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(VmError);
  const message = (error as Error).message;
  console.log(message);
  expect(message).toMatch(/boot\.kernel: \/nonexistent\/vmlinuz does not exist on the host/);
  expect(message).toMatch(/nics\[0\]\.bridge: there is no bridge nobr0 on the host/);
  expect(await traces('drv-badhost')).toEqual([]);
});

test('when QEMU itself refuses to start, its message is shown and the taps and files are removed', async () => {
  const bad = { ...guestVmSpec({ name: 'drv-badqemu', ip: '10.89.0.71', host, accelerator }), machine: 'no-such-machine' };
  const error = await startVm(session, bad).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(VmError);
  expect((error as Error).message).toMatch(/QEMU did not start: .*no-such-machine/s);
  expect(await traces('drv-badqemu')).toEqual([]);
});
