import { Action, COLO_SLACK_MS, decide, isServing, Observation, onlyCopy, peerQemuReplicating, RoleView, RunsAloneView, STARTUP_GRACE_MS } from './decision';
import { GuestState } from './heartbeat';
import { DEFAULT_TIMING, detectionMs, fencedWithinMs, worstCaseRecoveryMs } from './timing';

const timing = DEFAULT_TIMING;
const base: Observation = {
  timing,
  role: 'held',
  etcd: 'reachable',
  lastHolder: 'self',
  msWithoutRole: 0,
  local: 'colo-primary',
  peer: 'alive',
  peerState: 'colo-secondary',
  peerSilentMs: 0,
  peerHeard: true,
  msWatching: 60_000,
  checkpointDelayMs: 2000,
  localGeneration: 1,
  peerGeneration: 1,
  spareAvailable: true,
  reprotecting: false,
};
const RUN_ALONE = ['record-runs-alone', 'failover-locally:primary'];
const PROMOTE = ['record-runs-alone', 'failover-locally:secondary'];
const kinds = (o: Partial<Observation>) => decide({ ...base, ...o }).actions.map((a) => (a.kind === 'failover-locally' ? `failover-locally:${a.as}` : a.kind));

describe('decision core: single observations', () => {
  it('protected pair: the primary holds the role, the secondary stands by; nobody acts', () => {
    expect(kinds({})).toEqual([]);
    expect(decide(base).waiting).toBe('protected: this side is active, the secondary replicates');
    expect(kinds({ role: 'peer', lastHolder: 'peer', local: 'colo-secondary', peerState: 'colo-primary' })).toEqual([]);
  });

  it('primary QEMU dies: its agent releases at once; the secondary, seeing the peer released, takes the role and promotes itself', () => {
    expect(kinds({ local: 'dead' })).toEqual(['release']);
    const secondary = { local: 'colo-secondary' as GuestState, peerState: 'dead' as GuestState, lastHolder: 'peer' as const };
    expect(kinds({ ...secondary, role: 'peer' })).toEqual([]); // not released yet
    expect(kinds({ ...secondary, role: 'vacant' })).toEqual(['acquire']);
    expect(kinds({ ...secondary, role: 'held' })).toEqual(PROMOTE);
    expect(decide({ ...base, ...secondary, role: 'held' }).actions[0]).toMatchObject({ generation: 2 });
    expect(kinds({ role: 'held', local: 'serving-alone', peerState: 'dead' })).toEqual(['start-reprotect']);
    expect(kinds({ role: 'held', local: 'serving-alone', reprotecting: true })).toEqual([]);
    expect(decide({ ...base, local: 'serving-alone', spareAvailable: false }).waiting).toBe('running unprotected: no spare host available');
  });

  it('whole primary host dies: the secondary waits while the lease lives, takes over once it expired', () => {
    const secondary = { local: 'colo-secondary' as GuestState, peer: 'lost' as const, peerState: 'colo-primary' as GuestState, peerSilentMs: 700 };
    expect(kinds({ ...secondary, role: 'peer', lastHolder: 'peer' })).toEqual([]); // lease still alive: wait
    expect(kinds({ ...secondary, role: 'vacant', lastHolder: 'peer' })).toEqual(['acquire']);
    expect(kinds({ ...secondary, role: 'held', lastHolder: 'self' })).toEqual(PROMOTE);
  });

  it('the role is lost while the secondary is being promoted (a starved renewal): the promotion is the only copy, kept and finished', () => {
    // Seen in the chaos suite: the old primary was fenced, the secondary took the role, recorded
    // that it runs alone at generation 2 and lost the role during the failover call.
    const promoting = { local: 'colo-secondary' as GuestState, peer: 'alive' as const, peerState: 'fenced' as GuestState, localGeneration: 1, runsAlone: { host: 'self' as const, generation: 2 } };
    expect(kinds({ ...promoting, role: 'lost' })).toEqual(['release']);
    expect(kinds({ ...promoting, role: 'lost', local: 'serving-alone', localGeneration: 2 })).toEqual(['release']);
    // Then it takes the role up again, even with the peer silent, and finishes the promotion.
    expect(kinds({ ...promoting, peer: 'lost', role: 'vacant' })).toEqual(['acquire']);
    expect(kinds({ ...promoting, role: 'held' })).toEqual(PROMOTE);
    // A record of another host, or of an older generation, is no such promotion.
    expect(kinds({ ...promoting, role: 'lost', runsAlone: { host: 'self', generation: 1 } })).toEqual(['fence-self', 'release']);
    expect(kinds({ ...promoting, role: 'lost', runsAlone: { host: 'peer', generation: 2 } })).toEqual(['fence-self', 'release']);
  });

  it('secondary dies: the primary (holding the role) fails over to run alone, then re-protects', () => {
    expect(kinds({ peer: 'lost', peerSilentMs: 600 })).toEqual(RUN_ALONE);
    // recorded first, at the generation the failover makes: from then on the old replica is stale
    expect(decide({ ...base, peer: 'lost', peerSilentMs: 600 }).actions[0]).toMatchObject({ kind: 'record-runs-alone', generation: 2 });
    expect(kinds({ peer: 'alive', peerState: 'dead' })).toEqual(RUN_ALONE);
    expect(kinds({ local: 'serving-alone', peer: 'lost' })).toEqual(['start-reprotect']);
  });

  it('a side that cannot renew fences itself, then releases', () => {
    expect(kinds({ role: 'lost', etcd: 'unreachable' })).toEqual(['fence-self', 'release']);
    expect(kinds({ role: 'lost', local: 'serving-alone' })).toEqual(['fence-self', 'release']);
    expect(kinds({ role: 'lost', local: 'colo-secondary' })).toEqual(['fence-self', 'release']);
    expect(kinds({ role: 'lost', local: 'fenced' })).toEqual(['release']);
  });

  it('a side that serves without the role: fences when the peer holds it or etcd stays silent past the budget; else acquires', () => {
    expect(kinds({ role: 'peer', lastHolder: 'peer' })).toEqual(['fence-self']);
    expect(kinds({ role: 'peer', local: 'serving-alone' })).toEqual(['fence-self']);
    expect(kinds({ role: 'vacant', lastHolder: 'none', msWithoutRole: 50 })).toEqual(['acquire']);
    expect(kinds({ role: 'vacant', etcd: 'unreachable', msWithoutRole: detectionMs(timing) - 1 })).toEqual([]);
    expect(kinds({ role: 'vacant', etcd: 'unreachable', msWithoutRole: detectionMs(timing) })).toEqual(['fence-self']);
    expect(kinds({ role: 'peer', etcd: 'unreachable', msWithoutRole: detectionMs(timing) })).toEqual(['fence-self']);
  });

  it('a secondary never takes a vacant role while the primary may still serve: silence of a peer that never held it is no proof', () => {
    const s = { local: 'colo-secondary' as GuestState, role: 'vacant' as RoleView, lastHolder: 'none' as const };
    expect(kinds({ ...s, peer: 'alive', peerState: 'colo-primary' })).toEqual([]);
    expect(kinds({ ...s, peer: 'lost', peerSilentMs: fencedWithinMs(timing) })).toEqual([]);
    expect(kinds({ ...s, peer: 'lost', peerSilentMs: 600_000 })).toEqual([]);
    expect(kinds({ ...s, lastHolder: 'other', peer: 'lost', peerSilentMs: 600_000 })).toEqual([]);
    expect(kinds({ ...s, lastHolder: 'peer', peer: 'lost', peerSilentMs: 600 })).toEqual(['acquire']);
    expect(kinds({ ...s, peer: 'alive', peerState: 'fenced' })).toEqual(['acquire']);
    expect(kinds({ ...s, etcd: 'unreachable', peer: 'lost', peerSilentMs: 10_000 })).toEqual([]);
  });

  it('an agent restarting (silent) while its QEMU keeps answering COLO is not a lost peer', () => {
    const silent = { peer: 'lost' as const, peerState: 'colo-secondary' as GuestState, peerSilentMs: 900 };
    expect(kinds({ ...silent, peerColoMessageAgoMs: 300 })).toEqual([]);
    expect(decide({ ...base, ...silent, peerColoMessageAgoMs: 300 }).waiting).toMatch(/answered COLO 300 ms ago/);
    expect(kinds({ ...silent, peerColoMessageAgoMs: 2000 + COLO_SLACK_MS })).toEqual(RUN_ALONE);
    const standby = { role: 'peer' as RoleView, lastHolder: 'peer' as const, local: 'colo-secondary' as GuestState, peer: 'lost' as const, peerSilentMs: worstCaseRecoveryMs(timing) + 5000 };
    expect(kinds({ ...standby, peerColoMessageAgoMs: 400 })).toEqual([]);
    // A silent peer that keeps the role is no proof by itself: a slow one may just be slow.
    expect(kinds({ ...standby, peerColoMessageAgoMs: 9000 })).toEqual([]);
  });

  it('a late COLO message while the heartbeats flow is no reason to run alone (a slow checkpoint); the kernel evidence of a broken path is', () => {
    expect(kinds({ peerColoMessageAgoMs: 2000 + COLO_SLACK_MS })).toEqual([]);
    expect(kinds({ peerColoMessageAgoMs: 60_000 })).toEqual([]);
    expect(kinds({ peerColoMessageAgoMs: 60_000, replicationBroken: 'no established connection to the secondary' })).toEqual(RUN_ALONE);
    expect(decide({ ...base, replicationBroken: 'no established connection to the secondary' }).actions[1].reason).toMatch(/replication to the secondary is broken \(no established connection/);
  });

  it('a secondary whose peer runs alone at a newer generation stops its stale replica, whatever etcd says', () => {
    const s = { local: 'colo-secondary' as GuestState, peer: 'alive' as const, peerState: 'serving-alone' as GuestState, localGeneration: 3, peerGeneration: 4 };
    expect(kinds({ ...s, role: 'peer', lastHolder: 'peer' })).toEqual(['fence-self']);
    expect(kinds({ ...s, role: 'vacant', etcd: 'unreachable' })).toEqual(['fence-self']);
    // An agent that does not report generations is taken at its word.
    expect(kinds({ ...s, role: 'peer', lastHolder: 'peer', peerGeneration: undefined })).toEqual(['fence-self']);
  });

  it('re-protection: the new replica is not stale while the peer still reports running alone at the generation before it (the false fence)', () => {
    // The active side ran alone at generation 2 and re-protected onto this host: the new replica
    // is generation 3; the peer's heartbeat may say "serving-alone, 2" for one more interval.
    const fresh = {
      role: 'peer' as RoleView,
      lastHolder: 'peer' as const,
      local: 'colo-secondary' as GuestState,
      peer: 'alive' as const,
      peerState: 'serving-alone' as GuestState,
      localGeneration: 3,
      peerGeneration: 2,
    };
    expect(kinds(fresh)).toEqual([]);
    expect(kinds({ ...fresh, runsAlone: { host: 'peer', generation: 2 } })).toEqual([]);
    // The same replica once the peer failed over again (generation 4): stale.
    expect(kinds({ ...fresh, peerGeneration: 4 })).toEqual(['fence-self']);
    expect(kinds({ ...fresh, peer: 'lost', peerSilentMs: 5000, runsAlone: { host: 'peer', generation: 4 } })).toEqual(['fence-self']);
  });

  it('never kills the last copy: a guest that runs alone, recorded in etcd at its generation, keeps serving when its role is lost or etcd is gone', () => {
    const alone = { local: 'serving-alone' as GuestState, localGeneration: 4, runsAlone: { host: 'self', generation: 4 } as RunsAloneView };
    expect(kinds({ ...alone, role: 'lost' })).toEqual(['release']);
    expect(decide({ ...base, ...alone, role: 'lost' }).actions[0].reason).toMatch(/only copy/);
    expect(kinds({ ...alone, role: 'vacant', etcd: 'unreachable', msWithoutRole: 60_000 })).toEqual([]);
    expect(decide({ ...base, ...alone, role: 'vacant', etcd: 'unreachable', msWithoutRole: 60_000 }).waiting).toMatch(/only copy/);
    expect(kinds({ ...alone, role: 'vacant' })).toEqual(['acquire']); // and takes the role up again
    // Not the only copy: a record of another generation (a re-protection since), or none, or a COLO primary.
    expect(kinds({ ...alone, role: 'lost', runsAlone: { host: 'self', generation: 3 } })).toEqual(['fence-self', 'release']);
    expect(kinds({ ...alone, role: 'lost', runsAlone: undefined })).toEqual(['fence-self', 'release']);
    expect(kinds({ ...alone, role: 'lost', local: 'colo-primary' })).toEqual(['fence-self', 'release']);
    // Someone else holding the role while this side serves is two actives: fenced, only copy or not.
    expect(kinds({ ...alone, role: 'peer' })).toEqual(['fence-self']);
  });

  it('start-up: a primary waits for a secondary it has never heard, then runs alone', () => {
    const s = { peer: 'lost' as const, peerState: 'unknown' as GuestState, peerSilentMs: 5000, peerHeard: false };
    expect(kinds({ ...s, msWatching: 5000 })).toEqual([]);
    expect(decide({ ...base, ...s, msWatching: 5000 }).waiting).toMatch(/has not been heard/);
    expect(kinds({ ...s, msWatching: STARTUP_GRACE_MS })).toEqual(RUN_ALONE);
    expect(kinds({ ...s, peerHeard: true, msWatching: 5000 })).toEqual(RUN_ALONE);
  });

  it('partition between primary and secondary, both reaching etcd: the holder runs alone, the secondary stops its stale replica', () => {
    expect(kinds({ peer: 'lost', peerSilentMs: 600 })).toEqual(RUN_ALONE);
    const secondary = { role: 'peer' as RoleView, lastHolder: 'peer' as const, local: 'colo-secondary' as GuestState, peer: 'lost' as const };
    expect(kinds({ ...secondary, peerSilentMs: 600 })).toEqual([]); // could be a dead primary whose lease has not expired yet
    expect(kinds({ ...secondary, peerSilentMs: worstCaseRecoveryMs(timing) })).toEqual([]); // or a slow one
    expect(kinds({ ...secondary, peerSilentMs: 600, runsAlone: { host: 'peer', generation: 2 } })).toEqual(['fence-self']); // the holder's record
  });

  it('no guest here: nothing to do', () => {
    expect(kinds({ role: 'vacant', local: 'fenced' })).toEqual([]);
    expect(kinds({ role: 'peer', local: 'dead' })).toEqual([]);
  });
});

describe('decision core: properties over every observation', () => {
  const states: GuestState[] = ['colo-primary', 'colo-secondary', 'serving-alone', 'dead', 'fenced', 'unknown'];
  const all: Observation[] = [];
  for (const role of ['held', 'lost', 'peer', 'vacant'] as RoleView[])
    for (const etcd of ['reachable', 'unreachable'] as const)
      for (const lastHolder of ['self', 'peer', 'other', 'none'] as const)
        for (const msWithoutRole of [0, detectionMs(timing) - 1, detectionMs(timing), 10_000])
          for (const local of states)
            for (const peer of ['alive', 'lost'] as const)
              for (const peerState of states)
                for (const peerSilentMs of peer === 'alive' ? [0] : [600, fencedWithinMs(timing) - 1, fencedWithinMs(timing), worstCaseRecoveryMs(timing) - 1, worstCaseRecoveryMs(timing)])
                  // (only a COLO side's QEMU receives COLO messages)
                  for (const peerColoMessageAgoMs of local === 'colo-primary' || local === 'colo-secondary' ? [undefined, 500, 10_000] : [undefined])
                    for (const [peerHeard, msWatching] of [
                      [true, 60_000],
                      [false, 0],
                      [false, STARTUP_GRACE_MS],
                    ] as const)
                      for (const spareAvailable of [true, false])
                        for (const reprotecting of [true, false])
                          all.push({
                            timing,
                            role,
                            etcd,
                            lastHolder,
                            msWithoutRole,
                            local,
                            peer,
                            peerState,
                            peerSilentMs,
                            peerColoMessageAgoMs,
                            checkpointDelayMs: 2000,
                            peerHeard,
                            msWatching,
                            spareAvailable,
                            reprotecting,
                          });

  const decisions = new WeakMap<Observation, ReturnType<typeof decide>>();
  const decided = (o: Observation) => {
    let d = decisions.get(o);
    if (!d) decisions.set(o, (d = decide(o)));
    return d;
  };
  const has = (o: Observation, kind: Action['kind']) => decided(o).actions.some((a) => a.kind === kind);

  it(`covers ${all.length} observations`, () => {
    expect(all.length).toBeGreaterThan(500_000);
  });

  it('a primary never runs alone while its secondary QEMU still answers COLO', () => {
    for (const o of all) if (o.local === 'colo-primary' && has(o, 'failover-locally') && o.peer === 'lost') expect(peerQemuReplicating(o)).toBe(false);
  });

  it('a primary never runs alone on the silence of a secondary it has never heard, within the start-up grace', () => {
    for (const o of all) if (o.local === 'colo-primary' && has(o, 'failover-locally') && o.peer === 'lost' && !o.peerHeard) expect(o.msWatching).toBeGreaterThanOrEqual(STARTUP_GRACE_MS);
  });

  it('a secondary whose peer is alive and runs alone always stops its replica', () => {
    for (const o of all) if (o.local === 'colo-secondary' && o.role !== 'held' && o.role !== 'lost' && o.peer === 'alive' && o.peerState === 'serving-alone') expect(has(o, 'fence-self')).toBe(true);
  });

  it('only a holder fails over, re-protects or records that it runs alone', () => {
    for (const o of all) if (has(o, 'failover-locally') || has(o, 'start-reprotect') || has(o, 'record-runs-alone')) expect(o.role).toBe('held');
  });

  it('every failover is recorded in etcd (this side runs alone) before it is made', () => {
    for (const o of all) {
      const actions = decided(o).actions.map((a) => a.kind);
      if (actions.includes('failover-locally')) expect(actions.indexOf('record-runs-alone')).toBe(actions.indexOf('failover-locally') - 1);
    }
  });

  it('the only copy is never fenced, unless another side holds the role', () => {
    for (const o of all) {
      if (o.local !== 'serving-alone') continue;
      const only: Observation = { ...o, localGeneration: 1, runsAlone: { host: 'self', generation: 1 } };
      expect(onlyCopy(only)).toBe(true);
      const fences = decide(only).actions.some((a) => a.kind === 'fence-self');
      expect(fences).toBe(only.role === 'peer' && only.etcd === 'reachable');
    }
  });

  it('a secondary being promoted (recorded as running alone at the next generation) is never fenced, unless another side holds the role', () => {
    for (const o of all) {
      if (o.local !== 'colo-secondary') continue;
      const promoting: Observation = { ...o, localGeneration: 1, runsAlone: { host: 'self', generation: 2 } };
      expect(onlyCopy(promoting)).toBe(true);
      if (promoting.role !== 'peer') expect(decide(promoting).actions.some((a) => a.kind === 'fence-self')).toBe(false);
    }
  });

  it('a replica that etcd records as stale is always stopped, never promoted', () => {
    for (const o of all) {
      if (o.local !== 'colo-secondary' || o.role === 'held' || o.role === 'lost') continue;
      const stale: Observation = { ...o, localGeneration: 1, runsAlone: { host: 'peer', generation: 2 } };
      const kinds = decide(stale).actions.map((a) => a.kind);
      expect(kinds).toEqual(['fence-self']);
    }
  });

  it('a side that serves while the peer holds the role, or with a lost role, always fences (unless it is the only copy)', () => {
    for (const o of all) {
      if (isServing(o.local) && !onlyCopy(o) && (o.role === 'lost' || (o.role === 'peer' && o.etcd === 'reachable'))) expect(has(o, 'fence-self')).toBe(true);
    }
  });

  it('a side that serves without a confirmed role past interval x misses, with etcd unreachable, fences', () => {
    for (const o of all) if (isServing(o.local) && o.role !== 'held' && o.etcd === 'unreachable' && o.msWithoutRole >= detectionMs(timing)) expect(has(o, 'fence-self')).toBe(true);
  });

  it('a secondary stops its replica only on evidence that the peer runs alone, never on silence or slowness', () => {
    for (const o of all) {
      if (o.local !== 'colo-secondary' || o.role !== 'peer' || !has(o, 'fence-self')) continue;
      expect(o.peer).toBe('alive');
      expect(o.peerState).toBe('serving-alone');
    }
  });

  it('nobody acquires without etcd, and a secondary acquires only with proof the primary no longer serves', () => {
    for (const o of all) {
      if (!has(o, 'acquire')) continue;
      expect(o.role).toBe('vacant');
      expect(o.etcd).toBe('reachable');
      if (o.local === 'colo-secondary') {
        const proof = o.lastHolder === 'peer' || (o.peer === 'alive' && ['dead', 'fenced'].includes(o.peerState));
        expect(proof).toBe(true);
      }
    }
  });

  it('fencing always comes before releasing a lost role', () => {
    for (const o of all) {
      const actions = decided(o).actions.map((a) => a.kind);
      if (actions.includes('fence-self') && actions.includes('release')) expect(actions.indexOf('fence-self')).toBeLessThan(actions.indexOf('release'));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Two agents, one etcd, in simulated time (10 ms steps): the decisions carried out, with the
// worst-case fencing time (the whole fencing deadline), lease expiry checked every 500 ms.

interface SimSide {
  name: 'a' | 'b';
  local: GuestState;
  agentUp: boolean;
  holds: boolean;
  lost: boolean;
  lastConfirmed: number;
  lastRoleAt: number;
  lastView: RoleView;
  lastHeardPeer: number;
  heardPeer: boolean;
  peerStateSeen: GuestState;
  fenceDoneAt?: number;
  reprotecting: boolean;
  etcdReachable: boolean;
  /** The pair record's generation on this side. */
  generation: number;
  peerGenerationSeen?: number;
  /** The "runs alone" record as last read from etcd. */
  runsAloneSeen?: { holder: 'a' | 'b'; generation: number };
}

interface Sim {
  now: number;
  a: SimSide;
  b: SimSide;
  link: boolean;
  key?: { holder: 'a' | 'b'; expiresAt: number };
  /** etcd's lease-less record of the last holder. */
  lastHolder?: 'a' | 'b';
  /** etcd's "runs alone" record. */
  runsAlone?: { holder: 'a' | 'b'; generation: number };
  servingTwice: number[];
  log: string[];
}

const STEP = 10;

function newSim(): Sim {
  const side = (name: 'a' | 'b', local: GuestState): SimSide => ({
    name,
    local,
    agentUp: true,
    holds: false,
    lost: false,
    lastConfirmed: 0,
    lastRoleAt: 0,
    lastView: 'vacant',
    lastHeardPeer: 0,
    heardPeer: false,
    peerStateSeen: 'unknown',
    reprotecting: false,
    etcdReachable: true,
    generation: 1,
  });
  return { now: 0, a: side('a', 'colo-primary'), b: side('b', 'colo-secondary'), link: true, servingTwice: [], log: [] };
}

function step(sim: Sim): void {
  sim.now += STEP;
  const { now } = sim;
  for (const s of [sim.a, sim.b])
    if (s.fenceDoneAt !== undefined && now >= s.fenceDoneAt) {
      s.local = 'fenced';
      s.fenceDoneAt = undefined;
    }
  if (sim.key && now % 500 === 0 && now >= sim.key.expiresAt) {
    sim.log.push(`${now} lease of ${sim.key.holder} expired`);
    sim.key = undefined;
  }
  for (const s of [sim.a, sim.b]) {
    const peer = s === sim.a ? sim.b : sim.a;
    if (!s.agentUp) continue;
    // heartbeats from the peer
    if (sim.link && peer.agentUp && now % timing.heartbeatIntervalMs === 0) {
      s.lastHeardPeer = now;
      s.heardPeer = true;
      s.peerStateSeen = peer.local;
      s.peerGenerationSeen = peer.generation;
    }
    // renewals
    if (s.holds && now % timing.heartbeatIntervalMs === 0 && s.etcdReachable && sim.key?.holder === s.name) {
      sim.key.expiresAt = now + timing.leaseTtlMs;
      s.lastConfirmed = now;
    }
    if (s.holds && now - s.lastConfirmed >= detectionMs(timing)) {
      s.holds = false;
      s.lost = true;
      sim.log.push(`${now} ${s.name} lost the role`);
    }
    if (s.holds) s.lastRoleAt = now;
    if (s.etcdReachable) {
      s.lastView = s.holds ? 'held' : sim.key?.holder === peer.name ? 'peer' : 'vacant';
      s.runsAloneSeen = sim.runsAlone;
    }
    const silent = now - s.lastHeardPeer;
    const observation: Observation = {
      timing,
      role: s.lost ? 'lost' : s.holds ? 'held' : s.lastView === 'held' ? 'vacant' : s.lastView,
      etcd: s.etcdReachable ? 'reachable' : 'unreachable',
      lastHolder: sim.lastHolder === undefined ? 'none' : sim.lastHolder === s.name ? 'self' : 'peer',
      msWithoutRole: s.holds ? 0 : now - s.lastRoleAt,
      local: s.local,
      peer: silent >= detectionMs(timing) ? 'lost' : 'alive',
      peerState: s.peerStateSeen,
      peerSilentMs: silent >= detectionMs(timing) ? silent : 0,
      peerHeard: s.heardPeer,
      msWatching: now,
      checkpointDelayMs: 2000,
      localGeneration: s.generation,
      ...(s.peerGenerationSeen !== undefined ? { peerGeneration: s.peerGenerationSeen } : {}),
      ...(s.runsAloneSeen ? { runsAlone: { host: s.runsAloneSeen.holder === s.name ? 'self' : 'peer', generation: s.runsAloneSeen.generation } } : {}),
      spareAvailable: true,
      reprotecting: s.reprotecting,
    };
    for (const action of decide(observation).actions) {
      // as in the agent: a failed action ends the tick's list (retried later)
      if (action.kind === 'record-runs-alone') {
        if (!(s.etcdReachable && s.holds && sim.key?.holder === s.name)) break;
        sim.runsAlone = { holder: s.name, generation: action.generation };
        s.runsAloneSeen = sim.runsAlone;
        sim.log.push(`${now} ${s.name} recorded: runs alone from generation ${action.generation}`);
        continue;
      }
      switch (action.kind) {
        case 'acquire':
          if (s.etcdReachable && !sim.key) {
            sim.key = { holder: s.name, expiresAt: now + timing.leaseTtlMs };
            sim.lastHolder = s.name;
            s.holds = true;
            s.lost = false;
            s.lastConfirmed = now;
            s.lastRoleAt = now;
            sim.log.push(`${now} ${s.name} acquired`);
          }
          break;
        case 'release':
          if (s.etcdReachable && sim.key?.holder === s.name) sim.key = undefined;
          s.holds = false;
          s.lost = false;
          sim.log.push(`${now} ${s.name} released`);
          break;
        case 'failover-locally':
          s.local = 'serving-alone';
          s.generation++;
          sim.log.push(`${now} ${s.name} failed over (${action.as})`);
          break;
        case 'fence-self':
          if (s.fenceDoneAt === undefined && s.local !== 'fenced') {
            s.fenceDoneAt = now + timing.fencingDeadlineMs;
            sim.log.push(`${now} ${s.name} fencing: ${action.reason}`);
          }
          break;
        case 'start-reprotect':
          s.reprotecting = true;
          break;
      }
    }
  }
  if (isServing(sim.a.local) && isServing(sim.b.local)) sim.servingTwice.push(now);
}

function run(sim: Sim, untilMs: number, fault?: { at: number; apply: (sim: Sim) => void }): void {
  while (sim.now < untilMs) {
    if (fault && sim.now === fault.at) fault.apply(sim);
    step(sim);
  }
}

const servingAt = (sim: Sim) => [sim.a, sim.b].filter((s) => isServing(s.local)).map((s) => s.name);
const firstServingSince = (sim: Sim, name: string, since: number) => {
  const line = sim.log.find((l) => Number(l.split(' ')[0]) >= since && l.includes(`${name} failed over`));
  return line ? Number(line.split(' ')[0]) - since : undefined;
};

describe('decision core: two agents and etcd in simulated time', () => {
  it('startup: the primary takes the role, the pair stays protected', () => {
    const sim = newSim();
    run(sim, 5000);
    expect(sim.key?.holder).toBe('a');
    expect(servingAt(sim)).toEqual(['a']);
    expect(sim.b.local).toBe('colo-secondary');
    expect(sim.servingTwice).toEqual([]);
  });

  it('primary QEMU killed: the secondary serves within one heartbeat interval', () => {
    const sim = newSim();
    run(sim, 8000, { at: 3000, apply: (s) => (s.a.local = 'dead') });
    expect(servingAt(sim)).toEqual(['b']);
    expect(firstServingSince(sim, 'b', 3000)).toBeLessThanOrEqual(timing.heartbeatIntervalMs + STEP);
    expect(sim.servingTwice).toEqual([]);
  });

  it('primary host dies: the secondary serves after the lease expires (within the worst case)', () => {
    const sim = newSim();
    run(sim, 10_000, { at: 3000, apply: (s) => ((s.a.agentUp = false), (s.a.local = 'dead'), (s.link = false), (s.a.etcdReachable = false)) });
    expect(servingAt(sim)).toEqual(['b']);
    const took = firstServingSince(sim, 'b', 3000)!;
    expect(took).toBeGreaterThanOrEqual(timing.leaseTtlMs - timing.heartbeatIntervalMs);
    expect(took).toBeLessThanOrEqual(timing.leaseTtlMs + 500 + timing.heartbeatIntervalMs);
    expect(sim.servingTwice).toEqual([]);
  });

  it('primary loses etcd (still talks to the secondary): it fences before its lease expires; then the secondary serves', () => {
    const sim = newSim();
    run(sim, 10_000, { at: 3000, apply: (s) => (s.a.etcdReachable = false) });
    expect(sim.a.local).toBe('fenced');
    expect(servingAt(sim)).toEqual(['b']);
    expect(sim.servingTwice).toEqual([]);
  });

  it('primary isolated from everything: same, never two actives', () => {
    const sim = newSim();
    run(sim, 10_000, { at: 3000, apply: (s) => ((s.a.etcdReachable = false), (s.link = false)) });
    expect(sim.a.local).toBe('fenced');
    expect(servingAt(sim)).toEqual(['b']);
    expect(sim.servingTwice).toEqual([]);
  });

  it('split brain: primary/secondary partitioned, both reach etcd: exactly one active (the holder), the stale replica stopped', () => {
    const sim = newSim();
    run(sim, 10_000, { at: 3000, apply: (s) => (s.link = false) });
    expect(servingAt(sim)).toEqual(['a']);
    expect(sim.a.local).toBe('serving-alone');
    expect(sim.b.local).toBe('fenced');
    expect(sim.key?.holder).toBe('a');
    expect(sim.servingTwice).toEqual([]);
  });

  it('secondary host dies: the primary runs alone and re-protects', () => {
    const sim = newSim();
    run(sim, 6000, { at: 3000, apply: (s) => ((s.b.agentUp = false), (s.b.local = 'dead'), (s.link = false)) });
    expect(sim.a.local).toBe('serving-alone');
    expect(sim.a.reprotecting).toBe(true);
    expect(sim.servingTwice).toEqual([]);
  });

  it('startup with the primary cut off from etcd and the secondary: the primary fences itself; the secondary, with no proof (the role was never held), does not promote itself', () => {
    const sim = newSim();
    sim.a.etcdReachable = false;
    sim.link = false;
    run(sim, 8000);
    expect(sim.a.local).toBe('fenced');
    expect(servingAt(sim)).toEqual([]);
    expect(sim.b.local).toBe('colo-secondary');
    expect(sim.servingTwice).toEqual([]);
  });

  it('secondary partitioned away and healed: it stops its stale replica once it hears the primary runs alone', () => {
    const sim = newSim();
    run(sim, 4000, { at: 3000, apply: (s) => (s.link = false) });
    run(sim, 6000, { at: 4000, apply: (s) => (s.link = true) });
    expect(servingAt(sim)).toEqual(['a']);
    expect(sim.b.local).toBe('fenced');
    expect(sim.servingTwice).toEqual([]);
  });

  it('etcd down for everyone: the primary fences (no one may serve without proof), the secondary never promotes itself', () => {
    const sim = newSim();
    run(sim, 8000, { at: 3000, apply: (s) => ((s.a.etcdReachable = false), (s.b.etcdReachable = false)) });
    expect(servingAt(sim)).toEqual([]);
    expect(sim.b.local).toBe('colo-secondary');
    expect(sim.servingTwice).toEqual([]);
  });
});

describe('decision core: random fault sequences', () => {
  it('never two actives over 300 runs of random partitions, etcd outages and kills', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let takeovers = 0;
    for (let run = 0; run < 300; run++) {
      const sim = newSim();
      const faults = new Map<number, (s: Sim) => void>();
      for (let i = 0; i < 6; i++) {
        const at = Math.floor((1000 + random() * 12_000) / STEP) * STEP;
        const pick = Math.floor(random() * 7);
        faults.set(at, (s) => {
          if (pick === 0) s.link = !s.link;
          else if (pick === 1) s.a.etcdReachable = !s.a.etcdReachable;
          else if (pick === 2) s.b.etcdReachable = !s.b.etcdReachable;
          else if (pick === 3 && isServing(s.a.local)) s.a.local = 'dead';
          else if (pick === 4 && isServing(s.b.local)) s.b.local = 'dead';
          else if (pick === 5) s.a.agentUp = s.a.local === 'dead' ? false : s.a.agentUp;
          else if (pick === 6) {
            s.a.etcdReachable = false;
            s.link = false;
          }
        });
      }
      while (sim.now < 20_000) {
        faults.get(sim.now)?.(sim);
        step(sim);
      }
      if (isServing(sim.b.local)) takeovers++;
      expect({ run, servingTwice: sim.servingTwice.slice(0, 3), log: sim.servingTwice.length ? sim.log : [] }).toEqual({ run, servingTwice: [], log: [] });
    }
    expect(takeovers).toBeGreaterThan(30); // the faults did cause failovers
  });
});
