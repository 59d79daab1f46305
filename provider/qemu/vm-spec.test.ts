import { validateVmSpec, VmSpecError, vmSpecDifferences, VmSpecInput } from './vm-spec';

const good: VmSpecInput = {
  name: 'db-1',
  memoryMiB: 256,
  accelerator: 'tcg',
  boot: { kind: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd', append: 'console=ttyS0' },
  disks: [{ path: '/var/lib/orbit/db-1/root.raw', sizeMiB: 16 }],
  nics: [{ mac: '52:54:00:AA:00:01', bridge: 'vmbr0' }],
};

function issuesOf(input: unknown): string[] {
  try {
    validateVmSpec(input);
  } catch (error) {
    expect(error).toBeInstanceOf(VmSpecError);
    return (error as VmSpecError).issues.map((i) => `${i.field}: ${i.problem}`);
  }
  return [];
}

test('fills in the defaults and normalizes MACs', () => {
  expect(validateVmSpec(good)).toEqual({
    name: 'db-1',
    vcpus: 1,
    memoryMiB: 256,
    accelerator: 'tcg',
    qemuBinary: 'qemu-system-x86_64',
    machine: 'pc',
    cpuModel: 'qemu64',
    boot: { kind: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd', append: 'console=ttyS0' },
    disks: [{ path: '/var/lib/orbit/db-1/root.raw', format: 'raw', sizeMiB: 16 }],
    nics: [{ mac: '52:54:00:aa:00:01', bridge: 'vmbr0', model: 'virtio-net-pci' }],
  });
});

test('a validated spec validates to itself (what the driver persists and compares)', () => {
  const spec = validateVmSpec(good);
  expect(validateVmSpec(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
});

test('reports every problem at once, each with field, value and allowed values', () => {
  const issues = issuesOf({
    ...good,
    name: 'DB_1',
    vcpus: 0,
    memoryMiB: 64.5,
    accelerator: 'hvf',
    qemuBinary: 'qemu; rm -rf /',
    disks: [
      { path: 'relative.img', format: 'vmdk' },
      { path: '/a.img', sizeMiB: -1 },
    ],
    nics: [{ mac: '01:00:5e:00:00:01', bridge: 'a-bridge-name-too-long' }],
    extra: true,
  });
  expect(issues).toEqual([
    'extra: unknown field',
    'name: "DB_1" is not a valid VM name (allowed: 1-40 of a-z, 0-9 and "-", starting with a letter)',
    'vcpus: 0 is not an integer from 1 to 255',
    'memoryMiB: 64.5 is not an integer from 64 to 1048576 (MiB)',
    'accelerator: "hvf" is not one of kvm, tcg',
    'qemuBinary: "qemu; rm -rf /" is neither a command name nor an absolute path without spaces',
    'disks[0].path: "relative.img" is not an absolute file path',
    'disks[0].format: "vmdk" is not one of raw, qcow2',
    'disks[1].sizeMiB: -1 is not an integer from 1 to 67108864',
    'nics[0].mac: 01:00:5e:00:00:01 is a multicast address',
    'nics[0].bridge: "a-bridge-name-too-long" is not a Linux interface name (1-15 of letters, digits, "_", "." and "-")',
  ]);
});

test('boot: kernel needs an absolute path, disk boot needs that disk', () => {
  expect(issuesOf({ ...good, boot: { kind: 'kernel', kernel: 'vmlinuz' } })).toEqual(['boot.kernel: "vmlinuz" is not an absolute path']);
  expect(issuesOf({ ...good, disks: [], boot: { kind: 'disk' } })).toEqual(['boot.diskIndex: boot from disk, but the VM has no disks']);
  expect(issuesOf({ ...good, boot: { kind: 'disk', diskIndex: 1 } })).toEqual(['boot.diskIndex: 1 is not a disk index from 0 to 0']);
  expect(issuesOf({ ...good, boot: { kind: 'pxe' } })).toEqual(['boot.kind: "pxe" is not "kernel" or "disk"']);
  expect(validateVmSpec({ ...good, boot: { kind: 'disk' } }).boot).toEqual({ kind: 'disk', diskIndex: 0 });
});

test('duplicate disks and MACs are refused', () => {
  expect(
    issuesOf({
      ...good,
      disks: [{ path: '/a.img' }, { path: '/a.img' }],
      nics: [
        { mac: '52:54:00:00:00:01', bridge: 'b' },
        { mac: '52:54:00:00:00:01', bridge: 'b' },
      ],
    }),
  ).toEqual(['disks[1].path: "/a.img" is used by an earlier disk too', 'nics[1].mac: 52:54:00:00:00:01 is used by an earlier NIC too']);
});

test('the error message names the VM, says nothing started, and gives a fix per problem', () => {
  expect(() => validateVmSpec({ ...good, memoryMiB: 1 })).toThrow(
    /^Invalid spec for VM db-1: 1 problem; nothing was started\n {2}- memoryMiB: 1 is not an integer from 64 to 1048576 \(MiB\)\n {4}Fix: give the guest memory in MiB/,
  );
  expect(() => validateVmSpec(null)).toThrow(/spec: expected an object, got null/);
});

test('differences name the changed fields', () => {
  const a = validateVmSpec(good);
  const b = validateVmSpec({ ...good, memoryMiB: 512, nics: [{ mac: '52:54:00:aa:00:02', bridge: 'vmbr0' }] });
  expect(vmSpecDifferences(a, b)).toEqual(['memoryMiB: 256 -> 512', 'nics[0].mac: "52:54:00:aa:00:01" -> "52:54:00:aa:00:02"']);
  expect(vmSpecDifferences(a, validateVmSpec(good))).toEqual([]);
});

test('a disk made from an image is a qcow2 overlay with a size', () => {
  const image = `/var/lib/orbit/images/${'c'.repeat(64)}`;
  const overlay = { path: '/var/lib/orbit/db-1/disk0.qcow2', format: 'qcow2' as const, sizeMiB: 2048, backingImage: image };
  expect(validateVmSpec({ ...good, disks: [overlay] }).disks).toEqual([overlay]);
  expect(issuesOf({ ...good, disks: [{ ...overlay, format: 'raw' }] })).toEqual(['disks[0].format: "raw": a disk made from an image is a qcow2 overlay']);
  expect(issuesOf({ ...good, disks: [{ path: overlay.path, format: 'qcow2', backingImage: image }] })).toEqual(['disks[0].sizeMiB: a disk made from an image needs its size']);
  expect(issuesOf({ ...good, disks: [{ ...overlay, backingImage: 'images/x' }] })).toEqual(['disks[0].backingImage: "images/x" is not an absolute file path']);
});

test('a CD-ROM is an absolute path, kept only when given (specs without one compare as before)', () => {
  expect(validateVmSpec({ ...good, cdrom: '/var/lib/orbit/db-1/cidata.iso' }).cdrom).toBe('/var/lib/orbit/db-1/cidata.iso');
  expect('cdrom' in validateVmSpec(good)).toBe(false);
  expect(issuesOf({ ...good, cdrom: 'cidata.iso' })).toEqual(['cdrom: "cidata.iso" is not an absolute path']);
  expect(vmSpecDifferences(validateVmSpec(good), validateVmSpec({ ...good, cdrom: '/x.iso' }))).toEqual(['cdrom: unset -> "/x.iso"']);
});
