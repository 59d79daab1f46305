/** QMP of a real QEMU reached through a real sshd's stream-local forwarding. */
import { LocalQemu, startLocalQemu } from '../../test/support/local-qemu';
import { rejection } from '../../test/support/rejections';
import { LoopbackSshd, startLoopbackSshd } from '../../test/support/loopback-sshd';
import { HostChannelError } from '../ssh/host-errors';
import { HostKeyPolicy } from '../ssh/known-hosts';
import { QmpClient, QmpClosedError, QmpError } from './qmp-client';
import { connectQmpOverSsh } from './qmp-over-ssh';
import { SshSession } from '../ssh/ssh-session';

jest.setTimeout(30_000);

let sshd: LoopbackSshd;
let qemu: LocalQemu;
let session: SshSession;
let qmp: QmpClient | undefined;

beforeAll(async () => {
  [sshd, qemu] = await Promise.all([startLoopbackSshd(), startLocalQemu()]);
  const host = { name: 'loopback', address: sshd.address, port: sshd.port };
  session = await SshSession.connect({
    host,
    username: sshd.username,
    privateKey: sshd.clientKey.privateKey,
    hostKeys: HostKeyPolicy.forHost(host, { knownHosts: sshd.knownHosts }),
  });
});
afterEach(async () => {
  await qmp?.close();
  qmp = undefined;
});
afterAll(async () => {
  await session?.close();
  await Promise.all([sshd?.stop(), qemu?.stop()]);
});

it('talks QMP through the SSH connection: status, errors, events', async () => {
  qmp = await connectQmpOverSsh(session, qemu.qmpSocket, { label: 'VM test', timeoutMs: 5000 });
  expect(qmp.where).toBe(`VM test on host loopback (127.0.0.1:${sshd.port}), ${qemu.qmpSocket}`);
  expect(await qmp.execute('query-status')).toMatchObject({ status: 'running' });

  const error = await rejection(qmp.execute('no-such-command'));
  expect(error).toBeInstanceOf(QmpError);
  expect(error.errorClass).toBe('CommandNotFound');
  expect(error.message).toContain('VM test on host loopback');

  const stopped = qmp.waitForEvent('STOP');
  await qmp.execute('stop');
  expect((await stopped).event).toBe('STOP');
  const resumed = qmp.waitForEvent('RESUME');
  await qmp.execute('cont');
  expect((await resumed).event).toBe('RESUME');
});

it('does not use up session channels (forwards are not sessions)', async () => {
  qmp = await connectQmpOverSsh(session, qemu.qmpSocket);
  expect(session.activeChannels).toBe(0);
});

it('reports a socket that does not exist as a refused channel with a fix', async () => {
  const error = await connectQmpOverSsh(session, '/run/orbit/nope/qmp.sock', { timeoutMs: 5000 }).catch((e) => e);
  expect(error).toBeInstanceOf(HostChannelError);
  expect(error.message).toContain('/run/orbit/nope/qmp.sock');
  expect(error.fix).toMatch(/ls -l/);
});

it('sees the QMP connection close when the SSH connection drops', async () => {
  qmp = await connectQmpOverSsh(session, qemu.qmpSocket);
  const closed = new Promise((resolve) => qmp!.once('close', resolve));
  await sshd.dropConnections();
  expect(await closed).toBeInstanceOf(QmpClosedError);
  await expect(qmp.execute('query-status')).rejects.toBeInstanceOf(QmpClosedError);
});
