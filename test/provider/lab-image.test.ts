/**
 * orbit_image through the real terraform binary and the installed provider, on two lab hosts:
 * placed once per host, content-addressed and verified; a quiet re-plan; a wrong sum refused
 * with both sums and nothing left behind; an interrupted transfer resumed; a URL source (a
 * real HTTP server here) sharing the same file; a qcow2 with a backing file of its own refused;
 * then an orbit_vm whose disk starts from the image (the guest finds the image's counter on its
 * disk), the image's removal refused while the VM uses it (naming the VM), a host change onto a
 * host without the image refused at plan time, the VM moved to the other host by live migration
 * (only the overlay is copied; the data carries on), an orbit_ft_vm whose disk starts from the
 * image on both hosts, and destroy.
 * What the hosts really hold is checked over separate SSH connections.
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { guestArtifacts, guestKernelArgs, waitForGuestReport } from '../../scripts/guest/guest';
import { labGuestMac } from '../../scripts/lab/lab-guest';
import { labColoQemu } from '../support/colo-guest';
import { makeCounterImage } from '../support/counter-image';
import { LabTerraform, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { RunResult, Workspace } from '../support/terraform';

jest.setTimeout(300_000);

const HOSTS = ['site-a', 'site-b'];
const DIR = '/var/lib/orbit/images';
const VM_IP = '10.89.0.90';
const PAIR_IP = '10.89.0.92';
/** What the image's sector 0 holds: the test guest reads it at boot and reports it as `prev`. */
const IMAGE_COUNTER = 4242;

describe('orbit_image on two lab hosts', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  let local: string;
  let server: http.Server;
  let url: string;
  const name = uniqueName('tf-image');
  const vmName = uniqueName('tf-image-vm');
  const pairName = uniqueName('tf-image-ft');
  let image: string;
  let sha: string;

  /** Terraform wraps diagnostics at 80 columns: compare with whitespace runs made single spaces. */
  const flat = (result: RunResult) => result.output.replace(/\s+/g, ' ');
  const ok = (result: RunResult) => {
    if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
    return result;
  };
  const configure = (resources: Array<{ id: string; name: string; source: string; sha256: string; hosts: string[] }>) =>
    ws.write(
      'image.tf',
      resources.map((r) => `resource "orbit_image" "${r.id}" {\n  name   = "${r.name}"\n  source = "${r.source}"\n  sha256 = "${r.sha256}"\n  hosts  = ${JSON.stringify(r.hosts)}\n}\n`).join('\n'),
    );
  /** The image file on a host: its sha256, mode and the name link, or null. */
  const onHost = async (host: string, sum = sha) => {
    const result = await lab.ssh(host, `cd ${DIR} 2>/dev/null && [ -f ${sum} ] || exit 7; sha256sum ${sum} | cut -d' ' -f1; stat -c %a ${sum}; ls by-name; ls -a | grep -c partial || true`);
    if (result.code === 7) return null;
    const [content, mode, ...rest] = result.stdout.trim().split('\n');
    return { content, mode, names: rest.slice(0, -1), partials: Number(rest[rest.length - 1]) };
  };

  beforeAll(async () => {
    local = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-lab-image-'));
    // A real qcow2 with data in it: 24 MiB of a pattern, converted.
    ({ file: image, sha256: sha } = await makeCounterImage(local, { counter: IMAGE_COUNTER, sizeMiB: 24 }));
    server = http.createServer((req, res) => {
      const data = fs.readFileSync(image);
      res.writeHead(200, { 'content-length': data.length }).end(data);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base.qcow2`;

    lab = await setUpLabTerraform();
    // The lab's COLO build on both hosts: the orbit_ft_vm below needs it (orbit_vm runs with it as with any QEMU 7.2).
    const qemu = labColoQemu(lab.lab);
    ws = lab.workspace('', { only: HOSTS, overrides: Object.fromEntries(HOSTS.map((h) => [h, { qemu_binary: qemu }])) });
    ok(await ws.run(['init']));
  });

  afterAll(async () => {
    if (ws && lab) await ws.run(['destroy', '-auto-approve']).catch(() => undefined);
    for (const host of HOSTS) await lab?.ssh(host, `rm -f ${DIR}/by-name/${name} ${DIR}/by-name/${name}-again ${DIR}/by-name/${name}-renamed; rm -f ${DIR}/${sha} ${DIR}/.${sha}.*`);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    fs.rmSync(local, { recursive: true, force: true });
    lab?.cleanup();
  });

  test('apply places the verified image on both hosts, read-only, named; a second plan is quiet', async () => {
    configure([{ id: 'base', name, source: image, sha256: sha, hosts: HOSTS }]);
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('+ path             = (known after apply)');
    const apply = ok(await ws.run(['apply', '-auto-approve'], { env: { TF_LOG_PROVIDER: 'INFO' } }));
    expect(apply.output).toContain('image transfer done');
    for (const host of HOSTS) expect(await onHost(host)).toEqual({ content: sha, mode: '444', names: [name], partials: 0 });
    expect(ws.state().resources[0].instances[0].attributes).toMatchObject({ id: name, format: 'qcow2', virtual_size_mib: 24, hosts: HOSTS, path: `${DIR}/${sha}` });
    const again = await ws.run(['plan', '-detailed-exitcode']);
    expect(again.output).toContain('No changes.');
    expect(again.code).toBe(0);
  });

  test('a transfer cut off halfway resumes where it stopped', async () => {
    const half = Math.floor(fs.statSync(image).size / 2);
    // As an interrupted apply leaves it: the first half as the partial file, no image yet.
    await lab.ssh('site-b', `rm -f ${DIR}/${sha} ${DIR}/by-name/${name}; head -c ${half} > ${DIR}/.${sha}.partial`, { stdin: fs.readFileSync(image).subarray(0, half) });
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('~ update in-place');
    const apply = ok(await ws.run(['apply', '-auto-approve'], { env: { TF_LOG_PROVIDER: 'INFO' } }));
    // hclog prints fields in any order and numbers as quoted floats: offsetBytes="1.2746752e+07".
    const field = (message: string, name: string) => {
      const line = apply.output.split('\n').find((l) => l.includes(`${message}:`) && l.includes('host=site-b'));
      return Number(new RegExp(` ${name}=\\\\?"?([0-9.e+]+)`).exec(line ?? '')?.[1]);
    };
    expect(field('image transfer resumes', 'offsetBytes')).toBe(half);
    expect(field('image transfer done', 'bytes')).toBe(fs.statSync(image).size - half);
    expect(await onHost('site-b')).toEqual({ content: sha, mode: '444', names: [name], partials: 0 });
  });

  test('a URL source with the same sum shares the file; no second copy', async () => {
    configure([
      { id: 'base', name, source: image, sha256: sha, hosts: HOSTS },
      { id: 'again', name: `${name}-again`, source: url, sha256: sha, hosts: ['site-a'] },
    ]);
    ok(await ws.run(['apply', '-auto-approve']));
    expect(await onHost('site-a')).toEqual({ content: sha, mode: '444', names: [name, `${name}-again`].sort(), partials: 0 });
    // Destroying one name keeps the file for the other.
    configure([{ id: 'base', name, source: image, sha256: sha, hosts: HOSTS }]);
    ok(await ws.run(['apply', '-auto-approve']));
    expect(await onHost('site-a')).toEqual({ content: sha, mode: '444', names: [name], partials: 0 });
  });

  test('a rename only moves the name link: the source is not read again (it may be gone), nothing is sent', async () => {
    const gone = path.join(local, 'moved-away.qcow2');
    configure([{ id: 'base', name: `${name}-renamed`, source: gone, sha256: sha, hosts: HOSTS }]);
    const apply = ok(await ws.run(['apply', '-auto-approve'], { env: { TF_LOG_PROVIDER: 'INFO' } }));
    expect(apply.output).toContain('1 changed, 0 destroyed');
    expect(apply.output).not.toContain('image transfer');
    for (const host of HOSTS) expect(await onHost(host)).toEqual({ content: sha, mode: '444', names: [`${name}-renamed`], partials: 0 });
    configure([{ id: 'base', name, source: image, sha256: sha, hosts: HOSTS }]);
    ok(await ws.run(['apply', '-auto-approve']));
    for (const host of HOSTS) expect(await onHost(host)).toEqual({ content: sha, mode: '444', names: [name], partials: 0 });
  });

  test('a wrong sha256 fails with both sums; no host gets anything', async () => {
    const wrong = createHash('sha256').update('not the image').digest('hex');
    configure([
      { id: 'base', name, source: image, sha256: sha, hosts: HOSTS },
      { id: 'wrong', name: `${name}-wrong`, source: image, sha256: wrong, hosts: HOSTS },
    ]);
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(1);
    expect(flat(apply)).toContain(`Declared sha256 ${wrong}, the bytes have sha256 ${sha}`);
    for (const host of HOSTS) expect(await onHost(host, wrong)).toBeNull();
    configure([{ id: 'base', name, source: image, sha256: sha, hosts: HOSTS }]);
  });

  test('an image with a backing file of its own is refused and deleted from the host', async () => {
    const sneaky = path.join(local, 'sneaky.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', '/etc/shadow', '-F', 'raw', sneaky, '1M']);
    const sneakySha = createHash('sha256').update(fs.readFileSync(sneaky)).digest('hex');
    configure([
      { id: 'base', name, source: image, sha256: sha, hosts: HOSTS },
      { id: 'sneaky', name: `${name}-sneaky`, source: sneaky, sha256: sneakySha, hosts: ['site-a'] },
    ]);
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(1);
    expect(flat(apply)).toContain('it has a backing file of its own (/etc/shadow)');
    expect(await onHost('site-a', sneakySha)).toBeNull();
    configure([{ id: 'base', name, source: image, sha256: sha, hosts: HOSTS }]);
  });

  const vmBlock = (host: string, image: string) => {
    const { kernelPath, initrdPath } = guestArtifacts();
    return `resource "orbit_vm" "web" {
  name                        = "${vmName}"
  host                        = "${host}"
  memory_mib                  = 128
  kernel_path                 = "${kernelPath}"
  initrd_path                 = "${initrdPath}"
  kernel_cmdline              = "${guestKernelArgs({ ip: `${VM_IP}/24` })}"
  stop_timeout_ms             = 0
  migration_postcopy_after_ms = 1000
  disk {
    image    = ${image}
    size_mib = 32
  }
  network {
    bridge = "vmbr0"
    mac    = "${labGuestMac(VM_IP)}"
  }
}
`;
  };
  /** The backing file of the VM's disk on a host, or null when there is no disk. */
  const backingOf = async (host: string) => {
    const result = await lab.ssh(host, `qemu-img info -U --output=json /var/lib/orbit/${vmName}/disk0.qcow2`);
    return result.code === 0 ? ((JSON.parse(result.stdout) as { 'backing-filename'?: string })['backing-filename'] ?? 'none') : null;
  };

  test("a VM's disk starts from the image: the guest finds the image's content, the image stays unchanged", async () => {
    ws.write('vm.tf', vmBlock('site-a', 'orbit_image.base.path'));
    ok(await ws.run(['apply', '-auto-approve']));
    const report = await waitForGuestReport(VM_IP, 7000, 120_000);
    expect(report.prev).toBe(IMAGE_COUNTER);
    expect(await backingOf('site-a')).toBe(`${DIR}/${sha}`);
    const vm = ws.state().resources.find((r) => r.type === 'orbit_vm')!.instances[0].attributes as { disk: Array<{ image: string; size_mib: number }> };
    expect(vm.disk[0]).toMatchObject({ image: `${DIR}/${sha}`, size_mib: 32 });
    // The guest writes its counter into sector 0: the overlay takes it, the image keeps its bytes.
    await waitForGuestReport(VM_IP, 7000, 30_000);
    for (const host of HOSTS) expect(await onHost(host)).toEqual({ content: sha, mode: '444', names: [name], partials: 0 });
    const again = await ws.run(['plan', '-detailed-exitcode']);
    expect(again.code).toBe(0);
  });

  test('removing the image is refused while the VM uses it, naming the VM; nothing is removed', async () => {
    // The VM names the image by path (as a VM in another configuration would), so the image alone can go.
    ws.write('vm.tf', vmBlock('site-a', `"${DIR}/${sha}"`));
    ws.write('image.tf', '');
    const refused = await ws.run(['apply', '-auto-approve']);
    expect(refused.code).toBe(1);
    expect(flat(refused)).toContain(`orbit_image "${name}" is still used: on host "site-a" by VM ${vmName} (/var/lib/orbit/${vmName}/disk0.qcow2)`);
    for (const host of HOSTS) expect(await onHost(host)).toEqual({ content: sha, mode: '444', names: [name], partials: 0 });
    configure([{ id: 'base', name, source: image, sha256: sha, hosts: HOSTS }]);
    ws.write('vm.tf', vmBlock('site-a', 'orbit_image.base.path'));
    const quiet = await ws.run(['plan', '-detailed-exitcode']);
    expect(quiet.output).toContain('No changes.');
  });

  test('a host change onto a host without the image fails the plan, naming the disk, the image and the host', async () => {
    configure([{ id: 'base', name, source: image, sha256: sha, hosts: ['site-a'] }]);
    ok(await ws.run(['apply', '-auto-approve']));
    expect(await onHost('site-b')).toBeNull();
    ws.write('vm.tf', vmBlock('site-b', 'orbit_image.base.path'));
    const plan = await ws.run(['plan']);
    expect(plan.code).toBe(1);
    expect(flat(plan)).toContain(`disk[0].image ${DIR}/${sha} is not placed on "site-b"`);
    expect(flat(plan)).toContain(`Fix: add "site-b" to the hosts of the orbit_image whose path this is`);
    configure([{ id: 'base', name, source: image, sha256: sha, hosts: HOSTS }]);
    ws.write('vm.tf', vmBlock('site-a', 'orbit_image.base.path'));
    ok(await ws.run(['apply', '-auto-approve']));
  });

  test('a host change live-migrates the VM onto the image on the other host; the data carries on', async () => {
    const before = await waitForGuestReport(VM_IP, 7000, 30_000);
    ws.write('vm.tf', vmBlock('site-b', 'orbit_image.base.path'));
    ok(await ws.run(['apply', '-auto-approve']));
    const after = await waitForGuestReport(VM_IP, 7000, 30_000);
    expect(after.boot).toBe(before.boot);
    expect(after.counter).toBeGreaterThan(before.counter);
    expect(await backingOf('site-b')).toBe(`${DIR}/${sha}`);
    expect(await backingOf('site-a')).toBeNull();
    // Only the overlay moved (sync "top"): a full copy would have written the image's 24 MiB of data into it.
    const { stdout } = await lab.ssh('site-b', `du -k /var/lib/orbit/${vmName}/disk0.qcow2 | cut -f1`);
    console.log(`overlay on site-b after the migration: ${stdout.trim()} KiB on disk`);
    expect(Number(stdout.trim())).toBeLessThan(8 * 1024);
  });

  test('an orbit_ft_vm disk starts from the image on both hosts of the pair', async () => {
    const { kernelPath, initrdPath } = guestArtifacts();
    ws.write(
      'ft.tf',
      `resource "orbit_ft_vm" "db" {
  name            = "${pairName}"
  primary_host    = "site-a"
  secondary_host  = "site-b"
  memory_mib      = 128
  stop_timeout_ms = 0
  failover        = "manual"
  kernel_path     = "${kernelPath}"
  initrd_path     = "${initrdPath}"
  kernel_cmdline  = "${guestKernelArgs({ ip: `${PAIR_IP}/24` })}"
  disk {
    image    = orbit_image.base.path
    size_mib = 32
  }
  network {
    bridge = "vmbr0"
    mac    = "${labGuestMac(PAIR_IP)}"
  }
}
`,
    );
    ok(await ws.run(['apply', '-auto-approve']));
    const report = await waitForGuestReport(PAIR_IP, 7000, 120_000);
    expect(report.prev).toBe(IMAGE_COUNTER);
    for (const host of HOSTS) {
      const result = await lab.ssh(host, `qemu-img info -U --output=json /var/lib/orbit/${pairName}/disk0.qcow2`);
      expect((JSON.parse(result.stdout) as { 'backing-filename'?: string })['backing-filename']).toBe(`${DIR}/${sha}`);
    }
    const ft = ws.state().resources.find((r) => r.type === 'orbit_ft_vm')!.instances[0].attributes as { disk: Array<{ image: string }>; protection: string };
    expect(ft.disk[0].image).toBe(`${DIR}/${sha}`);
    expect(ft.protection).toBe('protected');
  });

  test('destroy removes the VMs, then the image from both hosts', async () => {
    ok(await ws.run(['destroy', '-auto-approve']));
    for (const host of HOSTS) expect(await onHost(host)).toBeNull();
    expect(await backingOf('site-b')).toBeNull();
    for (const host of HOSTS) expect((await lab.ssh(host, `ls /var/lib/orbit/${pairName} 2>&1`)).code).not.toBe(0);
  });
});
