import * as path from 'path';
import { HighlyAvailableVm } from './highly-available-vm';
import { Image } from './image';
import { DiskFormat } from './machine';
import { synthObject, twoSites } from './test-fixtures';
import { Vm } from './vm';

const sha256 = 'ab'.repeat(32);

describe('Image', () => {
  test('synthesizes orbit_image with an absolute source and the host names; a Vm disk takes its path', () => {
    const { stack, a1, b1 } = twoSites();
    const debian = new Image(stack, 'debian', { source: 'images/debian.qcow2', sha256, hosts: [a1, b1] });
    new Vm(stack, 'web', { host: a1, disks: [{ image: debian, sizeMib: 4096 }] });
    const synth = synthObject(stack);
    expect(synth.resource.orbit_image.debian).toMatchObject({ name: 'debian', source: path.resolve('images/debian.qcow2'), sha256, hosts: ['a1', 'b1'] });
    expect(synth.resource.orbit_vm.web.disk).toEqual([{ size_mib: 4096, image: '${orbit_image.debian.path}' }]);
  });

  test('a URL source is kept as it is', () => {
    const { stack, a1 } = twoSites();
    new Image(stack, 'cloud', { source: 'https://cloud.debian.org/images/debian-12-genericcloud-amd64.qcow2', sha256, hosts: [a1] });
    expect(synthObject(stack).resource.orbit_image.cloud.source).toBe('https://cloud.debian.org/images/debian-12-genericcloud-amd64.qcow2');
  });

  test('throws on a bad sum, no hosts or a host twice, naming the prop and the fix', () => {
    const { stack, a1 } = twoSites();
    expect(() => new Image(stack, 'a', { source: '/x.qcow2', sha256: 'ABC', hosts: [a1] })).toThrow(/\[test\/a\] sha256 is not valid\. Got sha256 = "ABC"\. Allowed: 64 lowercase hexadecimal digits/);
    expect(() => new Image(stack, 'b', { source: '/x.qcow2', sha256, hosts: [] })).toThrow(/\[test\/b\] The image is placed on no host/);
    expect(() => new Image(stack, 'c', { source: '/x.qcow2', sha256, hosts: [a1, a1] })).toThrow(/Host "a1" is listed twice/);
  });

  test('a Vm whose host does not have the image, or a raw disk from an image, is refused at synth', () => {
    const { stack, a1, b1 } = twoSites();
    const onlyA = new Image(stack, 'only-a', { source: '/x.qcow2', sha256, hosts: [a1] });
    expect(() => new Vm(stack, 'web', { host: b1, disks: [{ image: onlyA, sizeMib: 4096 }] })).toThrow(
      /\[test\/web\] disks\[0\] starts from image "only-a", which is not placed on host "b1"\. .*Allowed: an image whose hosts include "b1" \(it has "a1"\)\. Fix: add "b1" to the image.s hosts/,
    );
    expect(() => new Vm(stack, 'raw', { host: a1, disks: [{ image: onlyA, sizeMib: 4096, format: DiskFormat.RAW }] })).toThrow(/cannot be raw/);
  });

  test('a HighlyAvailableVm disk from an image needs the image on both hosts and every spare', () => {
    const { stack, a1, a2, b1, b2 } = twoSites();
    const three = new Image(stack, 'three', { source: '/x.qcow2', sha256, hosts: [a1, b1, a2] });
    new HighlyAvailableVm(stack, 'db', { primaryHost: a1, secondaryHost: b1, spareHosts: [a2], disks: [{ image: three, sizeMib: 4096 }], network: { bridge: 'vmbr0' } });
    expect(synthObject(stack).resource.orbit_ft_vm.db.disk).toEqual([{ size_mib: 4096, image: '${orbit_image.three.path}' }]);
    expect(() => new HighlyAvailableVm(stack, 'db2', { primaryHost: a1, secondaryHost: b1, spareHosts: [b2], disks: [{ image: three, sizeMib: 4096 }], network: { bridge: 'vmbr0' } })).toThrow(
      /disks\[0\] starts from image "three", which is not placed on spareHosts\[0\] "b2"\./,
    );
  });
});
