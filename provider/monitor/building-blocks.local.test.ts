/**
 * The building blocks together, with real etcd and real UDP heartbeats at the default timing
 * (200 ms x 3, fencing 800 ms, lease 2 s): two minimal agent loops (TEST ONLY: observe, decide,
 * act; the guests are simulated, no QEMU). It measures the decision path of issue 6's targets:
 * how long from a failure until the standby decides to fail over, and that two guests never
 * serve at once.
 */
import { randomBytes } from 'crypto';
import * as dgram from 'dgram';
import { Etcd3 } from 'etcd3';
import { ActiveRole, RunsAlone } from './active-role';
import { decide, isServing, RoleView } from './decision';
import { connectEtcd } from './etcd-connection';
import { GuestState, HeartbeatEndpoint } from './heartbeat';
import { LocalEtcd, startLocalEtcd } from '../../test/support/local-etcd';
import { freePort } from '../../test/support/ports';
import { DEFAULT_TIMING, worstCaseRecoveryMs } from './timing';
import { setTimeout as sleep } from 'timers/promises';

jest.setTimeout(40_000);

const timing = DEFAULT_TIMING;
const key = randomBytes(32);
const TICK_MS = 20;

class MiniAgent {
  local: GuestState;
  events: Array<{ at: number; what: string }> = [];
  private lost = false;
  private lastHolder: 'self' | 'peer' | 'none' = 'none';
  private readonly startedAt = Date.now();
  private lastRoleAt = Date.now();
  private view: RoleView = 'vacant';
  private etcdReachable = true;
  private reprotecting = false;
  private generation = 1;
  private runsAlone?: RunsAlone;
  private running = true;
  private loop?: Promise<void>;
  heartbeat!: HeartbeatEndpoint;
  readonly role: ActiveRole;

  constructor(
    readonly name: string,
    private readonly peerName: string,
    readonly vm: string,
    etcd: Etcd3,
    local: GuestState,
  ) {
    this.local = local;
    this.role = new ActiveRole(etcd, {
      vm,
      self: name,
      timing,
      onLost: (loss) => {
        this.lost = true;
        this.note(`role lost: ${loss.detail}`);
      },
    });
  }

  async startHeartbeat(port: number, peerPort: number): Promise<void> {
    this.heartbeat = await HeartbeatEndpoint.start({
      self: this.name,
      bind: { address: '127.0.0.1', port },
      key,
      intervalMs: timing.heartbeatIntervalMs,
      misses: timing.heartbeatMisses,
      peers: [{ pair: this.vm, host: this.peerName, address: '127.0.0.1', port: peerPort }],
      localState: () => this.local,
      localGeneration: () => this.generation,
      onPeerLost: () => this.note('peer lost'),
      onPeerBack: () => this.note('peer back'),
    });
  }

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        await this.tick();
        await sleep(TICK_MS);
      }
    })();
  }

  /** The host dies: no more ticks, renewals or heartbeats. */
  async die(): Promise<void> {
    this.running = false;
    await this.loop;
    this.role.abandon();
    await this.heartbeat.stop();
    this.local = 'dead'; // its guest went with it (set last: nobody hears about it)
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.role.close();
    await this.heartbeat.stop().catch(() => undefined);
  }

  firstEvent(prefix: string, since = 0): number | undefined {
    return this.events.find((e) => e.at >= since && e.what.startsWith(prefix))?.at;
  }

  private note(what: string): void {
    this.events.push({ at: Date.now(), what });
  }

  private async tick(): Promise<void> {
    if (this.role.isHeld) {
      this.view = 'held';
      this.lastRoleAt = Date.now();
      this.lastHolder = 'self';
    } else if (!this.lost) {
      try {
        const state = await this.role.state();
        this.etcdReachable = true;
        this.view = state.holder && state.holder.holder !== this.name ? 'peer' : 'vacant';
        if (state.lastHolder) this.lastHolder = state.lastHolder === this.name ? 'self' : 'peer';
        this.runsAlone = state.runsAlone;
      } catch {
        this.etcdReachable = false;
      }
    }
    const peer = this.heartbeat.peerStatus(this.vm, this.peerName);
    const decision = decide({
      timing,
      role: this.lost ? 'lost' : this.view,
      etcd: this.etcdReachable ? 'reachable' : 'unreachable',
      lastHolder: this.lastHolder,
      msWithoutRole: this.role.isHeld ? 0 : Date.now() - this.lastRoleAt,
      local: this.local,
      peer: peer.alive ? 'alive' : 'lost',
      peerState: peer.state,
      peerSilentMs: peer.alive ? 0 : peer.silentForMs,
      peerHeard: peer.heard,
      checkpointDelayMs: 2000,
      localGeneration: this.generation,
      ...(peer.generation !== undefined ? { peerGeneration: peer.generation } : {}),
      ...(this.runsAlone ? { runsAlone: { host: this.runsAlone.host === this.name ? 'self' : 'peer', generation: this.runsAlone.generation } } : {}),
      msWatching: Date.now() - this.startedAt,
      spareAvailable: true,
      reprotecting: this.reprotecting,
    });
    for (const action of decision.actions) {
      this.note(action.kind === 'failover-locally' ? `failover-locally (${action.as})` : action.kind);
      if (action.kind === 'record-runs-alone') {
        if (!(await this.role.recordRunsAlone(action.generation).catch(() => false))) break;
        this.runsAlone = { host: this.name, generation: action.generation };
        continue;
      }
      switch (action.kind) {
        case 'acquire': {
          const result = await this.role.tryAcquire();
          if (result.acquired) this.view = 'held';
          break;
        }
        case 'release':
          await this.role.release().catch(() => undefined);
          this.lost = false;
          this.view = 'vacant';
          break;
        case 'failover-locally':
          this.local = 'serving-alone';
          this.generation++;
          break;
        case 'fence-self':
          this.local = 'fenced';
          break;
        case 'start-reprotect':
          this.reprotecting = true;
          break;
      }
    }
  }
}

/** A UDP hop between the two agents that can be cut (the link between the hosts). */
class CuttableLink {
  cut = false;
  private sockets: dgram.Socket[] = [];

  /** Returns the port to send to instead of `targetPort`. */
  async relayTo(targetPort: number): Promise<number> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    socket.on('message', (message) => {
      if (!this.cut) socket.send(message, targetPort, '127.0.0.1');
    });
    this.sockets.push(socket);
    return socket.address().port;
  }

  close(): void {
    this.sockets.forEach((s) => s.close());
  }
}

describe('building blocks together: real etcd, real heartbeats, two minimal agents', () => {
  let etcd: LocalEtcd;
  const clients: Etcd3[] = [];
  let agents: MiniAgent[] = [];
  let link: CuttableLink;
  let doubleServing = 0;
  let watchdog: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    etcd = await startLocalEtcd();
  });
  afterEach(async () => {
    clearInterval(watchdog);
    await Promise.all(agents.map((a) => a.stop()));
    agents = [];
    link?.close();
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await etcd?.stop();
  });

  async function startPair(vm: string): Promise<[MiniAgent, MiniAgent]> {
    const client = () => {
      const c = connectEtcd({ endpoints: [etcd.endpoint] });
      clients.push(c);
      return c;
    };
    const a = new MiniAgent('host-a', 'host-b', vm, client(), 'colo-primary');
    const b = new MiniAgent('host-b', 'host-a', vm, client(), 'colo-secondary');
    const [pa, pb] = [await freePort(), await freePort()];
    link = new CuttableLink();
    await a.startHeartbeat(pa, await link.relayTo(pb));
    await b.startHeartbeat(pb, await link.relayTo(pa));
    agents = [a, b];
    doubleServing = 0;
    watchdog = setInterval(() => {
      if (isServing(a.local) && isServing(b.local)) doubleServing++;
    }, 5);
    a.start();
    b.start();
    const started = Date.now();
    while (!a.role.isHeld && Date.now() - started < 3000) await sleep(10);
    expect(a.role.isHeld).toBe(true);
    await sleep(3 * timing.heartbeatIntervalMs); // heartbeats flowing
    return [a, b];
  }

  it('primary QEMU dies: the secondary decides to fail over well under 1 s later', async () => {
    const [a, b] = await startPair('qemu-dies');
    const killedAt = Date.now();
    a.local = 'dead';
    while (b.local !== 'serving-alone' && Date.now() - killedAt < 5000) await sleep(5);
    const tookMs = b.firstEvent('failover-locally', killedAt)! - killedAt;
    console.log(
      `primary QEMU dead -> secondary's failover decision: ${tookMs} ms (release at +${a.firstEvent('release', killedAt)! - killedAt} ms, acquire at +${b.firstEvent('acquire', killedAt)! - killedAt} ms)`,
    );
    expect(b.local).toBe('serving-alone');
    expect(tookMs).toBeLessThan(timing.heartbeatIntervalMs + 300);
    while (!b.firstEvent('start-reprotect', killedAt) && Date.now() - killedAt < 2000) await sleep(5);
    expect(b.firstEvent('start-reprotect', killedAt)).toBeDefined();
    expect(doubleServing).toBe(0);
  });

  it('primary host dies: the secondary takes over after the lease expires, within the worst case', async () => {
    const [a, b] = await startPair('host-dies');
    const diedAt = Date.now();
    await a.die();
    while (b.local !== 'serving-alone' && Date.now() - diedAt < 8000) await sleep(5);
    const tookMs = b.firstEvent('failover-locally', diedAt)! - diedAt;
    console.log(`primary host dead -> secondary's failover decision: ${tookMs} ms (worst case ${worstCaseRecoveryMs(timing)} ms + one tick)`);
    expect(b.local).toBe('serving-alone');
    expect(tookMs).toBeGreaterThanOrEqual(timing.leaseTtlMs - timing.heartbeatIntervalMs);
    expect(tookMs).toBeLessThan(worstCaseRecoveryMs(timing) + 200);
    expect(doubleServing).toBe(0);
  });

  it('primary loses etcd: it fences itself before its lease can expire; then the secondary serves; never both', async () => {
    const [a, b] = await startPair('etcd-lost');
    const stoppedAt = Date.now();
    etcd.pause();
    try {
      while (a.local !== 'fenced' && Date.now() - stoppedAt < 5000) await sleep(5);
    } finally {
      etcd.resume();
    }
    const fencedMs = a.firstEvent('fence-self', stoppedAt)! - stoppedAt;
    console.log(`etcd stopped answering -> primary fenced itself after ${fencedMs} ms (lease ${timing.leaseTtlMs} ms)`);
    expect(fencedMs).toBeLessThan(timing.leaseTtlMs - timing.fencingDeadlineMs);
    while (b.local !== 'serving-alone' && Date.now() - stoppedAt < 10_000) await sleep(5);
    expect(b.local).toBe('serving-alone');
    expect(doubleServing).toBe(0);
  });

  it('split brain: heartbeats cut, both on etcd: exactly one active (the holder), the stale replica stopped', async () => {
    const [a, b] = await startPair('partition');
    const cutAt = Date.now();
    link.cut = true;
    while (b.local !== 'fenced' && Date.now() - cutAt < 8000) await sleep(5);
    console.log(`partition -> primary runs alone at +${a.firstEvent('failover-locally', cutAt)! - cutAt} ms, stale secondary stopped at +${b.firstEvent('fence-self', cutAt)! - cutAt} ms`);
    expect(a.local).toBe('serving-alone');
    expect(b.local).toBe('fenced');
    expect(b.firstEvent('acquire')).toBeUndefined();
    expect(doubleServing).toBe(0);
  });
});
