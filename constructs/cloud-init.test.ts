import { CloudInit } from './cloud-init';
import { synthObject, twoSites } from './test-fixtures';
import { Vm } from './vm';
import { derivedMac } from '../provider/resources/vm-machine';

const disks = [{ sizeMib: 16 }];
const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5dGVzdGtleXRlc3RrZXl0ZXN0a2V5 ops@example';

describe('CloudInit', () => {
  test('basic: hostname, keys and a static address matched to the first NIC by its MAC', () => {
    const { stack } = twoSites();
    new Vm(stack, 'web', {
      disks,
      networks: [{ bridge: 'vmbr0' }],
      cloudInit: CloudInit.basic({ hostname: 'web-1', sshAuthorizedKeys: [key], address: { cidr: '10.0.0.21/24', gateway: '10.0.0.1', nameservers: ['10.0.0.53'] } }),
    });
    const seed = synthObject(stack).resource.orbit_vm.web.cloud_init;
    expect(seed.user_data).toBe(`#cloud-config\nhostname: "web-1"\nssh_authorized_keys:\n  - "${key}"\n`);
    expect(seed.meta_data).toBe('local-hostname: "web-1"\n');
    expect(seed.network_config).toContain(`macaddress: "${derivedMac('web', 0)}"`);
    expect(seed.network_config).toContain('      - 10.0.0.21/24\n    routes:\n      - to: default\n        via: 10.0.0.1\n');
  });

  test('documents pass through as given', () => {
    const { stack } = twoSites();
    new Vm(stack, 'db', { disks, cloudInit: CloudInit.documents({ userData: '#cloud-config\npackages: [redis-server]\n' }) });
    expect(synthObject(stack).resource.orbit_vm.db.cloud_init).toEqual({ user_data: '#cloud-config\npackages: [redis-server]\n' });
  });

  test('bad input names the prop, the value and the fix; a private key is never echoed whole', () => {
    const { stack } = twoSites();
    expect(() => new Vm(stack, 'a', { disks, networks: [{ bridge: 'vmbr0' }], cloudInit: CloudInit.basic({ address: { cidr: '10.0.0.21' } }) })).toThrow(
      /cloudInit.address.cidr.*10\.0\.0\.21[\s\S]*add the prefix length/,
    );
    expect(() => new Vm(stack, 'b', { disks, cloudInit: CloudInit.basic({ address: { cidr: '10.0.0.21/24' } }) })).toThrow(/the VM has no NIC/);
    const secret = '-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz';
    let message = '';
    try {
      new Vm(stack, 'c', { disks, cloudInit: CloudInit.basic({ sshAuthorizedKeys: [secret] }) });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/not an OpenSSH public key[\s\S]*never the private one/);
    expect(message).not.toContain(secret);
  });
});
