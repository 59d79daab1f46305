/**
 * A planned restart of a COLO pair with a new spec (memory, vCPUs, machine, boot, disks, NIC),
 * on the disks it has: the guest's data carries over, the guest reboots. What orbit_ft_vm does
 * where a change needs new QEMUs; never a new pair from empty disks.
 *
 * The active side keeps the data: a protected pair first drops its replica (fence, failover:
 * the guest runs on alone), a former secondary finishes committing its active/hidden images into
 * its disk, then the guest is stopped (ACPI power-off within `graceMs`, quit, kill), disks the
 * new spec makes larger are grown, both sides' QEMU files go (the active side's disk images
 * stay) and the pair starts anew from the active host's disks. If the new spec does not start,
 * the pair starts again with the spec it ran with; the error says so, and where the disks are.
 *
 * Whoever calls this keeps the failover monitor away from the pair meanwhile.
 */
import { ColoError } from './colo-pair-record';
import { destroySide, inspectPair, startProtectedPair, waitForNoBlockJobs } from './colo-pair';
import { failover, fence } from './colo-failover';
import { diskSizesOnHost } from './colo-host';
import { COLO_DEFAULTS } from './colo-limits';
import { errorMessage } from '../ssh/host-errors';
import { inspectVm, stopVm, StopResult, withQmp } from '../qemu/qemu-process';
import { shellQuote } from '../ssh/remote-exec';
import { SshSession } from '../ssh/ssh-session';
import { validateVmSpec, VmSpec, VmSpecInput } from '../qemu/vm-spec';

export interface RebuildPairOptions {
  /** How long the guest gets to power off after the ACPI request; 0 skips it. */
  graceMs: number;
  checkpointDelayMs: number;
  /** Replication addresses of the two hosts. Default: their SSH addresses. */
  activeAddress?: string;
  standbyAddress?: string;
  onProgress?: (step: string) => void;
}

export interface RebuildPairResult {
  vm: string;
  /** The new pair's primary (the host that kept the data) and secondary. */
  primary: string;
  secondary: string;
  stop: StopResult;
  /** From the stop request until the new pair checkpoints. */
  downtimeMs: number;
  grownDisks: string[];
}

const OPERATION = 'Rebuilding the COLO pair of' as const;

/** `active` runs the guest clients talk to; `standby` is the pair's other host (its replica, if any, is dropped). */
export async function rebuildPair(sides: { active: SshSession; standby: SshSession }, input: VmSpecInput | VmSpec, options: RebuildPairOptions): Promise<RebuildPairResult> {
  const { active, standby } = sides;
  const spec = validateVmSpec(input);
  const vm = spec.name;
  const say = options.onProgress ?? (() => undefined);
  const refuse = (summary: string, fix: string) => new ColoError(active.host, vm, OPERATION, summary, fix);
  const pair = await inspectPair([active, standby], vm);
  if (pair.activeHost !== active.host.name || (pair.protection !== 'protected' && pair.protection !== 'degraded')) {
    throw refuse(
      `the pair is ${pair.protection}${pair.activeHost ? ` with its guest on ${pair.activeHost}` : ''}, not protected or degraded with its guest on ${active.host.name}`,
      'wait until the pair is protected (or fail it over), then apply again',
    );
  }
  if (pair.protection === 'protected') {
    say(`dropping the replica on ${standby.host.name}`);
    await fence(standby, vm);
    await failover(active, vm, { peer: standby });
  }
  const previous = (await inspectVm(active, vm, { skipStatus: true })).spec;
  if (!previous) throw refuse(`the guest's QEMU on ${active.host.name} has no readable spec`, 'inspect the pair (orbit-ft status)');
  // A former secondary writes its guest's recent writes into the disk image in a block job after failover.
  await withQmp(active, vm, (qmp) => waitForNoBlockJobs(qmp, Date.now() + COLO_DEFAULTS.timeoutMs));
  say(`stopping the guest on ${active.host.name}`);
  const stopping = Date.now();
  const stop = await stopVm(active, vm, { graceMs: options.graceMs });
  const grownDisks = await growDisks(active, spec);
  await destroySide(standby, vm, true);
  // The CD-ROM media (a seed) stays: the new pair starts with it, and so does the old one should the new settings fail.
  await destroySide(active, vm, false, [], { keepCdrom: true });
  const start = (what: VmSpec) =>
    startProtectedPair(active, standby, what, {
      checkpointDelayMs: options.checkpointDelayMs,
      ...(options.activeAddress ? { primaryAddress: options.activeAddress } : {}),
      ...(options.standbyAddress ? { secondaryAddress: options.standbyAddress } : {}),
    });
  say(`starting the pair with the new settings on ${active.host.name}'s disks`);
  try {
    await start(spec);
  } catch (error) {
    const back = await start(previous).then(
      () => 'the pair runs again with its previous settings',
      (e: unknown) =>
        `starting it again with its previous settings failed too (${errorMessage(e).split('\n')[0]}); its disks are kept on ${active.host.name}: ${previous.disks.map((d) => d.path).join(', ')}`,
    );
    throw new ColoError(active.host, vm, OPERATION, `the new settings did not start: ${errorMessage(error).split('\n')[0]}\n${back}`, 'fix what the message names and apply again', { cause: error });
  }
  return { vm, primary: active.host.name, secondary: standby.host.name, stop, downtimeMs: Date.now() - stopping, grownDisks };
}

/** Grows, offline, the images the new spec makes larger (shrinking is refused before this). */
async function growDisks(session: SshSession, spec: VmSpec): Promise<string[]> {
  const sizes = await diskSizesOnHost(session, spec);
  const grown: string[] = [];
  for (const [i, disk] of spec.disks.entries()) {
    const wanted = disk.sizeMiB !== undefined ? disk.sizeMiB * 2 ** 20 : undefined;
    const size = sizes[i];
    if (size === undefined || wanted === undefined || wanted <= size) continue;
    await session.exec(`qemu-img resize -q -f ${disk.format} ${shellQuote(disk.path)} ${disk.sizeMiB}M`, { timeoutMs: 60_000 });
    grown.push(disk.path);
  }
  return grown;
}
