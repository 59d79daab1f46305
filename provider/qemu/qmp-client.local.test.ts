/** QmpClient: protocol details against a scripted fake, then a real QEMU on a local unix socket. */
import * as net from 'net';
import { Duplex, PassThrough } from 'stream';
import { LocalQemu, startLocalQemu } from '../../test/support/local-qemu';
import { rejection } from '../../test/support/rejections';
import { QmpClient, QmpClosedError, QmpError, QmpTimeoutError } from './qmp-client';

jest.setTimeout(30_000);

const GREETING = { QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'fake' }, capabilities: ['oob'] } };

/** A QMP peer we script by hand: `sent` collects what the client wrote, `reply` answers. */
function fakeQemu() {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const stream = Duplex.from({ readable: toClient, writable: fromClient });
  const sent: Array<{ execute: string; arguments?: unknown; id: number }> = [];
  let pendingText = '';
  fromClient.on('data', (chunk: Buffer) => {
    pendingText += chunk.toString();
    let i: number;
    while ((i = pendingText.indexOf('\n')) >= 0) {
      const command = JSON.parse(pendingText.slice(0, i));
      pendingText = pendingText.slice(i + 1);
      sent.push(command);
      if (command.execute === 'qmp_capabilities') send({ return: {}, id: command.id });
    }
  });
  const send = (message: unknown) => toClient.write(`${JSON.stringify(message)}\r\n`);
  return { stream, sent, send, raw: (text: string) => toClient.write(text), end: () => toClient.end() };
}

async function connectedFake() {
  const fake = fakeQemu();
  fake.send(GREETING);
  const client = await QmpClient.connect(fake.stream, { where: 'fake QEMU', timeoutMs: 1000 });
  return { fake, client };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('protocol', () => {
  it('negotiates capabilities after the greeting', async () => {
    const { fake, client } = await connectedFake();
    expect(client.greeting.version.qemu.major).toBe(7);
    expect(fake.sent.map((c) => c.execute)).toEqual(['qmp_capabilities']);
  });

  it('matches replies to commands by id, in any order', async () => {
    const { fake, client } = await connectedFake();
    const first = client.execute('query-status');
    const second = client.execute('query-name', { unused: true });
    await tick();
    const [, a, b] = fake.sent;
    expect(b.arguments).toEqual({ unused: true });
    fake.send({ return: { name: 'db' }, id: b.id });
    fake.send({ return: { status: 'running' }, id: a.id });
    await expect(second).resolves.toEqual({ name: 'db' });
    await expect(first).resolves.toEqual({ status: 'running' });
  });

  it('turns an error reply into a QmpError naming the command, class and description', async () => {
    const { fake, client } = await connectedFake();
    const result = client.execute('device_del', { id: 'nic0' });
    await tick();
    fake.send({ error: { class: 'DeviceNotFound', desc: "Device 'nic0' not found" }, id: fake.sent[1].id });
    const error = await rejection(result);
    expect(error).toBeInstanceOf(QmpError);
    expect(error).toMatchObject({ command: 'device_del', errorClass: 'DeviceNotFound', desc: "Device 'nic0' not found" });
    expect(error.message).toContain('fake QEMU');
  });

  it('times out a command and ignores its late reply', async () => {
    const { fake, client } = await connectedFake();
    const error = await rejection(client.execute('query-migrate', undefined, { timeoutMs: 50 }));
    expect(error).toBeInstanceOf(QmpTimeoutError);
    fake.send({ return: { status: 'late' }, id: fake.sent[1].id });
    const next = client.execute('query-status');
    await tick();
    fake.send({ return: { status: 'running' }, id: fake.sent[2].id });
    await expect(next).resolves.toEqual({ status: 'running' });
  });

  it('emits events, also when they arrive split across chunks', async () => {
    const { fake, client } = await connectedFake();
    const seen: string[] = [];
    client.on('event', (e) => seen.push(e.event));
    const resumed = client.waitForEvent('RESUME');
    const stopped = client.waitForEvent('STOP', (e) => e.data.reason === 'second');
    const line = JSON.stringify({ event: 'STOP', data: { reason: 'first' }, timestamp: { seconds: 1, microseconds: 0 } });
    fake.raw(line.slice(0, 10));
    fake.raw(`${line.slice(10)}\r\n`);
    fake.send({ event: 'STOP', data: { reason: 'second' }, timestamp: { seconds: 2, microseconds: 0 } });
    fake.send({ event: 'RESUME', data: {}, timestamp: { seconds: 3, microseconds: 0 } });
    expect((await stopped).data.reason).toBe('second');
    expect((await resumed).timestamp.seconds).toBe(3);
    expect(seen).toEqual(['STOP', 'STOP', 'RESUME']);
  });

  it('times out waiting for an event that does not come', async () => {
    const { client } = await connectedFake();
    await expect(client.waitForEvent('SHUTDOWN', undefined, 30)).rejects.toBeInstanceOf(QmpTimeoutError);
  });

  it('fails pending commands and waits when QEMU goes away', async () => {
    const { fake, client } = await connectedFake();
    const pending = client.execute('query-status');
    const waiting = client.waitForEvent('STOP');
    fake.end();
    await expect(pending).rejects.toBeInstanceOf(QmpClosedError);
    await expect(waiting).rejects.toBeInstanceOf(QmpClosedError);
    expect(client.isOpen).toBe(false);
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpClosedError);
  });

  it('closes the connection on a line that is not JSON', async () => {
    const { fake, client } = await connectedFake();
    const pending = client.execute('query-status');
    fake.raw('this is not json\n');
    const error = await rejection(pending);
    expect(error).toBeInstanceOf(QmpClosedError);
    expect(error.message).toContain('not JSON');
  });

  it('gives up on a QEMU that never greets, with a hint about the one-client limit', async () => {
    const fake = fakeQemu();
    const error = await QmpClient.connect(fake.stream, { timeoutMs: 50 }).catch((e) => e);
    expect(error).toBeInstanceOf(QmpTimeoutError);
    expect(error.message).toMatch(/one QMP client at a time/);
  });
});

describe('against a real QEMU', () => {
  let qemu: LocalQemu;
  let client: QmpClient | undefined;

  beforeAll(async () => {
    qemu = await startLocalQemu();
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });
  afterAll(async () => {
    await qemu?.stop();
  });

  const connect = async () => {
    const socket = net.connect(qemu.qmpSocket);
    client = await QmpClient.connect(socket, { where: `QEMU ${qemu.qmpSocket}`, timeoutMs: 5000 });
    return client;
  };

  it('queries status, reports errors, and sees STOP and RESUME events', async () => {
    const qmp = await connect();
    expect(qmp.greeting.version.qemu.major).toBeGreaterThanOrEqual(7);
    expect(await qmp.execute('query-status')).toMatchObject({ status: 'running', running: true });

    const error = await rejection(qmp.execute('no-such-command'));
    expect(error).toBeInstanceOf(QmpError);
    expect(error.errorClass).toBe('CommandNotFound');

    const stopped = qmp.waitForEvent('STOP');
    await qmp.execute('stop');
    await stopped;
    expect(await qmp.execute('query-status')).toMatchObject({ status: 'paused', running: false });
    const resumed = qmp.waitForEvent('RESUME');
    await qmp.execute('cont');
    await resumed;

    expect(await qmp.humanMonitorCommand('info status')).toMatch(/VM status: running/);
  });

  it('runs many commands at once', async () => {
    const qmp = await connect();
    const results = await Promise.all(Array.from({ length: 20 }, () => qmp.execute<{ status: string }>('query-status')));
    expect(results.every((r) => r.status === 'running')).toBe(true);
  });

  it('reconnects after a clean close (QEMU serves one client at a time)', async () => {
    const first = await connect();
    await first.close();
    const second = await connect();
    expect(await second.execute('query-status')).toMatchObject({ running: true });
  });
});
