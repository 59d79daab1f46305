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
 *  2. We hold the role:
 *     - our QEMU died or was fenced: release at once, so the standby need not wait for the TTL;
 *     - we are the COLO secondary: failover-locally ("Secondary Failover": we were given the role,
 *       so the primary is dead or fenced);
 *     - we are the COLO primary and the secondary is gone (heartbeats lost, or it reports its
 *       guest dead/fenced): failover-locally ("Primary Failover": run alone);
 *     - we serve alone: start re-protection onto a spare host (once, when one is available).
 *  3. We serve without the role:
 *     - the peer holds it: fence ourselves (two actives otherwise);
 *     - etcd cannot tell (unreachable) and we have gone without a confirmed role for
 *       interval x misses: fence ourselves (the same budget as rule 1);
 *     - vacant: acquire; etcd unreachable but within the budget: wait (fenced at the limit).
 *  4. We are the COLO secondary without the role:
 *     - vacant: acquire, but only when it is safe to serve: the last holder was the peer (its
 *       lease was released or expired, and by rule 1 it fenced itself before that), or the peer
 *       is alive and reports its guest dead/fenced, or the peer has been silent for
 *       interval x misses + fencing deadline (a peer that served without the role has fenced
 *       itself by then, rule 3);
 *     - the peer holds it and has been silent for longer than the worst-case recovery time (so
 *       its lease is being renewed: it lives and runs alone, rule 2): our replica is stale, fence
 *       it so it is never promoted. Before that, wait: a dead primary's lease expires first;
 *     - otherwise wait (protected, or no information).
 *  5. No guest here (dead, fenced): nothing (re-protection onto this host is the other side's).
 *
 * Never two actives: a side serves only while it holds the role (rules 2-3), or during the
 * bounded window before it fences itself (rules 1, 3); the other side acquires only once that
 * window has surely passed (rule 4 and the lease TTL).
 */
import { GuestState } from './heartbeat';
import { detectionMs, FailoverTiming, fencedWithinMs, worstCaseRecoveryMs } from './timing';

export type RoleView =
  /** We hold it; renewals are confirmed within interval x misses. */
  | 'held'
  /** We held it and lost it (renewal timeout, lease gone) and have not released since. */
  | 'lost'
  /** The peer holds it (as of our last etcd read). */
  | 'peer'
  /** Nobody holds it. */
  | 'vacant';

export interface Observation {
  readonly timing: FailoverTiming;
  readonly role: RoleView;
  /** `peer` and `vacant` are only trusted while etcd is reachable. */
  readonly etcd: 'reachable' | 'unreachable';
  /** Who held the role last, as this agent saw it (`none`: never seen held since it started). */
  readonly lastHolder: 'self' | 'peer' | 'none';
  /** ms since this side last had its role confirmed (since agent start when never; see README on restarts). */
  readonly msWithoutRole: number;
  readonly local: GuestState;
  readonly peer: 'alive' | 'lost';
  /** What the peer last reported about its guest. */
  readonly peerState: GuestState;
  /** ms the peer has been silent (0 when alive). */
  readonly peerSilentMs: number;
  /** A spare host is available for re-protection. */
  readonly spareAvailable: boolean;
  /** A re-protection is already running. */
  readonly reprotecting: boolean;
}

export type Action =
  | { readonly kind: 'acquire'; readonly reason: string }
  | { readonly kind: 'release'; readonly reason: string }
  | { readonly kind: 'failover-locally'; readonly as: 'primary' | 'secondary'; readonly reason: string }
  | { readonly kind: 'fence-self'; readonly reason: string }
  | { readonly kind: 'start-reprotect'; readonly reason: string };

export interface Decision {
  readonly actions: readonly Action[];
  /** Why nothing is done, when `actions` is empty. */
  readonly waiting?: string;
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

  // 1. Lost role: fence first, then hand the role over.
  if (role === 'lost') {
    const release: Action = { kind: 'release', reason: 'the role was lost; revoke what is left of the lease so the peer need not wait for the TTL' };
    if (hasGuest(o.local)) return act({ kind: 'fence-self', reason: 'the active role was lost (lease not renewed in time): stop this guest before the lease can expire' }, release);
    return act(release);
  }

  // 2. Holding the role.
  if (role === 'held') {
    if (o.local === 'dead' || o.local === 'fenced') return act({ kind: 'release', reason: `this host's guest is ${o.local}: hand the role to the peer at once` });
    if (o.local === 'colo-secondary') return act({ kind: 'failover-locally', as: 'secondary', reason: 'this side holds the role and its guest is the COLO secondary: promote it' });
    if (o.local === 'colo-primary') {
      if (o.peer === 'lost') return act({ kind: 'failover-locally', as: 'primary', reason: `the secondary is silent for ${o.peerSilentMs} ms: run the guest alone` });
      if (peerGuestGone) return act({ kind: 'failover-locally', as: 'primary', reason: `the secondary reports its guest ${o.peerState}: run the guest alone` });
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
    if (role === 'unknown' && o.msWithoutRole >= detection) {
      return act({ kind: 'fence-self', reason: `etcd is unreachable and this side has not held the role for ${o.msWithoutRole} ms (limit ${detection} ms): stop serving` });
    }
    if (role === 'unknown') return wait(`etcd is unreachable and this guest serves without the role: it is fenced in ${detection - o.msWithoutRole} ms unless etcd answers`);
    return act({ kind: 'acquire', reason: 'this guest serves and nobody holds the role: take it' });
  }

  // 4. The COLO secondary without the role.
  if (o.local === 'colo-secondary') {
    if (role === 'vacant') {
      const safeSince =
        o.lastHolder === 'peer'
          ? 'the peer held the role and released it or let it expire (it fenced itself first)'
          : peerGuestGone
            ? `the peer reports its guest ${o.peerState}`
            : o.peer === 'lost' && o.peerSilentMs >= fencedWithinMs(o.timing)
              ? `the peer has been silent for ${o.peerSilentMs} ms, past interval x misses + fencing deadline (${fencedWithinMs(o.timing)} ms)`
              : undefined;
      if (safeSince) return act({ kind: 'acquire', reason: `the role is vacant and ${safeSince}: take over` });
      return wait(o.peer === 'alive' ? `the role is vacant; the peer's guest is ${o.peerState}: it should take the role` : `the role is vacant but the peer may still serve: wait until it has been silent for ${fencedWithinMs(o.timing)} ms`);
    }
    if (role === 'peer' && o.peer === 'lost') {
      // A dead primary's lease expires within the worst-case recovery time; one still held after
      // that is being renewed: the primary lives and runs alone (rule 2), this replica is stale.
      if (o.peerSilentMs >= worstCaseRecoveryMs(o.timing)) {
        return act({ kind: 'fence-self', reason: `the peer is silent for ${o.peerSilentMs} ms yet keeps renewing the role: it runs alone and this replica is stale; stop it so it is never promoted` });
      }
      return wait('the peer is silent but still holds the role: wait for its lease to expire (or to be renewed past the worst case)');
    }
    if (role === 'unknown') return wait('etcd is unreachable: a secondary never takes over without it');
    return wait('standby: the peer is active and alive');
  }

  // 5. No guest here.
  return wait(`no guest on this host (${o.local})`);
}
