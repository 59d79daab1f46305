import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Diagnostics } from './protocol/diagnostics';
import { createLogger } from './protocol/logger';
import { completeBlockValue } from './protocol/schema';
import { ProviderContext } from './config/provider-context';
import { orbitProvider, orbitProviderSchema, sshFingerprint } from './provider';

const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-provider-config-'));
const keyFile = path.join(dir, 'id_ed25519');
fs.writeFileSync(keyFile, 'not really a key');

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function host(overrides: Record<string, unknown>) {
  return { name: 'a', address: '10.0.0.1', port: 22, user: 'root', private_key_path: keyFile, host_key: `ssh-ed25519 ${KEY}`, ...overrides };
}

async function configure(config: Record<string, unknown>): Promise<{ context: ProviderContext; diagnostics: Diagnostics }> {
  const diagnostics = new Diagnostics();
  const value = completeBlockValue(orbitProviderSchema.block, config) as never;
  const context = await orbitProvider.configure({ config: value, terraformVersion: '1.11.4', diagnostics, logger: createLogger({ level: 'off' }) });
  return { context, diagnostics };
}

describe('orbit provider configuration', () => {
  test('an empty configuration is valid (cdktf get configures the provider with {})', async () => {
    const { context, diagnostics } = await configure({});
    expect(diagnostics.items).toEqual([]);
    expect(context.hosts.size).toBe(0);
    expect(context.etcd).toBeUndefined();
  });

  test('hosts are parsed into the context resources receive', async () => {
    const fingerprint = sshFingerprint(KEY);
    const { context, diagnostics } = await configure({
      hosts: [host({}), host({ name: 'b', address: '10.0.0.2', port: 2222, user: 'orbit', host_key: fingerprint, private_key_path: null, private_key: 'PEM' })],
      etcd: { endpoints: ['http://10.0.0.9:2379'], ca_path: null, cert_path: null, key_path: null },
    });
    expect(diagnostics.items).toEqual([]);
    expect(context.host('a')).toMatchObject({ port: 22, user: 'root', privateKey: { kind: 'path', path: keyFile }, hostKey: { kind: 'public-key', algorithm: 'ssh-ed25519', key: KEY } });
    expect(context.host('b')).toMatchObject({ port: 2222, user: 'orbit', privateKey: { kind: 'inline', pem: 'PEM' }, hostKey: { kind: 'fingerprint', sha256: fingerprint } });
    expect(context.etcd).toEqual({ endpoints: ['http://10.0.0.9:2379'], caPath: undefined, certPath: undefined, keyPath: undefined });
    expect(() => context.host('c')).toThrow('Unknown host "c"');
  });

  test('known_hosts as a file must contain the host (hashed or plain, with its port)', async () => {
    const file = path.join(dir, 'known_hosts');
    fs.writeFileSync(file, `[10.0.0.1]:2222 ssh-ed25519 ${KEY}\n`);
    const ok = await configure({ hosts: [host({ host_key: null, known_hosts: file, port: 2222 })] });
    expect(ok.diagnostics.items).toEqual([]);
    expect(ok.context.host('a').hostKey).toMatchObject({ kind: 'known-hosts', source: file });
    const missing = await configure({ hosts: [host({ host_key: null, known_hosts: file })] });
    expect(missing.diagnostics.items[0]).toMatchObject({ summary: 'known_hosts has no key for host "a" (10.0.0.1)', path: ['hosts', 0, 'known_hosts'] });
  });

  test('a known_hosts line that cannot be read is an error naming the line, never skipped', async () => {
    const content = `10.0.0.1 ssh-ed25519 ${KEY}\n10.0.0.9 ssh-rsa ${KEY}\n`;
    const { diagnostics } = await configure({ hosts: [host({ host_key: null, known_hosts: content })] });
    expect(diagnostics.items).toHaveLength(1);
    expect(diagnostics.items[0]).toMatchObject({
      summary: 'Host "a"\'s known_hosts cannot be used: the key data is for "ssh-ed25519", but the line says "ssh-rsa"',
      path: ['hosts', 0, 'known_hosts'],
    });
    expect(diagnostics.items[0].detail).toContain('The problem is on line 2.');
  });

  test('a key in an environment variable that is not set is named with the fix', async () => {
    delete process.env.ORBIT_TEST_MISSING_KEY;
    const { diagnostics } = await configure({ hosts: [host({ private_key_path: null, private_key_env: 'ORBIT_TEST_MISSING_KEY' })] });
    expect(diagnostics.items[0].summary).toBe('The environment variable ORBIT_TEST_MISSING_KEY for host "a"\'s SSH key is not set');
    expect(diagnostics.items[0].detail).toContain('Fix: export ORBIT_TEST_MISSING_KEY');
  });

  test('duplicate names, two key sources and an unreadable key file are each reported', async () => {
    const { diagnostics } = await configure({
      hosts: [host({}), host({ private_key: 'PEM' }), host({ name: 'c', private_key_path: '/nonexistent/key' })],
    });
    const summaries = diagnostics.items.map((d) => d.summary);
    expect(summaries).toContain('Host "a" is configured twice (hosts[0] and hosts[1])');
    expect(summaries).toContain('Host "a" has more than one SSH client key');
    expect(summaries).toContain('Host "c"\'s SSH key /nonexistent/key cannot be read');
  });

  test('etcd TLS needs both certificate and key', async () => {
    const { diagnostics } = await configure({ etcd: { endpoints: ['https://e:2379'], ca_path: null, cert_path: '/c.pem', key_path: null } });
    expect(diagnostics.items[0]).toMatchObject({ summary: 'etcd TLS client authentication needs both cert_path and key_path', path: ['etcd'] });
  });
});
