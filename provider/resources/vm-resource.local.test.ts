/**
 * orbit_vm's validation and planning: what is applied to the running VM, what restarts it
 * (never a replacement: no change deletes a disk), and the values known before apply. The lifecycle on lab hosts through terraform:
 * test/provider/lab-vm.test.ts.
 */
import { Diagnostics } from '../protocol/diagnostics';
import { createLogger } from '../protocol/logger';
import { Unknowable } from '../framework/model';
import { LocalHostConnector, localProviderContext } from '../../test/support/local-host';
import { hostErrorToOrbitError, RemoteHost, RemoteHostOptions } from '../config/host-connections';
import { HostConfig } from '../config/provider-context';
import { HostKeyMismatchError, HostUnreachableError } from '../ssh/host-errors';
import { orbitErrorOf } from '../../test/support/rejections';
import { derivedMac } from './vm-machine';
import { Vm, vmResource, vmSchema } from './vm-resource';

const provider = localProviderContext(new LocalHostConnector(), ['site-a', 'site-b']);
const context = () => ({ provider, signal: new AbortController().signal, diagnostics: new Diagnostics(), logger: createLogger({ level: 'off' }) });

/** A configuration as the framework hands it over: defaults applied, computed attributes null. */
const config = (overrides: Partial<Vm> = {}): Vm => ({
  id: null,
  name: 'web-1',
  host: 'site-a',
  vcpus: 1,
  memory_mib: 256,
  max_memory_mib: null,
  accelerator: 'auto',
  accelerator_in_use: null,
  machine: 'pc',
  cpu_model: 'qemu64',
  kernel_path: '/boot/vmlinuz',
  initrd_path: '/boot/initrd',
  kernel_cmdline: 'console=ttyS0',
  stop_timeout_ms: 30_000,
  migration_postcopy_after_ms: 5000,
  running: true,
  keep_disks_on_destroy: false,
  status: null,
  last_migration_downtime_ms: null,
  last_migration_total_ms: null,
  disk: [{ size_mib: 64, format: 'qcow2', path: null, image: null }],
  network: [{ bridge: 'vmbr0', mac: null, model: 'virtio-net-pci' }],
  cloud_init: [],
  ...overrides,
});

/** The state after a create of `config()`. */
const state = (overrides: Partial<Vm> = {}): Vm =>
  config({
    id: 'web-1',
    max_memory_mib: 256,
    accelerator_in_use: 'tcg',
    status: 'running',
    disk: [{ size_mib: 64, format: 'qcow2', path: '/var/lib/orbit/web-1/disk0.qcow2', image: null }],
    network: [{ bridge: 'vmbr0', mac: derivedMac('web-1', 0), model: 'virtio-net-pci' }],
    ...overrides,
  });

async function plan(c: Vm, prior: Vm | null): Promise<{ planned: Unknowable<Vm>; replace: unknown[]; warnings: string[] }> {
  const planned: Unknowable<Vm> = JSON.parse(JSON.stringify(c));
  planned.id = undefined;
  planned.accelerator_in_use = prior?.accelerator_in_use ?? undefined;
  planned.status = undefined;
  planned.disk = c.disk.map((d) => ({ ...d, path: undefined }));
  planned.network = c.network.map((n) => ({ ...n, mac: n.mac ?? undefined }));
  const replace: unknown[] = [];
  const operation = context();
  await vmResource.modifyPlan!({ config: c, prior, planned, requireReplace: (path) => replace.push(path), ...operation });
  const warnings = operation.diagnostics.items.filter((d) => d.severity === 'warning').map((d) => `${d.summary}: ${d.detail ?? ''}`);
  return { planned, replace, warnings };
}

/** The one restart warning of a plan (and that it is the only kind of change it announces). */
const restartWarning = (warnings: string[]) => {
  const restarts = warnings.filter((w) => w.includes('will restart (a planned restart on the same disks)'));
  expect(restarts).toHaveLength(1);
  return restarts[0];
};

describe('orbit_vm plan', () => {
  test('a new VM has its id, disk paths, MAC and maximum memory known at plan time', async () => {
    const { planned } = await plan(config(), null);
    expect(planned).toMatchObject({ id: 'web-1', max_memory_mib: 256, last_migration_downtime_ms: null });
    expect(planned.disk).toEqual([{ size_mib: 64, format: 'qcow2', path: '/var/lib/orbit/web-1/disk0.qcow2', image: null }]);
    expect(planned.network?.[0]?.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(planned.accelerator_in_use).toBeUndefined();
  });

  test('derived MACs are stable and differ per VM and NIC', () => {
    expect(derivedMac('web-1', 0)).toBe(derivedMac('web-1', 0));
    expect(new Set([derivedMac('web-1', 0), derivedMac('web-1', 1), derivedMac('web-2', 0)]).size).toBe(3);
  });

  test('an explicit accelerator is known at plan time', async () => {
    expect((await plan(config({ accelerator: 'tcg' }), null)).planned.accelerator_in_use).toBe('tcg');
  });

  test('memory within max_memory_mib is in place; beyond it, max_memory_mib follows and the VM restarts on its disks', async () => {
    const withRoom = state({ max_memory_mib: 512 });
    const inPlace = await plan(config({ memory_mib: 384 }), withRoom);
    expect(inPlace.replace).toEqual([]);
    expect(inPlace.warnings).toEqual([]);
    expect(inPlace.planned.max_memory_mib).toBe(512);

    const beyond = await plan(config({ memory_mib: 384 }), state());
    expect(beyond.planned.max_memory_mib).toBe(384);
    expect(beyond.replace).toEqual([]);
    expect(restartWarning(beyond.warnings)).toContain('max_memory_mib 256 -> 384');

    const shrinking = await plan(config({ memory_mib: 128 }), state());
    expect(shrinking.replace).toEqual([]);
    expect(shrinking.planned.max_memory_mib).toBe(256);
  });

  test('a host change is not a replacement, and the migration results become unknown', async () => {
    const prior = state({ last_migration_downtime_ms: 5, last_migration_total_ms: 4000 });
    const moved = await plan(config({ host: 'site-b' }), prior);
    expect(moved.replace).toEqual([]);
    expect(moved.planned.last_migration_downtime_ms).toBeUndefined();
    expect(moved.planned.accelerator_in_use).toBe('tcg');
    const stayed = await plan(config({ memory_mib: 200 }), prior);
    expect(stayed.planned.last_migration_downtime_ms).toBe(5);
  });

  test('running = false is a power-off, not a restart; changes made while off restart nothing; a host change needs it running', async () => {
    const off = await plan(config({ running: false, vcpus: 2 }), state());
    expect(off.replace).toEqual([]);
    expect(off.warnings).toEqual([expect.stringContaining('orbit_vm "web-1" will be powered off: running = false')]);

    const whileOff = await plan(config({ running: false, vcpus: 4, network: [] }), state({ running: false, status: 'stopped' }));
    expect(whileOff.warnings).toEqual([]);
    const starting = await plan(config({ vcpus: 4 }), state({ running: false, status: 'stopped' }));
    expect(starting.warnings).toEqual([]);

    for (const [c, prior] of [
      [config({ host: 'site-b', running: false }), state()],
      [config({ host: 'site-b', running: false }), state({ running: false })],
      [config({ host: 'site-b' }), state({ running: false })],
    ] as const) {
      await expect(plan(c, prior)).rejects.toThrow(/can change host only while it runs/);
    }
  });

  test('"auto" and the accelerator it resolved to are the same; another accelerator restarts the VM', async () => {
    expect((await plan(config({ accelerator: 'tcg' }), state())).warnings).toEqual([]);
    const other = await plan(config({ accelerator: 'kvm' }), state());
    expect(other.replace).toEqual([]);
    expect(restartWarning(other.warnings)).toContain('accelerator "tcg" -> "kvm"');
  });

  test('vCPUs, machine, boot and NIC changes are planned restarts that name what changes and the stop timeout', async () => {
    const cases: Array<[Partial<Vm>, string]> = [
      [{ vcpus: 2 }, 'vcpus 1 -> 2'],
      [{ cpu_model: 'max' }, 'cpu_model "qemu64" -> "max"'],
      [{ kernel_cmdline: 'console=ttyS0 quiet' }, 'kernel_cmdline "console=ttyS0" -> "console=ttyS0 quiet"'],
      [{ network: [{ bridge: 'vmbr0', mac: null, model: 'e1000' }] }, 'network[0].model "virtio-net-pci" -> "e1000"'],
      [{ network: [] }, 'NICs 1 -> 0'],
    ];
    for (const [change, named] of cases) {
      const { replace, warnings } = await plan(config(change), state());
      expect(replace).toEqual([]);
      expect(restartWarning(warnings)).toContain(named);
      expect(restartWarning(warnings)).toContain('stop_timeout_ms (30000 ms)');
    }
  });

  test('nothing in the schema forces a replacement, and a rename is refused: no change deletes a disk', async () => {
    const replacing = Object.entries(vmSchema.block.attributes).filter(([, a]) => a.requiresReplace);
    const replacingBlocks = Object.entries(vmSchema.block.blocks).filter(([, b]) => b.requiresReplace || Object.values(b.block.attributes).some((a) => a.requiresReplace));
    expect([...replacing, ...replacingBlocks]).toEqual([]);
    const error = await orbitErrorOf(plan(config({ name: 'web-2' }), state()));
    expect(error.message).toBe('orbit_vm "web-1" cannot be renamed to "web-2"');
    expect(error.fix).toMatch(/terraform taint ADDRESS && terraform apply/);
  });

  test('an added disk restarts the VM; a removed one is detached, its image kept and named', async () => {
    const two = [
      { size_mib: 64, format: 'qcow2', path: null, image: null },
      { size_mib: 32, format: 'raw', path: null, image: null },
    ];
    const added = await plan(config({ disk: two }), state());
    expect(restartWarning(added.warnings)).toContain('disks 1 -> 2');
    expect(added.planned.disk?.[1]?.path).toBe('/var/lib/orbit/web-1/disk1.raw');

    const prior = state({ disk: two.map((d, i) => ({ ...d, path: `/var/lib/orbit/web-1/disk${i}.${d.format}` })) });
    const removed = await plan(config(), prior);
    expect(restartWarning(removed.warnings)).toContain('disks 2 -> 1');
    expect(removed.warnings).toContainEqual(expect.stringContaining('disk[1] is detached, not deleted: Its image /var/lib/orbit/web-1/disk1.raw stays on host "site-a"'));
  });

  test("a disk's format cannot change: the plan fails naming the image, both formats and the fix", async () => {
    const error = await orbitErrorOf(plan(config({ disk: [{ size_mib: 64, format: 'raw', path: null, image: null }] }), state()));
    expect(error.message).toBe("disk[0].format cannot change from qcow2 to raw: the image /var/lib/orbit/web-1/disk0.qcow2 holds the disk's data");
    expect(error.allowed).toBe('qcow2 (a disk keeps its format)');
    expect(error.fix).toBe('keep format = "qcow2"');
  });

  test("a disk's image cannot change once the disk exists, and a disk from an image is qcow2", async () => {
    const image = `/var/lib/orbit/images/${'a'.repeat(64)}`;
    const other = `/var/lib/orbit/images/${'b'.repeat(64)}`;
    const fromImage = state({ disk: [{ size_mib: 64, format: 'qcow2', path: '/var/lib/orbit/web-1/disk0.qcow2', image }] });
    const changed = await orbitErrorOf(plan(config({ disk: [{ size_mib: 64, format: 'qcow2', path: null, image: other }] }), fromImage));
    expect(changed.message).toBe(`disk[0].image cannot change from ${image} to ${other}: the disk /var/lib/orbit/web-1/disk0.qcow2 exists and holds the guest's data`);
    expect(changed.attribute).toEqual(['disk', 0, 'image']);
    const dropped = await orbitErrorOf(plan(config({ disk: [{ size_mib: 64, format: 'qcow2', path: null, image: null }] }), fromImage));
    expect(dropped.message).toContain(`cannot change from ${image} to none`);
    const raw = await orbitErrorOf(plan(config({ disk: [{ size_mib: 64, format: 'raw', path: null, image }] }), null));
    expect(raw.message).toBe('disk[0] is made from an image, so its format must be qcow2 (an overlay on the image), not raw');
    // Unchanged, it plans quietly, and the spec carries the image.
    expect((await plan(config({ disk: [{ size_mib: 64, format: 'qcow2', path: null, image }] }), fromImage)).warnings).toEqual([]);
  });

  test('a shrinking disk fails the plan with both sizes and the fix', async () => {
    const error = await orbitErrorOf(plan(config({ disk: [{ size_mib: 32, format: 'qcow2', path: null, image: null }] }), state()));
    expect(error.message).toBe('disk[0].size_mib cannot shrink from 64 to 32');
    expect(error.attribute).toEqual(['disk', 0, 'size_mib']);
    expect(error.allowed).toBe('64 or more (disks only grow)');
  });

  test('an unknown host fails the plan, listing the configured hosts', async () => {
    const error = await orbitErrorOf(plan(config({ host: 'nowhere' }), null));
    expect(error.message).toBe('Unknown host "nowhere"');
    expect(error.allowed).toEqual(['site-a', 'site-b']);
  });
});

describe('orbit_vm read', () => {
  /** A connector whose sessions all fail with `error`, as a host that is down or impersonated would. */
  class FailingConnector extends LocalHostConnector {
    constructor(private readonly error: (host: HostConfig) => Error) {
      super();
    }
    connect(host: HostConfig, options: RemoteHostOptions = {}): RemoteHost {
      const remote = super.connect(host, options);
      const fail = () => Promise.reject(hostErrorToOrbitError(this.error(host), host.name, options.attribute));
      return { ...remote, withSession: fail, session: fail };
    }
  }
  const read = (error: (host: HostConfig) => Error) => {
    const operation = { ...context(), provider: localProviderContext(new FailingConnector(error), ['site-a']) };
    return { operation, reading: vmResource.read({ state: state(), ...operation }) };
  };

  test('a host that cannot be reached reads as last applied, status "unreachable", with a warning instead of an error', async () => {
    const { operation, reading } = read((host) => new HostUnreachableError(host, 'no route to host', 'EHOSTUNREACH'));
    expect(await reading).toEqual({ ...state(), status: 'unreachable' });
    expect(operation.diagnostics.items).toEqual([
      expect.objectContaining({ severity: 'warning', summary: 'orbit_vm "web-1": host "site-a" cannot be reached; the VM is shown as last applied, status "unreachable"', path: ['host'] }),
    ]);
  });

  test('a host that answers with another key is still an error: unreachable is no excuse for trusting it', async () => {
    const { reading } = read((host) => new HostKeyMismatchError(host, 'changed', { fingerprint: 'SHA256:x', type: 'ssh-ed25519' }, ['SHA256:y'], 'pinned host_key'));
    await expect(reading).rejects.toThrow(/SHA256:x/);
  });
});

describe('orbit_vm validation', () => {
  const validate = (c: Partial<Vm>) => Promise.resolve().then(() => vmResource.validate!({ config: config(c), diagnostics: new Diagnostics() }));

  test('memory_mib above max_memory_mib names both and the fix', async () => {
    const error = await orbitErrorOf(validate({ memory_mib: 1024, max_memory_mib: 512 }));
    expect(error.message).toBe('memory_mib (1024) is more than max_memory_mib (512)');
    expect(error.fix).toMatch(/raise max_memory_mib to 1024 or more/);
  });

  test('a VM without kernel and disks has nothing to boot', async () => {
    const error = await orbitErrorOf(validate({ kernel_path: null, initrd_path: null, kernel_cmdline: null, disk: [] }));
    expect(error.message).toBe('The VM has nothing to boot: no kernel_path and no disk');
  });

  test('kernel_cmdline without kernel_path is refused', async () => {
    const error = await orbitErrorOf(validate({ kernel_path: null, initrd_path: null }));
    expect(error.message).toBe('kernel_cmdline is set without kernel_path');
  });
});
