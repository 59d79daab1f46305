import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import { Boot } from './boot';
import { Accelerator, DiskFormat, NicModel } from './machine';
import { rankHosts } from './scheduler';
import { synthObject, twoSites } from './test-fixtures';
import { Vm } from './vm';

/** Something to boot from (a VM needs a disk or a kernel). */
const disks = [{ sizeMib: 16 }];

describe('Vm', () => {
  test('synth snapshot', () => {
    const { stack, b1 } = twoSites();
    new Vm(stack, 'build', {
      host: b1,
      vcpus: 2,
      memoryMib: 1024,
      maxMemoryMib: 2048,
      boot: Boot.kernel({ kernelPath: '/var/lib/orbit/images/vmlinuz', initrdPath: '/var/lib/orbit/images/initrd.img', cmdline: 'console=ttyS0' }),
      disks: [{ sizeMib: 8192, format: DiskFormat.RAW }],
      networks: [{ bridge: 'vmbr0', mac: '52:54:00:12:34:56', model: NicModel.E1000 }],
      accelerator: Accelerator.KVM,
      machine: 'pc-i440fx-7.2',
      cpuModel: 'qemu64',
      stopTimeoutMs: 10000,
      running: false,
      migrationPostcopyAfterMs: 3000,
    });
    expect(Testing.synth(stack)).toMatchSnapshot();
  });

  test('stable logical ID: the construct path, whatever else the stack holds', () => {
    const { stack } = twoSites();
    new Vm(stack, 'first', { disks });
    new Vm(stack, 'build', { disks });
    expect(Object.keys(synthObject(stack).resource.orbit_vm).sort()).toEqual(['build', 'first']);

    const other = twoSites();
    new Vm(other.stack, 'build', { disks });
    expect(Object.keys(synthObject(other.stack).resource.orbit_vm)).toEqual(['build']);
  });

  test('stable logical ID inside a construct: the path below the stack', () => {
    const { stack } = twoSites();
    new Vm(new Construct(stack, 'app'), 'web', { disks });
    expect(Object.keys(synthObject(stack).resource.orbit_vm)).toEqual(['app_web']);
  });

  test('the VM name defaults to the construct id, lower-cased', () => {
    const { stack } = twoSites();
    const vm = new Vm(stack, 'Build_Server', { disks });
    expect(vm.vmName).toBe('build-server');
    expect(synthObject(stack).resource.orbit_vm.Build_Server.name).toBe('build-server');
  });

  test('automatic placement is deterministic: the first host in rendezvous order for the VM name', () => {
    const { stack, topology } = twoSites();
    const vm = new Vm(stack, 'batch', { disks });
    const nonWitness = topology.hosts.filter((h) => !h.isWitness);
    expect(vm.host).toBe(rankHosts('batch', nonWitness)[0]);
    const again = twoSites();
    expect(new Vm(again.stack, 'batch', { disks }).host.hostName).toBe(vm.host.hostName);
  });

  test('automatic placement respects capacity and skips witness hosts', () => {
    const { stack, topology } = twoSites({ host: { memoryMib: 1024 } });
    const vms = ['v1', 'v2', 'v3', 'v4'].map((id) => new Vm(stack, id, { disks, memoryMib: 1024 }));
    // Four hosts of 1024 MiB: one VM each, never the witness.
    expect(new Set(vms.map((v) => v.host.hostName)).size).toBe(4);
    expect(vms.some((v) => v.host.isWitness)).toBe(false);
    expect(topology.hosts.filter((h) => !h.isWitness).every((h) => topology.loadOn(h).memoryMib === 1024)).toBe(true);
  });

  test('throws if placed on a witness host', () => {
    const { stack, witness } = twoSites();
    expect(() => new Vm(stack, 'web', { disks, host: witness })).toThrow(
      /\[test\/web\] host "w1" is in the witness site "witness", which runs no VMs\. Got host = "w1"\. Allowed: "a1", "a2", "b1", "b2"\. Fix: pick a host in another site/,
    );
  });

  test('throws if a prop is out of range, naming the path, prop, value and fix', () => {
    const { stack } = twoSites();
    expect(() => new Vm(stack, 'a', { disks, vcpus: 0 })).toThrow(/\[test\/a\] vcpus must be a whole number from 1 to 255\. Got vcpus = 0\..*Fix:/);
    expect(() => new Vm(stack, 'b', { disks, memoryMib: 1024, maxMemoryMib: 512 })).toThrow(/maxMemoryMib \(512\) is below memoryMib \(1024\)/);
    expect(() => new Vm(stack, 'c', { disks, networks: [{ bridge: 'a bridge with spaces' }] })).toThrow(/Got networks\[0\]\.bridge = "a bridge with spaces"/);
    expect(() => new Vm(stack, '9lives', { disks })).toThrow(/Got name \(from the construct id\) = "9lives".*Fix: set name explicitly/);
    expect(() => Boot.kernel({ kernelPath: 'vmlinuz' })).toThrow(/kernelPath = "vmlinuz" is not valid/);
  });

  test('throws if two constructs map to one logical ID', () => {
    const { stack } = twoSites();
    new Vm(stack, 'a.b', { disks, name: 'one' });
    expect(() => new Vm(stack, 'a_b', { disks, name: 'two' })).toThrow(/\[test\/a_b\/Resource\] Its terraform address orbit_vm\.a_b is already taken by test\/a\.b\/Resource/);
  });

  test('throws if the VM has nothing to boot', () => {
    const { stack } = twoSites();
    expect(() => new Vm(stack, 'empty')).toThrow(/\[test\/empty\] The VM has nothing to boot: it boots from its first disk \(the default boot\) but has no disks\. Got disks = \[\]\. Fix: add a disk/);
    expect(() => new Vm(stack, 'kernel', { boot: Boot.kernel({ kernelPath: '/boot/vmlinuz' }) })).not.toThrow();
  });

  test('throws if two VMs share a name', () => {
    const { stack } = twoSites();
    new Vm(stack, 'web', { disks });
    expect(() => new Vm(stack, 'web2', { disks, name: 'web' })).toThrow(/The VM name "web" is already used by test\/web/);
  });
});
