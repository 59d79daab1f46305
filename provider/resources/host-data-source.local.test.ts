/**
 * data "orbit_host" with its real scripts (facts, upload, boot probe, cache) run on this
 * machine (test/support/local-host) against a fake QEMU that "boots" under TCG only. The
 * real QEMU on lab hosts through terraform: test/provider/lab-host.test.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createHash } from 'crypto';
import { Diagnostics } from '../protocol/diagnostics';
import { createLogger } from '../protocol/logger';
import { LocalHostConnector, localProviderContext } from '../../test/support/local-host';
import { defineHostDataSource, HostData } from './host-data-source';
import { orbitErrorOf } from '../../test/support/rejections';

jest.setTimeout(60_000);

const FAKE_QEMU = `#!/bin/sh
case "$1" in
  --version) echo "QEMU emulator version \${FAKE_VERSION:-7.2.22} (fake)"; exit 0 ;;
  -object) [ "$2" = colo-compare,help ] && [ -z "\${FAKE_NO_COLO:-}" ] && { echo 'There are no options for colo-compare.'; exit 0; }; echo "invalid object $2" >&2; exit 1 ;;
  -drive) echo "Supported formats: file qcow2 raw \${FAKE_FORMATS:-}"; exit 0 ;;
esac
accel='' serial=''
while [ $# -gt 0 ]; do
  case "$1" in
    -accel) accel=$2; shift ;;
    -chardev) serial=\${2#*path=}; shift ;;
  esac
  shift
done
if [ "$accel" = kvm ]; then echo 'Could not access KVM kernel module: fake' >&2; exit 1; fi
echo ORBIT-GUEST-UP >"$serial"
exec sleep 30
`;

let dir: string;
let probeDir: string;
let qemu: string;
let connector: LocalHostConnector;
let guest: { kernelPath: string; initrdPath: string };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-host-data-'));
  probeDir = path.join(dir, 'probe');
  qemu = path.join(dir, 'qemu-system-x86_64');
  fs.writeFileSync(qemu, FAKE_QEMU, { mode: 0o755 });
  guest = { kernelPath: path.join(dir, 'vmlinuz'), initrdPath: path.join(dir, 'initramfs.cpio.gz') };
  fs.writeFileSync(guest.kernelPath, 'kernel bytes');
  fs.writeFileSync(guest.initrdPath, 'initrd bytes');
  connector = new LocalHostConnector();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function read(overrides: Partial<HostData> = {}, options: { guest?: () => { kernelPath: string; initrdPath: string } } = {}): Promise<HostData> {
  const source = defineHostDataSource({ probeDir, guest: options.guest ?? (() => guest) });
  const config = { name: 'local', qemu_binary: qemu, ...overrides } as HostData;
  return source.read({
    config,
    provider: localProviderContext(connector),
    signal: new AbortController().signal,
    diagnostics: new Diagnostics(),
    logger: createLogger({ level: 'off' }),
  });
}

describe('data orbit_host', () => {
  test('first read: facts, guest uploaded by sha256, a real boot probe, cached; later reads take one round trip', async () => {
    const first = await read();
    expect(first).toMatchObject({
      name: 'local',
      qemu_binary: qemu,
      hostname: fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(),
      kernel: os.release(),
      qemu_version: '7.2.22',
      colo_capable: false,
      accelerator: 'tcg',
    });
    expect(first.cpus).toBeGreaterThan(0);
    expect(first.memory_mib).toBe(Math.floor(Number(/MemTotal:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024));
    expect(first.accelerator_reason).toMatch(/^KVM cannot run guests here: .+\. TCG boots the test guest in \d+ ms\.$/);
    expect(connector.count('exec')).toBe(3); // facts, mkdir, probe
    expect(
      connector.calls
        .filter((c) => c.kind === 'writeFile')
        .map((c) => c.what)
        .sort(),
    ).toEqual([`${probeDir}/initramfs-${sha256('initrd bytes')}.cpio.gz`, `${probeDir}/vmlinuz-${sha256('kernel bytes')}`]);
    expect(fs.readdirSync(probeDir).filter((f) => f.startsWith('accelerator-'))).toHaveLength(1);

    connector.calls.length = 0;
    expect(await read()).toEqual(first);
    expect(connector.calls.map((c) => c.kind)).toEqual(['exec']);
  });

  test('another QEMU version is probed again, without uploading the guest again', async () => {
    await read();
    connector.calls.length = 0;
    connector.env = { FAKE_VERSION: '8.0.0' };
    expect(await read()).toMatchObject({ qemu_version: '8.0.0', accelerator: 'tcg' });
    expect(connector.count('writeFile')).toBe(0);
    expect(connector.count('exec')).toBe(2);
    expect(fs.readdirSync(probeDir).filter((f) => f.startsWith('accelerator-'))).toHaveLength(2);
  });

  test('an unreadable cached answer is replaced by a new probe', async () => {
    await read();
    const cached = fs.readdirSync(probeDir).find((f) => f.startsWith('accelerator-'))!;
    fs.writeFileSync(path.join(probeDir, cached), 'garbage');
    connector.calls.length = 0;
    expect(await read()).toMatchObject({ accelerator: 'tcg' });
    expect(connector.count('exec')).toBe(2);
    expect(fs.readFileSync(path.join(probeDir, cached), 'utf8')).toContain('"accelerator":"tcg"');
  });

  test('colo_capable needs colo-compare and the quorum and replication drivers', async () => {
    connector.env = { FAKE_FORMATS: 'quorum replication' };
    expect((await read()).colo_capable).toBe(true);
    connector.env = { FAKE_FORMATS: 'quorum' };
    expect((await read()).colo_capable).toBe(false);
    connector.env = { FAKE_FORMATS: 'quorum replication', FAKE_NO_COLO: '1' };
    expect((await read()).colo_capable).toBe(false);
  });

  test('a missing QEMU is named at qemu_binary with the fix', async () => {
    const error = await orbitErrorOf(read({ qemu_binary: 'qemu-system-nothing' }));
    expect(error.message).toBe('QEMU (qemu-system-nothing) is not installed on host "local"');
    expect(error.attribute).toEqual(['qemu_binary']);
    expect(error.fix).toContain('apt-get install qemu-system-x86');
  });

  test('a guest that is not built is explained before anything runs on the host', async () => {
    const error = await orbitErrorOf(
      read(
        {},
        {
          guest: () => {
            throw new Error('The test guest is not built');
          },
        },
      ),
    );
    expect(error.attribute).toEqual(['name']);
    expect(error.fix).toContain('npm run guest');
    expect(connector.calls).toEqual([]);
  });

  test('an unknown host is named at name', async () => {
    const error = await orbitErrorOf(read({ name: 'elsewhere' }));
    expect(error).toMatchObject({ message: 'Unknown host "elsewhere"', attribute: ['name'] });
  });
});
