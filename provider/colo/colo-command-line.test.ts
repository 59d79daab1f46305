import { coloIds, coloPaths, coloPorts, primaryColoArgs, secondaryColoArgs } from './colo-command-line';
import { qemuArgs } from '../qemu/qemu-command-line';
import { validateVmSpec } from '../qemu/vm-spec';

const spec = validateVmSpec({
  name: 'db-1',
  memoryMiB: 256,
  accelerator: 'kvm',
  boot: { kind: 'disk' },
  disks: [
    { path: '/var/lib/orbit/db,1/root.qcow2', format: 'qcow2' },
    { path: '/var/lib/orbit/db-1/data.raw', format: 'raw' },
  ],
  nics: [{ mac: '52:54:00:00:00:07', bridge: 'vmbr0' }],
});

test('ports are derived from the VM name: stable, six distinct, below the ephemeral range', () => {
  const ports = coloPorts('db-1');
  expect(coloPorts('db-1')).toEqual(ports);
  const values = Object.values(ports);
  expect(new Set(values).size).toBe(6);
  for (const port of values) {
    expect(port).toBeGreaterThanOrEqual(20_000);
    expect(port).toBeLessThan(32_768);
  }
  expect(coloPorts('db-2').mirror).not.toBe(ports.mirror);
});

test('the primary: quorum drives around its images, the packet filters and colo-compare, paused, traced', () => {
  const { diskArgs, extraArgs } = primaryColoArgs(spec, '10.0.0.11');
  const args = qemuArgs(spec, { diskArgs, extraArgs });
  const joined = args.join(' ');
  const p = coloPorts('db-1');
  expect(joined).toContain('-drive if=none,id=colo-disk0,driver=quorum,read-pattern=fifo,vote-threshold=1,children.0.file.filename=/var/lib/orbit/db,,1/root.qcow2,children.0.driver=qcow2');
  expect(joined).toContain('-device virtio-blk-pci,id=vblk0,drive=colo-disk0,bootindex=1');
  expect(joined).toContain('children.0.driver=raw');
  expect(joined).not.toContain('-blockdev');
  expect(joined).toContain(`-chardev socket,id=mirror0,host=10.0.0.11,port=${p.mirror},server=on,wait=off`);
  expect(joined).toContain(`-chardev socket,id=compare1,host=10.0.0.11,port=${p.compareSecondary},server=on,wait=off`);
  expect(joined).toContain(`-chardev socket,id=compare0-0,host=127.0.0.1,port=${p.comparePrimary} `);
  expect(joined).toContain('-object filter-mirror,id=m0,netdev=net0,queue=tx,outdev=mirror0');
  expect(joined).toContain('-object filter-redirector,id=redire0,netdev=net0,queue=rx,indev=compare_out');
  expect(joined).toContain('-object filter-redirector,id=redire1,netdev=net0,queue=rx,outdev=compare0');
  expect(joined).toContain('-object colo-compare,id=comp0,primary_in=compare0-0,secondary_in=compare1,outdev=compare_out0,iothread=iothread1');
  expect(args).toContain('-S');
  expect(joined).toContain(`-D ${coloPaths('db-1').traceLog} -trace enable=colo_vm_state_change`);
  // A monitor of its own for failover, next to the driver's.
  expect(joined).toContain('-chardev socket,id=qmp-failover,path=/run/orbit/db-1/qmp-failover.sock,server=on,wait=off -mon chardev=qmp-failover,mode=control');
  expect(joined).toContain('-chardev socket,id=qmp-agent,path=/run/orbit/db-1/qmp-agent.sock,server=on,wait=off -mon chardev=qmp-agent,mode=control');
  expect(joined).toContain('-mon chardev=qmp0,mode=control');
  // The NIC's netdev exists before the filters that name it, and QEMU still daemonizes last.
  expect(args.indexOf('-netdev')).toBeLessThan(args.indexOf('-object'));
  expect(args.slice(-3)).toEqual(['-pidfile', '/run/orbit/db-1/qemu.pid', '-daemonize']);
});

test('the secondary: replication over active and hidden images on tmpfs, redirectors to the primary, incoming', () => {
  const sizes = [10 * 2 ** 30, 2 ** 20];
  const s = secondaryColoArgs(spec, '10.0.0.11', '10.0.0.12', sizes);
  const args = qemuArgs(spec, { diskArgs: s.diskArgs, extraArgs: s.extraArgs, incoming: s.incoming });
  const joined = args.join(' ');
  const p = coloPorts('db-1');
  expect(joined).toContain('-drive if=none,id=parent0,file.filename=/var/lib/orbit/db,,1/root.qcow2,driver=qcow2');
  expect(joined).toContain(
    '-drive if=none,id=childs0,driver=replication,mode=secondary,top-id=colo-disk0,file.driver=qcow2,file.file.filename=/run/orbit/db-1/colo-active0.qcow2,' +
      'file.backing.driver=qcow2,file.backing.file.filename=/run/orbit/db-1/colo-hidden0.qcow2,file.backing.backing=parent0',
  );
  expect(joined).toContain('-drive if=none,id=colo-disk0,driver=quorum,read-pattern=fifo,vote-threshold=1,children.0=childs0');
  expect(joined).toContain('-drive if=none,id=parent1,file.filename=/var/lib/orbit/db-1/data.raw,driver=raw');
  expect(joined).toContain(`-chardev socket,id=red0,host=10.0.0.11,port=${p.mirror},reconnect=1`);
  expect(joined).toContain(`-chardev socket,id=red1,host=10.0.0.11,port=${p.compareSecondary},reconnect=1`);
  expect(joined).toContain('-object filter-redirector,id=f1,netdev=net0,queue=tx,indev=red0');
  expect(joined).toContain('-object filter-redirector,id=f2,netdev=net0,queue=rx,outdev=red1');
  expect(joined).toContain('-object filter-rewriter,id=rew0,netdev=net0,queue=all');
  expect(args[args.indexOf('-incoming') + 1]).toBe(`tcp:10.0.0.12:${p.migration}`);
  expect(args).not.toContain('-S');
  // Active and hidden images have the disk's exact virtual size.
  expect(s.setup).toContain(`qemu-img create -q -f qcow2 /run/orbit/db-1/colo-hidden0.qcow2 ${10 * 2 ** 30}`);
  expect(s.setup).toContain(`qemu-img create -q -f qcow2 /run/orbit/db-1/colo-active1.qcow2 ${2 ** 20}`);
});

test('ids match what the QMP sequences refer to', () => {
  expect(coloIds.quorum(0)).toBe('colo-disk0');
  expect(coloIds.parent(1)).toBe('parent1');
  expect(coloIds.replication(0)).toBe('replication0');
});
