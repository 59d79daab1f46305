/**
 * orbit_disk's operations with its real shell scripts and the real qemu-img, run on this
 * machine in a temporary directory instead of on a host over SSH (test/support/local-host).
 * The same operations through terraform against lab hosts: test/provider/lab-disk.test.ts.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Diagnostics } from '../protocol/diagnostics';
import { createLogger } from '../protocol/logger';
import { Unknowable } from '../framework/model';
import { ProviderContext } from '../config/provider-context';
import { LocalHostConnector, localProviderContext } from '../../test/support/local-host';
import { defineDiskResource, Disk } from './disk-resource';
import { orbitErrorOf } from '../../test/support/rejections';

jest.setTimeout(30_000);

let dir: string;
let connector: LocalHostConnector;
let provider: ProviderContext;
let disk: ReturnType<typeof defineDiskResource>;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-disk-'));
  connector = new LocalHostConnector();
  provider = localProviderContext(connector, ['local', 'other']);
  disk = defineDiskResource({ directory: path.join(dir, 'disks') });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const context = () => ({ provider, signal: new AbortController().signal, diagnostics: new Diagnostics(), logger: createLogger({ level: 'off' }) });
const config = (overrides: Partial<Disk> = {}): Disk => ({
  id: null,
  host: 'local',
  name: 'data',
  size_mib: 64,
  format: 'qcow2',
  path: null,
  actual_size_bytes: null,
  ...overrides,
});
const planned = (c: Disk): Unknowable<Disk> => ({ ...c, id: undefined, path: undefined, actual_size_bytes: undefined });
const info = (file: string) => JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-U', file], { encoding: 'utf8' })) as Record<string, unknown>;

async function plan(c: Disk, prior: Disk | null): Promise<{ planned: Unknowable<Disk>; replace: unknown[] }> {
  const p = planned(c);
  const replace: unknown[] = [];
  await disk.modifyPlan!({ config: c, prior, planned: p, requireReplace: (x) => replace.push(x), ...context() });
  return { planned: p, replace };
}

async function create(c: Disk = config()): Promise<Disk> {
  return disk.create({ config: c, planned: planned(c), ...context() });
}

describe('orbit_disk', () => {
  test('plan knows path and id before apply, and checks the host has qemu-img', async () => {
    const { planned: p } = await plan(config(), null);
    expect(p).toMatchObject({ id: 'local/data', path: path.join(dir, 'disks/data.qcow2'), actual_size_bytes: undefined });
    expect(connector.calls.map((c) => c.what)).toEqual(['command -v qemu-img >/dev/null 2>&1']);

    connector.env = { PATH: '/nonexistent' };
    const error = await orbitErrorOf(plan(config(), null));
    expect(error.message).toBe('qemu-img is not installed on host "local"');
    expect(error.attribute).toEqual(['host']);
    expect(error.fix).toContain('apt-get install qemu-utils');
  });

  test('an unknown host is named at the host attribute, with the configured ones', async () => {
    const error = await orbitErrorOf(plan(config({ host: 'nope' }), null));
    expect(error).toMatchObject({ message: 'Unknown host "nope"', attribute: ['host'], allowed: ['local', 'other'] });
  });

  test('create makes the image with qemu-img and reports it as it is', async () => {
    const state = await create(config({ size_mib: 48 }));
    const file = path.join(dir, 'disks/data.qcow2');
    expect(state).toMatchObject({ id: 'local/data', host: 'local', name: 'data', format: 'qcow2', size_mib: 48, path: file });
    expect(state.actual_size_bytes).toBeGreaterThan(0);
    expect(info(file)).toMatchObject({ format: 'qcow2', 'virtual-size': 48 * 1024 * 1024 });
    expect(fs.readdirSync(path.join(dir, 'disks'))).toEqual(['data.qcow2']);

    const raw = await create(config({ name: 'scratch', format: 'raw', size_mib: 2 }));
    expect(raw).toMatchObject({ format: 'raw', size_mib: 2, path: path.join(dir, 'disks/scratch.raw') });
    expect(info(raw.path!)).toMatchObject({ format: 'raw', 'virtual-size': 2 * 1024 * 1024 });
  });

  test('create never overwrites an existing file, and says to import it', async () => {
    fs.mkdirSync(path.join(dir, 'disks'));
    fs.writeFileSync(path.join(dir, 'disks/data.qcow2'), 'precious');
    const error = await orbitErrorOf(create());
    expect(error.message).toBe(`A disk file already exists at ${path.join(dir, 'disks/data.qcow2')} on host "local"`);
    expect(error.attribute).toEqual(['name']);
    expect(error.fix).toContain('terraform import ADDRESS local/data');
    expect(fs.readFileSync(path.join(dir, 'disks/data.qcow2'), 'utf8')).toBe('precious');
    expect(fs.readdirSync(path.join(dir, 'disks'))).toEqual(['data.qcow2']);
  });

  test('read sees out-of-band changes and a deleted disk', async () => {
    const state = await create();
    expect(await disk.read({ state, ...context() })).toEqual(state);
    execFileSync('qemu-img', ['resize', '-q', '--shrink', '-f', 'qcow2', state.path!, '32M']);
    expect(await disk.read({ state, ...context() })).toMatchObject({ size_mib: 32 });
    fs.rmSync(state.path!);
    expect(await disk.read({ state, ...context() })).toBeNull();
  });

  test('growing is in place; shrinking is refused at plan time with the values and the fix', async () => {
    const prior = await create();
    const grown = await disk.update!({ prior, config: config({ size_mib: 100 }), planned: { ...prior, size_mib: 100, actual_size_bytes: undefined }, ...context() });
    expect(grown).toMatchObject({ size_mib: 100, path: prior.path });
    expect(info(prior.path!)['virtual-size']).toBe(100 * 1024 * 1024);

    const error = await orbitErrorOf(plan(config({ size_mib: 50 }), grown));
    expect(error.message).toBe('size_mib cannot shrink from 100 to 50');
    expect(error).toMatchObject({ attribute: ['size_mib'], value: 50, allowed: '100 or more (disks only grow in place)' });
    expect(error.fix).toContain('terraform taint ADDRESS');
    // another format, host or name is never a replacement (a new, empty disk): it is refused, naming the data at stake
    const moved = await orbitErrorOf(plan(config({ size_mib: 100, format: 'raw', host: 'other' }), grown));
    expect(moved.message).toBe('orbit_disk "data" cannot change its host and format: local -> other, qcow2 -> raw');
    expect(moved.detail).toContain(`${grown.path} on host "local" would be deleted with its data`);
    expect(moved.fix).toContain('terraform taint ADDRESS');
    // update refuses too, in case the plan was made against an older state
    await expect(disk.update!({ prior: grown, config: config({ size_mib: 50 }), planned: config({ size_mib: 50 }), ...context() })).rejects.toThrow('cannot shrink');
    expect(info(prior.path!)['virtual-size']).toBe(100 * 1024 * 1024);
  });

  test('delete removes the file and is idempotent', async () => {
    const state = await create();
    await disk.delete({ state, ...context() });
    expect(fs.existsSync(state.path!)).toBe(false);
    await disk.delete({ state, ...context() });
  });

  test('import by <host>/<name> finds the format; bad ids and missing disks are explained', async () => {
    const created = await create(config({ format: 'raw', size_mib: 3 }));
    const imported = await disk.importState!({ id: 'local/data', ...context() });
    expect(imported).toEqual({ id: 'local/data', host: 'local', name: 'data', format: 'raw', path: created.path });
    expect(await disk.read({ state: { ...config(), ...imported } as Disk, ...context() })).toEqual(created);

    expect((await orbitErrorOf(disk.importState!({ id: 'data', ...context() }))).allowed).toContain('<host>/<name>');
    expect((await orbitErrorOf(disk.importState!({ id: 'local/nothing', ...context() }))).message).toBe('Host "local" has no disk "nothing"');
    expect((await orbitErrorOf(disk.importState!({ id: 'elsewhere/data', ...context() }))).message).toBe('Unknown host "elsewhere"');
  });

  test('a failing qemu-img is reported with its stderr at the host attribute', async () => {
    const state = await create();
    fs.writeFileSync(state.path!, 'not a qcow2 image');
    const error = await orbitErrorOf(disk.read({ state, ...context() }));
    expect(error.message).toBe(`qemu-img info of ${state.path} failed on host "local"`);
    expect(error.attribute).toEqual(['host']);
    expect(error.detail).toMatch(/qcow2/i);
  });
});
