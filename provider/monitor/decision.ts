/**
 * The agent's decision core for one pair on one host: a pure function from what the agent
 * observes now to what it must do. No I/O, no clock: the agent gathers the observation (role
 * in etcd, its QEMU, its peer's heartbeats, durations) and carries out the actions.
 *
 * The rules, in order (the first that applies wins; README.md has them as a table):
 *
 *  1. Role LOST (we held it, renewals stopped being confirmed, or etcd says the lease is gone):
 *     fence our guest now if it runs (any QEMU of the pair: a stale secondary must not be
 *     promoted later either), then release. The invariant (timing.ts) gives us
 *     fencingDeadlineMs before the lease can expire and the peer can take over.
 *     Except the ONLY COPY: a guest that runs alone, recorded in etcd at its generation
 *     (`runsAlone`), has no replica anywhere that could be promoted (older replicas are stale
 *     by that record, and a re-protection's new replica becomes promotable only after this side
 *     is the COLO primary again). Fencing it would protect nothing and lose everything: release
 *     what is left of the lease and take the role up again (rule 3).
 *  2. We hold the role:
 *     - our QEMU died or was fenced: release at once, so the standby need not wait for the TTL;
 *     - we are the COLO secondary: record in etcd that this side runs alone from the next
 *       generation on, then failover-locally ("Secondary Failover": we were given the role, so
 *       the primary is dead or fenced). Recorded first: a promotion under way is already the
 *       only copy (rule 1) should the role be lost meanwhile;
 *     - we are the COLO primary and the secondary is gone (it reports its guest dead/fenced, or
 *       its heartbeats are lost AND its QEMU has not answered COLO for the checkpoint delay +
 *       COLO_SLACK_MS: a secondary whose agent restarts keeps answering checkpoints):
 *       record in etcd that this side runs alone from the next generation on (so the old
 *       replica is stale wherever it still runs), then failover-locally ("Primary Failover").
 *       A secondary never heard since this agent began watching the pair counts as lost only
 *       after STARTUP_GRACE_MS: at start-up the peer's agent may simply not be running yet.
 *       Also when the heartbeats flow but the replication path is broken, by the kernel's
 *       evidence (`replicationBroken`: no replication connection, or data on it unacknowledged
 *       through repeated retransmissions); a COLO message that is merely late (a slow
 *       checkpoint on a loaded host) is never a reason;
 *     - we serve alone: start re-protection onto a spare host (once, when one is available).
 *  3. We serve without the role:
 *     - the peer holds it: fence ourselves (two actives otherwise);
 *     - etcd cannot tell (unreachable) and we have gone without a confirmed role for
 *       interval x misses: fence ourselves (the same budget as rule 1);
 *     - vacant: acquire; etcd unreachable but within the budget: wait (fenced at the limit).
 *  4. We are the COLO secondary without the role:
 *     - etcd records that another host runs the guest alone from a generation newer than our
 *       replica's, or the peer reports that it runs alone at a newer generation (it failed over
 *       while we were cut off): our replica is no longer fed; fence it, it must never be
 *       promoted. A "runs alone" report of an older generation is the re-protection that built
 *       this replica, not yet committed on the peer: not stale;
 *     - vacant: acquire, but only when it is safe to serve: the last holder recorded in etcd
 *       was the peer (its lease was released or expired, and by rule 1, or its watchdog, it
 *       fenced itself before that), or the peer is alive and reports its guest dead/fenced, or
 *       this side recorded that it runs alone (its promotion was under way when it lost the role).
 *       Silence alone is no proof: a primary whose agent never held the role (not started
 *       yet, or dead before it acquired) has no lease and no watchdog deadline, and may serve;
 *     - the peer holds it and is silent: wait. A dead primary's lease expires; a live one that
 *       runs alone recorded that in etcd first (rule 2), which makes this replica stale above;
 *     - otherwise wait (protected, or no information).
 *  5. No guest here (dead, fenced): nothing (re-protection onto this host is the other side's).
 *
 * Never two actives: a side serves only while it holds the role (rules 2-3), or during the
 * bounded window before it fences itself (rules 1, 3); the other side acquires only once that
 * window has surely passed (rule 4 and the lease TTL).
 */
import { GuestState } from './heartbeat';
import { detectionMs, FailoverTiming } from './timing';

export type RoleView =
  /** We hold it; renewals are confirmed within interval x misses. */
  | 'held'
  /** We held it and lost it (renewal timeout, lease gone) and have not released since. */
  | 'lost'
  /** The peer holds it (as of our last etcd read). */
  | 'peer'
  /** Nobody holds it. */
  | 'vacant';

/** Who etcd says runs the guest alone, relative to this host, and since which generation. */
export interface RunsAloneView {
  readonly host: 'self' | 'peer' | 'other';
  readonly generation: number;
}

/** How long a COLO primary waits, after it began watching the pair, for a secondary it has never heard. */
export const STARTUP_GRACE_MS = 10_000;
/** Beyond the checkpoint delay, how long a healthy pair may go without a COLO message (a checkpoint itself takes time). */
export const COLO_SLACK_MS = 1000;

export interface Observation {
  readonly timing: FailoverTiming;
  readonly role: RoleView;
  /** `peer` and `vacant` are only trusted while etcd is reachable. */
  readonly etcd: 'reachable' | 'unreachable';
  /**
   * Who held the role last, as recorded in etcd (a key without lease, written with every
   * acquisition): this host, this pair's COLO peer, another host, or nobody ever.
   */
  readonly lastHolder: 'self' | 'peer' | 'other' | 'none';
  /** ms since this side last had its role confirmed (since agent start when never; see README on restarts). */
  readonly msWithoutRole: number;
  readonly local: GuestState;
  readonly peer: 'alive' | 'lost';
  /** What the peer last reported about its guest. */
  readonly peerState: GuestState;
  /** ms the peer has been silent (0 when alive). */
  readonly peerSilentMs: number;
  /** Whether the peer's agent has been heard at all since this agent began watching the pair. */
  readonly peerHeard: boolean;
  /** ms since this agent began watching the pair. */
  readonly msWatching: number;
  /**
   * ms since this host's QEMU last received a COLO message from its peer's QEMU (undefined:
   * none seen). A recent one proves the peer QEMU alive and replicating, whatever its agent does.
   */
  readonly peerColoMessageAgoMs?: number;
  /** The pair's checkpoint delay: a healthy pair exchanges COLO messages at least this often. */
  readonly checkpointDelayMs: number;
  /** The generation of this host's pair record (undefined: no record). */
  readonly localGeneration?: number;
  /** The generation the peer's last heartbeat was about (undefined: not reported). */
  readonly peerGeneration?: number;
  /** The last "runs alone" record read from (or written to) etcd; undefined: none known. */
  readonly runsAlone?: RunsAloneView;
  /**
   * The kernel's evidence that this COLO primary's replication path to its secondary is
   * broken (no connection, or data unacknowledged through repeated retransmissions), as a
   * sentence; undefined when not found broken (or not looked at).
   */
  readonly replicationBroken?: string;
  /** A spare host is available for re-protection. */
  readonly spareAvailable: boolean;
  /** A re-protection is already running. */
  readonly reprotecting: boolean;
}

export type Action =
  | { readonly kind: 'acquire'; readonly reason: string }
  /** Record in etcd, while holding the role, that this host runs alone from `generation` on. */
  | { readonly kind: 'record-runs-alone'; readonly generation: number; readonly reason: string }
  | { readonly kind: 'release'; readonly reason: string }
  | { readonly kind: 'failover-locally'; readonly as: 'primary' | 'secondary'; readonly reason: string }
  | { readonly kind: 'fence-self'; readonly reason: string }
  | { readonly kind: 'start-reprotect'; readonly reason: string };

export interface Decision {
  readonly actions: readonly Action[];
  /** Why nothing is done, when `actions` is empty. */
  readonly waiting?: string;
}

/** The peer's QEMU answered COLO recently: it lives and replicates, even if its agent is silent. */
export function peerQemuReplicating(o: Observation): boolean {
  return o.peerColoMessageAgoMs !== undefined && o.peerColoMessageAgoMs < o.checkpointDelayMs + COLO_SLACK_MS;
}

/**
 * Whether a guest in `state` at pair generation `generation` is the only copy, given that
 * this host recorded "runs alone from `recordedGeneration`" (in etcd; the watchdog reads the
 * local marker of the same record): it runs alone at that generation, or it is the secondary
 * whose promotion to it is under way (the record is written first, rule 2). No replica
 * anywhere can be promoted then; fencing it would protect nothing and lose everything.
 */
export function isOnlyCopy(state: GuestState, generation: number | undefined, recordedGeneration: number | undefined): boolean {
  if (generation === undefined || recordedGeneration === undefined) return false;
  if (state === 'serving-alone') return recordedGeneration === generation;
  if (state === 'colo-secondary') return recordedGeneration === generation + 1;
  return false;
}

/** This host's guest is the only copy, by etcd's runs-alone record (isOnlyCopy). */
export function onlyCopy(o: Observation): boolean {
  return o.runsAlone?.host === 'self' && isOnlyCopy(o.local, o.localGeneration, o.runsAlone.generation);
}

/** The replica here is stale: someone runs (or ran) the guest alone from a newer generation. */
function staleReplicaEvidence(o: Observation): string | undefined {
  const mine = o.localGeneration;
  if (o.runsAlone && o.runsAlone.host !== 'self' && (mine === undefined || o.runsAlone.generation > mine)) {
    return `etcd records that the ${o.runsAlone.host === 'peer' ? 'peer' : 'another host'} runs the guest alone since generation ${o.runsAlone.generation}, newer than this replica's ${mine ?? '(unknown)'}`;
  }
  // An older agent that does not report generations: its "alone" is taken at its word, unless
  // etcd records that this replica is the one being promoted (etcd's record outranks a heartbeat).
  if (!onlyCopy(o) && o.peer === 'alive' && o.peerState === 'serving-alone' && (o.peerGeneration === undefined || mine === undefined || o.peerGeneration > mine)) {
    return `the peer runs the guest alone (generation ${o.peerGeneration ?? 'unreported'}, this replica's ${mine ?? 'unknown'}): it failed over while this side was cut off`;
  }
  return undefined;
}

export function isServing(state: GuestState): boolean {
  return state === 'colo-primary' || state === 'serving-alone';
}

function hasGuest(state: GuestState): boolean {
  return state === 'colo-primary' || state === 'colo-secondary' || state === 'serving-alone';
}

const act = (...actions: Action[]): Decision => ({ actions });
const wait = (waiting: string): Decision => ({ actions: [], waiting });

export function decide(o: Observation): Decision {
  const detection = detectionMs(o.timing);
  // What etcd says about others is only as good as our last successful read.
  const role: RoleView | 'unknown' = o.etcd === 'unreachable' && (o.role === 'peer' || o.role === 'vacant') ? 'unknown' : o.role;
  const peerGuestGone = o.peer === 'alive' && (o.peerState === 'dead' || o.peerState === 'fenced');

  // 1. Lost role: fence first, then hand the role over (unless this is the only copy).
  if (role === 'lost') {
    if (onlyCopy(o)) {
      return act({
        kind: 'release',
        reason: `the role was lost, but this guest is the only copy (it runs alone, recorded in etcd at generation ${o.localGeneration}: no replica can be promoted); fencing it would protect nothing: keep it serving, release what is left of the lease and take the role up again`,
      });
    }
    const release: Action = { kind: 'release', reason: 'the role was lost; revoke what is left of the lease so the peer need not wait for the TTL' };
    if (hasGuest(o.local)) return act({ kind: 'fence-self', reason: 'the active role was lost (lease not renewed in time): stop this guest before the lease can expire' }, release);
    return act(release);
  }

  // 2. Holding the role.
  if (role === 'held') {
    if (o.local === 'dead' || o.local === 'fenced') return act({ kind: 'release', reason: `this host's guest is ${o.local}: hand the role to the peer at once` });
    if (o.local === 'colo-secondary') {
      // The old primary lost the role and fenced itself: this replica is about to be the only
      // copy. Recorded first, so that it is never fenced as a mere replica should the role be
      // lost while the promotion runs (rule 1).
      return act(
        { kind: 'record-runs-alone', generation: (o.localGeneration ?? 0) + 1, reason: 'before promoting the secondary: it will run alone' },
        { kind: 'failover-locally', as: 'secondary', reason: 'this side holds the role and its guest is the COLO secondary: promote it' },
      );
    }
    if (o.local === 'colo-primary') {
      // Record first: from then on the secondary's replica is stale wherever it still runs.
      const runAlone = (reason: string) =>
        act({ kind: 'record-runs-alone', generation: (o.localGeneration ?? 0) + 1, reason: `before running alone: ${reason}` }, { kind: 'failover-locally', as: 'primary', reason });
      if (o.peer === 'lost' && !o.peerHeard && o.msWatching < STARTUP_GRACE_MS) {
        return wait(`the secondary's agent has not been heard since this agent started watching ${o.msWatching} ms ago: waiting up to ${STARTUP_GRACE_MS} ms for it`);
      }
      if (o.peer === 'lost' && peerQemuReplicating(o)) {
        return wait(`the secondary's agent is silent for ${o.peerSilentMs} ms but its QEMU answered COLO ${o.peerColoMessageAgoMs} ms ago: it lives (an agent restart?)`);
      }
      if (o.peer === 'lost') return runAlone(`the secondary is silent for ${o.peerSilentMs} ms and its QEMU has not answered COLO for ${o.peerColoMessageAgoMs ?? 'ever'} ms: run the guest alone`);
      if (peerGuestGone) return runAlone(`the secondary reports its guest ${o.peerState}: run the guest alone`);
      if (o.replicationBroken) return runAlone(`the replication to the secondary is broken (${o.replicationBroken}): run the guest alone`);
      return wait('protected: this side is active, the secondary replicates');
    }
    if (o.local === 'serving-alone') {
      if (o.reprotecting) return wait('re-protection under way');
      if (o.spareAvailable) return act({ kind: 'start-reprotect', reason: 'the guest runs unprotected: re-protect it onto a spare host' });
      return wait('running unprotected: no spare host available');
    }
    return wait(`holding the role; this host's guest state is ${o.local}`);
  }

  // 3. Serving without the role.
  if (isServing(o.local)) {
    if (role === 'peer') return act({ kind: 'fence-self', reason: 'the peer holds the active role while this guest serves: stop it (two actives otherwise)' });
    if (role === 'unknown' && onlyCopy(o)) {
      return wait(
        `etcd is unreachable, but this guest is the only copy (it runs alone, recorded in etcd at generation ${o.localGeneration}): fencing it would protect nothing; it keeps serving and takes the role up again when etcd answers`,
      );
    }
    if (role === 'unknown' && o.msWithoutRole >= detection) {
      return act({ kind: 'fence-self', reason: `etcd is unreachable and this side has not held the role for ${o.msWithoutRole} ms (limit ${detection} ms): stop serving` });
    }
    if (role === 'unknown') return wait(`etcd is unreachable and this guest serves without the role: it is fenced in ${detection - o.msWithoutRole} ms unless etcd answers`);
    return act({ kind: 'acquire', reason: 'this guest serves and nobody holds the role: take it' });
  }

  // 4. The COLO secondary without the role.
  if (o.local === 'colo-secondary') {
    const stale = staleReplicaEvidence(o);
    if (stale) return act({ kind: 'fence-self', reason: `${stale}: this replica is stale; stop it so it is never promoted` });
    if (role === 'vacant') {
      const safeSince =
        o.lastHolder === 'peer'
          ? 'the peer held the role last and released it or let it expire (it fenced itself first)'
          : peerGuestGone
            ? `the peer reports its guest ${o.peerState}`
            : onlyCopy(o)
              ? `this side recorded that it runs alone from generation ${o.runsAlone!.generation} (its promotion was under way when the role was lost)`
              : undefined;
      if (safeSince) return act({ kind: 'acquire', reason: `the role is vacant and ${safeSince}: take over` });
      return wait(
        o.peer === 'alive'
          ? `the role is vacant; the peer's guest is ${o.peerState}: it should take the role`
          : `the role is vacant and the peer is silent, but it never held the role (last holder: ${o.lastHolder}): without that proof it may still serve; fail over by hand (orbit-ft) if it is gone`,
      );
    }
    if (role === 'peer' && o.peer === 'lost') {
      // A dead primary's lease expires; a live one that runs alone recorded that in etcd first
      // (rule 2), and that record makes this replica stale (above).
      return wait(
        peerQemuReplicating(o)
          ? `the peer's agent is silent but its QEMU sent COLO ${o.peerColoMessageAgoMs} ms ago: it lives and replicates to this side`
          : 'the peer is silent but still holds the role: wait for its lease to expire, or for etcd to record that it runs alone',
      );
    }
    if (role === 'unknown') return wait('etcd is unreachable: a secondary never takes over without it');
    return wait('standby: the peer is active and alive');
  }

  // 5. No guest here.
  return wait(`no guest on this host (${o.local})`);
}
