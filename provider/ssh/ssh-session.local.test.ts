/** SshSession against a real OpenSSH sshd on 127.0.0.1. */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { Readable } from 'stream';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { descendantPids, generateKeyPair, LoopbackSshd, startLoopbackSshd } from '../../test/support/loopback-sshd';
import { freePort } from '../../test/support/ports';
import { HostAuthenticationError, HostConnectionLostError, HostKeyMismatchError, HostOperationAbortedError, HostTimeoutError, HostUnreachableError, RemoteCommandError } from './host-errors';
import { HostKeyPolicy, HostKeyTrust } from './known-hosts';
import { shellQuote } from './remote-exec';
import { SshSession, SshSessionOptions } from './ssh-session';
import { setTimeout as sleep } from 'timers/promises';

jest.setTimeout(30_000);

let sshd: LoopbackSshd;
const sessions: SshSession[] = [];

beforeAll(async () => {
  sshd = await startLoopbackSshd();
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await sshd?.stop();
});

function options(overrides: Partial<SshSessionOptions> & { trust?: HostKeyTrust } = {}): SshSessionOptions {
  const host = { name: 'loopback', address: sshd.address, port: overrides.host?.port ?? sshd.port };
  return {
    host,
    username: sshd.username,
    privateKey: sshd.clientKey.privateKey,
    hostKeys: HostKeyPolicy.forHost(host, overrides.trust ?? { pinned: [sshd.hostKey] }),
    connectTimeoutMs: 5000,
    ...overrides,
  };
}

async function connect(overrides: Parameters<typeof options>[0] = {}): Promise<SshSession> {
  const session = await SshSession.connect(options(overrides));
  sessions.push(session);
  return session;
}

/** Processes under the sshd whose command line contains `text` (the remote side of our commands). */
function remoteProcesses(text: string): number[] {
  return descendantPids(sshd.pid).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(text);
    } catch {
      return false;
    }
  });
}

describe('connecting', () => {
  it('connects when the host key matches the pinned key, its fingerprint or a known_hosts line', async () => {
    for (const trust of [{ pinned: [sshd.hostKey] }, { pinned: [sshd.hostKeyFingerprint] }, { knownHosts: sshd.knownHosts }]) {
      const session = await connect({ trust });
      expect(session.isOpen).toBe(true);
      expect((await session.exec('echo ok')).stdout).toBe('ok\n');
    }
  });

  it('refuses a host whose key is not the pinned one, naming both fingerprints', async () => {
    const other = await generateKeyPair(sshd.dir, 'not-the-host');
    const error = await connect({ trust: { pinned: [other.publicKey] } }).catch((e) => e);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect(error.problem).toBe('changed');
    expect(error.seen.fingerprint).toBe(sshd.hostKeyFingerprint);
    expect(error.message).toContain(sshd.hostKeyFingerprint);
    expect(error.message).toContain(HostKeyPolicy.forHost(error.host, { pinned: [other.publicKey] }).expectedFingerprints[0]);
    expect(error.message).toContain(`loopback (127.0.0.1:${sshd.port})`);
    expect(error.fix).toMatch(/ssh-keygen -lf/);
  });

  it('refuses a host it has no key for: never trust on first use', async () => {
    const error = await connect({ trust: { knownHosts: '# nothing here\n' } }).catch((e) => e);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect(error.problem).toBe('unknown');
    expect(error.message).toContain(sshd.hostKeyFingerprint);
  });

  it('reports a client key the host does not accept as an authentication error', async () => {
    const stranger = await generateKeyPair(sshd.dir, 'stranger');
    const error = await connect({ privateKey: stranger.privateKey }).catch((e) => e);
    expect(error).toBeInstanceOf(HostAuthenticationError);
    expect(error.message).toContain(`as "${sshd.username}"`);
    expect(error.message).not.toContain(stranger.privateKey.toString());
  });

  it('reports an unusable private key without printing it', async () => {
    const garbage = Buffer.from('-----BEGIN OPENSSH PRIVATE KEY-----\nnot really\n-----END OPENSSH PRIVATE KEY-----\n');
    const error = await connect({ privateKey: garbage }).catch((e) => e);
    expect(error).toBeInstanceOf(HostAuthenticationError);
    expect(error.message).not.toContain('not really');
  });

  it('reports a closed port as unreachable', async () => {
    const port = await freePort();
    const error = await connect({ host: { name: 'loopback', address: '127.0.0.1', port } }).catch((e) => e);
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it('gives up on a port that accepts TCP but never speaks SSH', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const error = await connect({ host: { name: 'loopback', address: '127.0.0.1', port }, connectTimeoutMs: 300 }).catch((e) => e);
      expect(error).toBeInstanceOf(HostUnreachableError);
      expect(error.message).toContain('no SSH handshake within 300 ms');
    } finally {
      silent.close();
    }
  });

  it('uses an encrypted private key with its passphrase, and says so without it', async () => {
    const file = path.join(sshd.dir, 'encrypted_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', '2', '-N', 'pass phrase', '-f', file]);
    fs.appendFileSync(path.join(sshd.dir, 'authorized_keys'), fs.readFileSync(`${file}.pub`));
    const privateKey = fs.readFileSync(file);
    const session = await connect({ privateKey, passphrase: 'pass phrase' });
    expect((await session.exec('echo in')).stdout).toBe('in\n');
    const error = await connect({ privateKey }).catch((e) => e);
    expect(error).toBeInstanceOf(HostAuthenticationError);
    expect(error.message).toMatch(/passphrase/);
  });

  it('notices a host that stops answering, through keepalives', async () => {
    const session = await connect({ keepaliveIntervalMs: 100, keepaliveCountMax: 2 });
    const closed = new Promise<HostConnectionLostError>((resolve) => session.once('close', resolve));
    sshd.freezeConnections();
    try {
      const error = await closed;
      expect(error.message).toContain('no answer to SSH keepalives');
      expect(session.isOpen).toBe(false);
    } finally {
      await sshd.dropConnections();
    }
  });

  it('stops connecting when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    await expect(connect({ signal: controller.signal })).rejects.toBeInstanceOf(HostOperationAbortedError);
  });
});

describe('SFTP limits', () => {
  it('times out a read the host cannot finish (a FIFO nobody writes to)', async () => {
    const session = await connect();
    const fifo = path.join(sshd.dir, 'never-written.fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const error = await session.readFile(fifo, { timeoutMs: 300 }).catch((e) => e);
    expect(error).toBeInstanceOf(HostTimeoutError);
    expect(error.message).toContain(`SFTP read of ${fifo}`);
    expect(Date.now() - started).toBeLessThan(2000);
    // The SFTP server is still blocked opening the FIFO and would outlive sshd; release it.
    try {
      fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader left
    }
  });
});

describe('exec', () => {
  it('returns stdout, stderr and the exit code, and feeds stdin', async () => {
    const session = await connect();
    expect(await session.exec('echo out; echo err >&2')).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 0, signal: undefined });
    expect((await session.exec('tr a-z A-Z', { stdin: 'hello' })).stdout).toBe('HELLO');
    expect((await session.exec('cat')).stdout).toBe(''); // stdin is closed, not left open
    expect((await session.exec('echo "$A|$B"', { env: { A: 'one', B: "it's two" } })).stdout).toBe("one|it's two\n");
    expect(await session.exec('echo failed >&2; exit 3', { allowFailure: true })).toMatchObject({ code: 3, stderr: 'failed\n' });
  });

  it('rejects a non-zero exit with RemoteCommandError, secrets masked', async () => {
    const session = await connect();
    const error = await session.exec('echo "token s3cret is bad" >&2; exit 7 # s3cret', { secrets: ['s3cret'] }).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteCommandError);
    expect(error.exitCode).toBe(7);
    expect(error.stderr).toBe('token *** is bad\n');
    expect(error.message).toContain('exited with code 7');
    expect(error.message).not.toContain('s3cret');
  });

  it('reports the exit status of a command that closes its output before it exits', async () => {
    // sshd then sends EOF long before the exit status (only once the process is reaped): the
    // client must keep the channel open for it.
    const session = await connect();
    const result = await session.exec('exec >&- 2>&-; sleep 0.3; exit 3', { allowFailure: true });
    expect(result.code).toBe(3);
    expect((await session.exec('exec >&- 2>&-; sleep 0.3')).code).toBe(0);
  });

  it('streams a Readable into stdin with backpressure, and kills the command when the stream fails', async () => {
    const session = await connect();
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let produced = 0;
    const source = new Readable({
      read() {
        this.push(produced++ < 24 ? chunk : null);
      },
    });
    const { stdout } = await session.exec('sha256sum', { stdin: source });
    const expected = createHash('sha256');
    for (let i = 0; i < 24; i++) expected.update(chunk);
    expect(stdout.split(' ')[0]).toBe(expected.digest('hex'));

    let sent = 0;
    const failing = new Readable({
      read() {
        if (sent++ < 3) this.push(chunk);
        else this.destroy(new Error('the image file could not be read'));
      },
    });
    const error = await session.exec('cat > /dev/null; sleep 33.337', { stdin: failing }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('the image file could not be read');
    expect(remoteProcesses('sleep 33.337')).toEqual([]);
  });

  it('passes arguments quoted with shellQuote through the shell unchanged', async () => {
    const session = await connect();
    const nasty = ["it's", 'a b', '$HOME', '`id`', '"q"', '*', 'new\nline', '', '-n'];
    const { stdout } = await session.exec(`printf '%s|' ${shellQuote(...nasty)}`);
    expect(stdout).toBe(nasty.map((a) => `${a}|`).join(''));
  });

  it('kills a command that outlives its timeout, with everything it started', async () => {
    const session = await connect();
    const started = Date.now();
    const error = await session.exec('sleep 31.337 & sleep 31.338; echo never', { timeoutMs: 700 }).catch((e) => e);
    expect(error).toBeInstanceOf(HostTimeoutError);
    expect(error.timeoutMs).toBe(700);
    expect(error.message).toMatch(/process group \d+ was killed/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(remoteProcesses('sleep 31.33')).toEqual([]);
    expect((await session.exec('echo still usable')).stdout).toBe('still usable\n');
  });

  it('kills the command when the caller aborts', async () => {
    const session = await connect();
    const controller = new AbortController();
    const running = session.exec('sleep 32.337', { signal: controller.signal });
    await waitUntil(() => remoteProcesses('sleep 32.337').length > 0);
    controller.abort(new Error('terraform was interrupted'));
    const error = await running.catch((e) => e);
    expect(error).toBeInstanceOf(HostOperationAbortedError);
    expect(error.message).toContain('terraform was interrupted');
    expect(remoteProcesses('sleep 32.337')).toEqual([]);
  });

  it('never has more session channels open than the cap allows', async () => {
    const session = await connect({ maxChannels: 3 });
    let highest = 0;
    const watch = setInterval(() => (highest = Math.max(highest, session.activeChannels)), 5);
    try {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => session.exec(`sleep 0.2; echo ${i}`)));
      expect(results.map((r) => r.stdout)).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n', '5\n']);
    } finally {
      clearInterval(watch);
    }
    expect(highest).toBe(2); // one slot stays free for killing timed-out commands
  });

  it('fails commands in flight with HostConnectionLostError when the connection drops', async () => {
    const session = await connect();
    const closed = new Promise((resolve) => session.once('close', resolve));
    const running = session.exec('sleep 33.337');
    await waitUntil(() => remoteProcesses('sleep 33.337').length > 0);
    await sshd.dropConnections();
    const error = await running.catch((e) => e);
    expect(error).toBeInstanceOf(HostConnectionLostError);
    expect(error.beforeStart).toBe(false);
    await closed;
    expect(session.isOpen).toBe(false);
    const after = await session.exec('true').catch((e) => e);
    expect(after).toBeInstanceOf(HostConnectionLostError);
    expect(after.beforeStart).toBe(true);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}
