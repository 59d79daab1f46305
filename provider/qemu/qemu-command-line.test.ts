import { qemuArgs, tapName, tapPrefix, vmPaths } from './qemu-command-line';
import { validateVmSpec } from './vm-spec';

const spec = validateVmSpec({
  name: 'web-frontend-7',
  memoryMiB: 512,
  vcpus: 2,
  accelerator: 'kvm',
  boot: { kind: 'disk' },
  disks: [{ path: '/var/lib/orbit/web,1/root.qcow2', format: 'qcow2' }],
  nics: [
    { mac: '52:54:00:00:00:07', bridge: 'vmbr0' },
    { mac: '52:54:00:00:00:08', bridge: 'vmbr1', model: 'e1000' },
  ],
});

test('paths follow the design: sockets and pid in /run/orbit/<vm>, state in /var/lib/orbit/<vm>', () => {
  expect(vmPaths('db')).toEqual({
    runDir: '/run/orbit/db',
    stateDir: '/var/lib/orbit/db',
    qmpSocket: '/run/orbit/db/qmp.sock',
    consoleSocket: '/run/orbit/db/console.sock',
    pidFile: '/run/orbit/db/qemu.pid',
    serialLog: '/var/lib/orbit/db/serial.log',
    specFile: '/var/lib/orbit/db/spec.json',
    incomingMarker: '/var/lib/orbit/db/incoming',
  });
});

test('tap names are deterministic, at most 15 characters, and differ for names sharing a prefix', () => {
  const longest = 'a'.repeat(40);
  expect(tapName(longest, 7)).toHaveLength(13);
  expect(tapName(longest, 15).length).toBeLessThanOrEqual(15);
  expect(tapName('web-frontend-7', 0)).toBe(tapName('web-frontend-7', 0));
  expect(tapName('web-frontend-7', 0)).toMatch(/^web-f[0-9a-f]{6}n0$/);
  expect(tapPrefix('web-frontend-7')).not.toBe(tapPrefix('web-frontend-8'));
});

test('the command line daemonizes with the pidfile, QMP socket, serial log, disks and taps', () => {
  const args = qemuArgs(spec);
  const joined = args.join(' ');
  expect(args.slice(0, 2)).toEqual(['-name', 'guest=web-frontend-7,debug-threads=on']);
  expect(joined).toContain('-accel kvm -cpu qemu64 -m 512 -smp 2 -nodefaults');
  expect(joined).toContain('-chardev socket,id=qmp0,path=/run/orbit/web-frontend-7/qmp.sock,server=on,wait=off -mon chardev=qmp0,mode=control');
  expect(joined).toContain(
    '-chardev socket,id=serial0,path=/run/orbit/web-frontend-7/console.sock,server=on,wait=off,logfile=/var/lib/orbit/web-frontend-7/serial.log,logappend=on -serial chardev:serial0',
  );
  // Commas in paths are doubled, as QEMU's option syntax wants.
  expect(joined).toContain('-blockdev driver=file,node-name=disk0-file,filename=/var/lib/orbit/web,,1/root.qcow2 -blockdev driver=qcow2,node-name=disk0,file=disk0-file');
  expect(joined).toContain('-device virtio-blk-pci,id=vblk0,drive=disk0,bootindex=1');
  expect(joined).toContain(
    `-netdev tap,id=net0,ifname=${tapName('web-frontend-7', 0)},script=no,downscript=no,vhost=off,vnet_hdr=off -device virtio-net-pci,id=nic0,netdev=net0,mac=52:54:00:00:00:07`,
  );
  expect(joined).toContain(`ifname=${tapName('web-frontend-7', 1)},`);
  expect(joined).toContain('-device e1000,id=nic1,netdev=net1,mac=52:54:00:00:00:08');
  expect(joined).toContain('-device virtio-balloon-pci,id=balloon0');
  expect(args.slice(-3)).toEqual(['-pidfile', '/run/orbit/web-frontend-7/qemu.pid', '-daemonize']);
  expect(args).not.toContain('-kernel');
  expect(args).not.toContain('-incoming');
});

test('a migration destination gets -incoming', () => {
  const args = qemuArgs(spec, { incoming: 'defer' });
  expect(args[args.indexOf('-incoming') + 1]).toBe('defer');
});

test('direct kernel boot passes kernel, initrd and append as single arguments', () => {
  const args = qemuArgs(validateVmSpec({ name: 'g', memoryMiB: 128, accelerator: 'tcg', boot: { kind: 'kernel', kernel: '/k', initrd: '/i', append: 'console=ttyS0 orbit.ip=10.0.0.1/24' } }));
  expect(args.slice(args.indexOf('-kernel'), args.indexOf('-kernel') + 6)).toEqual(['-kernel', '/k', '-initrd', '/i', '-append', 'console=ttyS0 orbit.ip=10.0.0.1/24']);
});

test('a CD-ROM is a read-only IDE drive (removable: its media can change while the VM runs)', () => {
  expect(qemuArgs(spec).join(' ')).not.toContain('ide-cd');
  const joined = qemuArgs(validateVmSpec({ ...spec, cdrom: '/var/lib/orbit/web,1/cidata.iso' })).join(' ');
  expect(joined).toContain('-drive if=none,id=cdrom0,media=cdrom,readonly=on,format=raw,file=/var/lib/orbit/web,,1/cidata.iso -device ide-cd,id=cd0,drive=cdrom0');
});
