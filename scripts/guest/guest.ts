/**
 * The Orbit test guest: a Debian cloud kernel + busybox initramfs built by scripts/guest/build.sh
 * (`npm run guest`). This module finds its files, builds QEMU command lines for it, and reads
 * what it reports: the TCP report line, the `ORBIT-GUEST-UP` serial marker and the counter it
 * keeps in sector 0 of its disk. The guest side lives in scripts/guest/rootfs/.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { guestCacheDir } from '../../provider/qemu/probe-guest';
import { pollUntil } from '../../provider/ssh/poll';

export const GUEST_REPORT_PORT = 7000;
/** Where the redis guest's redis-server listens (`orbit.redis=` on its command line). */
export const GUEST_REDIS_PORT = 6379;
/** First line the guest's init prints on ttyS0 once it is ready. */
export const GUEST_UP_MARKER = 'ORBIT-GUEST-UP';
/** Where user-mode networking (slirp) expects its one guest by default. */
export const USER_NET_GUEST_ADDRESS = '10.0.2.15/24';
/** Ids that guestQemuArgs gives its objects, for QMP commands that refer to them. */
export const GUEST_QEMU_IDS = { netdev: 'net0', nic: 'nic0', drive: 'disk0', disk: 'vblk0', serial: 'serial0', qmp: 'qmp0' } as const;

export interface GuestManifest {
  kernel: { package: string; version: string; release: string };
  busybox: { package: string; version: string };
  modules: string[];
  files: Record<string, { sha256: string; bytes: number }>;
  builtAt: string;
  inputs: string;
}

export interface GuestArtifacts {
  dir: string;
  kernelPath: string;
  initrdPath: string;
  /** The same guest with Debian's redis-server (kernel argument `orbit.redis=PORT` starts it). */
  redisInitrdPath: string;
  manifestPath: string;
  manifest: GuestManifest;
}

export function guestArtifacts(): GuestArtifacts {
  const dir = guestCacheDir();
  const kernelPath = path.join(dir, 'vmlinuz');
  const initrdPath = path.join(dir, 'initramfs.cpio.gz');
  const redisInitrdPath = path.join(dir, 'initramfs-redis.cpio.gz');
  const manifestPath = path.join(dir, 'manifest.json');
  for (const file of [kernelPath, initrdPath, redisInitrdPath, manifestPath]) {
    if (!fs.existsSync(file)) {
      throw new Error(`The test guest is not built: ${file} is missing. Run \`npm run guest\` (scripts/guest/build.sh) to build it into ${dir}.`);
    }
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as GuestManifest;
  return { dir, kernelPath, initrdPath, redisInitrdPath, manifestPath, manifest };
}

// ---------------------------------------------------------------------------------------------
// Command lines

export interface GuestKernelArgsOptions {
  /** eth0's address with prefix length, e.g. `10.89.0.50/24` (`/24` when omitted). */
  ip: string;
  gateway?: string;
  /** TCP report port, default 7000. */
  port?: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(text: string, what: string): number {
  const m = IPV4.exec(text);
  if (!m || m.slice(1).some((octet) => Number(octet) > 255)) {
    throw new Error(`Invalid ${what} "${text}": expected an IPv4 address like 10.89.0.50.`);
  }
  return m.slice(1).reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

const formatIpv4 = (value: number) => [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');

/** Splits `A.B.C.D/N` (N defaults to 24) and validates both parts. */
function parseCidr(text: string, what: string): { address: string; prefix: number } {
  const [address, prefixText = '24', extra] = text.split('/');
  const prefix = Number(prefixText);
  if (extra !== undefined || !/^\d{1,2}$/.test(prefixText) || prefix < 1 || prefix > 30) {
    throw new Error(`Invalid ${what} "${text}": expected address/prefix with a prefix of 1-30, like 10.89.0.50/24.`);
  }
  parseIpv4(address, what);
  return { address, prefix };
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Invalid ${what} ${port}: expected an integer from 1 to 65535.`);
}

/** The guest's kernel command line: quiet serial console, no reboot loop, and its network. */
export function guestKernelArgs(opts: GuestKernelArgsOptions): string {
  const { address, prefix } = parseCidr(opts.ip, 'guest ip');
  const args = ['console=ttyS0', 'quiet', 'panic=-1', `orbit.ip=${address}/${prefix}`];
  if (opts.gateway !== undefined) {
    parseIpv4(opts.gateway, 'guest gateway');
    args.push(`orbit.gw=${opts.gateway}`);
  }
  if (opts.port !== undefined) {
    checkPort(opts.port, 'guest report port');
    args.push(`orbit.port=${opts.port}`);
  }
  return args.join(' ');
}

export type GuestNetdev =
  /** A tap QEMU opens itself (no scripts, no vhost, no vnet_hdr: COLO's filters need that). */
  | { kind: 'tap'; ifname: string; mac: string }
  /** User-mode networking, isolated (`restrict=on`), with the report port forwarded to 127.0.0.1. */
  | { kind: 'user'; hostForwardPort: number; mac?: string };

export interface GuestQemuOptions {
  accel: 'kvm' | 'tcg';
  memoryMiB: number;
  vcpus: number;
  /** File that receives the serial console (truncated when QEMU starts). */
  serialPath: string;
  /** The guest's network settings; without them the guest has no address. */
  guest?: GuestKernelArgsOptions;
  qmpSocketPath?: string;
  netdev?: GuestNetdev;
  diskPath?: string;
  diskFormat?: 'raw' | 'qcow2';
  /** Default: this machine's built guest (guestArtifacts()). Give paths when QEMU runs elsewhere. */
  kernelPath?: string;
  initrdPath?: string;
  /** Default `qemu64`: boots under TCG and KVM alike, and is the same on every host of a COLO pair. */
  cpu?: string;
  name?: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** QEMU's default NIC address, used for user-mode networking when no MAC is given. */
const DEFAULT_USER_MAC = '52:54:00:12:34:56';

/** QEMU's option syntax doubles commas inside values. */
const qemuValue = (text: string) => text.replace(/,/g, ',,');

/** Arguments for `qemu-system-x86_64` (without the binary itself). */
export function guestQemuArgs(opts: GuestQemuOptions): string[] {
  if (opts.accel !== 'kvm' && opts.accel !== 'tcg') throw new Error(`Invalid accel "${String(opts.accel)}": expected "kvm" or "tcg".`);
  if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 64) {
    throw new Error(`Invalid memoryMiB ${opts.memoryMiB}: the guest needs an integer of at least 64 (128 or more recommended).`);
  }
  if (!Number.isInteger(opts.vcpus) || opts.vcpus < 1 || opts.vcpus > 64) throw new Error(`Invalid vcpus ${opts.vcpus}: expected an integer from 1 to 64.`);
  if (opts.netdev && !opts.guest) {
    throw new Error('guestQemuArgs: a netdev was given without `guest` settings (ip); the guest would have no address. Pass guest: { ip }.');
  }
  if (opts.diskFormat && !opts.diskPath) throw new Error('guestQemuArgs: diskFormat was given without diskPath.');

  let kernelPath = opts.kernelPath;
  let initrdPath = opts.initrdPath;
  if (!kernelPath || !initrdPath) {
    const built = guestArtifacts();
    kernelPath ??= built.kernelPath;
    initrdPath ??= built.initrdPath;
  }
  const kernelArgs = opts.guest ? guestKernelArgs(opts.guest) : 'console=ttyS0 quiet panic=-1';
  const ids = GUEST_QEMU_IDS;

  const args = [
    ...(opts.name ? ['-name', qemuValue(opts.name)] : []),
    '-accel',
    opts.accel,
    '-cpu',
    opts.cpu ?? 'qemu64',
    '-m',
    String(opts.memoryMiB),
    '-smp',
    String(opts.vcpus),
    '-nodefaults',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    kernelPath,
    '-initrd',
    initrdPath,
    '-append',
    kernelArgs,
    '-chardev',
    `file,id=${ids.serial},path=${qemuValue(opts.serialPath)}`,
    '-serial',
    `chardev:${ids.serial}`,
  ];
  if (opts.qmpSocketPath) {
    args.push('-chardev', `socket,id=${ids.qmp},path=${qemuValue(opts.qmpSocketPath)},server=on,wait=off`, '-mon', `chardev=${ids.qmp},mode=control`);
  }
  if (opts.netdev) args.push(...netdevArgs(opts.netdev, opts.guest!));
  if (opts.diskPath) {
    const format = opts.diskFormat ?? 'raw';
    if (format !== 'raw' && format !== 'qcow2') throw new Error(`Invalid diskFormat "${String(format)}": expected "raw" or "qcow2".`);
    args.push('-drive', `if=none,id=${ids.drive},file=${qemuValue(opts.diskPath)},format=${format}`, '-device', `virtio-blk-pci,id=${ids.disk},drive=${ids.drive}`);
  }
  return args;
}

function netdevArgs(netdev: GuestNetdev, guest: GuestKernelArgsOptions): string[] {
  const ids = GUEST_QEMU_IDS;
  const mac = netdev.mac ?? DEFAULT_USER_MAC;
  if (!MAC.test(mac)) throw new Error(`Invalid MAC address "${mac}": expected six hex pairs like 52:54:00:c0:10:01.`);
  const nic = ['-device', `virtio-net-pci,id=${ids.nic},netdev=${ids.netdev},mac=${mac}`];
  if (netdev.kind === 'tap') {
    if (!IFNAME.test(netdev.ifname)) throw new Error(`Invalid tap ifname "${netdev.ifname}": expected 1-15 letters, digits, "_", "." or "-".`);
    return ['-netdev', `tap,id=${ids.netdev},ifname=${netdev.ifname},script=no,downscript=no,vhost=off,vnet_hdr=off`, ...nic];
  }
  if (netdev.kind === 'user') {
    checkPort(netdev.hostForwardPort, 'hostForwardPort');
    const { address, prefix } = parseCidr(guest.ip, 'guest ip');
    // slirp's network must contain the guest's static address; slirp itself takes .2 and .3.
    const mask = (0xffffffff << (32 - prefix)) >>> 0;
    const network = formatIpv4((parseIpv4(address, 'guest ip') & mask) >>> 0);
    const guestPort = guest.port ?? GUEST_REPORT_PORT;
    return ['-netdev', `user,id=${ids.netdev},restrict=on,net=${network}/${prefix},hostfwd=tcp:127.0.0.1:${netdev.hostForwardPort}-${address}:${guestPort}`, ...nic];
  }
  throw new Error(`Invalid netdev kind "${(netdev as { kind: string }).kind}": expected "tap" or "user".`);
}

// ---------------------------------------------------------------------------------------------
// What the guest reports

export interface GuestReport {
  counter: number;
  /** Guest uptime in seconds (centisecond resolution). */
  uptimeS: number;
  /** The kernel's random boot id: changes on every boot, survives COLO failover. */
  boot: string;
  /** Last counter value written to the disk; null without a disk. */
  disk: number | null;
  /** Counter found on the disk at boot; null without a disk or when the disk held none. */
  prev: number | null;
  /** MiB of memory the guest has now (MemTotal, which follows the balloon); null from guests built before it was reported. */
  memMiB: number | null;
  /** Iterations of the CPU-bound workload (`orbit.cpu=1`) so far; 0 without it, null from guests built before it existed. */
  cpu: number | null;
}

function keyValues(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const word of line.trim().split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq > 0) fields.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return fields;
}

const COUNT = /^\d+$/;

/** Parses `counter=<n> uptime=<s.cc> boot=<id> disk=<n|none> prev=<n|none> mem=<MiB>`. */
export function parseGuestReport(line: string): GuestReport {
  const fields = keyValues(line);
  const bad = (what: string) => new Error(`Malformed guest report ${JSON.stringify(line)}: ${what}. Expected "counter=<n> uptime=<seconds> boot=<id> disk=<n|none> prev=<n|none>".`);
  const count = (key: string, noneAllowed: boolean): number | null => {
    const value = fields.get(key);
    if (value === undefined) throw bad(`no ${key}=`);
    if (noneAllowed && value === 'none') return null;
    if (!COUNT.test(value)) throw bad(`${key}=${value} is not a whole number`);
    return Number(value);
  };
  const counter = count('counter', false)!;
  const uptime = fields.get('uptime');
  if (uptime === undefined) throw bad('no uptime=');
  if (!/^\d+(\.\d+)?$/.test(uptime)) throw bad(`uptime=${uptime} is not a number of seconds`);
  const boot = fields.get('boot');
  if (!boot) throw bad('no boot=');
  const mem = fields.has('mem') ? count('mem', false) : null;
  const cpu = fields.has('cpu') ? count('cpu', false) : null;
  return { counter, uptimeS: Number(uptime), boot, disk: count('disk', true), prev: count('prev', true), memMiB: mem, cpu };
}

/** Connects, reads the one line the guest sends, and parses it. An abort closes the connection and rejects. */
export function readGuestReport(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<GuestReport> {
  const where = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    let data = '';
    let done = false;
    const socket = net.createConnection({ host, port });
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`The guest report at ${where} did not arrive within ${timeoutMs} ms (received ${JSON.stringify(data)}).`))), timeoutMs);
    signal?.addEventListener('abort', () => finish(() => reject(new Error(`Stopped waiting for the guest report at ${where} (received ${JSON.stringify(data)}).`))), { once: true });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (e) => finish(() => reject(new Error(`Cannot read the guest report at ${where}: ${e.message}. Is the guest up, and its port ${port} reachable?`))));
    socket.on('end', () =>
      finish(() => {
        const line = data.split('\n')[0].trim();
        if (!line) {
          reject(new Error(`The guest report at ${where} closed without a line (the guest may still be booting).`));
          return;
        }
        try {
          resolve(parseGuestReport(line));
        } catch (e) {
          reject(e);
        }
      }),
    );
  });
}

/** Retries readGuestReport until the guest answers or `timeoutMs` (a duration) has passed. */
export async function waitForGuestReport(host: string, port: number, timeoutMs: number): Promise<GuestReport> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  return pollUntil(
    `the guest at ${host}:${port} to answer`,
    () =>
      readGuestReport(host, port, Math.max(1, Math.min(deadline - Date.now(), 3000))).catch((error: unknown) => {
        lastError = error;
        return undefined;
      }),
    {
      deadline,
      everyMs: 200,
      timeoutError: () => new Error(`The guest at ${host}:${port} did not answer within ${timeoutMs} ms.${lastError instanceof Error ? ` Last error: ${lastError.message}` : ''}`),
    },
  );
}

export interface GuestUp {
  boot: string;
  /** eth0's address, or null when the guest was started without one. */
  ip: string | null;
  port: number;
  prev: number | null;
}

/** Finds the `ORBIT-GUEST-UP ...` line in serial console output; undefined if it is not there (yet). */
export function parseGuestUp(serialText: string): GuestUp | undefined {
  const line = serialText.split('\n').find((l) => l.startsWith(`${GUEST_UP_MARKER} `));
  if (!line) return undefined;
  const fields = keyValues(line);
  const ip = fields.get('ip');
  const prev = fields.get('prev');
  return {
    boot: fields.get('boot') ?? '',
    ip: !ip || ip === 'none' ? null : ip,
    port: Number(fields.get('port') ?? GUEST_REPORT_PORT),
    prev: prev && COUNT.test(prev) ? Number(prev) : null,
  };
}

/** Polls a serial log file (QEMU's `-chardev file`) until the guest's up marker appears. */
export async function waitForGuestUp(serialPath: string, timeoutMs: number): Promise<GuestUp> {
  let text = '';
  return pollUntil(
    `${GUEST_UP_MARKER} in ${serialPath}`,
    () => {
      try {
        text = fs.readFileSync(serialPath, 'utf8');
      } catch {
        // QEMU has not created it yet.
      }
      return parseGuestUp(text);
    },
    {
      timeoutMs,
      everyMs: 50,
      timeoutError: () => new Error(`No ${GUEST_UP_MARKER} line in ${serialPath} within ${timeoutMs} ms. Last serial output:\n${text.split('\n').slice(-5).join('\n') || '(empty)'}`),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// The counter on the guest's disk

export interface DiskCounter {
  counter: number;
  boot: string;
}

const SECTOR = 512;
const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/** Parses sector 0 as written by the guest (`orbit-counter <n> boot=<id>`, space-padded). */
export function parseDiskSector(sector: Buffer): DiskCounter | null {
  const m = /^orbit-counter (\d+) boot=(\S+)/.exec(sector.subarray(0, SECTOR).toString('latin1'));
  return m ? { counter: Number(m[1]), boot: m[2] } : null;
}

/**
 * The counter the guest last wrote to sector 0 of its disk image, or null if there is none.
 * Raw images are read directly; qcow2 (detected by its magic, or `format`) through `qemu-img dd -U`,
 * which also works while QEMU has the image open.
 */
export async function readDiskCounter(imagePath: string, format?: 'raw' | 'qcow2'): Promise<DiskCounter | null> {
  const head = Buffer.alloc(SECTOR);
  const fd = fs.openSync(imagePath, 'r');
  let bytes: number;
  try {
    bytes = fs.readSync(fd, head, 0, SECTOR, 0);
  } finally {
    fs.closeSync(fd);
  }
  const isQcow2 = format ? format === 'qcow2' : bytes >= 4 && head.subarray(0, 4).equals(QCOW2_MAGIC);
  if (!isQcow2) return parseDiskSector(head.subarray(0, bytes));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-sector-'));
  try {
    const out = path.join(dir, 'sector0.raw');
    await new Promise<void>((resolve, reject) => {
      execFile('qemu-img', ['dd', '-U', '-f', 'qcow2', '-O', 'raw', `bs=${SECTOR}`, 'count=1', `if=${imagePath}`, `of=${out}`], { timeout: 15_000 }, (err, _stdout, stderr) =>
        err ? reject(new Error(`Cannot read sector 0 of ${imagePath} with qemu-img dd: ${stderr.trim() || err.message}. Is qemu-utils installed?`)) : resolve(),
      );
    });
    return parseDiskSector(fs.readFileSync(out));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
