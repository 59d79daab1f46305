/**
 * The real OS in lab tests (TEST ONLY): the Debian 12 image scripts/real-os/build.sh makes, the
 * cloud-init documents that give it a hostname, a user with an SSH key, a pinned SSH host key and
 * a static address, and clients for it from this machine: SSH (the pinned key, never trust on
 * first use) and redis.
 *
 * Boot time under TCG is about a minute and differs by machine: waits end on progress, not on
 * time (the serial console must keep printing while SSH is not up yet), and print their figures.
 */
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { setTimeout as sleep } from 'timers/promises';
import { vmPaths } from '../../provider/qemu/qemu-command-line';
import { labGuestMac } from '../../scripts/lab/lab-guest';
import { LabTerraform } from './lab-terraform';

export const REAL_OS_IMAGE = process.env.ORBIT_REAL_OS_IMAGE ?? '/var/cache/orbit/real-os/debian-12-orbit.qcow2';
/** The guest must print something on its console at least this often until SSH answers (a boot that stops printing is stuck, not slow). */
const SILENT_CONSOLE_LIMIT_MS = 180_000;
const run = promisify(execFile);

export interface RealOsGuest {
  readonly ip: string;
  readonly hostname: string;
  /** SHA-256 of the image (orbit_image wants it). */
  readonly imageSha256: string;
  /** cloud-init documents for the VM's cloud_init block. */
  readonly userData: string;
  readonly networkConfig: string;
  /** Runs a command in the guest as user orbit over SSH. */
  ssh(command: string, timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  /** One redis command on a fresh connection; the reply without its final CRLF. */
  redis(command: string): Promise<string>;
  /**
   * Waits until SSH logs in and prints the hostname, while `host`'s serial log of VM `vm` keeps
   * growing (fails with its tail when it has been silent too long). Returns the ms it took.
   */
  waitForSsh(lab: LabTerraform, host: string, vm: string, label: string): Promise<number>;
  /** The disk, network and cloud_init blocks of an orbit_vm or orbit_ft_vm booting the image `imagePath` (an HCL expression) on a `diskMib` overlay. */
  vmBlocks(imagePath: string, diskMib: number): string;
  /** Removes the keys. */
  cleanup(): void;
}

/** Keys and cloud-init documents for a real-OS guest at `ip` named `hostname`. */
export async function realOsGuest(ip: string, hostname: string): Promise<RealOsGuest> {
  if (!fs.existsSync(REAL_OS_IMAGE)) throw new Error(`No real OS image at ${REAL_OS_IMAGE}: run bash scripts/real-os/build.sh (setup does), or set ORBIT_REAL_OS_IMAGE`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-real-os-'));
  const imageSha256 = createHash('sha256').update(fs.readFileSync(REAL_OS_IMAGE)).digest('hex');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'orbit-test', '-f', path.join(dir, 'id')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'guest-host-key', '-f', path.join(dir, 'host')]);
  const hostPublic = fs.readFileSync(path.join(dir, 'host.pub'), 'utf8').trim();
  fs.writeFileSync(path.join(dir, 'known_hosts'), `${ip} ${hostPublic.split(' ').slice(0, 2).join(' ')}\n`);
  const indent = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n');
  const userData = [
    '#cloud-config',
    `hostname: ${hostname}`,
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
  const networkConfig = ['version: 2', 'ethernets:', '  lab:', '    match:', `      macaddress: "${labGuestMac(ip)}"`, '    set-name: eth0', '    addresses:', `      - ${ip}/24`, ''].join('\n');

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
        `orbit@${ip}`,
        command,
      ],
      { timeout: timeoutMs },
    );
  const redis = (command: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: ip, port: 6379, timeout: 10_000 });
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
      socket.on('timeout', () => socket.destroy(new Error(`redis at ${ip} did not answer ${command} within 10 s`)));
      socket.on('error', reject);
    });
  const waitForSsh = async (lab: LabTerraform, host: string, vm: string, label: string): Promise<number> => {
    const started = Date.now();
    const serial = vmPaths(vm).serialLog;
    let lastSize = -1;
    let lastGrowth = Date.now();
    for (;;) {
      const answer = await ssh('hostname', 15_000).then(
        (r) => r.stdout.trim(),
        () => undefined,
      );
      if (answer === hostname) {
        const ms = Date.now() - started;
        console.log(`${label}: SSH answered ${ms} ms after the apply returned`);
        return ms;
      }
      const size = Number((await lab.ssh(host, `stat -c %s ${serial} 2>/dev/null || echo 0`)).stdout.trim());
      if (size !== lastSize) [lastSize, lastGrowth] = [size, Date.now()];
      if (Date.now() - lastGrowth > SILENT_CONSOLE_LIMIT_MS) {
        const tail = (await lab.ssh(host, `tail -c 3000 ${serial}`)).stdout;
        throw new Error(`${label}: no SSH after ${Date.now() - started} ms and the console printed nothing for ${SILENT_CONSOLE_LIMIT_MS} ms; it ends:\n${tail}`);
      }
      await sleep(2000);
    }
  };
  const vmBlocks = (imagePath: string, diskMib: number) => `  disk {
    image    = ${imagePath}
    size_mib = ${diskMib}
  }
  network {
    bridge = "vmbr0"
    mac    = "${labGuestMac(ip)}"
  }
  cloud_init {
    user_data      = ${JSON.stringify(userData)}
    network_config = ${JSON.stringify(networkConfig)}
  }
`;
  return { ip, hostname, imageSha256, userData, networkConfig, ssh, redis, waitForSsh, vmBlocks, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
