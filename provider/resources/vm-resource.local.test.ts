/**
 * orbit_vm's validation and planning: what is applied in place, what forces a replacement,
 * and the values known before apply. The lifecycle on lab hosts through terraform:
 * test/provider/lab-vm.test.ts.
 */
import { Diagnostics } from '../protocol/diagnostics';
import { createLogger } from '../protocol/logger';
import { Unknowable } from '../framework/model';
import { LocalHostConnector, localProviderContext } from '../../test/support/local-host';
import { orbitErrorOf } from '../../test/support/rejections';
import { derivedMac } from './vm-machine';
import { Vm, vmResource } from './vm-resource';

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
  status: null,
  last_migration_downtime_ms: null,
  last_migration_total_ms: null,
  disk: [{ size_mib: 64, format: 'qcow2', path: null }],
  network: [{ bridge: 'vmbr0', mac: null, model: 'virtio-net-pci' }],
  ...overrides,
});

/** The state after a create of `config()`. */
const state = (overrides: Partial<Vm> = {}): Vm =>
  config({
    id: 'web-1',
    max_memory_mib: 256,
    accelerator_in_use: 'tcg',
    status: 'running',
    disk: [{ size_mib: 64, format: 'qcow2', path: '/var/lib/orbit/web-1/disk0.qcow2' }],
    network: [{ bridge: 'vmbr0', mac: derivedMac('web-1', 0), model: 'virtio-net-pci' }],
    ...overrides,
  });

async function plan(c: Vm, prior: Vm | null): Promise<{ planned: Unknowable<Vm>; replace: unknown[] }> {
  const planned: Unknowable<Vm> = JSON.parse(JSON.stringify(c));
  planned.id = undefined;
  planned.accelerator_in_use = prior?.accelerator_in_use ?? undefined;
  planned.status = undefined;
  planned.disk = c.disk.map((d) => ({ ...d, path: undefined }));
  planned.network = c.network.map((n) => ({ ...n, mac: n.mac ?? undefined }));
  const replace: unknown[] = [];
  await vmResource.modifyPlan!({ config: c, prior, planned, requireReplace: (path) => replace.push(path), ...context() });
  return { planned, replace };
}

describe('orbit_vm plan', () => {
  test('a new VM has its id, disk paths, MAC and maximum memory known at plan time', async () => {
    const { planned } = await plan(config(), null);
    expect(planned).toMatchObject({ id: 'web-1', max_memory_mib: 256, last_migration_downtime_ms: null });
    expect(planned.disk).toEqual([{ size_mib: 64, format: 'qcow2', path: '/var/lib/orbit/web-1/disk0.qcow2' }]);
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

  test('memory within max_memory_mib is in place; beyond it, max_memory_mib follows and forces replacement', async () => {
    const withRoom = state({ max_memory_mib: 512 });
    const inPlace = await plan(config({ memory_mib: 384 }), withRoom);
    expect(inPlace.replace).toEqual([]);
    expect(inPlace.planned.max_memory_mib).toBe(512);

    const beyond = await plan(config({ memory_mib: 384 }), state());
    expect(beyond.planned.max_memory_mib).toBe(384);
    expect(beyond.replace).toEqual(['max_memory_mib']);

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

  test('"auto" and the accelerator it resolved to are the same; another accelerator forces replacement', async () => {
    expect((await plan(config({ accelerator: 'tcg' }), state())).replace).toEqual([]);
    expect((await plan(config({ accelerator: 'kvm' }), state())).replace).toEqual(['accelerator']);
  });

  test('a shrinking disk fails the plan with both sizes and the fix', async () => {
    const error = await orbitErrorOf(plan(config({ disk: [{ size_mib: 32, format: 'qcow2', path: null }] }), state()));
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
