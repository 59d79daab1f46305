/**
 * Chaos tests of the failover monitor on real COLO (issue 6): agents installed on every lab host
 * by the provider's installer (bundle over SSH, supervisor with watchdog), a protected pair of
 * the test guest (site-a + site-b, the witness host as declared spare), and loops of faults:
 *
 *   - SIGKILL of the active QEMU      -> automatic failover, counter intact
 *   - SIGKILL of an agent             -> guest unaffected, agent restarted, role adopted
 *   - SIGKILL of a supervisor         -> its agent starts a new one and hands over; guest unaffected
 *   - kill-host of the active host    -> failover once the lease expires
 *   - partition active | standby      -> exactly one active (the holder); the stale replica fenced
 *   - active host cut off from etcd   -> it fences itself before its lease can expire; the other serves
 *   - the active's agent hung (SIGSTOP) -> its supervisor's watchdog fences the guest before the
 *                                        lease can expire; the other serves
 *
 * After every fault the agents re-protect the pair by themselves, and the next round is the
 * "second failure" the pair must survive. Each scenario prints its rounds and counts.
 * ORBIT_CHAOS_ROUNDS sets the rounds per scenario (default 2; QEMU kills: 3).
 */
import { Etcd3 } from 'etcd3';
import { worstCaseRecoveryMs, DEFAULT_TIMING } from '../../provider/monitor/timing';
import { GuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { LabDescription } from '../../scripts/lab/description';
import { heal, killHost, partition } from '../../scripts/lab/faults';
import { labUp } from '../../scripts/lab/lab';
import { labAccelerator } from '../../scripts/lab/lab-accelerator';
import { coloGuestSpec, crashQemu } from '../support/colo-guest';
import { GuestSample, pollGuest } from '../support/guest-poller';
import { guestAnswersAfterFault } from '../support/monitored-failover';
import {
  agentLog,
  agentPids,
  agentStatus,
  labEtcd,
  LabSessions,
  labSessions,
  monitoredPairHostNames,
  readPairEvents,
  removeMonitoredLabPair,
  startMonitoredLabPair,
  waitFor,
  waitForProtectedPair,
} from '../support/lab-monitor';
import { setTimeout as sleep } from 'timers/promises';

jest.setTimeout(1_200_000);

const VM = { name: 'chaos-web', ip: '10.89.0.86' };
const PAIR_HOSTS = { primary: 'site-a', secondary: 'site-b', spares: ['witness'] };
const HOSTS = monitoredPairHostNames(PAIR_HOSTS);
const ROUNDS = Number(process.env.ORBIT_CHAOS_ROUNDS ?? 2);

let lab: LabDescription;
let etcd: Etcd3;
let ssh: LabSessions;
let firstBoot: string;
let lastCounter = 0;

/** A live session to the host (a killed host's session is gone: reconnect). */
const session = (host: string) => ssh.session(host);

/** Waits until one agent holds the role with a protected pair and another stands by. */
const protectedPair = (timeoutMs = 120_000) => waitForProtectedPair(session, VM.name, HOSTS, timeoutMs);
type Placement = Awaited<ReturnType<typeof protectedPair>>;

/** The guest's state carried on: same boot as at the start, counter never went back. */
function expectStateKept(before: GuestReport | undefined, after: GuestReport | undefined): void {
  expect(before).toBeDefined();
  expect(after).toBeDefined();
  expect(after!.boot).toBe(firstBoot);
  expect(after!.counter).toBeGreaterThanOrEqual(before!.counter);
  expect(after!.counter).toBeGreaterThanOrEqual(lastCounter);
  lastCounter = after!.counter;
}

function lastBefore(samples: GuestSample[], t: number): GuestSample | undefined {
  return samples
    .filter((s) => s.report && s.doneAt < t)
    .sort((a, b) => a.doneAt - b.doneAt)
    .pop();
}

function firstAfter(samples: GuestSample[], t: number): GuestSample | undefined {
  return samples.filter((s) => s.report && s.at >= t).sort((a, b) => a.doneAt - b.doneAt)[0];
}

/** Longest time without an answer between `from` and `to` (ms). */
function longestSilence(samples: GuestSample[], from: number, to: number): number {
  const answers = samples
    .filter((s) => s.report && s.doneAt >= from && s.doneAt <= to)
    .map((s) => s.doneAt)
    .sort((a, b) => a - b);
  let longest = 0;
  let previous = from;
  for (const at of [...answers, to]) {
    longest = Math.max(longest, at - previous);
    previous = at;
  }
  return longest;
}

/**
 * Runs `fault` while a client keeps asking the guest (every 25 ms, up to 100 requests in flight,
 * so a lost SYN at a switch-over hides nothing), then `until` (e.g. waiting for the guest to
 * answer again); returns when the fault struck (what `fault` returns) and every sample.
 */
async function underLoad(fault: () => Promise<number>, until: (faultAt: number) => Promise<unknown>): Promise<{ faultAt: number; samples: GuestSample[] }> {
  const poller = pollGuest(VM.ip, { intervalMs: 25, timeoutMs: 1500, maxInFlight: 100 });
  await poller.answering();
  await sleep(500);
  const faultAt = await fault();
  await until(faultAt);
  return { faultAt, samples: await poller.stop() };
}

/** A fault whose moment is when it was started. */
const timedFault = (inject: () => Promise<unknown>) => async (): Promise<number> => {
  const at = Date.now();
  await inject();
  return at;
};

/** underLoad for a network fault: the lab is healed after the round (`always`), or only when the round fails. */
async function underLoadHealing(when: 'always' | 'on-failure', fault: () => Promise<number>, until: (faultAt: number) => Promise<unknown>): ReturnType<typeof underLoad> {
  let failed = true;
  try {
    const result = await underLoad(fault, until);
    failed = false;
    return result;
  } finally {
    if (failed || when === 'always') await heal();
  }
}

/** The guest answers again after the fault at `faultAt`; if not within 30 s, every host's evidence says why. */
const guestAnswers = (faultAt: number) => guestAnswersAfterFault(VM.name, { ip: VM.ip, faultAt, hosts: HOSTS, session, timeoutMs: 30_000 });

/** ms (epoch) of the first log line of `host`'s agent with message `msg` at or after `since`. */
async function loggedAt(host: string, msg: string | RegExp, since: number): Promise<number | undefined> {
  const lines = await agentLog(await session(host));
  const line = lines.find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)) && Date.parse(l.time) >= since);
  return line ? Date.parse(line.time) : undefined;
}

async function eventsSince(since: number): Promise<Array<{ kind: string; host: string }>> {
  return (await readPairEvents(etcd, VM.name)).filter((e) => Date.parse(e.at) >= since - 50);
}

beforeAll(async () => {
  lab = await labUp();
  await heal();
  ssh = labSessions(lab);
  etcd = labEtcd(lab);
  const { accelerator } = await labAccelerator(lab);
  const placement = await startMonitoredLabPair(lab, etcd, ssh, coloGuestSpec(lab, { ...VM, accelerator }), PAIR_HOSTS);
  const first = await waitForGuestReport(VM.ip, 7000, 120_000);
  firstBoot = first.boot;
  lastCounter = first.counter;
  console.log(`accelerator ${accelerator}; protected as ${JSON.stringify(placement)}`);
});

// A round that failed half-way (a host killed, a partition, a stopped agent) must not break the
// next scenario: every scenario starts from a healed lab with every agent running.
beforeEach(async () => {
  await heal();
  for (const h of HOSTS) {
    const s = await session(h);
    const pids = await agentPids(s);
    const stopped = [...pids.agent, ...pids.supervisor, ...pids.spare];
    if (stopped.length > 0) await s.exec(`kill -CONT ${stopped.join(' ')} 2>/dev/null; true`, { timeoutMs: 10_000, allowFailure: true });
    await waitFor(`${h}'s agent to run`, async () => ((await agentStatus(s))?.ready ? true : undefined), 30_000, 200);
  }
});

afterAll(async () => {
  await heal().catch((e) => console.error(e));
  // The agents' logs outlive the test (they go with the agents): where to read what happened.
  const { logDir, leftovers } = await removeMonitoredLabPair(etcd, ssh, VM.name, HOSTS, 'orbit-chaos-logs');
  console.log(`agent logs: ${logDir}`);
  etcd?.close();
  await ssh.closeAll();
  expect(leftovers).toEqual([]);
});

test(`SIGKILL of the active QEMU: the agents fail over and re-protect by themselves (${ROUNDS + 1} rounds)`, async () => {
  const rounds: Array<Record<string, unknown>> = [];
  for (let round = 1; round <= ROUNDS + 1; round++) {
    const { active, standby } = await protectedPair();
    const { faultAt: killAt, samples } = await underLoad(async () => crashQemu(await session(active), VM.name), guestAnswers);
    const before = lastBefore(samples, killAt);
    const after = firstAfter(samples, killAt + 50);
    expectStateKept(before?.report, after?.report);
    const again = await protectedPair();
    const decided = await loggedAt(standby, 'decided: failover-locally', killAt);
    const reprotected = await loggedAt(standby, 're-protection done', killAt);
    const events = await eventsSince(killAt);
    const result = {
      round,
      killed: active,
      survivor: standby,
      killToAnswerMs: after!.doneAt - killAt,
      decidedAtMs: decided && decided - killAt,
      reprotectedAtMs: reprotected && reprotected - killAt,
      reprotection: events.find((e) => e.kind === 'reprotect'),
      now: again,
      events: events.map((e) => `${e.kind}@${e.host}`),
    };
    rounds.push(result);
    console.log(JSON.stringify({ chaos: 'qemu-kill', ...result }));
    expect(again.active).toBe(standby);
    expect(decided).toBeDefined();
    // One fault, one failover: no unnecessary failover, no fence (the false fence of a fresh replica).
    expect(events.filter((e) => e.kind === 'failover').map((e) => e.host)).toEqual([standby]);
    expect(events.filter((e) => e.kind === 'fence')).toEqual([]);
  }
  console.log(JSON.stringify({ chaosSummary: 'qemu-kill', rounds: rounds.length, killToAnswerMs: rounds.map((r) => r.killToAnswerMs) }));
});

test('the survivor is starved while it re-protects (host loaded, agent stopped past its lease): it keeps the only copy serving, protects it again, and fails over again', async () => {
  const { active, standby } = await protectedPair();
  const survivor = await session(standby);
  const starveMs = DEFAULT_TIMING.leaseTtlMs + 1500;
  let starvedAt = 0;
  const { faultAt: killAt, samples } = await underLoad(
    async () => crashQemu(await session(active), VM.name),
    async (at) => {
      await guestAnswers(at);
      await waitFor(`${standby} to start re-protecting`, () => loggedAt(standby, 're-protection started', at), 60_000, 50);
      // Both cores busy on the survivor's host, and its agent stopped for longer than the lease:
      // its renewals cannot be confirmed, the lease expires, its watchdog's deadline passes.
      const [agent] = (await agentPids(survivor)).agent;
      starvedAt = Date.now();
      await survivor.exec(`for i in 1 2; do timeout ${Math.ceil(starveMs / 1000) + 5} sh -c 'while :; do :; done' & done; kill -STOP ${agent}; sleep ${starveMs / 1000}; kill -CONT ${agent}`, {
        timeoutMs: starveMs + 20_000,
      });
      await guestAnswers(at);
    },
  );
  const again = await protectedPair(180_000);
  const events = await eventsSince(killAt);
  const log = await agentLog(survivor);
  const kept = log.find((l) => /only copy/.test(String(l.reason ?? l.msg)) && Date.parse(l.time) >= starvedAt);
  const result = {
    survivor: standby,
    starvedMs: starveMs,
    onlyCopyDecision: kept ? String(kept.reason ?? kept.msg).slice(0, 120) : undefined,
    watchdog: (await agentLog(survivor, 'supervisor.log')).filter((l) => /^watchdog: /.test(l.msg) && Date.parse(l.time) >= starvedAt).map((l) => l.msg.slice(0, 100)),
    longestSilenceMs: longestSilence(samples, starvedAt, starvedAt + starveMs + 5000),
    events: events.map((e) => `${e.kind}@${e.host}`),
    now: again,
  };
  console.log(JSON.stringify({ chaos: 'starved-survivor', ...result }));
  // The only copy was never fenced, and the role came back to it.
  expect(events.filter((e) => e.kind === 'fence')).toEqual([]);
  expect(events.filter((e) => e.kind === 'failover').map((e) => e.host)).toEqual([standby]);
  expect(again.active).toBe(standby);
  expectStateKept(lastBefore(samples, killAt)?.report, lastBefore(samples, Date.now())?.report);
  // ...and it survives the next failure.
  const { faultAt: secondKillAt, samples: secondSamples } = await underLoad(async () => crashQemu(await session(again.active), VM.name), guestAnswers);
  expectStateKept(lastBefore(secondSamples, secondKillAt)?.report, firstAfter(secondSamples, secondKillAt + 50)?.report);
  await protectedPair(180_000);
});

test(`SIGKILL of an agent: the guest is unaffected, the supervisor restarts it, it adopts its role (${ROUNDS} rounds each side)`, async () => {
  const rounds: Array<Record<string, unknown>> = [];
  for (let round = 1; round <= ROUNDS * 2; round++) {
    const placement = await protectedPair();
    const victim = round % 2 === 1 ? placement.active : placement.standby;
    const s = await session(victim);
    const before = await agentPids(s);
    expect(before.agent).toHaveLength(1);
    let restartedAt = 0;
    const { faultAt: killAt, samples } = await underLoad(
      async () => {
        const at = Date.now();
        await s.exec(`kill -KILL ${before.agent[0]}`);
        return at;
      },
      async () => {
        const back = await waitFor(
          'the agent to be back (new pid, ready)',
          async () => {
            const status = await agentStatus(s);
            return status?.ready && status.pid !== before.agent[0] && status.pairs[VM.name] ? status : undefined;
          },
          20_000,
          50,
        );
        restartedAt = Date.parse(back.startedAt);
        // Past the lease TTL: a role that was not adopted would have expired and moved by now.
        await sleep(worstCaseRecoveryMs(DEFAULT_TIMING) + 1000);
      },
    );
    const end = Date.now();
    const after = await protectedPair(10_000);
    const events = await eventsSince(killAt);
    const result = {
      round,
      killed: victim === placement.active ? `active agent on ${victim}` : `standby agent on ${victim}`,
      backAfterMs: restartedAt - killAt,
      longestSilenceMs: longestSilence(samples, killAt, end - 1500),
      placementKept: after.active === placement.active && after.standby === placement.standby,
      events: events.map((e) => e.kind),
    };
    rounds.push(result);
    console.log(JSON.stringify({ chaos: 'agent-kill', ...result }));
    expect((await agentPids(s)).supervisor).toEqual(before.supervisor);
    expect(after).toEqual(placement);
    expect(events.filter((e) => e.kind === 'failover' || e.kind === 'fence')).toEqual([]);
    expectStateKept(lastBefore(samples, killAt)?.report, lastBefore(samples, end)?.report);
  }
  console.log(JSON.stringify({ chaosSummary: 'agent-kill', rounds: rounds.length, guestUnaffected: rounds.filter((r) => r.placementKept).length }));
});

test(`SIGKILL of a supervisor: its agent starts a new one and hands over, the guest is unaffected (${ROUNDS} rounds)`, async () => {
  const rounds: Array<Record<string, unknown>> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const placement = await protectedPair();
    const victim = round % 2 === 1 ? placement.active : placement.standby;
    const s = await session(victim);
    const before = await agentPids(s);
    expect(before.supervisor).toHaveLength(1);
    expect(before.agent).toHaveLength(1);
    let backAt = 0;
    let now = before;
    const { faultAt: killAt, samples } = await underLoad(
      async () => {
        const at = Date.now();
        await s.exec(`kill -KILL ${before.supervisor[0]}`);
        return at;
      },
      async () => {
        await waitFor(
          'a new supervisor and a new agent, ready',
          async () => {
            const status = await agentStatus(s);
            if (!(status?.ready && status.pid !== before.agent[0] && status.pairs[VM.name])) return undefined;
            now = await agentPids(s);
            return now.supervisor.length === 1 && now.supervisor[0] !== before.supervisor[0] ? status : undefined;
          },
          20_000,
          50,
        );
        backAt = Date.now();
        await sleep(worstCaseRecoveryMs(DEFAULT_TIMING) + 1000);
      },
    );
    const end = Date.now();
    const after = await protectedPair(10_000);
    const events = await eventsSince(killAt);
    const handOver = await loggedAt(victim, /the supervisor is gone/, killAt);
    const result = {
      round,
      killed: victim === placement.active ? `active host's supervisor on ${victim}` : `standby host's supervisor on ${victim}`,
      noticedAfterMs: handOver === undefined ? undefined : handOver - killAt,
      backAfterMs: backAt - killAt,
      longestSilenceMs: longestSilence(samples, killAt, end - 1500),
      placementKept: after.active === placement.active && after.standby === placement.standby,
      events: events.map((e) => e.kind),
    };
    rounds.push(result);
    console.log(JSON.stringify({ chaos: 'supervisor-kill', ...result }));
    expect(handOver).toBeDefined();
    // One supervisor and one agent again: the old agent is gone, nothing doubled.
    const pidsAfter = await agentPids(s);
    expect({ supervisor: pidsAfter.supervisor, agent: pidsAfter.agent }).toEqual({ supervisor: now.supervisor, agent: now.agent });
    expect(pidsAfter.spare.length).toBeLessThanOrEqual(1);
    expect(now.agent).toHaveLength(1);
    expect(after).toEqual(placement);
    expect(events.filter((e) => e.kind === 'failover' || e.kind === 'fence')).toEqual([]);
    expectStateKept(lastBefore(samples, killAt)?.report, lastBefore(samples, end)?.report);
  }
  console.log(JSON.stringify({ chaosSummary: 'supervisor-kill', rounds: rounds.length, guestUnaffected: rounds.filter((r) => r.placementKept).length }));
});

test(`kill-host of the active host: the standby takes over once the lease expires, re-protects onto the spare (${ROUNDS} rounds)`, async () => {
  const rounds: Array<Record<string, unknown>> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const { active, standby } = await protectedPair();
    let killAt = 0;
    let samples: GuestSample[] = [];
    let again: Placement;
    try {
      ({ faultAt: killAt, samples } = await underLoad(async () => {
        const at = Date.now();
        await killHost(active);
        return at;
      }, guestAnswers));
      again = await protectedPair();
    } finally {
      await heal();
    }
    const before = lastBefore(samples, killAt);
    const after = firstAfter(samples, killAt + worstCaseRecoveryMs(DEFAULT_TIMING) / 2);
    expectStateKept(before?.report, after?.report);
    await waitFor(`${active}'s agent to boot again`, async () => ((await agentStatus(await session(active)))?.ready ? true : undefined), 30_000, 200);
    const result = { round, killed: active, survivor: standby, killToAnswerMs: after!.doneAt - killAt, reprotectedOnto: again.standby };
    rounds.push(result);
    console.log(JSON.stringify({ chaos: 'host-kill', ...result }));
    expect(again.active).toBe(standby);
    expect(again.standby).not.toBe(active);
  }
  console.log(JSON.stringify({ chaosSummary: 'host-kill', rounds: rounds.length, killToAnswerMs: rounds.map((r) => r.killToAnswerMs) }));
});

test(`partition between active and standby, both on etcd: exactly one active, the stale replica fenced (${ROUNDS} rounds)`, async () => {
  const rounds: Array<Record<string, unknown>> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const { active, standby } = await protectedPair();
    let fenced = 0;
    let again: Placement | undefined;
    let cutAt = 0;
    let samples: GuestSample[] = [];
    ({ faultAt: cutAt, samples } = await underLoadHealing(
      'always',
      timedFault(() => partition([active], [standby])),
      async (at) => {
        fenced = await waitFor(`${standby} to fence its stale replica`, () => loggedAt(standby, "fenced this host's guest", at), 30_000, 200);
        again = await protectedPair();
      },
    ));
    const events = await eventsSince(cutAt);
    const failovers = events.filter((e) => e.kind === 'failover');
    const result = {
      round,
      partitioned: `${active} | ${standby}`,
      failovers: failovers.map((e) => e.host),
      standbyFencedAfterMs: fenced - cutAt,
      longestSilenceMs: longestSilence(samples, cutAt, Date.now() - 2000),
      reprotectedOnto: again!.standby,
    };
    rounds.push(result);
    console.log(JSON.stringify({ chaos: 'partition', ...result }));
    // Exactly one active: the holder ran alone, the standby never served.
    expect(failovers.map((e) => e.host)).toEqual([active]);
    expect(await loggedAt(standby, 'failover done', cutAt)).toBeUndefined();
    expect(again!.active).toBe(active);
    expectStateKept(lastBefore(samples, cutAt)?.report, lastBefore(samples, Date.now())?.report);
  }
  console.log(JSON.stringify({ chaosSummary: 'partition', rounds: rounds.length, oneActive: rounds.length }));
});

test(`active host cut off from etcd: it fences itself before its lease can expire, then the standby serves (${ROUNDS} rounds)`, async () => {
  const rounds: Array<Record<string, unknown>> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const { active, standby } = await protectedPair();
    let failoverAt = 0;
    let cutAt = 0;
    let samples: GuestSample[] = [];
    ({ faultAt: cutAt, samples } = await underLoadHealing(
      'on-failure',
      timedFault(() => partition([active], ['etcd'])),
      async (at) => {
        await waitFor(`${active} to fence itself`, () => loggedAt(active, "fenced this host's guest", at), 30_000, 200);
        failoverAt = await waitFor(`${standby} to fail over`, () => loggedAt(standby, 'decided: failover-locally', at), 30_000, 200);
        await guestAnswers(at);
      },
    ));
    const activeLog = await agentLog(await session(active));
    const loss = activeLog.find((l) => l.msg === 'active role lost' && Date.parse(l.time) >= cutAt);
    const fencedAt = Date.parse(String(activeLog.find((l) => l.msg === "fenced this host's guest" && Date.parse(l.time) >= cutAt)?.killedAt));
    const after = firstAfter(samples, failoverAt);
    await heal();
    const again = await protectedPair();
    const mustBeFencedBy = Number(loss?.mustBeFencedBy);
    const result = {
      round,
      cutOff: active,
      fencedAfterMs: fencedAt - cutAt,
      fenceMarginMs: mustBeFencedBy - fencedAt,
      standbyFailedOverAfterMs: failoverAt - cutAt,
      cutToAnswerMs: after ? after.doneAt - cutAt : null,
      reprotectedOnto: again.standby,
    };
    rounds.push(result);
    console.log(JSON.stringify({ chaos: 'etcd-isolation', ...result }));
    // Never two actives: the cut-off side had stopped its guest before the other began serving.
    // ...and before its lease could expire (the agent's loss record says by when it had to be).
    expect(fencedAt).toBeLessThan(failoverAt);
    expect(fencedAt).toBeLessThanOrEqual(mustBeFencedBy);
    expect(again.active).toBe(standby);
    expectStateKept(lastBefore(samples, cutAt)?.report, after?.report);
  }
  console.log(JSON.stringify({ chaosSummary: 'etcd-isolation', rounds: rounds.length, fencedBeforeTakeover: rounds.length }));
});

test(`the active host's agent hangs (SIGSTOP): the watchdog fences its guest before the lease can expire, then the standby serves (${ROUNDS} rounds)`, async () => {
  const rounds: Array<Record<string, unknown>> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const { active, standby } = await protectedPair();
    const s = await session(active);
    const [agent] = (await agentPids(s)).agent;
    let failoverAt = 0;
    let stopAt = 0;
    let samples: GuestSample[] = [];
    try {
      ({ faultAt: stopAt, samples } = await underLoad(
        async () => {
          const at = Date.now();
          await s.exec(`kill -STOP ${agent}`);
          return at;
        },
        async (at) => {
          await waitFor('the watchdog to fence the guest', () => loggedAtIn(active, 'supervisor.log', /^watchdog: /, at), 30_000, 200);
          failoverAt = await waitFor(`${standby} to fail over`, () => loggedAt(standby, 'decided: failover-locally', at), 30_000, 200);
          await guestAnswers(at);
        },
      ));
    } finally {
      await s.exec(`kill -CONT ${agent}`);
    }
    const after = firstAfter(samples, failoverAt);
    const again = await protectedPair();
    const watchdogLine = (await agentLog(s, 'supervisor.log')).find((l) => /^watchdog: /.test(l.msg) && Date.parse(l.time) >= stopAt);
    const fencedAt = Date.parse(String(watchdogLine?.killedAt));
    const result = {
      round,
      hung: active,
      watchdogKilledAfterMs: fencedAt - stopAt,
      overdueMs: watchdogLine?.overdueMs,
      standbyFailedOverAfterMs: failoverAt - stopAt,
      stopToAnswerMs: after ? after.doneAt - stopAt : null,
      reprotectedOnto: again.standby,
    };
    rounds.push(result);
    console.log(JSON.stringify({ chaos: 'hung-agent', ...result }));
    expect(fencedAt).toBeLessThan(failoverAt);
    expect(again.active).toBe(standby);
    expectStateKept(lastBefore(samples, stopAt)?.report, after?.report);
  }
  console.log(JSON.stringify({ chaosSummary: 'hung-agent', rounds: rounds.length, fencedBeforeTakeover: rounds.length }));
});

async function loggedAtIn(host: string, file: 'agent.log' | 'supervisor.log', msg: RegExp, since: number): Promise<number | undefined> {
  const line = (await agentLog(await session(host), file)).find((l) => msg.test(l.msg) && Date.parse(l.time) >= since);
  return line ? Date.parse(line.time) : undefined;
}
