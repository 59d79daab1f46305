/**
 * data "orbit_host" through the real terraform binary and the installed provider: the facts of
 * a real lab host, its QEMU, and the accelerator decided by really booting the test guest
 * there (TCG on our machines, where /dev/kvm is kvm_pvm), cached on the host.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { guestArtifacts } from '../../scripts/guest/guest';
import { LabTerraform, setUpLabTerraform } from '../support/lab-terraform';
import { RunResult, Workspace } from '../support/terraform';

jest.setTimeout(180_000);

const HOST = 'site-b';
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('data orbit_host on a lab host', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  const ok = (result: RunResult) => {
    if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
    return result;
  };

  beforeAll(async () => {
    lab = await setUpLabTerraform();
    ws = lab.workspace(`data "orbit_host" "b" {\n  name = "${HOST}"\n}\n\noutput "host" {\n  value = data.orbit_host.b\n}\n`);
    ok(await ws.run(['init']));
  });
  afterAll(() => lab?.cleanup());

  test('reads the host, its QEMU and the accelerator it really boots guests with', async () => {
    ok(await ws.run(['apply', '-auto-approve']));
    const output = JSON.parse(ok(await ws.run(['output', '-json', 'host'])).stdout) as Record<string, unknown>;
    const facts = (await lab.ssh(HOST, "hostname; nproc; uname -r; awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo")).stdout.trim().split('\n');
    expect(output).toMatchObject({
      name: HOST,
      qemu_binary: 'qemu-system-x86_64',
      hostname: facts[0],
      cpus: Number(facts[1]),
      kernel: facts[2],
      memory_mib: Number(facts[3]),
      colo_capable: true,
      accelerator: 'tcg',
    });
    expect(output.qemu_version).toMatch(/^7\.2\.\d+$/);
    expect(output.accelerator_reason).toMatch(/^KVM cannot run guests here: .+\. TCG boots the test guest in \d+ ms\.$/);

    // the guest went up once, by content, and the answer is cached for the next reads
    const probeDir = (await lab.ssh(HOST, 'ls /var/lib/orbit/probe')).stdout.split('\n');
    const guest = guestArtifacts();
    expect(probeDir).toContain(`vmlinuz-${sha256(guest.kernelPath)}`);
    expect(probeDir).toContain(`initramfs-${sha256(guest.initrdPath)}.cpio.gz`);
    expect(probeDir.some((f) => /^accelerator-[0-9a-f]{32}\.json$/.test(f))).toBe(true);

    const started = Date.now();
    const again = ok(await ws.run(['plan', '-detailed-exitcode']));
    expect(again.output).toContain('No changes.');
    expect(Date.now() - started).toBeLessThan(9_500); // no second boot: the KVM attempt alone waits 10 s here
  });

  test('a host that is not configured is named, with the hosts there are', async () => {
    ws.write('other.tf', 'data "orbit_host" "x" {\n  name = "site-z"\n}\n');
    try {
      const plan = await ws.run(['plan']);
      expect(plan.code).toBe(1);
      const text = plan.output.replace(/\s+/g, ' ');
      expect(text).toContain('Error: Unknown host "site-z" with data.orbit_host.x');
      expect(text).toContain('Attribute: name Value: "site-z" Allowed: "site-a", "site-b", "witness"');
    } finally {
      ws.write('other.tf', '');
    }
  });
});
