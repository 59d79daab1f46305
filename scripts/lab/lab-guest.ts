import { shellQuote } from '../../provider/ssh/remote-exec';
import { SshSession } from '../../provider/ssh/ssh-session';
import { guestArtifacts, guestQemuArgs } from '../guest/guest';
import { LabHost } from './description';

/**
 * The test guest started by hand on a lab host (no provider involved): used by the lab's own
 * tests and the foundation demo to prove that hosts can run QEMU and reach each other's guests.
 */

export interface LabGuest {
  host: string;
  name: string;
  ip: string;
  mac: string;
  pid: number;
  tap: string;
  /** Directory on the host (under its private /var/lib/orbit) holding the guest's raw disk. */
  dir: string;
  serialPath: string;
  diskPath: string;
}

/** 52:54:00:89:00:<last octet>: unique per guest address on the lab's VM network. */
export function labGuestMac(ip: string): string {
  const last = Number(ip.split('.')[3]);
  return `52:54:00:89:00:${last.toString(16).padStart(2, '0')}`;
}

export async function startLabGuest(session: SshSession, host: LabHost, opts: { name: string; ip: string; accel: 'kvm' | 'tcg'; memoryMiB?: number }): Promise<LabGuest> {
  if (!/^[a-z0-9-]{1,12}$/.test(opts.name)) throw new Error(`Invalid lab guest name "${opts.name}": 1-12 of a-z, 0-9, "-".`);
  const dir = `/var/lib/orbit/lab-guests/${opts.name}`;
  const run = `/run/orbit/lab-guests/${opts.name}`;
  const tap = `tg-${opts.name}`;
  const mac = labGuestMac(opts.ip);
  const serialPath = `${run}/serial.log`;
  const diskPath = `${dir}/disk.raw`;
  const { kernelPath, initrdPath } = guestArtifacts();
  const qemu = guestQemuArgs({
    name: opts.name,
    accel: opts.accel,
    memoryMiB: opts.memoryMiB ?? 128,
    vcpus: 1,
    serialPath,
    guest: { ip: `${opts.ip}/24` },
    netdev: { kind: 'tap', ifname: tap, mac },
    diskPath,
    diskFormat: 'raw',
    kernelPath,
    initrdPath,
  });
  const script = [
    'set -e',
    // A guest of the same name left by an interrupted run is replaced, not doubled.
    `old=$(cat ${run}/qemu.pid 2>/dev/null || true)`,
    'if [ -n "$old" ]; then kill -9 "$old" 2>/dev/null || true; while kill -0 "$old" 2>/dev/null; do sleep 0.05; done; fi',
    `mkdir -p ${dir} ${run}`,
    `[ -f ${diskPath} ] || truncate -s 16M ${diskPath}`,
    `ip link show ${tap} >/dev/null 2>&1 || ip tuntap add dev ${tap} mode tap`,
    `ip link set ${tap} master ${host.vmBridge} up`,
    `qemu-system-x86_64 ${shellQuote(...qemu)} -daemonize -pidfile ${run}/qemu.pid`,
    `cat ${run}/qemu.pid`,
  ].join('\n');
  const { stdout } = await session.exec(script, { timeoutMs: 30_000 });
  return { host: host.name, name: opts.name, ip: opts.ip, mac, pid: Number(stdout.trim()), tap, dir, serialPath, diskPath };
}

/** Stops the guest and removes everything it left on the host (process, tap, files). */
export async function removeLabGuest(session: SshSession, guest: LabGuest): Promise<void> {
  const script = [
    `pid=$(cat /run/orbit/lab-guests/${guest.name}/qemu.pid 2>/dev/null || true)`,
    'if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; fi',
    `ip link del ${guest.tap} 2>/dev/null || true`,
    `rm -rf /run/orbit/lab-guests/${guest.name} ${guest.dir}`,
  ].join('\n');
  await session.exec(script, { timeoutMs: 15_000 });
}
