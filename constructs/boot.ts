/** How a VM boots: from its first disk, or a kernel (and initramfs) on the host. */
import { Token } from 'cdktf';

/** The L1 attributes for a boot choice. */
export interface BootConfig {
  readonly kernelPath?: string;
  readonly initrdPath?: string;
  readonly kernelCmdline?: string;
}

export interface KernelBootProps {
  /** The kernel image, an absolute path present on every host the VM may run on. */
  readonly kernelPath: string;
  /**
   * The initramfs, an absolute path on the hosts.
   * @default - none
   */
  readonly initrdPath?: string;
  /**
   * The kernel command line (one line, at most 2048 characters).
   * @default - empty
   */
  readonly cmdline?: string;
}

export class Boot {
  /** Boot from the VM's first disk (its boot loader). */
  public static fromFirstDisk(): Boot {
    return new Boot({});
  }

  /** Direct kernel boot. */
  public static kernel(props: KernelBootProps): Boot {
    for (const [name, value] of [
      ['kernelPath', props.kernelPath],
      ['initrdPath', props.initrdPath],
    ] as const) {
      if (value !== undefined && !Token.isUnresolved(value) && !/^\/\S+$/.test(value)) {
        throw new Error(
          `Boot.kernel: ${name} = ${JSON.stringify(value)} is not valid. Allowed: an absolute path without spaces. Fix: give the path on the hosts, e.g. "/var/lib/orbit/images/vmlinuz".`,
        );
      }
    }
    return new Boot({ kernelPath: props.kernelPath, initrdPath: props.initrdPath, kernelCmdline: props.cmdline });
  }

  private constructor(public readonly config: BootConfig) {}
}
