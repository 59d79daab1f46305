/**
 * orbit_vm through the real terraform binary and the installed provider, with the test guest
 * on lab hosts: create (the guest answers), memory changed in place through the balloon, a
 * planned restart on the same disks (vCPUs and maximum memory), drift after an out-of-band change, a disk grown under the running guest, a host change that
 * is a post-copy live migration (counter and TCP service carry on), import, an SSH link cut
 * mid-apply followed by a converging re-apply, a create the host refuses, and destroy.
 * What the hosts and the guest really have is checked from outside the provider.
 */
import { guestArtifacts, GuestReport, readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { guestKernelArgs } from '../../scripts/guest/guest';
import { labGuestMac } from '../../scripts/lab/lab-guest';
import { openCuttableLink } from '../support/cuttable-link';
import { counterWentBack, longestSilenceMs, pollGuest } from '../support/guest-poller';
import { LabTerraform, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { requiredProviders, RunResult, Workspace } from '../support/terraform';
import { setTimeout as sleep } from 'timers/promises';
import { pollUntil } from '../../provider/ssh/poll';
import { spawn } from 'child_process';
import * as path from 'path';

jest.setTimeout(600_000);

const WEB = { ip: '10.89.0.74' };
const CUT = { ip: '10.89.0.75' };
const BAD = { ip: '10.89.0.76' };

interface VmOptions {
  name: string;
  host: string;
  ip: string;
  memoryMib: number;
  maxMemoryMib?: number;
  vcpus?: number;
  diskMib?: number;
  bridge?: string;
  accelerator?: string;
  /** Leave stop_timeout_ms at its default (the ACPI wait), instead of 0. */
  defaultStopTimeout?: boolean;
  keepDisksOnDestroy?: boolean;
  running?: boolean;
}

function vmResource(address: string, o: VmOptions): string {
  const { kernelPath, initrdPath } = guestArtifacts();
  return `resource "orbit_vm" "${address}" {
  name                        = "${o.name}"
  host                        = "${o.host}"
  memory_mib                  = ${o.memoryMib}
  max_memory_mib              = ${o.maxMemoryMib ?? 256}
  vcpus                       = ${o.vcpus ?? 1}${o.accelerator ? `\n  accelerator                 = "${o.accelerator}"` : ''}
  kernel_path                 = "${kernelPath}"
  initrd_path                 = "${initrdPath}"
  kernel_cmdline              = "${guestKernelArgs({ ip: `${o.ip}/24` })}"
${o.defaultStopTimeout ? '' : '  stop_timeout_ms             = 0\n'}${o.running === undefined ? '' : `  running                     = ${o.running}\n`}${o.keepDisksOnDestroy ? '  keep_disks_on_destroy       = true\n' : ''}  migration_postcopy_after_ms = 1000
  disk {
    size_mib = ${o.diskMib ?? 16}
  }
  network {
    bridge = "${o.bridge ?? 'vmbr0'}"
    mac    = "${labGuestMac(o.ip)}"
  }
}
`;
}

/** Terraform wraps diagnostics at 80 columns: compare with whitespace runs made single spaces. */
const flat = (result: RunResult) => result.output.replace(/\s+/g, ' ');
const ok = (result: RunResult) => {
  if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
  return result;
};

describe('orbit_vm on lab hosts', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  const name = uniqueName('tf-vm');
  const cutName = uniqueName('tf-cut');
  const badName = uniqueName('tf-bad');

  /** What the restart test changed, kept by the tests after it. */
  let machine: Partial<VmOptions> = {};
  const configure = (o: Partial<VmOptions> = {}) => ws.write('vm.tf', vmResource('web', { name, host: 'site-a', ip: WEB.ip, memoryMib: 192, ...machine, ...o }));
  const attributes = (w: Workspace = ws) => w.state().resources.find((r) => r.type === 'orbit_vm')!.instances[0].attributes;
  const expectNoChanges = async (w: Workspace = ws) => {
    const plan = await w.run(['plan', '-detailed-exitcode']);
    expect(plan.output).toContain('No changes.');
    expect(plan.code).toBe(0);
  };
  /** QEMU processes, taps and directories of a VM on a lab host (empty when nothing is left). */
  const traces = async (host: string, vm: string) => {
    const result = await lab.ssh(
      host,
      `pgrep --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${vm},' | sed 's/^/process /'; for d in /run/orbit/${vm} /var/lib/orbit/${vm}; do [ -e $d ] && echo "dir $d"; done; true`,
    );
    return result.stdout.split('\n').filter(Boolean);
  };
  const report = (ip: string): Promise<GuestReport> => readGuestReport(ip, 7000, 5000);
  /** The guest's first report from a boot other than `previous` (a boot under TCG takes seconds to tens of seconds). */
  const pollUntilNewBoot = (ip: string, previous: string): Promise<GuestReport> =>
    pollUntil(
      `the guest at ${ip} to answer from a new boot`,
      async () => {
        const next = await readGuestReport(ip, 7000, 5000);
        return next.boot !== previous ? next : undefined;
      },
      { timeoutMs: 120_000, everyMs: 250 },
    );

  beforeAll(async () => {
    lab = await setUpLabTerraform();
    ws = lab.workspace('', { only: ['site-a', 'site-b'] });
    ok(await ws.run(['init']));
  });

  afterAll(async () => {
    for (const host of ['site-a', 'site-b']) {
      for (const vm of [name, cutName, badName]) {
        await lab?.ssh(
          host,
          `pkill -9 -f '^[^ ]+ -name guest=${vm},'; sleep 0.3; rm -rf /run/orbit/${vm} /var/lib/orbit/${vm}; for t in $(ip -o link show | sed -n 's/^[0-9]*: \\([^:@]*\\)[:@].*/\\1/p' | grep '^${vm.slice(0, 5)}'); do ip link del $t; done; true`,
        );
      }
    }
    lab?.cleanup();
  });

  let boot: string;

  test('apply starts the VM; the guest answers; a second plan is quiet', async () => {
    configure();
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain(`+ path     = "/var/lib/orbit/${name}/disk0.qcow2"`);
    expect(plan.output).toContain('+ accelerator_in_use          = (known after apply)');
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    const first = await waitForGuestReport(WEB.ip, 7000, 90_000);
    boot = first.boot;
    expect(attributes()).toMatchObject({ id: name, host: 'site-a', memory_mib: 192, max_memory_mib: 256, status: 'running', last_migration_downtime_ms: null });
    expect(['kvm', 'tcg']).toContain(attributes().accelerator_in_use);
    expect(await traces('site-a', name)).toEqual(expect.arrayContaining([expect.stringMatching(/^process \d+$/)]));
    await expectNoChanges();
  });

  test('memory is changed in place through the balloon: same boot, the guest has less', async () => {
    const before = await report(WEB.ip);
    configure({ memoryMib: 160 });
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('~ update in-place');
    expect(plan.output).toContain('~ memory_mib                  = 192 -> 160');
    expect(plan.output).not.toContain('forces replacement');
    ok(await ws.run(['apply', '-auto-approve']));
    const after = await report(WEB.ip);
    expect(after.boot).toBe(boot);
    expect(before.memMiB! - after.memMiB!).toBe(32);
    expect(attributes().memory_mib).toBe(160);
    await expectNoChanges();
  });

  test('vCPUs and maximum memory restart the VM on the same disks: the plan says so, the counter on the disk carries over', async () => {
    const before = await report(WEB.ip);
    machine = { vcpus: 2, maxMemoryMib: 320 };
    configure({ memoryMib: 160 });
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('~ update in-place');
    expect(plan.output).not.toMatch(/forces replacement|must be replaced|will be destroyed/);
    expect(plan.output).toContain('0 to add, 1 to change, 0 to destroy');
    expect(flat(plan)).toContain(`Warning: orbit_vm "${name}" will restart (a planned restart on the same disks)`);
    expect(flat(plan)).toMatch(/vcpus 1 -> 2, max_memory_mib 256 -> 320/);
    const inode = (await lab.ssh('site-a', `stat -c %i /var/lib/orbit/${name}/disk0.qcow2`)).stdout.trim();
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    const after = await pollUntilNewBoot(WEB.ip, boot);
    // The guest read back, at boot, what it had written to its disk before the stop.
    expect(after.prev).not.toBeNull();
    expect(after.prev!).toBeGreaterThanOrEqual(before.disk!);
    expect((await lab.ssh('site-a', `stat -c %i /var/lib/orbit/${name}/disk0.qcow2`)).stdout.trim()).toBe(inode);
    const cpus = await lab.ssh('site-a', `printf '%s\\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-cpus-fast"}' | socat -t 2 - UNIX-CONNECT:/run/orbit/${name}/qmp.sock`);
    expect((cpus.stdout.match(/"cpu-index"/g) ?? []).length).toBe(2);
    expect(attributes()).toMatchObject({ vcpus: 2, max_memory_mib: 320, memory_mib: 160, status: 'running' });
    console.log(`planned restart: counter ${before.disk} on disk before, ${after.prev} read back at boot`);
    boot = after.boot;
    await expectNoChanges();
  });

  test('an out-of-band balloon change is drift; apply puts it back', async () => {
    const qmp = `printf '%s\\n' '{"execute":"qmp_capabilities"}' '{"execute":"balloon","arguments":{"value":${128 * 2 ** 20}}}' | socat -t 2 - UNIX-CONNECT:/run/orbit/${name}/qmp.sock`;
    const memBefore = (await report(WEB.ip)).memMiB!;
    expect((await lab.ssh('site-a', qmp)).code).toBe(0);
    for (let i = 0; i < 100 && (await report(WEB.ip)).memMiB !== memBefore - 32; i++) await sleep(200);
    let plan: RunResult | undefined;
    for (let i = 0; i < 30; i++) {
      plan = await ws.run(['plan', '-detailed-exitcode']);
      if (plan.output.includes('~ memory_mib                  = 128 -> 160')) break;
      await sleep(1000);
    }
    expect(plan!.code).toBe(2);
    expect(plan!.output).toContain('~ memory_mib                  = 128 -> 160');
    ok(await ws.run(['apply', '-auto-approve']));
    await expectNoChanges();
    expect((await report(WEB.ip)).boot).toBe(boot);
  });

  test('a disk grows under the running guest', async () => {
    configure({ memoryMib: 160, diskMib: 24 });
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('~ size_mib = 16 -> 24');
    expect(plan.output).not.toContain('forces replacement');
    ok(await ws.run(['apply', '-auto-approve']));
    const info = await lab.ssh('site-a', `qemu-img info -U --output=json -f qcow2 /var/lib/orbit/${name}/disk0.qcow2`);
    expect(JSON.parse(info.stdout)['virtual-size']).toBe(24 * 2 ** 20);
    expect((await report(WEB.ip)).boot).toBe(boot);
    await expectNoChanges();
  });

  test('running = false powers the VM off and keeps it defined; changes made while off apply when running = true boots it on the same disks', async () => {
    const before = await report(WEB.ip);
    configure({ memoryMib: 160, diskMib: 24, running: false });
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toMatch(/~ running +?= true -> false/);
    expect(flat(plan)).toContain(`Warning: orbit_vm "${name}" will be powered off`);
    expect(plan.output).toContain('0 to add, 1 to change, 0 to destroy');
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    // No QEMU, no run directory: only the VM's disk and settings are left on the host.
    expect(await traces('site-a', name)).toEqual([`dir /var/lib/orbit/${name}`]);
    expect(attributes()).toMatchObject({ running: false, status: 'stopped', vcpus: 2 });
    await expectNoChanges();

    // While off: fewer vCPUs, less memory and a bigger disk. Nothing starts; the image grows as a file.
    machine = { vcpus: 1, maxMemoryMib: 320 };
    configure({ memoryMib: 144, diskMib: 32, running: false });
    const offPlan = ok(await ws.run(['plan']));
    expect(flat(offPlan)).not.toContain('will restart');
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    expect(await traces('site-a', name)).toEqual([`dir /var/lib/orbit/${name}`]);
    const info = await lab.ssh('site-a', `qemu-img info -U --output=json -f qcow2 /var/lib/orbit/${name}/disk0.qcow2`);
    expect(JSON.parse(info.stdout)['virtual-size']).toBe(32 * 2 ** 20);
    expect(attributes()).toMatchObject({ running: false, status: 'stopped', vcpus: 1, memory_mib: 144 });
    await expectNoChanges();
    // A move is a live migration: refused while off, at plan time.
    configure({ host: 'site-b', memoryMib: 144, diskMib: 32, running: false });
    const move = await ws.run(['plan']);
    expect(move.code).toBe(1);
    expect(flat(move)).toContain(`orbit_vm "${name}" can change host only while it runs`);

    configure({ memoryMib: 160, diskMib: 32 });
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    const after = await pollUntilNewBoot(WEB.ip, boot);
    // The guest read back, at boot, what it had written to its disk before the power-off.
    expect(after.prev!).toBeGreaterThanOrEqual(before.disk!);
    const cpus = await lab.ssh('site-a', `printf '%s\\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-cpus-fast"}' | socat -t 2 - UNIX-CONNECT:/run/orbit/${name}/qmp.sock`);
    expect((cpus.stdout.match(/"cpu-index"/g) ?? []).length).toBe(1);
    expect(attributes()).toMatchObject({ running: true, status: 'running', vcpus: 1, memory_mib: 160 });
    console.log(`power cycle: counter ${before.disk} on disk before the power-off, ${after.prev} read back at boot`);
    boot = after.boot;
    await expectNoChanges();
  });

  test("the console: orbit-ft console streams the guest's serial output over SSH, Ctrl-] detaches, the serial log keeps it all", async () => {
    const cli = spawn('npx', ['ts-node', '--transpile-only', 'provider/cli/orbit-ft.ts', '--lab', 'console', name, '--on', 'site-a', '--tail', '2'], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, ORBIT_LAB_DIR: lab.lab.stateDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    try {
      // Live output: counters the guest prints after the console attached (it prints one every tick).
      const live = await pollUntil(
        'two counters from the live console',
        () => {
          // --tail 2 prints at most two lines from the log first: four counters hold at least two live ones.
          const counters = [...stdout.matchAll(/ORBIT-COUNTER (\d+)/g)].map((m) => Number(m[1]));
          return stderr.includes('connected to the console') && counters.length >= 4 ? counters : undefined;
        },
        { timeoutMs: 60_000, everyMs: 100 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nstdout: ${stdout.slice(-500)}\nstderr: ${stderr}`);
      });
      expect(live[live.length - 1]).toBeGreaterThan(live[0]);
      cli.stdin.write(Buffer.from([0x1d]));
      expect(await Promise.race([exited, sleep(20_000).then(() => 'still running')])).toBe(0);
      expect(stderr).toContain('detached from the console');
      const log = (await lab.ssh('site-a', `grep -cw 'ORBIT-COUNTER ${live[live.length - 1]}' /var/lib/orbit/${name}/serial.log`)).stdout.trim();
      expect(Number(log)).toBeGreaterThanOrEqual(1);
    } finally {
      cli.kill('SIGKILL');
    }
  });

  test('changing host live-migrates the VM (post-copy): the counter carries on, TCP keeps answering, site-a is left empty', async () => {
    configure({ host: 'site-b', memoryMib: 160, diskMib: 32 });
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('~ host                        = "site-a" -> "site-b"');
    expect(plan.output).not.toContain('forces replacement');
    const before = await report(WEB.ip);
    const poller = pollGuest(WEB.ip);
    let apply: RunResult;
    let samples: Awaited<ReturnType<typeof poller.stop>>;
    try {
      apply = await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 });
    } finally {
      samples = await poller.stop();
    }
    ok(apply);
    const after = await report(WEB.ip);
    expect(after.boot).toBe(before.boot);
    expect(after.counter).toBeGreaterThan(before.counter);
    expect(after.disk).not.toBeNull();
    const reports = samples
      .filter((s) => s.report)
      .sort((a, b) => a.doneAt - b.doneAt)
      .map((s) => s.report!);
    expect(reports.length).toBeGreaterThan(10);
    // Every answer during the move came from the same boot, and the counter never went back.
    expect(new Set(reports.map((r) => r.boot))).toEqual(new Set([before.boot]));
    expect(counterWentBack(samples)).toEqual([]);
    console.log(
      `migration through terraform: longest silence ${longestSilenceMs(samples)} ms, QEMU downtime ${attributes().last_migration_downtime_ms} ms, total ${attributes().last_migration_total_ms} ms`,
    );
    expect(longestSilenceMs(samples)).toBeLessThan(10_000);
    expect(attributes()).toMatchObject({ host: 'site-b', memory_mib: 160 });
    expect(attributes().last_migration_downtime_ms).toEqual(expect.any(Number));
    expect(await traces('site-a', name)).toEqual([]);
    await expectNoChanges();
  });

  test('a migration that fails before the switch-over leaves the VM running on the source, and says so', async () => {
    // witness joins the provider with a QEMU that does not exist: its migration destination cannot start
    ws.write('main.tf', `${requiredProviders}\n${lab.providerBlock({ overrides: { witness: { qemu_binary: '/nonexistent/qemu-system-x86_64' } } })}`);
    const inUse = String(attributes().accelerator_in_use);
    configure({ host: 'witness', memoryMib: 160, diskMib: 32, accelerator: inUse });
    const before = await report(WEB.ip);
    const apply = await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 });
    expect(apply.code).not.toBe(0);
    expect(flat(apply)).toContain(`Live migration of VM ${name} from site-b`);
    expect(flat(apply)).toContain('the VM is still running on site-b, and the half-started destination on witness was removed');
    expect(flat(apply)).toContain('/nonexistent/qemu-system-x86_64 is not installed');
    expect(attributes()).toMatchObject({ host: 'site-b' });
    expect(await traces('witness', name)).toEqual([]);
    const after = await report(WEB.ip);
    expect(after.boot).toBe(before.boot);
    expect(after.counter).toBeGreaterThan(before.counter);
    configure({ host: 'site-b', memoryMib: 160, diskMib: 32 });
    await expectNoChanges();
  });

  test('import adopts the running VM; only settings the host cannot show are planned', async () => {
    ok(await ws.run(['state', 'rm', 'orbit_vm.web']));
    ok(await ws.run(['import', 'orbit_vm.web', `site-b/${name}`]));
    expect(attributes()).toMatchObject({ id: name, host: 'site-b', memory_mib: 160, max_memory_mib: 320, vcpus: 1, running: true });
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    // stop_timeout_ms and the migration tuning live in terraform only; import takes their defaults
    expect(plan.output).toContain('~ stop_timeout_ms             = 30000 -> 0');
    expect(plan.output).not.toMatch(/memory_mib|kernel|disk|network|forces replacement/);
    ok(await ws.run(['apply', '-auto-approve']));
    expect((await report(WEB.ip)).boot).toBe(boot);
    await expectNoChanges();
  });

  test('an SSH link cut mid-create fails the apply; the next apply converges on the one QEMU it started; with the link down, plans warn instead of failing', async () => {
    const siteA = lab.lab.hosts.find((h) => h.name === 'site-a')!;
    const link = await openCuttableLink({ address: siteA.address, port: siteA.sshPort });
    const cutWs = lab.workspace(vmResource('cut', { name: cutName, host: 'site-a', ip: CUT.ip, memoryMib: 192 }), {
      only: ['site-a'],
      overrides: { 'site-a': { address: link.address, port: link.port, known_hosts: null, host_key: siteA.hostKey, data_address: siteA.address } },
    });
    try {
      ok(await cutWs.run(['init']));
      const applying = cutWs.run(['apply', '-auto-approve'], { timeoutMs: 300_000 });
      // Cut once QEMU runs: the provider is then starting it or waiting for the balloon.
      let cutAt = 0;
      for (let i = 0; i < 600 && !cutAt; i++) {
        if ((await traces('site-a', cutName)).some((t) => t.startsWith('process'))) {
          await link.cut();
          cutAt = Date.now();
        } else {
          await sleep(100);
        }
      }
      expect(cutAt).toBeGreaterThan(0);
      const failed = await applying;
      expect(failed.code).not.toBe(0);
      expect(flat(failed)).toMatch(/site-a/);
      expect(cutWs.state().resources.filter((r) => r.type === 'orbit_vm')).toEqual([]);

      await link.restore();
      ok(await cutWs.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
      const processes = (await traces('site-a', cutName)).filter((t) => t.startsWith('process'));
      expect(processes).toHaveLength(1);
      expect(attributes(cutWs)).toMatchObject({ host: 'site-a', memory_mib: 192 });
      await waitForGuestReport(CUT.ip, 7000, 90_000);
      await expectNoChanges(cutWs);

      // The host down: plans go on, with a warning and the VM as last applied.
      await link.cut();
      const blind = await cutWs.run(['plan', '-detailed-exitcode']);
      expect(blind.code).toBe(0);
      expect(flat(blind)).toContain(`Warning: orbit_vm "${cutName}": host "site-a" cannot be reached; the VM is shown as last applied, status "unreachable"`);
      expect(blind.output).toContain('No changes.');
      await link.restore();
      await expectNoChanges(cutWs);
      ok(await cutWs.run(['destroy', '-auto-approve']));
      expect(await traces('site-a', cutName)).toEqual([]);
    } finally {
      await link.close();
    }
  });

  test('a create the host refuses names the problem and leaves nothing on the host', async () => {
    ws.write('bad.tf', vmResource('bad', { name: badName, host: 'site-a', ip: BAD.ip, memoryMib: 128, bridge: 'nobr0' }));
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.code).not.toBe(0);
    expect(flat(apply)).toContain('there is no bridge nobr0 on the host');
    expect(flat(apply)).toMatch(/nothing was started/);
    expect(await traces('site-a', badName)).toEqual([]);
    ws.write('bad.tf', '');
  });

  test('destroy with the default stop timeout: the guest ignores ACPI, so QEMU is stopped after the wait; nothing is left on any host', async () => {
    // The default wait (30 s of ACPI), then quit: every step within its remote call's deadline.
    configure({ host: 'site-b', memoryMib: 160, diskMib: 32, defaultStopTimeout: true });
    const update = ok(await ws.run(['apply', '-auto-approve']));
    expect(update.output).toContain('0 to add, 1 to change, 0 to destroy');
    const started = Date.now();
    ok(await ws.run(['destroy', '-auto-approve']));
    console.log(`destroy with the default stop timeout took ${Date.now() - started} ms`);
    expect(await traces('site-b', name)).toEqual([]);
    expect(await traces('site-a', name)).toEqual([]);
    await expect(readGuestReport(WEB.ip, 7000, 2000)).rejects.toThrow();
  });

  test('keep_disks_on_destroy: destroy leaves the disk image, and the VM created again boots with what it held', async () => {
    machine = {};
    configure({ keepDisksOnDestroy: true });
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    const first = await waitForGuestReport(WEB.ip, 7000, 90_000);
    const written = await pollUntil('the guest to write its counter to its disk', async () => (((await report(WEB.ip)).disk ?? 0) > 0 ? report(WEB.ip) : undefined), {
      timeoutMs: 60_000,
      everyMs: 250,
    });
    ok(await ws.run(['destroy', '-auto-approve']));
    expect(await traces('site-a', name)).toEqual([`dir /var/lib/orbit/${name}`]);
    expect((await lab.ssh('site-a', `ls /var/lib/orbit/${name}`)).stdout.trim()).toBe('disk0.qcow2');

    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    const again = await pollUntilNewBoot(WEB.ip, first.boot);
    expect(again.prev!).toBeGreaterThanOrEqual(written.disk!);

    configure({ keepDisksOnDestroy: false });
    ok(await ws.run(['apply', '-auto-approve']));
    ok(await ws.run(['destroy', '-auto-approve']));
    expect(await traces('site-a', name)).toEqual([]);
  });
});
