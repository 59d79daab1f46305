/**
 * The failover monitor's recovery, as a client sees it: the gap from a failure to the guest's
 * TCP service answering again, over ROUNDS failures of each kind, with the agents doing all of
 * it (installed as apply installs them; nothing called by this script but the faults):
 *
 *   - QEMU death: SIGKILL of the active QEMU (its agent says so in the next heartbeat);
 *   - host death: `lab kill-host` of the active host (the standby waits for the lease to expire).
 *
 * Two clients see each failure: fresh TCP connections to the guest's report service every 25 ms
 * (when the service answers again), and one kept connection to redis in the guest (the redis
 * guest), INCR after INCR (its stall: the longest wait for an acknowledgement across the
 * failure; the connection must never break and every reply must be the previous one plus one).
 *
 * After each failure the agents re-protect the pair (onto the killed host if only its QEMU died,
 * else onto the spare; a killed host is then healed and its agent boots with it).
 *
 * Side by side in the same run, the floor of restart-based HA on the same guest and hosts: a
 * cold boot of the guest from its disk on the other host, up to its first answer. That is what
 * Proxmox ha-manager, Pacemaker's VirtualDomain or Masakari do after their detection and
 * fencing (which this floor leaves out); their documented end-to-end figures are printed as
 * anchors (../shared/notes/ha-and-iac-anchors.md): Proxmox "about 2 minutes", Patroni about
 * ttl 30 s + loop 10 s.
 */
import { destroyPair } from '../provider/colo/colo-pair';
import { destroyVm, startVm } from '../provider/qemu/qemu-process';
import { SshSession } from '../provider/ssh/ssh-session';
import { GUEST_REDIS_PORT, readGuestReport, waitForGuestReport } from '../scripts/guest/guest';
import { heal, killHost } from '../scripts/lab/faults';
import { labUp } from '../scripts/lab/lab';
import { labAccelerator } from '../scripts/lab/lab-accelerator';
import { coloGuestSpec, crashQemu } from '../test/support/colo-guest';
import { GuestSample, pollGuest } from '../test/support/guest-poller';
import { keepIncrementing, KeptConnectionClient, longestGapMs } from '../test/support/kept-connection';
import {
  agentStatus,
  labEtcd,
  labSessions,
  monitoredPairHostNames,
  readPairEvents,
  removeMonitoredLabPair,
  removePairFromEtcd,
  startMonitoredLabPair,
  waitFor,
  waitForProtectedPair,
} from '../test/support/lab-monitor';
import { BenchResult, median } from './bench-result';
import { setTimeout as sleep } from 'timers/promises';

const VM = { name: 'failover-bench', ip: '10.89.0.72' };
const ROUNDS = Number(process.env.ORBIT_BENCH_ROUNDS ?? 10);
const PAIR_HOSTS = { primary: 'site-a', secondary: 'site-b', spares: ['witness'] };
const HOSTS = monitoredPairHostNames(PAIR_HOSTS);
const PROXMOX_DOCUMENTED_MS = 120_000;
const PATRONI_TYPICAL_MS = 40_000;

export async function run(): Promise<BenchResult[]> {
  const lab = await labUp();
  await heal();
  const accelerator = (await labAccelerator(lab)).accelerator;
  const sessions = labSessions(lab);
  const ssh = sessions.session;
  const etcd = labEtcd(lab);
  const spec = coloGuestSpec(lab, { ...VM, accelerator, redisPort: GUEST_REDIS_PORT });
  const results: BenchResult[] = [];
  const all = async () => Promise.all(HOSTS.map(ssh));
  let client: KeptConnectionClient | undefined;
  try {
    await removePairFromEtcd(etcd, VM.name);
    await destroyPair(await all(), VM.name, { removeDisks: true });

    console.error('  restart-based HA floor: cold boot of the guest on site-b ...');
    const boots: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = Date.now();
      await startVm(await ssh('site-b'), spec);
      await waitForGuestReport(VM.ip, 7000, 120_000);
      boots.push(Date.now() - t);
      await destroyVm(await ssh('site-b'), VM.name, { removeDisks: true, graceMs: 0 });
    }

    console.error('  agents and a monitored pair ...');
    await startMonitoredLabPair(lab, etcd, sessions, spec, PAIR_HOSTS);
    await waitForGuestReport(VM.ip, 7000, 120_000);
    // Beside the fresh connections of the poller, one kept connection to redis in the guest.
    client = await waitFor('redis in the guest to accept the kept connection', () => keepIncrementing(VM.ip, GUEST_REDIS_PORT, 'orbit:bench').catch(() => undefined), 60_000, 500);
    await client.acknowledged(5, 30_000);

    const qemu: number[] = [];
    const host: number[] = [];
    const keptQemu: number[] = [];
    const keptHost: number[] = [];
    let kept = 0;
    const roundsStarted = Date.now();
    console.error(`  ${ROUNDS * 2} failures (${ROUNDS} QEMU deaths, then ${ROUNDS} host deaths), each followed by the agents' re-protection; the time left is printed after each round`);
    for (let round = 1; round <= ROUNDS * 2; round++) {
      const kind = round <= ROUNDS ? 'qemu' : 'host';
      try {
        const { active } = await protectedPair(ssh);
        const poller = pollGuest(VM.ip, { intervalMs: 25, timeoutMs: 1500, maxInFlight: 100 });
        await poller.answering();
        await sleep(500);
        const acksBefore = client.acks.length;
        let failedAt: number;
        if (kind === 'qemu') failedAt = await crashQemu(await ssh(active), VM.name);
        else {
          failedAt = Date.now();
          await killHost(active);
        }
        await waitFor(
          'the guest to answer again',
          () =>
            readGuestReport(VM.ip, 7000, 2000).then(
              () => true,
              () => undefined,
            ),
          60_000,
          100,
        );
        const samples = await poller.stop();
        const before = last(samples.filter((s) => s.report && s.doneAt < failedAt));
        const after = samples.filter((s) => s.report && s.at >= failedAt).sort((a, b) => a.doneAt - b.doneAt)[0];
        const gap = after.doneAt - failedAt;
        (kind === 'qemu' ? qemu : host).push(gap);
        if (before && after.report!.boot === before.report!.boot && after.report!.counter >= before.report!.counter) kept++;
        // The kept connection's stall: its longest wait for an acknowledgement across the failure,
        // from the last one before it to the first that came after the service answered again.
        const answeredAt = after.doneAt;
        await waitFor('an acknowledgement after the service answered again', () => (client!.acks.some((a) => a.ackAt > answeredAt) ? true : undefined), 60_000, 20).catch(() => undefined);
        const lastBefore = client.acks
          .slice(0, acksBefore + 1)
          .filter((a) => a.ackAt <= failedAt)
          .pop();
        const firstAfterAnswer = client.acks.find((a) => a.ackAt > answeredAt);
        const stall = lastBefore && firstAfterAnswer ? longestGapMs(client.acks, lastBefore.ackAt, firstAfterAnswer.ackAt) : undefined;
        if (stall !== undefined) (kind === 'qemu' ? keptQemu : keptHost).push(stall);
        console.error(
          `  ${kind} death ${round}: ${active} lost, guest answering again after ${gap} ms; kept connection: ${stall !== undefined ? `longest wait for an acknowledgement ${stall} ms` : `no acknowledgement (${client.broken ?? 'stalled'})`}`,
        );
        await protectedPair(ssh);
        if (kind === 'host') {
          await heal();
          await waitFor(`${active}'s agent to boot again`, async () => ((await agentStatus(await ssh(active)))?.ready ? true : undefined), 60_000, 200);
        }
      } catch (error) {
        // What was measured so far is printed, and the agents' logs are kept (finally, below).
        console.error(`  round ${round} (${kind} death) failed: ${(error as Error).message}`);
        console.error(
          `  measured before it: QEMU death -> answer ${JSON.stringify(qemu)} ms; host death -> answer ${JSON.stringify(host)} ms; state kept ${kept}; kept connection stalls ${JSON.stringify(keptQemu)} / ${JSON.stringify(keptHost)} ms`,
        );
        throw error;
      }
      const perRoundMs = (Date.now() - roundsStarted) / round;
      console.error(`    (${((perRoundMs * (ROUNDS * 2 - round)) / 60_000).toFixed(1)} min left at ${(perRoundMs / 1000).toFixed(0)} s a round)`);
    }

    const note = `${accelerator.toUpperCase()}, 128 MiB guest, ${ROUNDS} failures each, agents deciding alone`;
    results.push({ name: 'QEMU death -> service answers, p50', value: median(qemu), unit: 'ms', note });
    results.push({ name: 'QEMU death -> service answers, p99', value: percentile(qemu, 99), unit: 'ms', note: `max of ${qemu.length}` });
    results.push({ name: 'host death -> service answers, p50', value: median(host), unit: 'ms', note: 'lease TTL 2 s + etcd expiry loop + failover' });
    results.push({ name: 'host death -> service answers, p99', value: percentile(host, 99), unit: 'ms', note: `max of ${host.length}` });
    results.push({ name: 'state kept (same boot, counter on)', value: kept, unit: '', note: `of ${qemu.length + host.length} failures` });
    const run = await client.stop();
    const keptNote = run.broken ? `BROKEN after ${run.acks.length} acknowledgements: ${run.broken}` : `one connection, ${run.acks.length} INCRs acknowledged in order`;
    results.push({ name: 'QEMU death: kept connection stall, p50', value: median(keptQemu), unit: 'ms', note: keptNote });
    results.push({ name: 'QEMU death: kept connection stall, p99', value: percentile(keptQemu, 99), unit: 'ms', note: `max of ${keptQemu.length} of ${qemu.length}` });
    results.push({ name: 'host death: kept connection stall, p50', value: median(keptHost), unit: 'ms' });
    results.push({ name: 'host death: kept connection stall, p99', value: percentile(keptHost, 99), unit: 'ms', note: `max of ${keptHost.length} of ${host.length}` });
    // The agents' own record of each re-protection (wall time, and the guest's stop from QEMU's STOP to RESUME events).
    const reprotections = (await readPairEvents(etcd, VM.name)).filter((e) => e.kind === 'reprotect');
    const reprotectWall = reprotections.map((e) => Number(e.wallMs)).filter(Number.isFinite);
    const reprotectStop = reprotections.map((e) => Number(e.guestStoppedMs)).filter(Number.isFinite);
    if (reprotectWall.length > 0) {
      results.push({
        name: 're-protection by the agents, p50',
        value: median(reprotectWall),
        unit: 'ms',
        note: `${reprotections.length} re-protections (onto the lost host, or the spare after a host death)`,
      });
      results.push({ name: 're-protection by the agents, p99', value: percentile(reprotectWall, 99), unit: 'ms', note: `max of ${reprotectWall.length}` });
      results.push({ name: 're-protection: guest stopped, p50', value: median(reprotectStop), unit: 'ms', note: "QEMU's STOP to RESUME at the switch-over" });
      results.push({ name: 're-protection: guest stopped, p99', value: percentile(reprotectStop, 99), unit: 'ms', note: `max of ${reprotectStop.length}` });
    }
    results.push({ name: 'restart floor: cold boot to first answer, p50', value: median(boots), unit: 'ms', note: 'same guest, other host, detection and fencing not included' });
    results.push({ name: 'ratio restart floor / host death p99', value: median(boots) / percentile(host, 99), unit: 'x' });
    results.push({ name: 'anchor: Proxmox ha-manager documented RTO', value: PROXMOX_DOCUMENTED_MS, unit: 'ms', note: '"about 2 minutes" (ha-manager.adoc)' });
    results.push({ name: 'ratio Proxmox / host death p99', value: PROXMOX_DOCUMENTED_MS / percentile(host, 99), unit: 'x' });
    results.push({ name: 'anchor: Patroni typical (ttl 30 s + loop 10 s)', value: PATRONI_TYPICAL_MS, unit: 'ms', note: 'leader key TTL + loop_wait defaults' });
    results.push({ name: 'ratio Patroni / host death p99', value: PATRONI_TYPICAL_MS / percentile(host, 99), unit: 'x' });
  } finally {
    await client?.stop();
    await heal().catch(() => undefined);
    const { logDir, leftovers } = await removeMonitoredLabPair(etcd, sessions, VM.name, HOSTS, 'orbit-bench-failover-logs');
    console.error(`  agent logs kept in ${logDir}`);
    if (leftovers.length > 0) console.error(`  left behind: ${leftovers.join('; ')}`);
    etcd.close();
    await sessions.closeAll();
  }
  return results;
}

/** The agent that holds the role with a protected pair, and its standby. */
function protectedPair(ssh: (name: string) => Promise<SshSession>): Promise<{ active: string; standby: string }> {
  return waitForProtectedPair(ssh, VM.name, HOSTS, 180_000);
}

function last(samples: GuestSample[]): GuestSample | undefined {
  return [...samples].sort((a, b) => a.doneAt - b.doneAt).pop();
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
