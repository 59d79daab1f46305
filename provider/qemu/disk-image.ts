/**
 * A VM's disk image as a file on its host, read and grown with qemu-img while no QEMU runs
 * the VM (a powered-off VM; `--force-share` also reads one that is open). The format is always
 * given: probing a raw image's format is unsafe (its content could look like a qcow2 header).
 */
import { shellQuote } from '../ssh/remote-exec';
import { SshSession } from '../ssh/ssh-session';

const QEMU_IMG_TIMEOUT_MS = 30_000;

export interface DiskImage {
  path: string;
  format: string;
}

/** The image's virtual size in bytes (what the guest sees). */
export async function diskVirtualSize(session: SshSession, disk: DiskImage): Promise<number> {
  const { stdout } = await session.exec(`qemu-img info --force-share --output=json -f ${shellQuote(disk.format, disk.path)}`, { timeoutMs: QEMU_IMG_TIMEOUT_MS });
  const size = (JSON.parse(stdout) as { 'virtual-size'?: number })['virtual-size'];
  if (typeof size !== 'number') throw new Error(`qemu-img info printed no virtual size for ${disk.path} on host "${session.host.name}"`);
  return size;
}

/** Grows the image to `sizeBytes` (the filesystem inside is the guest's to grow); never shrinks. */
export async function growDiskImage(session: SshSession, disk: DiskImage, sizeBytes: number): Promise<void> {
  const current = await diskVirtualSize(session, disk);
  if (sizeBytes < current) throw new RangeError(`growDiskImage: ${disk.path} is ${current} bytes; shrinking it to ${sizeBytes} would cut off data`);
  if (sizeBytes > current) await session.exec(`qemu-img resize -q -f ${shellQuote(disk.format, disk.path, String(sizeBytes))}`, { timeoutMs: QEMU_IMG_TIMEOUT_MS });
}
