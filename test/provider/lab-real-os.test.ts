/**
 * A real OS through terraform: the Debian 12 image scripts/real-os/build.sh makes (a partition
 * table, GRUB for BIOS, the cloud kernel, systemd, cloud-init, openssh-server, redis-server),
 * placed with orbit_image and booted from its own disk by an orbit_vm whose cloud_init block sets
 * the hostname, a user with an SSH key, the guest's SSH host key (so the test pins it instead of
 * trusting it on first use) and a static address. Checked from outside: SSH logs in, cloud-init
 * finished, the address is the static one, redis answers; a vCPU change (a planned restart: the
 * guest powers off through ACPI) keeps what redis and the filesystem held.
 *
 * Boot time under TCG is about a minute here and differs by machine: waits end on progress, not on
 * time (the serial console must keep printing while SSH is not up yet), and the figures are printed.
 */
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { labGuestMac } from '../../scripts/lab/lab-guest';
import { LabTerraform, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { RunResult, Workspace } from '../support/terraform';
import { setTimeout as sleep } from 'timers/promises';

jest.setTimeout(1_800_000);

const IMAGE = process.env.ORBIT_REAL_OS_IMAGE ?? '/var/cache/orbit/real-os/debian-12-orbit.qcow2';
const IP = '10.89.0.94';
const HOSTNAME = 'orbit-real-1';
/** The guest must print something on its console at least this often until SSH answers (a boot that stops printing is stuck, not slow). */
const SILENT_CONSOLE_LIMIT_MS = 180_000;
const run = promisify(execFile);

describe('a real OS (Debian 12 cloud-style image) from orbit_image, configured by cloud_init', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  let dir: string;
  const name = uniqueName('tf-real');
  const imageName = `${name}-debian`;

  const ok = (result: RunResult) => {
    if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
    return result;
  };
  const configure = (vcpus: number, sha256: string, userData: string, networkConfig: string) =>
    ws.write(
      'real.tf',
      `resource "orbit_image" "debian" {
  name   = "${imageName}"
  source = "${IMAGE}"
  sha256 = "${sha256}"
  hosts  = ["site-a"]
}

resource "orbit_vm" "real" {
  name            = "${name}"
  host            = "site-a"
  vcpus           = ${vcpus}
  memory_mib      = 1024
  stop_timeout_ms = 120000
  disk {
    image    = orbit_image.debian.path
    size_mib = 4096
  }
  network {
    bridge = "vmbr0"
    mac    = "${labGuestMac(IP)}"
  }
  cloud_init {
    user_data      = ${JSON.stringify(userData)}
    network_config = ${JSON.stringify(networkConfig)}
  }
}
`,
    );
  const ssh = (command: string, timeoutMs = 30_000) =>
    run(
      'ssh',
      [
        '-i',
        path.join(dir, 'id'),
        '-o',
        `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'ConnectTimeout=5',
        `orbit@${IP}`,
        command,
      ],
      { timeout: timeoutMs },
    );
  const redis = (command: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: IP, port: 6379, timeout: 10_000 });
      let reply = '';
      socket.on('connect', () => socket.write(`${command}\r\n`));
      socket.on('data', (chunk) => {
        reply += chunk.toString();
        // A reply is one line, or for a bulk string ("$<n>") that line and n bytes more.
        const header = /^([+\-:][^\r]*|\$(-?\d+))\r\n/.exec(reply);
        if (!header) return;
        const bulk = header[2] !== undefined ? Number(header[2]) : -1;
        if (bulk >= 0 && reply.length < header[0].length + bulk + 2) return;
        socket.end();
        resolve(reply.trim());
      });
      socket.on('timeout', () => socket.destroy(new Error(`redis at ${IP} did not answer ${command} within 10 s`)));
      socket.on('error', reject);
    });
  /** Waits until SSH logs in and prints the hostname; fails when the console has been silent too long (with its tail). */
  const waitForSsh = async (label: string): Promise<number> => {
    const started = Date.now();
    const serial = `/var/lib/orbit/${name}/serial.log`;
    let lastSize = -1;
    let lastGrowth = Date.now();
    for (;;) {
      const answer = await ssh('hostname', 15_000).then(
        (r) => r.stdout.trim(),
        () => undefined,
      );
      if (answer === HOSTNAME) {
        const ms = Date.now() - started;
        console.log(`${label}: SSH answered ${ms} ms after the apply returned`);
        return ms;
      }
      const size = Number((await lab.ssh('site-a', `stat -c %s ${serial} 2>/dev/null || echo 0`)).stdout.trim());
      if (size !== lastSize) [lastSize, lastGrowth] = [size, Date.now()];
      if (Date.now() - lastGrowth > SILENT_CONSOLE_LIMIT_MS) {
        const tail = (await lab.ssh('site-a', `tail -c 3000 ${serial}`)).stdout;
        throw new Error(`${label}: no SSH after ${Date.now() - started} ms and the console printed nothing for ${SILENT_CONSOLE_LIMIT_MS} ms; it ends:\n${tail}`);
      }
      await sleep(2000);
    }
  };

  let sha256: string;
  let userData: string;
  let networkConfig: string;

  beforeAll(async () => {
    if (!fs.existsSync(IMAGE)) throw new Error(`No real OS image at ${IMAGE}: run bash scripts/real-os/build.sh (setup does), or set ORBIT_REAL_OS_IMAGE`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-real-os-'));
    sha256 = createHash('sha256').update(fs.readFileSync(IMAGE)).digest('hex');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'orbit-test', '-f', path.join(dir, 'id')]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'guest-host-key', '-f', path.join(dir, 'host')]);
    const hostPublic = fs.readFileSync(path.join(dir, 'host.pub'), 'utf8').trim();
    fs.writeFileSync(path.join(dir, 'known_hosts'), `${IP} ${hostPublic.split(' ').slice(0, 2).join(' ')}\n`);
    const indent = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n');
    userData = [
      '#cloud-config',
      `hostname: ${HOSTNAME}`,
      'users:',
      '  - name: orbit',
      '    shell: /bin/bash',
      '    sudo: ALL=(ALL) NOPASSWD:ALL',
      '    ssh_authorized_keys:',
      `      - ${fs.readFileSync(path.join(dir, 'id.pub'), 'utf8').trim()}`,
      // The guest's host key comes from here, so the test pins it (no trust on first use).
      'ssh_deletekeys: true',
      'ssh_keys:',
      '  ed25519_private: |',
      indent(fs.readFileSync(path.join(dir, 'host'), 'utf8')),
      `  ed25519_public: ${hostPublic}`,
      '',
    ].join('\n');
    networkConfig = ['version: 2', 'ethernets:', '  lab:', '    match:', `      macaddress: "${labGuestMac(IP)}"`, '    set-name: eth0', '    addresses:', `      - ${IP}/24`, ''].join('\n');
    lab = await setUpLabTerraform();
    ws = lab.workspace('', { only: ['site-a'] });
    ok(await ws.run(['init']));
  });

  afterAll(async () => {
    if (ws && lab) await ws.run(['destroy', '-auto-approve'], { timeoutMs: 600_000 }).catch(() => undefined);
    await lab?.ssh('site-a', `pkill -9 -f '^[^ ]+ -name guest=${name},'; sleep 0.3; rm -rf /run/orbit/${name} /var/lib/orbit/${name} /var/lib/orbit/images/by-name/${imageName}; true`);
    lab?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('it boots from its own disk; cloud-init sets hostname, user, key and static address; SSH (pinned host key) and redis answer', async () => {
    configure(1, sha256, userData, networkConfig);
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
    configure(2, sha256, userData, networkConfig);
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
