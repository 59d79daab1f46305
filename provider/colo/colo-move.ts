/**
 * Moves one side of a COLO pair to another host while the guest keeps running: the guest's
 * memory, disk and TCP sessions carry over, its disk is never re-created. What a host change of
 * orbit_ft_vm does (never a new pair).
 *
 * - The side on `from` holds the replica (or nothing: the pair already failed over away from
 *   it): it is fenced, the active side fails over (its guest runs on alone), and the pair is
 *   re-protected onto `to`.
 * - The side on `from` runs the guest clients talk to: a planned switch-over first. Only from
 *   a protected pair, whose replica is in sync: the active is fenced, the standby fails over
 *   (what a crash of the active would do; clients see one failover's gap), then the pair is
 *   re-protected onto `to`. A degraded pair is refused here, since `from` holds the only copy.
 *
 * Whatever is left of the VM on `from` (a fenced QEMU's files, its stale replica) is removed.
 * Whoever calls this keeps the failover monitor away from the pair meanwhile: agents would
 * otherwise take the planned fence for a fault.
 */
import { ColoError } from './colo-pair-record';
import { destroySide, inspectPair } from './colo-pair';
import { failover, fence } from './colo-failover';
import { reprotect, ReprotectResult } from './colo-reprotect';
import { SshSession } from '../ssh/ssh-session';

export interface MovePairSideOptions {
  /** Where `to` listens for replication (its data address). Default: its SSH address. */
  toAddress?: string;
  onProgress?: (step: string) => void;
}

export interface MovePairSideResult {
  vm: string;
  from: string;
  to: string;
  /** Whether the guest clients talk to ran on `from` (a switch-over was made). */
  switchedOver: boolean;
  activeHost: string;
  reprotection: ReprotectResult;
}

/** `stays` is the pair's other host (where its other side runs), `from` the host that leaves it, `to` the host that joins it. */
export async function movePairSide(sides: { stays: SshSession; from: SshSession; to: SshSession }, vm: string, options: MovePairSideOptions = {}): Promise<MovePairSideResult> {
  const { stays, from, to } = sides;
  const say = options.onProgress ?? (() => undefined);
  const refuse = (summary: string, fix: string) => new ColoError(from.host, vm, 'Moving a side of', summary, fix);
  const pair = await inspectPair([stays, from, to], vm);
  const here = (session: SshSession) => session.host.name;
  if (pair.activeHost === here(to) || pair.standbyHost === here(to)) {
    throw refuse(`${here(to)} already runs a side of the pair`, 'move the side onto a host outside the pair');
  }
  const switchOver = pair.activeHost === here(from);
  if (switchOver ? pair.protection !== 'protected' : pair.protection !== 'protected' && pair.protection !== 'degraded') {
    throw refuse(
      switchOver ? `its guest runs on ${here(from)} without an in-sync replica (the pair is ${pair.protection}): moving it would mean stopping the only copy` : `the pair is ${pair.protection}`,
      'wait until the pair is protected (re-protect it if it stays degraded), then apply again',
    );
  }
  if (pair.activeHost !== here(stays) && !switchOver) {
    throw refuse(`the guest runs on ${pair.activeHost ?? 'no host'}, not on ${here(stays)}`, 'check where the pair runs (orbit-ft status) and the hosts it is configured with');
  }

  if (pair.activeHost === here(stays) && pair.standbyHost === here(from)) {
    say(`fencing the replica on ${here(from)}`);
    await fence(from, vm);
    say(`failing over to ${here(stays)} (its guest runs on)`);
    await failover(stays, vm, { peer: from });
  } else if (switchOver) {
    say(`switching over: fencing the active on ${here(from)}, the replica on ${here(stays)} takes over`);
    await fence(from, vm);
    await failover(stays, vm, { peer: from });
  }
  say(`removing what is left on ${here(from)}`);
  await destroySide(from, vm, true);
  say(`re-protecting onto ${here(to)}`);
  const reprotection = await reprotect(stays, to, vm, { ...(options.toAddress ? { secondaryAddress: options.toAddress } : {}) });
  return { vm, from: here(from), to: here(to), switchedOver: switchOver, activeHost: here(stays), reprotection };
}
