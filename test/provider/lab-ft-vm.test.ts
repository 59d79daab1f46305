/**
 * orbit_ft_vm through the real terraform binary and the installed provider, with the test guest
 * as a real COLO pair on lab hosts (the lab's COLO QEMU build): apply builds the protected pair
 * and the guest answers through the primary; the checkpoint delay changes on the running pair;
 * after the primary's QEMU is killed and the secondary fails over, the guest carries on and the
 * next plan is empty while a refresh reports where it runs; a new primary_host, then a new
 * secondary_host where the guest runs, move that side by re-protection (the second after a
 * planned switch-over) with the guest running on; vCPUs and memory restart the pair on the disk
 * of its active side (the counter on the disk carries over); destroy leaves nothing on any host.
 * Bad input (one host twice, a QEMU without COLO fixes, an unreachable secondary) fails with a
 * clear error and leaves nothing half-built.
 */
import { failover } from '../../provider/colo/colo-failover';
import { guestArtifacts, guestKernelArgs, readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { labGuestMac } from '../../scripts/lab/lab-guest';
import { connectToLabHost } from '../../scripts/lab/lab-ssh';
import { crashQemu, labColoQemu, readGuestReportThroughCheckpoints } from '../support/colo-guest';
import { LabTerraform, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { requiredProviders, RunResult, Workspace } from '../support/terraform';
import { pollUntil } from '../../provider/ssh/poll';
import { expectSeedOnBothSides } from '../support/seed-on-host';

jest.setTimeout(600_000);

const PAIR = { ip: '10.89.0.78' };
const HOSTS = ['site-a', 'site-b', 'witness'];

interface PairOptions {
  name: string;
  primary: string;
  secondary: string;
  ip: string;
  checkpointDelayMs?: number;
  memoryMib?: number;
  vcpus?: number;
  /** cloud_init's user_data (the test guest does not read it: what is tested is where the seed is). */
  userData?: string;
}

/** The pair's cloud-init seed, as each test builds it. */
const USER_DATA = '#cloud-config\nhostname: ft-seeded\n';

function ftVm(address: string, o: PairOptions): string {
  const { kernelPath, initrdPath } = guestArtifacts();
  return `resource "orbit_ft_vm" "${address}" {
  name                = "${o.name}"
  primary_host        = "${o.primary}"
  secondary_host      = "${o.secondary}"
  memory_mib          = ${o.memoryMib ?? 128}
  vcpus               = ${o.vcpus ?? 1}
  stop_timeout_ms     = 0          # the test guest ignores ACPI; the default wait: lab-vm.test.ts
  checkpoint_delay_ms = ${o.checkpointDelayMs ?? 2000}
  failover            = "manual"   # failovers by hand here; the monitor's: lab-ft-vm-monitor.test.ts
  kernel_path         = "${kernelPath}"
  initrd_path         = "${initrdPath}"
  kernel_cmdline      = "${guestKernelArgs({ ip: `${o.ip}/24` })}"
  disk {
    size_mib = 16
  }
  network {
    bridge = "vmbr0"
    mac    = "${labGuestMac(o.ip)}"
  }
  cloud_init {
    user_data = ${JSON.stringify(o.userData ?? USER_DATA)}
  }
}
`;
}

const flat = (result: RunResult) => result.output.replace(/\s+/g, ' ');
const ok = (result: RunResult) => {
  if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
  return result;
};

describe('orbit_ft_vm on lab hosts', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  const name = uniqueName('tf-ft');
  const badName = uniqueName('tf-ftbad');

  const providerBlock = (extra: Record<string, Record<string, string | number | null>> = {}) => {
    const qemu = labColoQemu(lab.lab);
    return `${requiredProviders}\n${lab.providerBlock({ overrides: Object.fromEntries(HOSTS.map((h) => [h, { qemu_binary: qemu, ...extra[h] }])) })}`;
  };
  const attributes = () => ws.state().resources.find((r) => r.type === 'orbit_ft_vm')!.instances[0].attributes;
  const traces = async (host: string, vm: string) => {
    const result = await lab.ssh(
      host,
      `pgrep --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${vm},' | sed 's/^/process /'; for d in /run/orbit/${vm} /var/lib/orbit/${vm}; do [ -e $d ] && echo "dir $d"; done; true`,
    );
    return result.stdout.split('\n').filter(Boolean);
  };
  const nothingAnywhere = async (vm: string) => {
    for (const host of HOSTS) expect(await traces(host, vm)).toEqual([]);
  };

  const seedOnBothSides = (hosts: [string, string]) => expectSeedOnBothSides(lab, hosts, name);

  beforeAll(async () => {
    lab = await setUpLabTerraform();
    ws = lab.workspace('');
    ws.write('main.tf', providerBlock());
    ok(await ws.run(['init']));
  });

  afterAll(async () => {
    for (const host of HOSTS) {
      for (const vm of [name, badName]) await lab?.ssh(host, `pkill -9 -f '^[^ ]+ -name guest=${vm},'; sleep 0.3; rm -rf /run/orbit/${vm} /var/lib/orbit/${vm}; true`);
    }
    lab?.cleanup();
  });

  test('apply builds a protected pair; the guest answers through the primary; a second plan is quiet', async () => {
    ws.write('ft.tf', ftVm('db', { name, primary: 'site-a', secondary: 'site-b', ip: PAIR.ip }));
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('+ active_host              = (known after apply)');
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    await waitForGuestReport(PAIR.ip, 7000, 120_000);
    expect(attributes()).toMatchObject({ id: name, active_host: 'site-a', standby_host: 'site-b', protection: 'protected', status: 'running' });
    expect((await traces('site-a', name)).filter((t) => t.startsWith('process'))).toHaveLength(1);
    expect((await traces('site-b', name)).filter((t) => t.startsWith('process'))).toHaveLength(1);
    // Built on the primary, carried to the secondary by the pair start.
    await seedOnBothSides(['site-a', 'site-b']);
    expect(attributes().cloud_init).toEqual([expect.objectContaining({ instance_id: expect.stringMatching(new RegExp(`^${name}-[0-9a-f]{12}$`)) })]);
    const quiet = await ws.run(['plan', '-detailed-exitcode']);
    expect(quiet.output).toContain('No changes.');
    expect(quiet.code).toBe(0);
  });

  test('the checkpoint delay changes on the running pair, in place', async () => {
    const before = await readGuestReport(PAIR.ip, 7000, 10_000);
    ws.write('ft.tf', ftVm('db', { name, primary: 'site-a', secondary: 'site-b', ip: PAIR.ip, checkpointDelayMs: 1000 }));
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('~ checkpoint_delay_ms      = 2000 -> 1000');
    expect(plan.output).not.toContain('forces replacement');
    ok(await ws.run(['apply', '-auto-approve']));
    expect(attributes()).toMatchObject({ checkpoint_delay_ms: 1000, protection: 'protected' });
    const after = await readGuestReport(PAIR.ip, 7000, 10_000);
    expect(after.boot).toBe(before.boot);
    expect(Number(attributes().checkpoint_count)).toBeGreaterThan(0);
  });

  test('after the primary dies and the secondary fails over, the guest carries on and the next plan is empty', async () => {
    const before = await readGuestReport(PAIR.ip, 7000, 10_000);
    const siteA = await connectToLabHost(lab.lab, 'site-a');
    const siteB = await connectToLabHost(lab.lab, 'site-b');
    try {
      await crashQemu(siteA, name);
      await failover(siteB, name, { peer: siteA });
    } finally {
      await Promise.all([siteA.close(), siteB.close()]);
    }
    // Fresh connections until one is answered (a single one may meet the switch-over and wait
    // for TCP's SYN retransmission); the time it took is printed, the limit only ends the test.
    const failedOverAt = Date.now();
    const after = await waitForGuestReport(PAIR.ip, 7000, 30_000);
    console.log(`failover to first answer: ${Date.now() - failedOverAt} ms`);
    expect(after.boot).toBe(before.boot);
    expect(after.counter).toBeGreaterThanOrEqual(before.counter);

    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.output).toContain('No changes.');
    expect(plan.code).toBe(0);
    ok(await ws.run(['apply', '-refresh-only', '-auto-approve']));
    expect(attributes()).toMatchObject({ active_host: 'site-b', standby_host: null, protection: 'degraded', primary_host: 'site-a', secondary_host: 'site-b' });
  });

  /** The guest's report through the pair whose active side is on `active`, and that it is the same boot. */
  const sameGuest = async (active: string, before: { boot: string; counter: number }) => {
    const session = await connectToLabHost(lab.lab, active);
    try {
      const { report } = await readGuestReportThroughCheckpoints(session, name, PAIR.ip, 7000);
      expect(report.boot).toBe(before.boot);
      expect(report.counter).toBeGreaterThanOrEqual(before.counter);
    } finally {
      await session.close();
    }
  };

  test('a new primary_host moves that side: re-protection onto the new host, the guest runs on, the old host is left empty', async () => {
    const before = await readGuestReport(PAIR.ip, 7000, 10_000);
    ws.write('ft.tf', ftVm('db', { name, primary: 'witness', secondary: 'site-b', ip: PAIR.ip, checkpointDelayMs: 1000 }));
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toMatch(/~ primary_host\s+= "site-a" -> "witness"/);
    expect(plan.output).toContain('0 to add, 1 to change, 0 to destroy');
    expect(flat(plan)).toContain(`Warning: orbit_ft_vm "${name}": its side on "site-a" moves to "witness", the guest running on`);
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    expect(attributes()).toMatchObject({ primary_host: 'witness', active_host: 'site-b', standby_host: 'witness', protection: 'protected' });
    await sameGuest('site-b', before);
    await seedOnBothSides(['site-b', 'witness']);
    expect(await traces('site-a', name)).toEqual([]);
    const quiet = await ws.run(['plan', '-detailed-exitcode']);
    expect(quiet.code).toBe(0);
  });

  test('a new secondary_host where the guest runs: a planned switch-over, then re-protection onto the new host; the guest runs on', async () => {
    const session = await connectToLabHost(lab.lab, 'site-b');
    const before = await readGuestReportThroughCheckpoints(session, name, PAIR.ip, 7000).finally(() => session.close());
    ws.write('ft.tf', ftVm('db', { name, primary: 'witness', secondary: 'site-a', ip: PAIR.ip, checkpointDelayMs: 1000 }));
    const plan = ok(await ws.run(['plan']));
    expect(flat(plan)).toContain(`its side on "site-b" moves to "site-a", the guest running on`);
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    expect(attributes()).toMatchObject({ secondary_host: 'site-a', active_host: 'witness', standby_host: 'site-a', protection: 'protected' });
    await sameGuest('witness', before.report);
    expect(await traces('site-b', name)).toEqual([]);
    await seedOnBothSides(['witness', 'site-a']);
  });

  test('an edit of cloud_init rewrites the seed on both hosts and swaps the media live, with a new instance id; the guest runs on', async () => {
    const session = await connectToLabHost(lab.lab, 'witness');
    const before = await readGuestReportThroughCheckpoints(session, name, PAIR.ip, 7000).finally(() => session.close());
    const seedBefore = await seedOnBothSides(['witness', 'site-a']);
    const idBefore = (attributes().cloud_init as Array<{ instance_id: string }>)[0].instance_id;
    ws.write('ft.tf', ftVm('db', { name, primary: 'witness', secondary: 'site-a', ip: PAIR.ip, checkpointDelayMs: 1000, userData: '#cloud-config\nhostname: ft-edited\n' }));
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('0 to add, 1 to change, 0 to destroy');
    expect(flat(plan)).not.toContain('will restart');
    expect(flat(plan)).toMatch(new RegExp(`~ instance_id\\s+= "${idBefore}" -> "${name}-[0-9a-f]{12}"`));
    expect(plan.output).not.toContain('ft-edited'); // user_data is sensitive
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    expect(await seedOnBothSides(['witness', 'site-a'])).not.toBe(seedBefore);
    expect(attributes()).toMatchObject({ active_host: 'witness', standby_host: 'site-a', protection: 'protected' });
    await sameGuest('witness', before.report);
    expect((await ws.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  });

  test("vCPUs and memory restart the pair on its active side's disk: the plan says so, the counter on the disk carries over", async () => {
    const session = await connectToLabHost(lab.lab, 'witness');
    const before = await readGuestReportThroughCheckpoints(session, name, PAIR.ip, 7000).finally(() => session.close());
    ws.write('ft.tf', ftVm('db', { name, primary: 'witness', secondary: 'site-a', ip: PAIR.ip, checkpointDelayMs: 1000, memoryMib: 160, vcpus: 2, userData: '#cloud-config\nhostname: ft-edited\n' }));
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('0 to add, 1 to change, 0 to destroy');
    expect(flat(plan)).toContain(`Warning: orbit_ft_vm "${name}" will restart (a planned restart of the pair on the same disks)`);
    expect(flat(plan)).toContain('vcpus 1 -> 2, memory_mib 128 -> 160');
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    expect(attributes()).toMatchObject({ vcpus: 2, memory_mib: 160, active_host: 'witness', standby_host: 'site-a', protection: 'protected' });
    const again = await connectToLabHost(lab.lab, 'witness');
    try {
      const { report } = await pollUntil(
        'the guest to answer from a new boot',
        async () => {
          const read = await readGuestReportThroughCheckpoints(again, name, PAIR.ip, 7000);
          return read.report.boot !== before.report.boot ? read : undefined;
        },
        { timeoutMs: 120_000, everyMs: 500 },
      );
      expect(report.prev!).toBeGreaterThanOrEqual(before.report.disk!);
      console.log(`pair restart: counter ${before.report.disk} on disk before, ${report.prev} read back at boot`);
    } finally {
      await again.close();
    }
    await seedOnBothSides(['witness', 'site-a']);
    expect((await ws.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  });

  test('destroy removes the pair from every host', async () => {
    ok(await ws.run(['destroy', '-auto-approve']));
    await nothingAnywhere(name);
    await expect(readGuestReport(PAIR.ip, 7000, 2000)).rejects.toThrow();
  });

  test('one host twice fails the plan, naming the attribute and the fix', async () => {
    ws.write('ft.tf', ftVm('bad', { name: badName, primary: 'site-a', secondary: 'site-a', ip: '10.89.0.79' }));
    const plan = await ws.run(['plan']);
    expect(plan.code).not.toBe(0);
    expect(flat(plan)).toContain('Error: primary_host and secondary_host are the same host, "site-a"');
    expect(flat(plan)).toContain('Fix: put the secondary on another host');
  });

  test('a QEMU without the COLO fixes is refused before anything starts', async () => {
    ws.write('main.tf', `${requiredProviders}\n${lab.providerBlock()}`); // the hosts' stock qemu-system-x86_64
    ws.write('ft.tf', ftVm('bad', { name: badName, primary: 'site-a', secondary: 'site-b', ip: '10.89.0.79' }));
    const apply = await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 });
    expect(apply.code).not.toBe(0);
    expect(flat(apply)).toMatch(/Starting the COLO pair of VM tf-ftbad-\w+ .*failed/);
    expect(flat(apply)).toContain('Orbit COLO');
    await nothingAnywhere(badName);
    expect(ws.state().resources.filter((r) => r.type === 'orbit_ft_vm')).toEqual([]);
  });

  test('an unreachable secondary fails the apply naming that host; nothing is left on the primary', async () => {
    // site-b's SSH port points at a closed port on site-b's address (its key pinned directly: known_hosts is per port)
    const siteB = lab.lab.hosts.find((h) => h.name === 'site-b')!;
    ws.write('main.tf', providerBlock({ 'site-b': { port: 2, known_hosts: null, host_key: siteB.hostKey } }));
    ws.write(
      'ft.tf',
      ftVm('bad', { name: badName, primary: 'site-a', secondary: 'site-b', ip: '10.89.0.79' }).replace('checkpoint_delay_ms = 2000', 'checkpoint_delay_ms = 2000\n  accelerator         = "tcg"'),
    );
    const apply = await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 });
    expect(apply.code).not.toBe(0);
    expect(flat(apply)).toMatch(/site-b/);
    expect(flat(apply)).toMatch(/secondary_host/);
    await nothingAnywhere(badName);
    ws.write('ft.tf', '');
    ws.write('main.tf', providerBlock());
  });
});
