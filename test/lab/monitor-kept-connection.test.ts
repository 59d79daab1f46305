/**
 * A client that does not forgive (issue 12, item 8): Debian's redis-server in a COLO pair's
 * guest, agents installed on every lab host (the witness as spare), and one TCP connection that
 * increments a counter (`INCR`, one acknowledged at a time) through SIGKILLs of the active QEMU
 * (the secondary is promoted) and of the standby QEMU (the primary runs on alone), each followed
 * by the agents' re-protection. Whatever happens, the client keeps its one connection, every
 * acknowledgement is the previous one plus one (none lost, none applied twice), and the counter
 * in redis is exactly the number acknowledged. Per kill it prints the time from the kill to the
 * next acknowledgement and the longest gap until the pair is protected again.
 * ORBIT_KEPT_CONNECTION_ROUNDS sets the kills of each kind (default 2).
 */
import * as net from 'net';
import { Etcd3 } from 'etcd3';
import { LabDescription } from '../../scripts/lab/description';
import { heal } from '../../scripts/lab/faults';
import { labUp } from '../../scripts/lab/lab';
import { labAccelerator } from '../../scripts/lab/lab-accelerator';
import { vmPaths } from '../../provider/qemu/qemu-command-line';
import { coloGuestSpec, crashQemu, silentGuestEvidence } from '../support/colo-guest';
import { keepIncrementing, KeptConnectionClient, longestGapMs, pawsRejectedSegments, recordConnection } from '../support/kept-connection';
import { SLOW_ANSWER_LIMIT_MS } from '../support/guest-poller';
import { GUEST_REDIS_PORT as REDIS_PORT, GUEST_REPORT_PORT, readGuestReport } from '../../scripts/guest/guest';
import { labEtcd, LabSessions, labSessions, monitoredPairHostNames, readPairEvents, removeMonitoredLabPair, startMonitoredLabPair, waitFor, waitForProtectedPair } from '../support/lab-monitor';

jest.setTimeout(1_200_000);

const VM = { name: 'kept-redis', ip: '10.89.0.88' };
const KEY = 'orbit:acknowledged';
const PAIR_HOSTS = { primary: 'site-a', secondary: 'site-b', spares: ['witness'] };
const HOSTS = monitoredPairHostNames(PAIR_HOSTS);
const ROUNDS = Number(process.env.ORBIT_KEPT_CONNECTION_ROUNDS ?? 2);
/** A kill must be followed by this many acknowledged increments before the next step. */
const ACKS_AFTER_KILL = 5;

let lab: LabDescription;
let etcd: Etcd3;
let ssh: LabSessions;
const session = (host: string) => ssh.session(host);

/** One RESP command on a fresh connection (the check at the end, not the client under test). */
function redisCommand(command: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: VM.ip, port: REDIS_PORT });
    let reply = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`redis did not answer ${command} within ${timeoutMs} ms`))), timeoutMs);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n') && !reply.startsWith('$')) finish();
      else if (reply.startsWith('$') && reply.split('\r\n').length >= 3) finish();
    });
    socket.on('error', (e) => (clearTimeout(timer), reject(e)));
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
  });
}

/** The guest's uptime (its monotonic clock) and when this machine read it, mid-way through the request. */
async function guestClock(): Promise<{ uptimeMs: number; at: number }> {
  const sent = Date.now();
  const report = await waitFor('the guest to report its uptime', () => readGuestReport(VM.ip, GUEST_REPORT_PORT, SLOW_ANSWER_LIMIT_MS).catch(() => undefined), 30_000, 100);
  return { uptimeMs: report.uptimeS * 1000, at: (sent + Date.now()) / 2 };
}

beforeAll(async () => {
  lab = await labUp();
  await heal();
  ssh = labSessions(lab);
  etcd = labEtcd(lab);
  const { accelerator } = await labAccelerator(lab);
  const spec = coloGuestSpec(lab, { ...VM, accelerator, redisPort: REDIS_PORT });
  const placement = await startMonitoredLabPair(lab, etcd, ssh, spec, PAIR_HOSTS);
  const pong = await waitFor('redis in the guest to answer PING', () => redisCommand('PING', SLOW_ANSWER_LIMIT_MS).catch(() => undefined), 120_000, 500).catch(async (error: Error) => {
    // Seen once in CI: the pair protected and checkpointing, yet no answer at all. What the active host, its tap and QEMU say:
    const active = await session(placement.active);
    const serial = await active.exec(`tail -n 30 ${vmPaths(VM.name).serialLog}`, { allowFailure: true }).then(
      (r) => r.stdout,
      (e: Error) => e.message,
    );
    console.log(
      `redis never answered on the new pair (active ${placement.active}); the guest's serial log ends:\n${serial}\n${await silentGuestEvidence(active, VM.name, VM.ip).catch((e: Error) => e.message)}`,
    );
    throw error;
  });
  expect(pong).toBe('+PONG\r\n');
  console.log(`accelerator ${accelerator}; protected as ${JSON.stringify(placement)}`);
});

afterAll(async () => {
  const { logDir, leftovers } = await removeMonitoredLabPair(etcd, ssh, VM.name, HOSTS, 'orbit-kept-connection-logs');
  console.log(`agent logs: ${logDir}`);
  etcd?.close();
  await ssh.closeAll();
  expect(leftovers).toEqual([]);
});

test(`one TCP connection to redis keeps every acknowledged increment through ${ROUNDS} kills of the active QEMU and ${ROUNDS} of the standby's`, async () => {
  const client: KeptConnectionClient = await keepIncrementing(VM.ip, REDIS_PORT, KEY);
  const rounds: Array<Record<string, unknown>> = [];
  const startedAt = Date.now();
  let run: Awaited<ReturnType<KeptConnectionClient['stop']>>;
  let stored: string;
  try {
    await client.acknowledged(ACKS_AFTER_KILL, 30_000);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of ['active', 'standby'] as const) {
        const placement = await waitForProtectedPair(session, VM.name, HOSTS, 180_000);
        await client.acknowledged(ACKS_AFTER_KILL, 30_000);
        const killed = placement[side];
        const acksBefore = client.acks.length;
        const pawsBefore = pawsRejectedSegments();
        const clockBefore = await guestClock();
        const recording = recordConnection(VM.ip, REDIS_PORT);
        const killAt = await crashQemu(await session(killed), VM.name);
        // The limit is the test's patience, not an expectation: the figure is printed below.
        const resumed = await client.acknowledged(ACKS_AFTER_KILL, 60_000).then(
          () => undefined,
          (e: Error) => e,
        );
        if (resumed) console.log(`the kept connection stalled after the kill of the ${side} (${killed}):\n${await recording.evidence()}`);
        recording.stop();
        // How far the guest's clock moved against this machine's across the failover (its TCP timestamps follow it).
        const clockAfter = await guestClock();
        const guestClockSkewMs = Math.round(clockAfter.uptimeMs - clockBefore.uptimeMs - (clockAfter.at - clockBefore.at));
        const pawsRejected = pawsRejectedSegments() - pawsBefore;
        if (resumed)
          throw new Error(
            `${resumed.message}; after the kill of the ${side} (${killed}): guest clock moved ${guestClockSkewMs} ms against this machine's, ${pawsRejected} segments dropped by PAWS here`,
          );
        const firstAck = client.acks.slice(acksBefore).find((a) => a.ackAt > killAt);
        const again = await waitForProtectedPair(session, VM.name, HOSTS, 180_000);
        const protectedAt = Date.now();
        const events = (await readPairEvents(etcd, VM.name)).filter((e) => Date.parse(e.at) >= killAt - 50);
        const result = {
          round,
          killed: `${side} (${killed})`,
          killToNextAckMs: firstAck ? firstAck.ackAt - killAt : undefined,
          guestClockSkewMs,
          pawsRejected,
          longestGapUntilProtectedMs: longestGapMs(client.acks, killAt, protectedAt),
          protectedAgainAfterMs: protectedAt - killAt,
          now: again,
          events: events.map((e) => `${e.kind}@${e.host}`),
        };
        rounds.push(result);
        console.log(JSON.stringify({ keptConnection: 'qemu-kill', ...result }));
        // One fault, one failover on the survivor, no fence.
        const survivor = side === 'active' ? placement.standby : placement.active;
        expect(events.filter((e) => e.kind === 'failover').map((e) => e.host)).toEqual([survivor]);
        expect(events.filter((e) => e.kind === 'fence')).toEqual([]);
      }
    }
  } finally {
    run = await client.stop();
    stored = await redisCommand(`GET ${KEY}`).catch((e: Error) => `error: ${e.message}`);
    console.log(
      JSON.stringify({
        keptConnectionSummary: {
          acknowledged: run.acks.length,
          stored,
          broken: run.broken,
          kills: rounds.length,
          killToNextAckMs: rounds.map((r) => r.killToNextAckMs),
          longestGapMs: longestGapMs(run.acks, startedAt, run.acks.length ? run.acks[run.acks.length - 1].ackAt : startedAt),
        },
      }),
    );
  }
  expect(run.broken).toBeUndefined();
  // Exactly what was acknowledged: nothing lost, nothing applied without an acknowledgement.
  expect(stored).toBe(`$${String(run.acks.length).length}\r\n${run.acks.length}\r\n`);
});
