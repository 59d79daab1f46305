/**
 * LocalSession against this machine: real processes, files, and a real QEMU driven by the
 * unchanged host primitives (connectQmpOverSsh, inspectVm, writePairRecord/readPairRecord, fence).
 */
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LocalQemu, QEMU, startLocalQemu } from '../../test/support/local-qemu';
import { fence } from '../colo/colo-failover';
import { readPairRecord, writePairRecord } from '../colo/colo-pair-record';
import { HostTimeoutError, RemoteCommandError, RemoteFileError } from '../ssh/host-errors';
import { inspectVm } from '../qemu/qemu-process';
import { vmPaths } from '../qemu/qemu-command-line';
import { connectQmpOverSsh } from '../qemu/qmp-over-ssh';
import { asSshSession, LocalSession } from './local-session';
import { setTimeout as sleep } from 'timers/promises';

jest.setTimeout(30_000);

const local = new LocalSession({ name: 'this-host', defaultTimeoutMs: 10_000 });

describe('LocalSession: commands and files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-local-session-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs a command with stdin and env, and reports a failure like a remote one', async () => {
    expect(await local.exec('read line; echo "$line $GREETING"; echo oops >&2', { stdin: 'hello\n', env: { GREETING: 'world' } })).toEqual({ stdout: 'hello world\n', stderr: 'oops\n', code: 0 });
    expect((await local.exec('exit 3', { allowFailure: true })).code).toBe(3);
    const error = await local.exec('echo bad >&2; exit 4').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteCommandError);
    expect((error as RemoteCommandError).exitCode).toBe(4);
    expect((error as Error).message).toContain('Command on host this-host (localhost:0) exited with code 4');
  });

  it('on timeout kills the whole process group, not just the shell', async () => {
    const marker = path.join(dir, 'grandchild.pid');
    const started = Date.now();
    const error = await local.exec(`sleep 30 & echo $! > ${marker}; wait`, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostTimeoutError);
    expect(Date.now() - started).toBeLessThan(2000);
    const pid = Number(fs.readFileSync(marker, 'utf8'));
    await sleep(100);
    // Gone, or a zombie waiting for whoever adopted it to reap it (no longer running).
    const state = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
    expect(['gone', 'Z', 'X']).toContain(state);
  });

  it('reads and writes files atomically with a mode; a missing file is ENOENT as over SFTP', async () => {
    const file = path.join(dir, 'record.json');
    await local.writeFile(file, '{"a":1}\n', { mode: 0o600 });
    expect((await local.readFile(file)).toString()).toBe('{"a":1}\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const missing = await local.readFile(path.join(dir, 'nope')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RemoteFileError);
    expect((missing as RemoteFileError).code).toBe('ENOENT');
    const noDir = await local.writeFile(path.join(dir, 'no/such/dir/file'), 'x').catch((e: unknown) => e);
    expect((noDir as RemoteFileError).code).toBe('ENOENT');
  });

  it('refuses a unix socket that does not exist, naming it', async () => {
    await expect(local.openStreamLocal(path.join(dir, 'absent.sock'), { timeoutMs: 1000 })).rejects.toThrow(`refused a connection to unix socket ${path.join(dir, 'absent.sock')}`);
  });
});

describe('LocalSession: the host primitives on a real local QEMU', () => {
  let qemu: LocalQemu | undefined;
  afterAll(async () => {
    await qemu?.stop();
  });

  it('connectQmpOverSsh works over a LocalSession: query-status', async () => {
    qemu = await startLocalQemu();
    const qmp = await connectQmpOverSsh(asSshSession(local), qemu.qmpSocket, { label: 'local test QEMU', timeoutMs: 5000 });
    try {
      expect(await qmp.execute<{ status: string }>('query-status')).toMatchObject({ status: expect.any(String) });
    } finally {
      await qmp.close();
    }
  });

  it("inspectVm finds a VM's QEMU and its run state, pair records round-trip, fence kills it", async () => {
    // A QEMU laid out like a VM of the driver: -name guest=<vm>,... and /run/orbit/<vm>/qmp.sock.
    const vm = `rt-local-${randomBytes(3).toString('hex')}`;
    const paths = vmPaths(vm);
    // Roots this test creates (when absent) are removed again if left empty.
    const createdRoots = [path.dirname(paths.runDir), path.dirname(paths.stateDir)].filter((dir) => !fs.existsSync(dir));
    fs.mkdirSync(paths.runDir, { recursive: true });
    let child: ChildProcess | undefined;
    const session = asSshSession(local);
    try {
      child = spawn(QEMU, ['-name', `guest=${vm},debug-threads=on`, '-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', `unix:${paths.qmpSocket},server=on,wait=off`], { stdio: 'ignore' });
      for (let i = 0; i < 300 && !fs.existsSync(paths.qmpSocket); i++) await sleep(25);

      const inspection = await inspectVm(session, vm);
      expect(inspection).toMatchObject({ name: vm, state: 'running', pid: child.pid, incoming: false });
      expect(inspection.status).toEqual(expect.any(String));

      expect(await readPairRecord(session, vm)).toBeUndefined();
      await writePairRecord(session, { vm, role: 'primary', startedAs: 'primary', primary: { name: 'this-host', address: '127.0.0.1' }, checkpointDelayMs: 200, generation: 1 });
      expect(await readPairRecord(session, vm)).toMatchObject({ role: 'primary', generation: 1 });

      const fenced = await fence(session, vm);
      expect(fenced).toEqual({ vm, host: 'this-host', killedPids: [child.pid] });
      expect(await readPairRecord(session, vm)).toMatchObject({ role: 'fenced', generation: 1 });
      expect((await inspectVm(session, vm)).state).toBe('absent');
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(paths.runDir, { recursive: true, force: true });
      fs.rmSync(paths.stateDir, { recursive: true, force: true });
      for (const dir of createdRoots) if (fs.existsSync(dir) && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
    }
  });
});
