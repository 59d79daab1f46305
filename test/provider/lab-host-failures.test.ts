/**
 * Hosts that cannot be used, through the real terraform binary and the installed provider:
 * nothing listening, a host that is down (nobody at its address) and a host
 * presenting another key than the pinned one. Each fails the plan with a diagnostic that names
 * the host and the fix, and nothing is created on any host, also not on the good ones.
 */
import { LabTerraform, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { RunResult } from '../support/terraform';

jest.setTimeout(180_000);

describe('unusable hosts', () => {
  let lab: LabTerraform;
  const prefix = uniqueName('tf-fail');
  const flat = (result: RunResult) => result.output.replace(/\s+/g, ' ');
  const disks = (hosts: string[], tag: string) =>
    hosts.map((host, i) => `resource "orbit_disk" "${tag}${i}" {\n  host     = "${host}"\n  name     = "${prefix}-${tag}${i}"\n  size_mib = 8\n}\n`).join('\n');
  const nothingCreated = async () => {
    for (const host of lab.lab.hosts) {
      const listing = await lab.ssh(host.name, 'ls /var/lib/orbit/disks 2>/dev/null; true');
      expect(listing.stdout.split('\n').filter((f) => f.startsWith(prefix))).toEqual([]);
    }
  };

  beforeAll(async () => {
    lab = await setUpLabTerraform();
  });
  afterAll(async () => {
    for (const host of lab?.lab.hosts ?? []) await lab.ssh(host.name, `rm -f /var/lib/orbit/disks/${prefix}-*`);
    lab?.cleanup();
  });

  test('nothing listening on the SSH port', async () => {
    const siteA = lab.lab.hosts.find((h) => h.name === 'site-a')!;
    // pinned by key: the lab's known_hosts has no entry for port 2222
    const ws = lab.workspace(disks(['site-a', 'site-b'], 'refused'), { overrides: { 'site-a': { port: 2222, known_hosts: null, host_key: siteA.hostKey } } });
    expect((await ws.run(['init'])).code).toBe(0);
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(1);
    expect(flat(apply)).toContain('Error: Cannot reach host site-a (10.88.0.11:2222) over SSH: connection refused with orbit_disk.refused0');
    expect(flat(apply)).toContain('Attribute: host Value: "site-a"');
    expect(flat(apply)).toContain('Fix: nothing accepts connections on port 2222: check that sshd runs on the host');
    expect(apply.output).not.toContain('Creating...');
    await nothingCreated();
  });

  test('a host that is down: no one answers at its address', async () => {
    // An address on the lab network that no host has: connecting times out or finds no route.
    // (Cutting a real lab host off with `lab isolate` would do the same, but the lab is shared
    // with other tests that may heal it meanwhile.)
    const ws = lab.workspace(disks(['witness', 'site-b'], 'down'), { overrides: { witness: { address: '10.88.0.99', known_hosts: null, host_key: lab.lab.hosts[2].hostKey } } });
    expect((await ws.run(['init'])).code).toBe(0);
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(1);
    expect(flat(apply)).toMatch(/Error: Cannot reach host witness \(10\.88\.0\.99:22\) over SSH: (no route to host|connection timed out|no SSH handshake within 10000 ms) with orbit_disk\.down0/);
    expect(flat(apply)).toMatch(/Fix: (there is no route to 10\.88\.0\.99|check that the host is up)/);
    expect(apply.output).not.toContain('Creating...');
    await nothingCreated();
  });

  test('a host presenting another key than the pinned one', async () => {
    const siteB = lab.lab.hosts.find((h) => h.name === 'site-b')!;
    const ws = lab.workspace(`${disks(['site-a', 'site-b'], 'key')}\ndata "orbit_host" "a" {\n  name = "site-a"\n}\n`, {
      overrides: { 'site-a': { known_hosts: null, host_key: siteB.hostKey } },
    });
    expect((await ws.run(['init'])).code).toBe(0);
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(1);
    const text = flat(apply);
    expect(text).toMatch(
      /Error: Refusing to connect: the host key changed: host site-a \(10\.88\.0\.11:22\) presented ssh-ed25519 key SHA256:\S+, expected SHA256:\S+ \(from the pinned host key\)\. This can be a man-in-the-middle attack with orbit_disk\.key0/,
    );
    expect(text).toContain('with data.orbit_host.a');
    expect(text).toContain('Fix: if the host was reinstalled or its key rotated on purpose');
    expect(apply.output).not.toContain('Creating...');
    await nothingCreated();
  });
});
