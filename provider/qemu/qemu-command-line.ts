/**
 * A validated VmSpec as a QEMU command line, and where a VM's files live on its host:
 *   /run/orbit/<vm>/qmp.sock, console.sock, qemu.pid   (sockets and pid; gone with the host's /run)
 *   /var/lib/orbit/<vm>/spec.json, serial.log   (state that survives reboots)
 * Taps get deterministic names per VM and NIC, so every step can find (and remove) them again.
 */
import { createHash } from 'crypto';
import { VmDisk, VmSpec } from './vm-spec';

export interface VmPaths {
  runDir: string;
  stateDir: string;
  qmpSocket: string;
  /** The serial console: one operator at a time connects (over SSH stream-local forwarding); everything is also logged to serialLog. */
  consoleSocket: string;
  pidFile: string;
  serialLog: string;
  specFile: string;
  /** Present while the VM is the destination of a migration that has not finished. */
  incomingMarker: string;
}

export const RUN_ROOT = '/run/orbit';
export const STATE_ROOT = '/var/lib/orbit';

export function vmPaths(name: string): VmPaths {
  const runDir = `${RUN_ROOT}/${name}`;
  const stateDir = `${STATE_ROOT}/${name}`;
  return {
    runDir,
    stateDir,
    qmpSocket: `${runDir}/qmp.sock`,
    consoleSocket: `${runDir}/console.sock`,
    pidFile: `${runDir}/qemu.pid`,
    serialLog: `${stateDir}/serial.log`,
    specFile: `${stateDir}/spec.json`,
    incomingMarker: `${stateDir}/incoming`,
  };
}

/**
 * `<first 5 chars of the name><6 hex of its hash>` + `n<index>`: at most 14 characters (Linux
 * allows 15), readable enough to spot in `ip link`, and distinct for names sharing a prefix.
 */
export function tapPrefix(name: string): string {
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 6);
  return `${name.slice(0, 5)}${hash}n`;
}

export function tapName(name: string, nicIndex: number): string {
  return `${tapPrefix(name)}${nicIndex}`;
}

/** Ids QMP commands use to refer to a VM's devices and block nodes. */
export const vmIds = {
  disk: (i: number) => `disk${i}`,
  diskFile: (i: number) => `disk${i}-file`,
  diskDevice: (i: number) => `vblk${i}`,
  netdev: (i: number) => `net${i}`,
  nic: (i: number) => `nic${i}`,
  cdrom: 'cdrom0',
  cdromDevice: 'cd0',
  serial: 'serial0',
  balloon: 'balloon0',
  qmp: 'qmp0',
} as const;

export interface QemuArgsOptions {
  /** `-incoming` value for a migration destination, e.g. `defer` or `tcp:10.0.0.12:49152`. */
  incoming?: string;
  /** Replaces the block arguments of each disk (COLO wraps disks in quorum/replication drives). */
  diskArgs?: (disk: VmDisk, index: number) => string[];
  /** Appended after the devices (before `-incoming`): extra objects, chardevs, `-S`, tracing. */
  extraArgs?: string[];
}

/** QEMU's option syntax doubles commas inside values. */
export const qemuValue = (text: string) => text.replace(/,/g, ',,');

/** Arguments after the binary. Daemonizes with a pidfile, so the VM outlives the SSH session that starts it. */
export function qemuArgs(spec: VmSpec, options: QemuArgsOptions = {}): string[] {
  const paths = vmPaths(spec.name);
  const args = [
    '-name',
    `guest=${spec.name},debug-threads=on`,
    '-machine',
    spec.machine,
    '-accel',
    spec.accelerator,
    '-cpu',
    spec.cpuModel,
    '-m',
    String(spec.memoryMiB),
    '-smp',
    String(spec.vcpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-msg',
    'timestamp=on',
    // A socket for the console with the log beside it: QEMU logs the output whether or not anyone is connected.
    '-chardev',
    `socket,id=${vmIds.serial},path=${qemuValue(paths.consoleSocket)},server=on,wait=off,logfile=${qemuValue(paths.serialLog)},logappend=on`,
    '-serial',
    `chardev:${vmIds.serial}`,
    '-chardev',
    `socket,id=${vmIds.qmp},path=${qemuValue(paths.qmpSocket)},server=on,wait=off`,
    '-mon',
    `chardev=${vmIds.qmp},mode=control`,
  ];
  if (spec.boot.kind === 'kernel') {
    args.push('-kernel', spec.boot.kernel);
    if (spec.boot.initrd !== undefined) args.push('-initrd', spec.boot.initrd);
    if (spec.boot.append !== undefined) args.push('-append', spec.boot.append);
  }
  spec.disks.forEach((disk, i) => {
    if (options.diskArgs) {
      args.push(...options.diskArgs(disk, i));
      return;
    }
    const bootIndex = spec.boot.kind === 'disk' && spec.boot.diskIndex === i ? ',bootindex=1' : '';
    args.push(
      '-blockdev',
      `driver=file,node-name=${vmIds.diskFile(i)},filename=${qemuValue(disk.path)}`,
      '-blockdev',
      `driver=${disk.format},node-name=${vmIds.disk(i)},file=${vmIds.diskFile(i)}`,
      '-device',
      `virtio-blk-pci,id=${vmIds.diskDevice(i)},drive=${vmIds.disk(i)}${bootIndex}`,
    );
  });
  spec.nics.forEach((nic, i) => {
    // No vhost and no vnet header: COLO's network filters need plain frames.
    args.push(
      '-netdev',
      `tap,id=${vmIds.netdev(i)},ifname=${tapName(spec.name, i)},script=no,downscript=no,vhost=off,vnet_hdr=off`,
      '-device',
      `${nic.model},id=${vmIds.nic(i)},netdev=${vmIds.netdev(i)},mac=${nic.mac}`,
    );
  });
  if (spec.cdrom !== undefined) {
    // An IDE CD-ROM (pc and q35 both have the bus built in): removable, so QMP can change its media live.
    args.push('-drive', `if=none,id=${vmIds.cdrom},media=cdrom,readonly=on,format=raw,file=${qemuValue(spec.cdrom)}`, '-device', `ide-cd,id=${vmIds.cdromDevice},drive=${vmIds.cdrom}`);
  }
  // Every VM gets a memory balloon: memory changes within the started size are live (QMP `balloon`).
  args.push('-device', `virtio-balloon-pci,id=${vmIds.balloon}`);
  if (options.extraArgs) args.push(...options.extraArgs);
  if (options.incoming !== undefined) args.push('-incoming', options.incoming);
  args.push('-pidfile', paths.pidFile, '-daemonize');
  return args;
}
