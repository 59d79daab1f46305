/**
 * The test guest as a driver VmSpec on a lab host (TEST ONLY): direct kernel boot of the
 * built guest, one NIC on the host's VM bridge with the MAC derived from the address, and
 * optionally a small raw disk under the VM's /var/lib/orbit directory.
 * Lab hosts share this machine's filesystem (except /var/lib/orbit and /run/orbit), so the
 * guest kernel built here is at the same path on every host.
 */
import { tapPrefix, vmPaths } from '../../provider/qemu/qemu-command-line';
import { SshSession } from '../../provider/ssh/ssh-session';
import { VmSpecInput } from '../../provider/qemu/vm-spec';
import { guestArtifacts, guestKernelArgs } from '../../scripts/guest/guest';
import { LabHost } from '../../scripts/lab/description';
import { labGuestMac } from '../../scripts/lab/lab-guest';

export interface GuestVmOptions {
  name: string;
  /** Guest address on the lab's VM network, e.g. 10.89.0.70. */
  ip: string;
  host: LabHost;
  accelerator: 'kvm' | 'tcg';
  memoryMiB?: number;
  withDisk?: boolean;
  /** Extra kernel command line words, e.g. `orbit.dirty=64`. */
  extraAppend?: string;
  /** Runs Debian's redis-server in the guest on this port (the guest's redis initramfs). */
  redisPort?: number;
}

export function guestVmSpec(opts: GuestVmOptions): VmSpecInput {
  const { kernelPath, initrdPath, redisInitrdPath } = guestArtifacts();
  const redis = opts.redisPort !== undefined ? `orbit.redis=${opts.redisPort}` : undefined;
  const append = [guestKernelArgs({ ip: `${opts.ip}/24` }), opts.extraAppend, redis].filter(Boolean).join(' ');
  return {
    name: opts.name,
    vcpus: 1,
    memoryMiB: opts.memoryMiB ?? 128,
    accelerator: opts.accelerator,
    boot: { kind: 'kernel', kernel: kernelPath, initrd: redis ? redisInitrdPath : initrdPath, append },
    nics: [{ mac: labGuestMac(opts.ip), bridge: opts.host.vmBridge }],
    disks: opts.withDisk ? [{ path: `/var/lib/orbit/${opts.name}/disk.raw`, format: 'raw', sizeMiB: 16 }] : [],
  };
}

/** What of a VM is on a host: its QEMU processes, taps and directories (empty when nothing is left). */
export async function vmTraces(session: SshSession, name: string): Promise<string[]> {
  const paths = vmPaths(name);
  const { stdout } = await session.exec(
    [
      `pgrep --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${name},' | sed 's/^/process /'`,
      `ip -o link show | sed -n 's/^[0-9]*: \\([^:@]*\\)[:@].*/\\1/p' | grep '^${tapPrefix(name)}' | sed 's/^/tap /'`,
      `for d in ${paths.runDir} ${paths.stateDir}; do [ -e $d ] && echo "dir $d"; done`,
      'true',
    ].join('\n'),
  );
  return stdout.split('\n').filter(Boolean);
}
