/**
 * The real OS as a fault-tolerant pair through terraform: the Debian 12 image (lab-real-os.test.ts
 * boots it as a plain VM) placed on both hosts with orbit_image, an orbit_ft_vm booting it from an
 * overlay on each host with its cloud_init seed (hostname, user, pinned SSH host key, static
 * address), redis answering and a file written and synced. Then the primary's QEMU is killed and
 * the secondary fails over: the same boot carries on, with redis's data (memory only: never saved
 * since it was written) and the file, and SSH logs in with the same pinned key.
 *
 * The failover is by hand (orbit_ft_vm failover = "manual"), as an operator's `orbit-ft failover`
 * does: the agents' own are lab-ft-vm-monitor.test.ts and the chaos suite. Boot under COLO and TCG
 * takes minutes and differs by machine: waits end on progress, and the figures are printed.
 */
import { failover } from '../../provider/colo/colo-failover';
import { connectToLabHost } from '../../scripts/lab/lab-ssh';
import { crashQemu, labColoQemu } from '../support/colo-guest';
import { LabTerraform, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { RealOsGuest, realOsGuest, REAL_OS_IMAGE } from '../support/real-os-guest';
import { expectSeedOnBothSides } from '../support/seed-on-host';
import { requiredProviders, RunResult, Workspace } from '../support/terraform';
import { pollUntil } from '../../provider/ssh/poll';

jest.setTimeout(1_800_000);

const IP = '10.89.0.95';
const HOSTNAME = 'orbit-real-ft';
const HOSTS = ['site-a', 'site-b'];
/** The guest's redis key and value, written after boot and never saved to disk. */
const KEY = 'orbit-ft-key';
const VALUE = 'in-memory-only';

describe('a real OS as an orbit_ft_vm: a primary kill keeps the guest, its memory and its disk', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  let guest: RealOsGuest;
  const name = uniqueName('tf-realft');
  const imageName = `${name}-debian`;
  const ok = (result: RunResult) => {
    if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
    return result;
  };

  beforeAll(async () => {
    guest = await realOsGuest(IP, HOSTNAME);
    lab = await setUpLabTerraform();
    const qemu = labColoQemu(lab.lab);
    ws = lab.workspace('');
    ws.write('main.tf', `${requiredProviders}\n${lab.providerBlock({ only: HOSTS, overrides: Object.fromEntries(HOSTS.map((h) => [h, { qemu_binary: qemu }])) })}`);
    ws.write(
      'real.tf',
      `resource "orbit_image" "debian" {
  name   = "${imageName}"
  source = "${REAL_OS_IMAGE}"
  sha256 = "${guest.imageSha256}"
  hosts  = ${JSON.stringify(HOSTS)}
}

resource "orbit_ft_vm" "real" {
  name            = "${name}"
  primary_host    = "site-a"
  secondary_host  = "site-b"
  failover        = "manual"
  memory_mib      = 512
  stop_timeout_ms = 120000
${guest.vmBlocks('orbit_image.debian.path', 4096)}}
`,
    );
    ok(await ws.run(['init']));
  });

  afterAll(async () => {
    if (ws && lab) await ws.run(['destroy', '-auto-approve'], { timeoutMs: 600_000 }).catch(() => undefined);
    for (const host of HOSTS) {
      await lab?.ssh(host, `pkill -9 -f '^[^ ]+ -name guest=${name},'; sleep 0.3; rm -rf /run/orbit/${name} /var/lib/orbit/${name} /var/lib/orbit/images/by-name/${imageName}; true`);
    }
    lab?.cleanup();
    guest?.cleanup();
  });

  test('the pair boots the image from its own disk on both hosts; cloud-init configures it; SSH and redis answer through the primary', async () => {
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 900_000 }));
    await guest.waitForSsh(lab, 'site-a', name, 'first boot of the pair');
    const { stdout } = await guest.ssh("cloud-init status --wait >/dev/null; cloud-init status; hostname; ip -4 -o addr show dev eth0 | awk '{print $4}'", 600_000);
    expect(stdout.trim().split('\n')).toEqual(['status: done', HOSTNAME, `${IP}/24`]);
    // Read once the boot is over: during it, a checkpoint load can hold the secondary's QMP for
    // longer than Read waits, and Read then reports "failover-needed" for a healthy pair (seen
    // once in CI; README, issue 12's open items).
    ok(await ws.run(['apply', '-refresh-only', '-auto-approve']));
    const state = ws.state().resources.find((r) => r.type === 'orbit_ft_vm')!.instances[0].attributes;
    expect(state).toMatchObject({ active_host: 'site-a', standby_host: 'site-b', protection: 'protected' });
    await expectSeedOnBothSides(lab, ['site-a', 'site-b'], name);
  });

  test("the primary's QEMU is killed and the secondary fails over: same boot, redis's in-memory data and the synced file are there", async () => {
    expect(await guest.redis(`SET ${KEY} ${VALUE}`)).toBe('+OK');
    await guest.ssh('echo kept > /home/orbit/marker && sync');
    const bootBefore = (await guest.ssh('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    const siteA = await connectToLabHost(lab.lab, 'site-a');
    const siteB = await connectToLabHost(lab.lab, 'site-b');
    let killedAt: number;
    try {
      killedAt = await crashQemu(siteA, name);
      await failover(siteB, name, { peer: siteA });
    } finally {
      await Promise.all([siteA.close(), siteB.close()]);
    }
    const answer = await pollUntil('redis on the promoted secondary to answer', () => guest.redis(`GET ${KEY}`).catch(() => undefined), { timeoutMs: 120_000, everyMs: 200 });
    console.log(`real OS pair: kill of the primary to redis's first answer on the promoted secondary: ${Date.now() - killedAt} ms`);
    expect(answer).toBe(`$${VALUE.length}\r\n${VALUE}`);
    const { stdout } = await guest.ssh('cat /proc/sys/kernel/random/boot_id; cat /home/orbit/marker; hostname');
    expect(stdout.trim().split('\n')).toEqual([bootBefore, 'kept', HOSTNAME]);
    ok(await ws.run(['apply', '-refresh-only', '-auto-approve']));
    expect(ws.state().resources.find((r) => r.type === 'orbit_ft_vm')!.instances[0].attributes).toMatchObject({ active_host: 'site-b', protection: 'degraded' });
  });
});
