/**
 * A real OS through terraform: the Debian 12 image scripts/real-os/build.sh makes (a partition
 * table, GRUB for BIOS, the cloud kernel, systemd, cloud-init, openssh-server, redis-server),
 * placed with orbit_image and booted from its own disk by an orbit_vm whose cloud_init block sets
 * the hostname, a user with an SSH key, the guest's SSH host key (so the test pins it instead of
 * trusting it on first use) and a static address. Checked from outside: SSH logs in, cloud-init
 * finished, the address is the static one, redis answers; a vCPU change (a planned restart: the
 * guest powers off through ACPI) keeps what redis and the filesystem held. The same image as a
 * fault-tolerant pair: lab-real-os-ft.test.ts.
 */
import { LabTerraform, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { RealOsGuest, realOsGuest, REAL_OS_IMAGE } from '../support/real-os-guest';
import { RunResult, Workspace } from '../support/terraform';

jest.setTimeout(1_800_000);

const IP = '10.89.0.94';
const HOSTNAME = 'orbit-real-1';

describe('a real OS (Debian 12 cloud-style image) from orbit_image, configured by cloud_init', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  const name = uniqueName('tf-real');
  const imageName = `${name}-debian`;

  const ok = (result: RunResult) => {
    if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
    return result;
  };
  const configure = (vcpus: number) =>
    ws.write(
      'real.tf',
      `resource "orbit_image" "debian" {
  name   = "${imageName}"
  source = "${REAL_OS_IMAGE}"
  sha256 = "${guest.imageSha256}"
  hosts  = ["site-a"]
}

resource "orbit_vm" "real" {
  name            = "${name}"
  host            = "site-a"
  vcpus           = ${vcpus}
  memory_mib      = 1024
  stop_timeout_ms = 120000
${guest.vmBlocks('orbit_image.debian.path', 4096)}}
`,
    );
  let guest: RealOsGuest;
  const ssh = (command: string, timeoutMs?: number) => guest.ssh(command, timeoutMs);
  const redis = (command: string) => guest.redis(command);
  const waitForSsh = (label: string) => guest.waitForSsh(lab, 'site-a', name, label);

  beforeAll(async () => {
    guest = await realOsGuest(IP, HOSTNAME);
    lab = await setUpLabTerraform();
    ws = lab.workspace('', { only: ['site-a'] });
    ok(await ws.run(['init']));
  });

  afterAll(async () => {
    if (ws && lab) await ws.run(['destroy', '-auto-approve'], { timeoutMs: 600_000 }).catch(() => undefined);
    await lab?.ssh('site-a', `pkill -9 -f '^[^ ]+ -name guest=${name},'; sleep 0.3; rm -rf /run/orbit/${name} /var/lib/orbit/${name} /var/lib/orbit/images/by-name/${imageName}; true`);
    lab?.cleanup();
    guest?.cleanup();
  });

  test('it boots from its own disk; cloud-init sets hostname, user, key and static address; SSH (pinned host key) and redis answer', async () => {
    configure(1);
    const apply = ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 900_000 }));
    expect(apply.output).not.toContain('ed25519_private');
    await waitForSsh('first boot');
    const { stdout } = await ssh(
      "cloud-init status --wait >/dev/null; cloud-init status; hostname; ip -4 -o addr show dev eth0 | awk '{print $4}'; findmnt -n -o SOURCE /; lsblk -bno SIZE /dev/vda | head -n 1",
      600_000,
    );
    const [status, host, address, root, diskBytes] = stdout.trim().split('\n');
    expect({ status, host, address, root }).toEqual({ status: 'status: done', host: HOSTNAME, address: `${IP}/24`, root: '/dev/vda1' });
    // The 2 GiB image on a 4 GiB disk: the overlay has the disk's size, and the guest sees it.
    expect(Number(diskBytes)).toBe(4096 * 2 ** 20);
    expect(await redis('PING')).toBe('+PONG');
  });

  test('a vCPU change restarts the guest on its disk: what redis and the filesystem held is still there', async () => {
    expect(await redis('SET orbit-key kept-across-restart')).toBe('+OK');
    await ssh('echo kept > /home/orbit/marker && sync');
    const bootBefore = (await ssh('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    configure(2);
    const plan = ok(await ws.run(['plan']));
    expect(plan.output.replace(/\s+/g, ' ')).toContain(`orbit_vm "${name}" will restart (a planned restart on the same disks)`);
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 900_000 }));
    await waitForSsh('after the vCPU change');
    const { stdout } = await ssh('cat /proc/sys/kernel/random/boot_id; nproc; cat /home/orbit/marker');
    const [bootAfter, cpus, marker] = stdout.trim().split('\n');
    expect(bootAfter).not.toBe(bootBefore);
    expect({ cpus, marker }).toEqual({ cpus: '2', marker: 'kept' });
    // redis saved its data set when systemd stopped it during the guest's ACPI power-off.
    expect(await redis('GET orbit-key')).toBe('$19\r\nkept-across-restart');
  });
});
