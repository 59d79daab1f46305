/**
 * A running VM as QMP sees it, and the changes that apply to it without a restart:
 *   - memory, through the balloon every VM has (qemu-command-line.ts): the guest gives memory
 *     back or gets it again, up to the size QEMU started with;
 *   - growing a disk (`block_resize`): the guest sees the new size at once (virtio-blk).
 * Everything else about a VM needs a new QEMU.
 */
import { errorMessage } from '../ssh/host-errors';
import { VmError, withQmp } from './qemu-process';
import { vmIds } from './qemu-command-line';
import { QmpClient } from './qmp-client';
import { SshSession } from '../ssh/ssh-session';
import { setTimeout as sleep } from 'timers/promises';

const MIB = 1024 * 1024;

export interface VmObservation {
  /** QMP run state: `running`, `paused`, `postmigrate`, ... */
  status: string;
  /** What the guest has now: the started memory minus what the balloon holds. */
  memoryMiB: number;
  /** The memory QEMU started with (the most the balloon can give). */
  startedMemoryMiB: number;
  vcpus: number;
  /** Virtual size of each disk (`disk<i>` block node), in bytes. */
  diskSizesBytes: number[];
}

export interface BalloonOptions {
  /** How long the guest gets to reach the target. Default 60 s (a booting guest loads its balloon driver first). */
  timeoutMs?: number;
}

export const BALLOON_DEFAULTS = { timeoutMs: 60_000, pollMs: 200 } as const;

/** One QMP round: run state, memory, vCPUs and disk sizes. */
export async function observeVm(session: SshSession, name: string, diskCount: number): Promise<VmObservation> {
  return withQmp(session, name, async (qmp) => {
    const { status } = await qmp.execute<{ status: string }>('query-status');
    const memory = await qmp.execute<{ 'base-memory': number; 'plugged-memory'?: number }>('query-memory-size-summary');
    const startedMemoryMiB = Math.round((memory['base-memory'] + (memory['plugged-memory'] ?? 0)) / MIB);
    const cpus = await qmp.execute<unknown[]>('query-cpus-fast');
    return {
      status,
      memoryMiB: await balloonActualMiB(qmp, startedMemoryMiB),
      startedMemoryMiB,
      vcpus: cpus.length,
      diskSizesBytes: await diskSizes(qmp, diskCount),
    };
  });
}

/**
 * Sets the guest's memory to `memoryMiB` (at most what QEMU started with) and waits until the
 * guest has given back or taken the difference. A guest without a virtio balloon driver never
 * does: that is an error naming the fix, and the target stays set for when the driver loads.
 */
export async function setVmMemory(session: SshSession, name: string, memoryMiB: number, options: BalloonOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? BALLOON_DEFAULTS.timeoutMs;
  await withQmp(
    session,
    name,
    async (qmp) => {
      const memory = await qmp.execute<{ 'base-memory': number }>('query-memory-size-summary');
      const startedMiB = Math.round(memory['base-memory'] / MIB);
      if (memoryMiB > startedMiB) {
        throw new VmError(session.host, name, 'Changing the memory of', `${memoryMiB} MiB is more than the ${startedMiB} MiB QEMU started with`, 'restart the VM with more memory (a larger maximum)');
      }
      await qmp.execute('balloon', { value: memoryMiB * MIB });
      const deadline = Date.now() + timeoutMs;
      let actual = await balloonActualMiB(qmp, startedMiB);
      while (actual !== memoryMiB) {
        if (Date.now() >= deadline) {
          throw new VmError(
            session.host,
            name,
            'Changing the memory of',
            `the guest still has ${actual} MiB ${timeoutMs} ms after the balloon was set to ${memoryMiB} MiB`,
            'the guest needs its virtio balloon driver (Linux: virtio_balloon) loaded; or, when it is short of memory, it cannot give more back: choose a larger memory size',
          );
        }
        await sleep(BALLOON_DEFAULTS.pollMs);
        actual = await balloonActualMiB(qmp, startedMiB);
      }
    },
    timeoutMs + 10_000,
  );
}

/** Grows disk `index` to `sizeBytes` while the VM runs. Shrinking is refused: it would cut off the guest's data. */
export async function growVmDisk(session: SshSession, name: string, index: number, sizeBytes: number): Promise<void> {
  await withQmp(session, name, async (qmp) => {
    const [current] = await diskSizes(qmp, index + 1).then((sizes) => sizes.slice(index));
    if (sizeBytes < current) {
      throw new VmError(
        session.host,
        name,
        'Resizing a disk of',
        `disk ${index} is ${current / MIB} MiB; shrinking it to ${sizeBytes / MIB} MiB would cut off data`,
        'keep the size, or re-create the VM with a smaller disk',
      );
    }
    if (sizeBytes > current) await qmp.execute('block_resize', { 'node-name': vmIds.disk(index), size: sizeBytes });
  });
}

async function balloonActualMiB(qmp: QmpClient, startedMiB: number): Promise<number> {
  try {
    const { actual } = await qmp.execute<{ actual: number }>('query-balloon');
    return Math.round(actual / MIB);
  } catch (error) {
    // A VM started by an older driver (no balloon device) has all of its memory.
    if (/no balloon device/i.test(errorMessage(error))) return startedMiB;
    throw error;
  }
}

async function diskSizes(qmp: QmpClient, count: number): Promise<number[]> {
  const nodes = await qmp.execute<Array<{ 'node-name': string; image: { 'virtual-size': number } }>>('query-named-block-nodes', { flat: true });
  return Array.from({ length: count }, (_, i) => {
    const node = nodes.find((n) => n['node-name'] === vmIds.disk(i));
    if (!node) throw new Error(`QMP lists no block node ${vmIds.disk(i)}: the VM's disks are not the ones its spec names`);
    return node.image['virtual-size'];
  });
}

/**
 * Puts `isoPath` into the VM's CD-ROM drive as new media (QMP blockdev-change-medium): the
 * running guest sees a media change, as when a disc is swapped. Also after the file at the same
 * path was replaced, which QEMU would not notice by itself (it holds the old file open).
 */
export async function changeCdrom(session: SshSession, name: string, isoPath: string): Promise<void> {
  // force: a guest that mounted the disc has locked the tray; the media is read-only, so nothing is lost by opening it.
  await withQmp(session, name, (qmp) => qmp.execute('blockdev-change-medium', { id: vmIds.cdromDevice, filename: isoPath, format: 'raw', 'read-only-mode': 'read-only', force: true }));
}
