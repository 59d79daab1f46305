/** SshPool against a real OpenSSH sshd: reuse, reconnect after the server drops us, closeAll. */
import { LoopbackSshd, startLoopbackSshd } from '../../test/support/loopback-sshd';
import { HostKeyMismatchError } from './host-errors';
import { HostKeyPolicy } from './known-hosts';
import { SshTarget } from './ssh-session';
import { SshPool } from './ssh-pool';

jest.setTimeout(30_000);

let sshd: LoopbackSshd;
let pool: SshPool;

beforeAll(async () => {
  sshd = await startLoopbackSshd();
});
beforeEach(() => {
  pool = new SshPool({ connectTimeoutMs: 5000 });
});
afterEach(async () => {
  await pool.closeAll();
});
afterAll(async () => {
  await sshd?.stop();
});

function target(pinned = [sshd.hostKey]): SshTarget {
  const host = { name: 'loopback', address: sshd.address, port: sshd.port };
  return { host, username: sshd.username, privateKey: sshd.clientKey.privateKey, hostKeys: HostKeyPolicy.forHost(host, { pinned }) };
}

it('shares one connection between callers, including concurrent first callers', async () => {
  const [a, b] = await Promise.all([pool.session(target()), pool.session(target())]);
  expect(a).toBe(b);
  expect(await pool.session(target())).toBe(a);
  expect(pool.size).toBe(1);
});

it('reconnects after the server dropped the connection', async () => {
  const first = await pool.session(target());
  const closed = new Promise((resolve) => first.once('close', resolve));
  await sshd.dropConnections();
  await closed;
  const second = await pool.session(target());
  expect(second).not.toBe(first);
  expect((await second.exec('echo back')).stdout).toBe('back\n');
});

it('pool.exec gets through when the pooled connection died unnoticed', async () => {
  await pool.exec(target(), 'true');
  await sshd.dropConnections();
  expect((await pool.exec(target(), 'echo again')).stdout).toBe('again\n');
});

it('does not keep a failed connect: the next call tries again', async () => {
  await expect(pool.session(target(['SHA256:' + 'A'.repeat(43)]))).rejects.toBeInstanceOf(HostKeyMismatchError);
  expect(pool.size).toBe(0);
});

it('closeAll closes every session and refuses new ones', async () => {
  const session = await pool.session(target());
  await pool.closeAll();
  expect(session.isOpen).toBe(false);
  await expect(pool.session(target())).rejects.toThrow(/closed/);
});
