/**
 * orbit_vm's cloud_init block through the real terraform binary, on a lab host, seen from the
 * host and from QEMU: the seed is a "cidata" ISO (mode 0600) with the documents and Orbit's
 * instance id, in the VM's CD-ROM drive; user_data never shows in plans or provider logs; an
 * edit rewrites the seed and swaps the media under the running guest (same boot, new instance
 * id); removing the block restarts the VM without the drive and deletes the seed; destroy leaves
 * nothing. (The test guest has no cloud-init: a guest applying the seed is the real OS image's
 * test.)
 */
import * as fs from 'fs';
import { guestArtifacts, guestKernelArgs, readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { labGuestMac } from '../../scripts/lab/lab-guest';
import { pollUntil } from '../../provider/ssh/poll';
import { LabTerraform, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { RunResult, Workspace } from '../support/terraform';

jest.setTimeout(600_000);

const IP = '10.89.0.93';
const SECRET = 'orbit-secret-3f1c9a';

describe('orbit_vm cloud_init on a lab host', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  const name = uniqueName('tf-ci');
  const seed = `/var/lib/orbit/${name}/cidata.iso`;

  /** `writeOnlyVersion`: the user-data goes in user_data_wo with that version. */
  const configure = (cloudInit?: { userData: string; networkConfig?: string; writeOnlyVersion?: number }) => {
    const { kernelPath, initrdPath } = guestArtifacts();
    const userDataLines = (c: { userData: string; writeOnlyVersion?: number }) =>
      c.writeOnlyVersion === undefined ? `    user_data = ${JSON.stringify(c.userData)}\n` : `    user_data_wo = ${JSON.stringify(c.userData)}\n    user_data_wo_version = ${c.writeOnlyVersion}\n`;
    const block = cloudInit ? `  cloud_init {\n${userDataLines(cloudInit)}${cloudInit.networkConfig ? `    network_config = ${JSON.stringify(cloudInit.networkConfig)}\n` : ''}  }\n` : '';
    ws.write(
      'vm.tf',
      `resource "orbit_vm" "web" {
  name            = "${name}"
  host            = "site-a"
  memory_mib      = 160
  kernel_path     = "${kernelPath}"
  initrd_path     = "${initrdPath}"
  kernel_cmdline  = "${guestKernelArgs({ ip: `${IP}/24` })}"
  stop_timeout_ms = 0
  disk {
    size_mib = 16
  }
  network {
    bridge = "vmbr0"
    mac    = "${labGuestMac(IP)}"
  }
${block}}
`,
    );
  };
  const userData = (hostname: string) => `#cloud-config\nhostname: ${hostname}\nchpasswd:\n  list: |\n    debian:${SECRET}\n`;
  const ok = (result: RunResult) => {
    if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
    return result;
  };
  const attributes = () => ws.state().resources.find((r) => r.type === 'orbit_vm')!.instances[0].attributes as { cloud_init: Array<{ instance_id: string }> };
  /** The seed on the host: mode, volume id, and the files in it (isoinfo reads Joliet names). */
  const seedOnHost = async () => {
    const result = await lab.ssh(
      'site-a',
      `[ -e ${seed} ] || exit 7; stat -c %a ${seed}; isoinfo -d -i ${seed} | sed -n 's/^Volume id: //p'; for f in meta-data user-data network-config; do echo "== $f"; isoinfo -J -i ${seed} -x /$f 2>/dev/null; done`,
    );
    if (result.code === 7) return null;
    const [mode, volume, ...rest] = result.stdout.split('\n');
    const files: Record<string, string> = {};
    let current = '';
    for (const line of rest) {
      if (line.startsWith('== ')) current = line.slice(3);
      else if (current) files[current] = `${files[current] ?? ''}${line}\n`;
    }
    return {
      mode,
      volume,
      files: Object.fromEntries(
        Object.entries(files)
          .map(([k, v]) => [k, v.replace(/\n+$/, '\n')])
          .filter(([, v]) => v.trim()),
      ),
    };
  };
  /** What QEMU has in the CD-ROM drive (null: no drive), by the image's inode on the host. */
  const inDrive = async () => {
    const result = await lab.ssh('site-a', `printf '%s\\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-block"}' | socat -t 2 - UNIX-CONNECT:/run/orbit/${name}/qmp.sock | tail -n 1`);
    const drive = (JSON.parse(result.stdout).return as Array<{ device: string; inserted?: { file: string; ro: boolean } }>).find((d) => d.device === 'cdrom0');
    return drive ? (drive.inserted ?? { file: 'empty', ro: true }) : null;
  };

  beforeAll(async () => {
    lab = await setUpLabTerraform();
    ws = lab.workspace('', { only: ['site-a'] });
    ok(await ws.run(['init']));
  });

  afterAll(async () => {
    if (ws && lab) await ws.run(['destroy', '-auto-approve']).catch(() => undefined);
    await lab?.ssh('site-a', `pkill -9 -f '^[^ ]+ -name guest=${name},'; sleep 0.3; rm -rf /run/orbit/${name} /var/lib/orbit/${name}; true`);
    lab?.cleanup();
  });

  let boot: string;
  let firstId: string;

  test('the seed is a cidata ISO with the documents and the instance id, mode 0600, in the CD-ROM; user_data shows nowhere', async () => {
    configure({ userData: userData('web-a'), networkConfig: 'version: 2\nethernets: {}\n' });
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toMatch(/user_data +?= \(sensitive value\)/);
    expect(plan.output).toMatch(new RegExp(`instance_id +?= "${name}-[0-9a-f]{12}"`));
    const apply = ok(await ws.run(['apply', '-auto-approve'], { env: { TF_LOG_PROVIDER: 'DEBUG' }, timeoutMs: 300_000 }));
    expect(`${plan.output}\n${apply.output}`).not.toContain(SECRET);
    boot = (await waitForGuestReport(IP, 7000, 90_000)).boot;
    firstId = attributes().cloud_init[0].instance_id;
    expect(firstId).toMatch(new RegExp(`^${name}-[0-9a-f]{12}$`));
    expect(await seedOnHost()).toEqual({
      mode: '600',
      volume: 'cidata',
      files: { 'meta-data': `instance-id: ${firstId}\nlocal-hostname: ${name}\n`, 'user-data': userData('web-a'), 'network-config': 'version: 2\nethernets: {}\n' },
    });
    expect(await inDrive()).toMatchObject({ file: seed, ro: true });
    expect((await ws.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  });

  test('an edit rewrites the seed with a new instance id and swaps the media under the running guest: no restart', async () => {
    const inodeBefore = (await lab.ssh('site-a', `stat -c %i ${seed}`)).stdout.trim();
    configure({ userData: userData('web-b'), networkConfig: 'version: 2\nethernets: {}\n' });
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('1 to change');
    expect(plan.output).not.toContain('will restart');
    ok(await ws.run(['apply', '-auto-approve']));
    const now = attributes().cloud_init[0].instance_id;
    expect(now).not.toBe(firstId);
    const onHost = await seedOnHost();
    expect(onHost?.files['user-data']).toBe(userData('web-b'));
    expect(onHost?.files['meta-data']).toBe(`instance-id: ${now}\nlocal-hostname: ${name}\n`);
    // A new file under the same path, and QEMU has that one open now (the old inode would still read the old seed).
    expect((await lab.ssh('site-a', `stat -c %i ${seed}`)).stdout.trim()).not.toBe(inodeBefore);
    const open = await lab.ssh(
      'site-a',
      `ls -l /proc/$(cat /run/orbit/${name}/qemu.pid)/fd | grep -c '${seed}$'; ls -l /proc/$(cat /run/orbit/${name}/qemu.pid)/fd | grep -c '${seed} (deleted)' || true`,
    );
    expect(open.stdout.trim().split('\n')).toEqual(['1', '0']);
    expect((await readGuestReport(IP, 7000, 5000)).boot).toBe(boot);
  });

  test('user_data_wo (write-only) reaches the seed but never the plan or the state; its version, not its content, makes an edit', async () => {
    const network = 'version: 2\nethernets: {}\n';
    configure({ userData: userData('web-wo'), networkConfig: network, writeOnlyVersion: 1 });
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('1 to change');
    expect(plan.output).not.toContain('will restart');
    ok(await ws.run(['apply', '-auto-approve']));
    const stateFile = fs.readFileSync(ws.statePath, 'utf8');
    expect(stateFile).not.toContain(SECRET);
    expect(stateFile).not.toContain('web-b'); // the former user_data left the state too
    const first = attributes().cloud_init[0] as { instance_id: string; user_data: string | null; user_data_wo: string | null; user_data_wo_version: number };
    expect(first).toMatchObject({ user_data: null, user_data_wo: null, user_data_wo_version: 1 });
    expect((await seedOnHost())?.files['user-data']).toBe(userData('web-wo'));
    // Terraform cannot see a new write-only value: without a new version nothing changes...
    configure({ userData: userData('web-wo2'), networkConfig: network, writeOnlyVersion: 1 });
    expect((await ws.run(['plan', '-detailed-exitcode'])).code).toBe(0);
    // ...with one, the seed is rebuilt with it under a new instance id.
    configure({ userData: userData('web-wo2'), networkConfig: network, writeOnlyVersion: 2 });
    ok(await ws.run(['apply', '-auto-approve']));
    const second = attributes().cloud_init[0].instance_id;
    expect(second).not.toBe(first.instance_id);
    const onHost = await seedOnHost();
    expect(onHost?.files['user-data']).toBe(userData('web-wo2'));
    expect(onHost?.files['meta-data']).toBe(`instance-id: ${second}\nlocal-hostname: ${name}\n`);
    expect(fs.readFileSync(ws.statePath, 'utf8')).not.toContain(SECRET);
    expect((await readGuestReport(IP, 7000, 5000)).boot).toBe(boot);
  });

  test('removing the block is a planned restart without the drive, and deletes the seed', async () => {
    configure();
    const plan = ok(await ws.run(['plan']));
    expect(plan.output.replace(/\s+/g, ' ')).toContain('cloud_init removed');
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    expect(await seedOnHost()).toBeNull();
    expect(await inDrive()).toBeNull();
    await pollUntil('the guest to answer from a new boot', async () => ((await readGuestReport(IP, 7000, 3000).catch(() => undefined))?.boot ?? boot) !== boot || undefined, {
      timeoutMs: 120_000,
      everyMs: 500,
    });
  });

  test('destroy leaves nothing of the VM or its seed', async () => {
    configure({ userData: userData('web-c') });
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    expect((await seedOnHost())?.volume).toBe('cidata');
    ok(await ws.run(['destroy', '-auto-approve']));
    expect((await lab.ssh('site-a', `ls -d /var/lib/orbit/${name} /run/orbit/${name} 2>&1 || true`)).stdout).not.toMatch(/^\/(var|run)/m);
  });
});
