/**
 * From a configured host (HostConfig) to commands on it, against a real OpenSSH sshd on
 * 127.0.0.1: key sources, host key pins, pooling, and every failure as an OrbitError at the
 * resource's host attribute with the fix.
 */
import * as fs from 'fs';
import * as path from 'path';
import { OrbitError } from '../framework/errors';
import { HostConfig } from './provider-context';
import { generateKeyPair, LoopbackSshd, startLoopbackSshd } from '../../test/support/loopback-sshd';
import { freePort } from '../../test/support/ports';
import { hostErrorToOrbitError, SshHostConnector } from './host-connections';
import { HostTimeoutError } from '../ssh/host-errors';
import { sha256Fingerprint } from '../ssh/known-hosts';
import { SshPool } from '../ssh/ssh-pool';
import { orbitErrorOf } from '../../test/support/rejections';

jest.setTimeout(30_000);

let sshd: LoopbackSshd;
let connector: SshHostConnector;
let keyFile: string;

beforeAll(async () => {
  sshd = await startLoopbackSshd();
  keyFile = path.join(sshd.dir, 'client-key-for-test');
  fs.writeFileSync(keyFile, sshd.clientKey.privateKey, { mode: 0o600 });
});
afterAll(async () => {
  await sshd?.stop();
});
beforeEach(() => {
  connector = new SshHostConnector(new SshPool({ connectTimeoutMs: 5000, defaultTimeoutMs: 10_000 }), { ORBIT_TEST_KEY: sshd.clientKey.privateKey.toString() });
});
afterEach(() => connector.close());

function hostConfig(overrides: Partial<HostConfig> = {}): HostConfig {
  const [algorithm, key] = sshd.hostKey.split(' ');
  return {
    name: 'lo',
    address: sshd.address,
    port: sshd.port,
    user: sshd.username,
    privateKey: { kind: 'path', path: keyFile },
    hostKey: { kind: 'public-key', algorithm, key },
    qemuBinary: 'qemu-system-x86_64',
    dataAddress: sshd.address,
    ...overrides,
  };
}

describe('SshHostConnector', () => {
  test('runs commands and moves files over one pooled session per host', async () => {
    const host = connector.connect(hostConfig(), { attribute: ['host'] });
    expect((await host.exec('echo "$((6 * 7))"')).stdout).toBe('42\n');
    const file = path.join(sshd.dir, 'written-by-test');
    await host.writeFile(file, 'hello');
    expect((await host.readFile(file)).toString()).toBe('hello');
    const shells = (await Promise.all([1, 2, 3].map(() => host.exec('echo $$ $PPID')))).map((r) => r.stdout.split(' '));
    expect(new Set(shells.map(([pid]) => pid)).size).toBe(3); // each command its own shell...
    expect(new Set(shells.map(([, parent]) => parent)).size).toBe(1); // ...under one sshd connection
  });

  test('the client key comes from a file, an environment variable or the configuration', async () => {
    const fromEnv = hostConfig({ name: 'env', privateKey: { kind: 'env', variable: 'ORBIT_TEST_KEY' } });
    const inline = hostConfig({ name: 'inline', privateKey: { kind: 'inline', pem: sshd.clientKey.privateKey.toString() } });
    expect((await connector.connect(fromEnv).exec('echo env')).stdout).toBe('env\n');
    expect((await connector.connect(inline).exec('echo inline')).stdout).toBe('inline\n');

    const unset = hostConfig({ name: 'unset', privateKey: { kind: 'env', variable: 'ORBIT_NOT_SET' } });
    const error = await orbitErrorOf(connector.connect(unset, { attribute: ['host'] }).exec('true'));
    expect(error).toMatchObject({ message: 'The environment variable ORBIT_NOT_SET with host "unset"\'s SSH key is not set', attribute: ['host'], value: 'unset' });
  });

  test('the host key may be pinned as a key, a fingerprint or known_hosts lines', async () => {
    const blob = Buffer.from(sshd.hostKey.split(' ')[1], 'base64');
    const byFingerprint = hostConfig({ name: 'fp', hostKey: { kind: 'fingerprint', sha256: sha256Fingerprint(blob) } });
    const byKnownHosts = hostConfig({ name: 'kh', hostKey: { kind: 'known-hosts', content: sshd.knownHosts, source: 'inline' } });
    expect((await connector.connect(byFingerprint).exec('echo fp')).stdout).toBe('fp\n');
    expect((await connector.connect(byKnownHosts).exec('echo kh')).stdout).toBe('kh\n');
  });

  test('a host presenting another key is refused, at the host attribute, with the fix', async () => {
    const other = await generateKeyPair(sshd.dir, 'not-the-host');
    const [algorithm, key] = other.publicKey.split(' ');
    const error = await orbitErrorOf(connector.connect(hostConfig({ hostKey: { kind: 'public-key', algorithm, key } }), { attribute: ['host'] }).exec('touch /tmp/never'));
    expect(error.message).toMatch(/^Refusing to connect: the host key changed: host lo \(127\.0\.0\.1:\d+\) presented ssh-ed25519 key SHA256:/);
    expect(error).toMatchObject({ attribute: ['host'], value: 'lo' });
    expect(error.detail).toBe(`Host "lo" is configured in the provider "orbit" block as 127.0.0.1 port ${sshd.port}.`);
    expect(error.fix).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
  });

  test('unreachable hosts and refused logins say so, with what to check', async () => {
    const port = await freePort();
    const down = await orbitErrorOf(connector.connect(hostConfig({ name: 'down', port }), { attribute: ['host'] }).exec('true'));
    expect(down.message).toBe(`Cannot reach host down (127.0.0.1:${port}) over SSH: connection refused`);
    expect(down.fix).toContain('check that sshd runs on the host');

    const stranger = await generateKeyPair(sshd.dir, 'stranger');
    const refused = await orbitErrorOf(connector.connect(hostConfig({ name: 'refused', privateKey: { kind: 'inline', pem: stranger.privateKey.toString() } })).exec('true'));
    expect(refused.message).toContain(`refused SSH login as "${sshd.username}"`);
    expect(refused.fix).toContain('authorized_keys');
  });

  test('a failed command carries its exit code and stderr; secrets stay out', async () => {
    const error = await orbitErrorOf(connector.connect(hostConfig(), { attribute: ['host'] }).exec('echo "no luck with s3cret" >&2; exit 3', { secrets: ['s3cret'] }));
    expect(error.message).toMatch(/^Command on host lo \(127\.0\.0\.1:\d+\) exited with code 3: /);
    expect(error.detail).toContain('no luck with ***');
    expect(`${error.message}${error.detail}`).not.toContain('s3cret');
  });

  test('hostErrorToOrbitError puts errors at the attribute and leaves other errors alone', () => {
    const timeout = new HostTimeoutError({ name: 'lo', address: '10.0.0.1', port: 22 }, 'command `sleep 9`', 1000);
    expect(hostErrorToOrbitError(timeout, 'lo', ['name'])).toMatchObject({ message: timeout.summary, attribute: ['name'], value: 'lo', fix: timeout.fix });
    const plain = new Error('bug');
    expect(hostErrorToOrbitError(plain, 'lo', ['name'])).toBe(plain);
    const placed = new OrbitError('somewhere', { attribute: ['size_mib'] });
    expect(hostErrorToOrbitError(placed, 'lo', ['host'])).toBe(placed);
    expect(hostErrorToOrbitError(new OrbitError('nowhere'), 'lo', ['host'])).toMatchObject({ message: 'nowhere', attribute: ['host'] });
  });
});
