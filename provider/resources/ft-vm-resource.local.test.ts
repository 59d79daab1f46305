/**
 * orbit_ft_vm's validation and planning. The pair on lab hosts through terraform, with real
 * COLO: test/provider/lab-ft-vm.test.ts.
 */
import { Diagnostics } from '../protocol/diagnostics';
import { createLogger } from '../protocol/logger';
import { Unknowable } from '../framework/model';
import { LocalHostConnector, localProviderContext } from '../../test/support/local-host';
import { orbitErrorOf } from '../../test/support/rejections';
import { FtVm, ftVmResource, ftVmSchema } from './ft-vm-resource';

const provider = localProviderContext(new LocalHostConnector(), ['site-a', 'site-b', 'site-c', 'site-d']);
const context = () => ({ provider, signal: new AbortController().signal, diagnostics: new Diagnostics(), logger: createLogger({ level: 'off' }) });

const config = (overrides: Partial<FtVm> = {}): FtVm => ({
  id: null,
  name: 'db-1',
  primary_host: 'site-a',
  secondary_host: 'site-b',
  vcpus: 2,
  memory_mib: 256,
  stop_timeout_ms: 30_000,
  accelerator: 'auto',
  accelerator_in_use: null,
  machine: 'pc',
  cpu_model: 'qemu64',
  kernel_path: '/boot/vmlinuz',
  initrd_path: null,
  kernel_cmdline: null,
  checkpoint_delay_ms: 2000,
  heartbeat_interval_ms: 200,
  heartbeat_misses: 3,
  fencing_deadline_ms: 800,
  lease_ttl_ms: 2000,
  worst_case_recovery_ms: null,
  status: null,
  active_host: null,
  standby_host: null,
  protection: null,
  checkpoint_count: null,
  last_checkpoint_pause_ms: null,
  failover: 'manual',
  spare_hosts: null,
  agent_release: null,
  failover_count: null,
  last_failover: null,
  disk: [{ size_mib: 64, format: 'qcow2', path: null, image: null }],
  network: [{ bridge: 'vmbr0', mac: null, model: 'virtio-net-pci' }],
  cloud_init: [],
  ...overrides,
});

const state = (overrides: Partial<FtVm> = {}): FtVm =>
  config({
    id: 'db-1',
    accelerator_in_use: 'tcg',
    status: 'running',
    active_host: 'site-b',
    standby_host: null,
    protection: 'degraded',
    checkpoint_count: 120,
    disk: [{ size_mib: 64, format: 'qcow2', path: '/var/lib/orbit/db-1/disk0.qcow2', image: null }],
    network: [{ bridge: 'vmbr0', mac: '52:54:00:aa:bb:cc', model: 'virtio-net-pci' }],
    ...overrides,
  });

async function plan(c: FtVm, prior: FtVm | null): Promise<{ planned: Unknowable<FtVm>; replace: unknown[]; warnings: string[] }> {
  const planned: Unknowable<FtVm> = JSON.parse(JSON.stringify(c));
  planned.network = c.network.map((n, i) => ({ ...n, mac: n.mac ?? prior?.network[i]?.mac ?? undefined }));
  const replace: unknown[] = [];
  const operation = context();
  await ftVmResource.modifyPlan!({ config: c, prior, planned, requireReplace: (path) => replace.push(path), ...operation });
  return { planned, replace, warnings: operation.diagnostics.items.filter((d) => d.severity === 'warning').map((d) => `${d.summary}: ${d.detail ?? ''}`) };
}

test('the same host twice is refused, naming the attribute and the fix', async () => {
  const error = await orbitErrorOf(Promise.resolve().then(() => ftVmResource.validate!({ config: config({ secondary_host: 'site-a' }), diagnostics: new Diagnostics() })));
  expect(error.message).toBe('primary_host and secondary_host are the same host, "site-a"');
  expect(error.attribute).toEqual(['secondary_host']);
  expect(error.fix).toMatch(/another host/);
});

test('a new pair knows its disk paths and MAC at plan time', async () => {
  const { planned } = await plan(config(), null);
  expect(planned.id).toBe('db-1');
  expect(planned.disk?.[0]?.path).toBe('/var/lib/orbit/db-1/disk0.qcow2');
  expect(planned.network?.[0]?.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
});

test('where the pair runs after a failover is not planned: an unchanged configuration plans no replacement', async () => {
  const { replace, planned } = await plan(config(), state());
  expect(replace).toEqual([]);
  expect(planned.accelerator_in_use).toBe('tcg');
});

test('vCPUs, memory and the like restart the pair on its disks: a warning names them; a rename is refused; nothing forces a replacement', async () => {
  const restart = await plan(config({ memory_mib: 768, vcpus: 4 }), state());
  expect(restart.replace).toEqual([]);
  expect(restart.warnings).toEqual([
    expect.stringContaining('orbit_ft_vm "db-1" will restart (a planned restart of the pair on the same disks): Needs new QEMUs: vcpus 2 -> 4, memory_mib 256 -> 768.'),
  ]);
  expect(restart.warnings[0]).toContain('stop_timeout_ms (30000 ms)');
  const renamed = await orbitErrorOf(plan(config({ name: 'db-2' }), state()));
  expect(renamed.message).toBe('orbit_ft_vm "db-1" cannot be renamed to "db-2"');
  expect(renamed.fix).toMatch(/terraform taint ADDRESS && terraform apply/);
  const both = await orbitErrorOf(plan(config({ vcpus: 4, secondary_host: 'site-c' }), state()));
  expect(both.message).toBe('orbit_ft_vm "db-1" cannot move a side and restart in one apply');
  const replacing = Object.entries(ftVmSchema.block.attributes).filter(([, a]) => a.requiresReplace);
  const replacingBlocks = Object.entries(ftVmSchema.block.blocks).filter(([, b]) => b.requiresReplace || Object.values(b.block.attributes).some((a) => a.requiresReplace));
  expect([...replacing, ...replacingBlocks]).toEqual([]);
});

test('cloud_init: an edit plans a new instance id and no restart; adding or removing the block restarts the pair; meta-data with its own instance-id is refused', async () => {
  const seed = (userData: string) => [{ user_data: userData, user_data_wo: null, user_data_wo_version: null, meta_data: null, network_config: null, instance_id: null }];
  const before = state({ cloud_init: seed('#cloud-config\nhostname: a\n').map((c) => ({ ...c, instance_id: 'db-1-000000000000' })) });
  const edited = await plan(config({ cloud_init: seed('#cloud-config\nhostname: b\n') }), before);
  expect(edited.warnings).toEqual([]);
  expect(edited.planned.cloud_init?.[0]?.instance_id).toMatch(/^db-1-[0-9a-f]{12}$/);
  expect(edited.planned.cloud_init?.[0]?.instance_id).not.toBe('db-1-000000000000');
  const added = await plan(config({ cloud_init: seed('#cloud-config\n') }), state());
  expect(added.warnings).toEqual([expect.stringContaining('Needs new QEMUs: cloud_init added (a CD-ROM drive with its seed)')]);
  const removed = await plan(config(), before);
  expect(removed.warnings).toEqual([expect.stringContaining('Needs new QEMUs: cloud_init removed (its CD-ROM drive goes)')]);
  const own = await orbitErrorOf(plan(config({ cloud_init: [{ ...seed('#cloud-config\n')[0], meta_data: 'instance-id: mine\n' }] }), null));
  expect(own.message).toBe('cloud_init.meta_data sets instance-id');
  expect(own.attribute).toEqual(['cloud_init', 0, 'meta_data']);
});

test('cloud_init.user_data_wo: the instance id follows the version, not the secret; exactly one of user_data and user_data_wo; a version only with it', async () => {
  const writeOnly = (secret: string, version: number | null) => [{ user_data: null, user_data_wo: secret, user_data_wo_version: version, meta_data: null, network_config: null, instance_id: null }];
  const idOf = async (secret: string, version: number) => (await plan(config({ cloud_init: writeOnly(secret, version) }), null)).planned.cloud_init?.[0]?.instance_id;
  expect(await idOf('#cloud-config\npassword: one\n', 1)).toBe(await idOf('#cloud-config\npassword: two\n', 1));
  expect(await idOf('#cloud-config\npassword: one\n', 2)).not.toBe(await idOf('#cloud-config\npassword: one\n', 1));
  const validate = (cloudInit: FtVm['cloud_init']) => orbitErrorOf(Promise.resolve().then(() => ftVmResource.validate!({ config: config({ cloud_init: cloudInit }), diagnostics: new Diagnostics() })));
  const both = await validate([{ ...writeOnly('x', 1)[0], user_data: 'y' }]);
  expect(both.message).toBe('cloud_init has both user_data and user_data_wo');
  expect(both.attribute).toEqual(['cloud_init', 0, 'user_data_wo']);
  expect((await validate([{ ...writeOnly('x', 1)[0], user_data_wo: null, user_data_wo_version: null }])).message).toBe('cloud_init has no user-data');
  const unversioned = await validate(writeOnly('x', null));
  expect(unversioned.message).toBe('cloud_init.user_data_wo needs user_data_wo_version');
  expect(unversioned.fix).toMatch(/user_data_wo_version = 1/);
  expect((await validate([{ ...writeOnly('x', 3)[0], user_data: 'y', user_data_wo: null }])).message).toBe('cloud_init.user_data_wo_version is set without user_data_wo');
});

test('a new host for one side is a move of that side, announced in the plan; both at once is refused; a swap is nothing', async () => {
  const moved = await plan(config({ secondary_host: 'site-c' }), state());
  expect(moved.replace).toEqual([]);
  expect(moved.warnings).toEqual([expect.stringContaining('its side on "site-b" moves to "site-c", the guest running on')]);
  expect((await plan(config({ primary_host: 'site-c' }), state())).warnings).toEqual([expect.stringContaining('its side on "site-a" moves to "site-c"')]);
  expect((await plan(config({ primary_host: 'site-b', secondary_host: 'site-a' }), state())).warnings).toEqual([]);
  const both = await orbitErrorOf(plan(config({ primary_host: 'site-c', secondary_host: 'site-d' }), state()));
  expect(both.message).toBe('orbit_ft_vm "db-1" cannot move both sides at once: site-a and site-b -> site-c and site-d');
  expect(both.fix).toMatch(/change one host per apply/);
});

test('a disk from an image needs the image on both hosts and every spare: the plan names the hosts without it', async () => {
  // The hosts are this machine, which has no image under this sum.
  const image = `/var/lib/orbit/images/${'e'.repeat(64)}`;
  const disk = [{ size_mib: 64, format: 'qcow2', path: null, image }];
  const error = await orbitErrorOf(plan(config({ disk, spare_hosts: ['site-c'] }), null));
  expect(error.message).toBe(`disk[0].image ${image} is not placed on "site-a", "site-b", "site-c"`);
  expect(error.attribute).toEqual(['disk', 0, 'image']);
  expect(error.fix).toBe('add "site-a", "site-b", "site-c" to the hosts of the orbit_image whose path this is');
});

test('an unknown host fails the plan at the attribute that names it', async () => {
  const error = await orbitErrorOf(plan(config({ secondary_host: 'site-z' }), null));
  expect(error.message).toBe('Unknown host "site-z"');
  expect(error.attribute).toEqual(['secondary_host']);
});

test('the monitor timing is planned with its worst-case recovery, and an unsafe timing names the values and the fix', async () => {
  expect((await plan(config(), null)).planned.worst_case_recovery_ms).toBe(2000 + 500 + 200);
  const error = await orbitErrorOf(Promise.resolve().then(() => ftVmResource.validate!({ config: config({ fencing_deadline_ms: 1500 }), diagnostics: new Diagnostics() })));
  expect(error.message).toBe('The failover monitor timing is unsafe');
  expect(error.attribute).toEqual(['lease_ttl_ms']);
  expect(error.detail).toContain('200 ms x 3 + fencing 1500 ms = 2100 ms, lease 2000 ms');
  expect(error.fix).toMatch(/raise leaseTtlMs to 3000/);
});
