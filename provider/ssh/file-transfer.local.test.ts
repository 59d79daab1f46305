/** SFTP reads and atomic writes against a real OpenSSH sshd (the "remote" files are local, so we can look at them). */
import * as fs from 'fs';
import * as path from 'path';
import { LoopbackSshd, startLoopbackSshd } from '../../test/support/loopback-sshd';
import { HostOperationAbortedError, RemoteFileError } from './host-errors';
import { HostKeyPolicy } from './known-hosts';
import { SshSession } from './ssh-session';

jest.setTimeout(30_000);

let sshd: LoopbackSshd;
let session: SshSession;
let dir: string;

beforeAll(async () => {
  sshd = await startLoopbackSshd();
  const host = { name: 'loopback', address: sshd.address, port: sshd.port };
  session = await SshSession.connect({
    host,
    username: sshd.username,
    privateKey: sshd.clientKey.privateKey,
    hostKeys: HostKeyPolicy.forHost(host, { pinned: [sshd.hostKey] }),
  });
  dir = fs.mkdtempSync(path.join(sshd.dir, 'files-'));
});
afterAll(async () => {
  await session?.close();
  await sshd?.stop();
});

it('writes a file with its mode and reads it back', async () => {
  const file = path.join(dir, 'spec.json');
  const data = Buffer.from(JSON.stringify({ vm: 'db', memoryMiB: 2048 }));
  await session.writeFile(file, data, { mode: 0o600 });
  expect(fs.readFileSync(file)).toEqual(data);
  expect(fs.statSync(file).mode & 0o7777).toBe(0o600);
  expect(await session.readFile(file)).toEqual(data);
});

it('replaces an existing file atomically and leaves no temporary file behind', async () => {
  const file = path.join(dir, 'replaced');
  fs.writeFileSync(file, 'old');
  const big = Buffer.alloc(3 * 1024 * 1024, 'x');
  await session.writeFile(file, big);
  expect(fs.readFileSync(file).equals(big)).toBe(true);
  expect(fs.statSync(file).mode & 0o7777).toBe(0o644);
  expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
});

it('reports a missing file, and a missing directory on write, as ENOENT', async () => {
  const read = await session.readFile(path.join(dir, 'nope')).catch((e) => e);
  expect(read).toBeInstanceOf(RemoteFileError);
  expect(read.code).toBe('ENOENT');
  expect(read.message).toContain(path.join(dir, 'nope'));
  const write = await session.writeFile(path.join(dir, 'no-such-dir', 'f'), 'x').catch((e) => e);
  expect(write).toBeInstanceOf(RemoteFileError);
  expect(write.code).toBe('ENOENT');
});

it('rejects a nonsensical mode before touching the host', async () => {
  await expect(session.writeFile(path.join(dir, 'm'), 'x', { mode: 0o10000 })).rejects.toThrow(/mode must be permission bits/);
  expect(fs.existsSync(path.join(dir, 'm'))).toBe(false);
});

it('honours an already aborted signal', async () => {
  const controller = new AbortController();
  controller.abort();
  await expect(session.readFile(path.join(dir, 'spec.json'), { signal: controller.signal })).rejects.toBeInstanceOf(HostOperationAbortedError);
});
