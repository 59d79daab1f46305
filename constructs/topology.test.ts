import { Testing, TerraformStack } from 'cdktf';
import { OrbitValidationError } from './errors';
import { HostKey } from './host-key';
import { SshKey } from './ssh-key';
import { hostProps, synthObject, testStack, twoSites } from './test-fixtures';
import { Topology } from './topology';
import { Vm } from './vm';

/** Something to boot from (a VM needs a disk or a kernel). */
const disks = [{ sizeMib: 16 }];

describe('Topology', () => {
  test('synth snapshot: the provider is configured with every host, pins and keys included', () => {
    const { stack } = twoSites();
    expect(Testing.synth(stack)).toMatchSnapshot();
  });

  test('host props map to the provider hosts block', () => {
    const stack = testStack();
    const topology = new Topology(stack, 'Topology', { etcd: { endpoints: ['https://10.0.0.2:2379'], caPath: '/etc/orbit/ca.pem' } });
    topology.addSite('a').addHost('kvm-1', {
      address: 'kvm-1.example.net',
      sshPort: 2222,
      sshUser: 'orbit',
      sshKey: SshKey.fromEnvironment('ORBIT_SSH_KEY'),
      hostKey: HostKey.knownHosts('/etc/orbit/known_hosts'),
      qemuBinary: '/opt/qemu/bin/qemu-system-x86_64',
      dataAddress: '10.99.0.11',
    });
    const provider = synthObject(stack).provider.orbit[0];
    expect(provider).toEqual({
      etcd: { endpoints: ['https://10.0.0.2:2379'], ca_path: '/etc/orbit/ca.pem' },
      hosts: [
        {
          name: 'kvm-1',
          address: 'kvm-1.example.net',
          port: 2222,
          user: 'orbit',
          private_key_env: 'ORBIT_SSH_KEY',
          known_hosts: '/etc/orbit/known_hosts',
          qemu_binary: '/opt/qemu/bin/qemu-system-x86_64',
          data_address: '10.99.0.11',
        },
      ],
    });
  });

  test('Topology.of finds the topology of the stack', () => {
    const { stack, topology } = twoSites();
    expect(Topology.of(stack)).toBe(topology);
    expect(topology.host('b1').site.siteName).toBe('b');
    expect(topology.witnessSites.map((s) => s.siteName)).toEqual(['witness']);
  });

  test('throws if a VM is declared in a stack without a topology', () => {
    const stack = testStack();
    expect(() => new Vm(stack, 'web', { disks })).toThrow(/\[test\/web\] The stack "test" has no Topology.*Fix: create one first/);
  });

  test('throws if a stack gets a second topology', () => {
    const { stack } = twoSites();
    expect(() => new Topology(stack, 'Other')).toThrow(OrbitValidationError);
    expect(() => new Topology(stack, 'Another')).toThrow(/\[test\/Another\] The stack already has a Topology \(test\/Topology\)/);
  });

  test('throws if two hosts share a name', () => {
    const { topology } = twoSites();
    expect(() => topology.sites[1].addHost('x', hostProps('10.0.9.9', { name: 'a1' }))).toThrow(
      /\[test\/Topology\/b\/x\] Another host \(test\/Topology\/a\/a1\) is already named "a1".*Got name = "a1".*Fix: give every host a unique name/,
    );
  });

  test('throws if a host name or port is invalid, naming the prop and the value', () => {
    const { topology } = twoSites();
    expect(() => topology.sites[0].addHost('bad name', hostProps('10.0.9.9'))).toThrow(/Got name = "bad name"/);
    expect(() => topology.sites[0].addHost('p', hostProps('10.0.9.9', { sshPort: 70000 }))).toThrow(/sshPort must be a whole number from 1 to 65535\. Got sshPort = 70000/);
  });

  test('throws if a host key is not a key or fingerprint', () => {
    expect(() => HostKey.publicKey('not-a-key')).toThrow(/is not an SSH public key.*Fix: copy \/etc\/ssh\/ssh_host_ed25519_key.pub/);
    expect(() => HostKey.fingerprint('SHA256:short')).toThrow(/is not a SHA-256 fingerprint/);
  });

  test('host.toProviderHost leaves unset props out', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    const host = new Topology(stack, 'T').addSite('a').addHost('h', hostProps('10.0.0.1'));
    expect(host.toProviderHost()).toMatchObject({ name: 'h', address: '10.0.0.1', privateKeyPath: '/keys/orbit' });
  });
});
