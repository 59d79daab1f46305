import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { GUEST_UP_MARKER as PROBE_MARKER } from '../../provider/qemu/accelerator';
import {
  GUEST_UP_MARKER,
  USER_NET_GUEST_ADDRESS,
  guestArtifacts,
  guestKernelArgs,
  guestQemuArgs,
  parseDiskSector,
  parseGuestReport,
  parseGuestUp,
  readDiskCounter,
  readGuestReport,
  waitForGuestReport,
  waitForGuestUp,
} from './guest';
import { setTimeout as sleep } from 'timers/promises';

const paths = { kernelPath: '/g/vmlinuz', initrdPath: '/g/initramfs.cpio.gz' };

describe('guestKernelArgs', () => {
  it('puts the network on the kernel command line', () => {
    expect(guestKernelArgs({ ip: '10.89.0.50/24', gateway: '10.89.0.1', port: 7001 })).toBe('console=ttyS0 quiet panic=-1 orbit.ip=10.89.0.50/24 orbit.gw=10.89.0.1 orbit.port=7001');
    expect(guestKernelArgs({ ip: '10.89.0.50' })).toBe('console=ttyS0 quiet panic=-1 orbit.ip=10.89.0.50/24');
  });

  it('rejects bad values with the expected form', () => {
    expect(() => guestKernelArgs({ ip: '10.89.0.300/24' })).toThrow(/Invalid guest ip "10.89.0.300": expected an IPv4 address like 10.89.0.50/);
    expect(() => guestKernelArgs({ ip: '10.89.0.5/33' })).toThrow(/prefix of 1-30/);
    expect(() => guestKernelArgs({ ip: '10.89.0.5', gateway: 'router' })).toThrow(/Invalid guest gateway "router"/);
    expect(() => guestKernelArgs({ ip: '10.89.0.5', port: 70000 })).toThrow(/Invalid guest report port 70000: expected an integer from 1 to 65535/);
  });
});

describe('guestQemuArgs', () => {
  it('builds a TCG command line with user networking and a raw disk', () => {
    const args = guestQemuArgs({
      ...paths,
      accel: 'tcg',
      memoryMiB: 256,
      vcpus: 1,
      serialPath: '/run/a,b/serial.log',
      qmpSocketPath: '/run/x/qmp.sock',
      guest: { ip: '10.0.2.15/24' },
      netdev: { kind: 'user', hostForwardPort: 17000 },
      diskPath: '/var/lib/orbit/vm/disk.raw',
    });
    expect(args.join(' ')).toBe(
      [
        '-accel tcg -cpu qemu64 -m 256 -smp 1 -nodefaults -display none -no-reboot',
        '-kernel /g/vmlinuz -initrd /g/initramfs.cpio.gz -append console=ttyS0 quiet panic=-1 orbit.ip=10.0.2.15/24',
        '-chardev file,id=serial0,path=/run/a,,b/serial.log -serial chardev:serial0',
        '-chardev socket,id=qmp0,path=/run/x/qmp.sock,server=on,wait=off -mon chardev=qmp0,mode=control',
        '-netdev user,id=net0,restrict=on,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:17000-10.0.2.15:7000',
        '-device virtio-net-pci,id=nic0,netdev=net0,mac=52:54:00:12:34:56',
        '-drive if=none,id=disk0,file=/var/lib/orbit/vm/disk.raw,format=raw -device virtio-blk-pci,id=vblk0,drive=disk0',
      ].join(' '),
    );
    expect(args).toContain('console=ttyS0 quiet panic=-1 orbit.ip=10.0.2.15/24');
  });

  it('puts the slirp network around the guest address and forwards its report port', () => {
    const args = guestQemuArgs({
      ...paths,
      accel: 'tcg',
      memoryMiB: 128,
      vcpus: 1,
      serialPath: '/s',
      guest: { ip: '10.89.0.50/24', port: 7100 },
      netdev: { kind: 'user', hostForwardPort: 17001 },
    });
    expect(args).toContain('user,id=net0,restrict=on,net=10.89.0.0/24,hostfwd=tcp:127.0.0.1:17001-10.89.0.50:7100');
  });

  it('builds a KVM command line with a tap and a qcow2 disk', () => {
    const args = guestQemuArgs({
      ...paths,
      accel: 'kvm',
      memoryMiB: 512,
      vcpus: 2,
      serialPath: '/s',
      guest: { ip: '10.89.0.50/24', gateway: '10.89.0.1' },
      netdev: { kind: 'tap', ifname: 'tap-db0', mac: '52:54:00:c0:10:01' },
      diskPath: '/d.qcow2',
      diskFormat: 'qcow2',
    });
    expect(args.slice(0, 8)).toEqual(['-accel', 'kvm', '-cpu', 'qemu64', '-m', '512', '-smp', '2']);
    expect(args).toContain('tap,id=net0,ifname=tap-db0,script=no,downscript=no,vhost=off,vnet_hdr=off');
    expect(args).toContain('virtio-net-pci,id=nic0,netdev=net0,mac=52:54:00:c0:10:01');
    expect(args).toContain('if=none,id=disk0,file=/d.qcow2,format=qcow2');
  });

  it('rejects bad options, naming the allowed values', () => {
    const base = { ...paths, accel: 'tcg' as const, memoryMiB: 128, vcpus: 1, serialPath: '/s' };
    expect(() => guestQemuArgs({ ...base, accel: 'hvf' as 'kvm' })).toThrow(/Invalid accel "hvf": expected "kvm" or "tcg"/);
    expect(() => guestQemuArgs({ ...base, memoryMiB: 32 })).toThrow(/at least 64/);
    expect(() => guestQemuArgs({ ...base, vcpus: 0 })).toThrow(/Invalid vcpus 0/);
    expect(() => guestQemuArgs({ ...base, netdev: { kind: 'user', hostForwardPort: 1 } })).toThrow(/without `guest` settings/);
    expect(() => guestQemuArgs({ ...base, guest: { ip: '10.0.2.15' }, netdev: { kind: 'tap', ifname: 'tap0', mac: 'nope' } })).toThrow(/Invalid MAC address "nope"/);
    expect(() => guestQemuArgs({ ...base, guest: { ip: '10.0.2.15' }, netdev: { kind: 'tap', ifname: 'a-name-far-too-long', mac: '52:54:00:00:00:01' } })).toThrow(/Invalid tap ifname/);
    expect(() => guestQemuArgs({ ...base, diskPath: '/d', diskFormat: 'vmdk' as 'raw' })).toThrow(/expected "raw" or "qcow2"/);
  });
});

describe('parsing what the guest says', () => {
  it('parses the TCP report line', () => {
    expect(parseGuestReport('counter=42 uptime=7.31 boot=2dd5dd4c-6c19 disk=41 prev=none\n')).toEqual({
      counter: 42,
      uptimeS: 7.31,
      boot: '2dd5dd4c-6c19',
      disk: 41,
      prev: null,
      memMiB: null,
      cpu: null,
    });
    expect(parseGuestReport('counter=1 uptime=2.30 boot=b disk=none prev=160 mem=97 cpu=1500')).toMatchObject({ disk: null, prev: 160, memMiB: 97, cpu: 1500 });
  });

  it('rejects a malformed report with the expected format', () => {
    expect(() => parseGuestReport('HTTP/1.1 400 Bad Request')).toThrow(/Malformed guest report .*no counter=.*Expected "counter=<n>/);
    expect(() => parseGuestReport('counter=x uptime=1 boot=b disk=1 prev=1')).toThrow(/counter=x is not a whole number/);
    expect(() => parseGuestReport('counter=1 uptime=1 disk=1 prev=1')).toThrow(/no boot=/);
  });

  it('finds the up marker in serial output', () => {
    expect(parseGuestUp('noise\nORBIT-GUEST-UP boot=abc ip=10.0.2.15 port=7000 prev=12\nORBIT-COUNTER 1\n')).toEqual({
      boot: 'abc',
      ip: '10.0.2.15',
      port: 7000,
      prev: 12,
    });
    expect(parseGuestUp('ORBIT-GUEST-UP boot=abc ip=none port=7000 prev=none')).toMatchObject({ ip: null, prev: null });
    expect(parseGuestUp('ORBIT-COUNTER 1\n')).toBeUndefined();
    expect(PROBE_MARKER).toBe(GUEST_UP_MARKER);
  });

  it('reads the counter sector', () => {
    expect(parseDiskSector(Buffer.from(`${'orbit-counter 17 boot=abc'.padEnd(511)}\n`))).toEqual({ counter: 17, boot: 'abc' });
    expect(parseDiskSector(Buffer.alloc(512))).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Real boots under TCG with user-mode networking (loopback only).

interface Qemu {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr(): string;
}

const running = new Set<Qemu>();
const hasSetpriv = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v setpriv']);
    return true;
  } catch {
    return false;
  }
})();

function startQemu(args: string[]): Qemu {
  // setpriv: should jest's worker die, QEMU dies with it.
  const argv = hasSetpriv ? ['--pdeathsig', 'KILL', 'qemu-system-x86_64', ...args] : args;
  const child = spawn(hasSetpriv ? 'setpriv' : 'qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const qemu = { child, exited, stderr: () => stderr };
  running.add(qemu);
  return qemu;
}

async function killQemu(qemu: Qemu): Promise<void> {
  if (qemu.child.exitCode === null && qemu.child.signalCode === null) qemu.child.kill('SIGKILL');
  await qemu.exited;
  running.delete(qemu);
}

/** Fails fast, with QEMU's stderr, if QEMU exits before `work` is done. */
async function whileRunning<T>(qemu: Qemu, work: Promise<T>): Promise<T> {
  const died = qemu.exited.then((code) => {
    throw new Error(`QEMU exited (code ${code}) early: ${qemu.stderr().trim() || '(no stderr)'}`);
  });
  return Promise.race([work, died]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('the test guest, booted for real under TCG', () => {
  let dir: string;

  beforeAll(() => {
    // Cached: a no-op (under a second) when the guest is up to date with scripts/guest/.
    execFileSync('bash', [path.join(__dirname, 'build.sh')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
    guestArtifacts();
  }, 600_000);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-guest-test-'));
  });

  afterEach(async () => {
    await Promise.all([...running].map(killQemu));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers on TCP, counts, writes the counter to its disk, and finds it again after a crash and reboot', async () => {
    const disk = path.join(dir, 'disk.raw');
    fs.writeFileSync(disk, '');
    fs.truncateSync(disk, 8 << 20);
    const port = await freePort();
    const bootArgs = (serialPath: string) =>
      guestQemuArgs({
        accel: 'tcg',
        memoryMiB: 256,
        vcpus: 1,
        serialPath,
        guest: { ip: USER_NET_GUEST_ADDRESS },
        netdev: { kind: 'user', hostForwardPort: port },
        diskPath: disk,
        diskFormat: 'raw',
      });

    const first = startQemu(bootArgs(path.join(dir, 'boot1.serial')));
    const up = await whileRunning(first, waitForGuestUp(path.join(dir, 'boot1.serial'), 60_000));
    expect(up).toMatchObject({ ip: '10.0.2.15', port: 7000, prev: null });
    const r1 = await whileRunning(first, waitForGuestReport('127.0.0.1', port, 30_000));
    expect(r1.boot).toBe(up.boot);
    expect(r1.prev).toBeNull();

    await sleep(1500);
    const r2 = await readGuestReport('127.0.0.1', port, 5000);
    expect(r2.boot).toBe(r1.boot);
    expect(r2.uptimeS).toBeGreaterThan(r1.uptimeS);
    const rate = (r2.counter - r1.counter) / (r2.uptimeS - r1.uptimeS);
    expect(rate).toBeGreaterThan(3); // 10 per second when the machine keeps up
    expect(rate).toBeLessThan(12);
    expect(r2.disk).not.toBeNull();
    expect(r2.disk!).toBeGreaterThanOrEqual(r2.counter - 1);

    const onDisk = await readDiskCounter(disk);
    expect(onDisk?.boot).toBe(r1.boot);
    expect(onDisk!.counter).toBeGreaterThanOrEqual(r2.disk!);

    await killQemu(first); // a crash: no shutdown of any kind
    const last = await readDiskCounter(disk);
    expect(last).not.toBeNull();

    const second = startQemu(bootArgs(path.join(dir, 'boot2.serial')));
    const up2 = await whileRunning(second, waitForGuestUp(path.join(dir, 'boot2.serial'), 60_000));
    expect(up2.prev).toBe(last!.counter);
    const r3 = await whileRunning(second, waitForGuestReport('127.0.0.1', port, 30_000));
    expect(r3.prev).toBe(last!.counter);
    expect(r3.boot).not.toBe(r1.boot);
    expect(r3.boot).toBe(up2.boot);
    await killQemu(second);

    // The same sector read through qemu-img from a qcow2 copy.
    const qcow2 = path.join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', disk, qcow2]);
    expect(await readDiskCounter(qcow2)).toEqual(await readDiskCounter(disk));
  }, 180_000);
});
