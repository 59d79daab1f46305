import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { guestArtifacts } from '../../scripts/guest/guest';
import { AcceleratorProbeError, acceleratorProbeScript, detectAccelerator, detectAcceleratorLocally, parseAcceleratorProbe } from './accelerator';

const ok = (stdout: string) => ({ stdout, stderr: '', code: 0 });

describe('parseAcceleratorProbe', () => {
  it('reads a KVM result', () => {
    const r = parseAcceleratorProbe(
      ok('{"accelerator":"kvm","bootMs":640,"probeMs":700,"kvmModule":"kvm_intel","kvm":{"tried":true,"ok":true,"bootMs":640},"tcg":{"tried":false,"ok":false,"reason":"not needed: KVM works"}}\n'),
      'site-a',
    );
    expect(r).toEqual({
      accelerator: 'kvm',
      bootMs: 640,
      probeMs: 700,
      kvmModule: 'kvm_intel',
      kvm: { tried: true, ok: true, bootMs: 640 },
      tcg: { tried: false, ok: false, reason: 'not needed: KVM works' },
    });
  });

  it('reads a TCG fallback and ignores noise before the JSON line', () => {
    const r = parseAcceleratorProbe(
      ok(
        'motd line\n{"accelerator":"tcg","bootMs":2900,"probeMs":13000,"kvmModule":"kvm_pvm","kvm":{"tried":true,"ok":false,"reason":"timeout: no ORBIT-GUEST-UP","bootMs":10000},"tcg":{"tried":true,"ok":true,"bootMs":2900}}\n',
      ),
      'site-a',
    );
    expect(r.accelerator).toBe('tcg');
    expect(r.kvm.reason).toMatch(/timeout/);
  });

  it('names the host and both reasons when nothing boots', () => {
    const out = ok(
      '{"accelerator":null,"bootMs":null,"probeMs":40000,"kvmModule":"none","kvm":{"tried":false,"ok":false,"reason":"/dev/kvm does not exist"},"tcg":{"tried":true,"ok":false,"reason":"QEMU exited with status 1"}}',
    );
    expect(() => parseAcceleratorProbe(out, 'site-b')).toThrow(AcceleratorProbeError);
    expect(() => parseAcceleratorProbe(out, 'site-b')).toThrow(/site-b.*KVM: \/dev\/kvm does not exist.*TCG: QEMU exited with status 1.*Fix:/s);
  });

  it('reports a probe that could not run', () => {
    expect(() => parseAcceleratorProbe({ stdout: '{"error":"guest kernel /x is missing"}', stderr: '', code: 3 }, 'site-a')).toThrow(/probe on site-a could not run: guest kernel \/x is missing/);
  });

  it('shows stderr when there is no JSON at all', () => {
    expect(() => parseAcceleratorProbe({ stdout: '', stderr: 'sh: 1: mktemp: not found', code: 127 }, 'site-a')).toThrow(/exit 127.*mktemp: not found/);
  });
});

describe('acceleratorProbeScript', () => {
  it('validates its options', () => {
    expect(() => acceleratorProbeScript({ kernelPath: '', initrdPath: '/i' })).toThrow(/kernelPath must be a non-empty path/);
    expect(() => acceleratorProbeScript({ kernelPath: '/k', initrdPath: '/i', kvmTimeoutMs: 0 })).toThrow(/kvmTimeoutMs 0/);
  });

  it('quotes paths safely and reports a missing kernel', async () => {
    const kernelPath = "/nonexistent/it's a kernel; rm -rf /";
    const r = await detectAccelerator(
      async (script) => {
        execFileSync('sh', ['-n', '-c', script]);
        try {
          return { stdout: execFileSync('sh', ['-c', script], { encoding: 'utf8' }), stderr: '', code: 0 };
        } catch (e) {
          const err = e as { stdout: string; stderr: string; status: number };
          return { stdout: err.stdout, stderr: err.stderr, code: err.status };
        }
      },
      { kernelPath, initrdPath: '/nonexistent/initrd', qemuBinary: 'sh' },
      'site-a',
    ).catch((e: Error) => e);
    expect(r).toBeInstanceOf(AcceleratorProbeError);
    expect((r as Error).message).toContain(`guest kernel ${kernelPath} is missing`);
  });
});

/**
 * A stand-in for qemu-system-x86_64: behaves per accelerator as told, writes the guest's marker
 * to the serial file when it "boots", and otherwise sleeps like a hung QEMU would.
 */
function fakeQemu(dir: string, behaviour: { kvm: 'boots' | 'internal-error' | 'hangs' | 'exits'; tcg: 'boots' | 'exits' }): string {
  const file = path.join(dir, 'fake-qemu');
  const act = (what: string) =>
    ({
      boots: 'echo "ORBIT-GUEST-UP boot=fake ip=none" >"$serial"; exec sleep 60',
      'internal-error': 'echo "KVM internal error. Suberror: 1" >&2; echo "emulation failure" >&2; exec sleep 60',
      hangs: 'exec sleep 60',
      exits: 'echo "qemu-system-x86_64: fake failure" >&2; exit 1',
    })[what];
  fs.writeFileSync(
    file,
    `#!/bin/sh
accel= serial=
while [ $# -gt 0 ]; do
  case $1 in -accel) accel=$2; shift ;; -chardev) serial=\${2#*path=}; shift ;; esac
  shift
done
case $accel in kvm) ${act(behaviour.kvm)} ;; tcg) ${act(behaviour.tcg)} ;; esac
`,
    { mode: 0o755 },
  );
  return file;
}

/** Processes still running from `dir` (the fake QEMU or its sleep). */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(dir) && !cmdline.includes('jest')) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('the probe script with a fake QEMU', () => {
  let dir: string;
  let kernelPath: string;
  let initrdPath: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-accel-test-'));
    kernelPath = path.join(dir, 'vmlinuz');
    initrdPath = path.join(dir, 'initrd');
    fs.writeFileSync(kernelPath, '');
    fs.writeFileSync(initrdPath, '');
  });
  afterEach(() => {
    const left = processesUsing(dir);
    for (const p of left) process.kill(Number(p.split(':')[0]), 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  it('picks KVM when the guest boots under it, without trying TCG', async () => {
    const qemuBinary = fakeQemu(dir, { kvm: 'boots', tcg: 'exits' });
    const r = await detectAcceleratorLocally({ kernelPath, initrdPath, qemuBinary, kvmDevicePath: '/dev/null' });
    expect(r.accelerator).toBe('kvm');
    expect(r.kvm).toMatchObject({ tried: true, ok: true });
    expect(r.tcg.tried).toBe(false);
  }, 30_000);

  it('falls back to TCG on a KVM internal error, and says so', async () => {
    const qemuBinary = fakeQemu(dir, { kvm: 'internal-error', tcg: 'boots' });
    const r = await detectAcceleratorLocally({ kernelPath, initrdPath, qemuBinary, kvmDevicePath: '/dev/null' });
    expect(r.accelerator).toBe('tcg');
    expect(r.kvm.reason).toMatch(/^KVM internal error: KVM internal error\. Suberror: 1 emulation failure/);
    expect(r.tcg).toMatchObject({ tried: true, ok: true });
  }, 30_000);

  it('gives up on a KVM boot that never shows the marker', async () => {
    const qemuBinary = fakeQemu(dir, { kvm: 'hangs', tcg: 'boots' });
    const started = Date.now();
    const r = await detectAcceleratorLocally({ kernelPath, initrdPath, qemuBinary, kvmDevicePath: '/dev/null', kvmTimeoutMs: 700 });
    expect(r.accelerator).toBe('tcg');
    expect(r.kvm.reason).toMatch(/^timeout: no ORBIT-GUEST-UP on the serial console within 700 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('skips KVM when the device is missing', async () => {
    const qemuBinary = fakeQemu(dir, { kvm: 'boots', tcg: 'boots' });
    const r = await detectAcceleratorLocally({ kernelPath, initrdPath, qemuBinary, kvmDevicePath: path.join(dir, 'no-kvm') });
    expect(r.accelerator).toBe('tcg');
    expect(r.kvm).toMatchObject({ tried: false, ok: false });
    expect(r.kvm.reason).toContain('no-kvm does not exist');
  }, 30_000);

  it('fails clearly when neither accelerator boots', async () => {
    const qemuBinary = fakeQemu(dir, { kvm: 'internal-error', tcg: 'exits' });
    await expect(detectAcceleratorLocally({ kernelPath, initrdPath, qemuBinary, kvmDevicePath: '/dev/null' })).rejects.toThrow(
      /No accelerator can boot a guest on this machine\. KVM: KVM internal error.*TCG: QEMU exited with status 1 before the guest came up: qemu-system-x86_64: fake failure/,
    );
  }, 30_000);
});

describe('detectAcceleratorLocally with the real test guest', () => {
  it('boots it for real and picks an accelerator that agrees with the devices this machine has', async () => {
    const guest = guestArtifacts();
    // A private copy, so that leftover QEMUs of this probe can be told from others'.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-accel-real-'));
    try {
      const kernelPath = path.join(dir, 'vmlinuz');
      const initrdPath = path.join(dir, 'initramfs.cpio.gz');
      fs.copyFileSync(guest.kernelPath, kernelPath);
      fs.copyFileSync(guest.initrdPath, initrdPath);
      const r = await detectAcceleratorLocally({ kernelPath, initrdPath });
      expect(['kvm', 'tcg']).toContain(r.accelerator);
      expect(r.bootMs).toBeGreaterThan(0);
      // What the probe says must agree with what this machine has, whatever that is: machines
      // of this kind differ (kvm_pvm with or without /dev/kvm, real KVM elsewhere).
      console.log(`accelerator probe: ${JSON.stringify(r)}`);
      if (!fs.existsSync('/dev/kvm')) {
        expect(r.accelerator).toBe('tcg');
        expect(r.kvm.tried).toBe(false);
        expect(r.kvm.reason).toContain('/dev/kvm does not exist');
        if (r.kvmModule !== 'none') expect(r.kvm.reason).toContain(`${r.kvmModule} is loaded but exposes no device`);
      } else if (r.accelerator === 'tcg') {
        expect(r.kvm.tried).toBe(true);
        expect(r.kvm.reason).toMatch(/timeout|KVM internal error|exited/);
        if (r.kvmModule === 'kvm_pvm') expect(r.kvm.reason).toContain('kvm_pvm is loaded');
      } else {
        expect(r.kvm.ok).toBe(true);
      }
      expect(processesUsing(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
