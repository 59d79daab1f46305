/**
 * The failover monitor agent (issue 6): one process per host. It watches the signed pair specs
 * in etcd, and for every pair that names this host runs the loop observe -> decide -> act:
 *
 *   observe  this host's guest (pair record + QEMU pid, read from the local filesystem: no QMP,
 *            no shell, so a tick costs microseconds), the peer's heartbeats, the active role in
 *            etcd (ActiveRole; a range read while not holding it);
 *   decide   decision.ts (pure);
 *   act      acquire / release the role, `failover` or `fence` on this host through a
 *            LocalSession (no peer session: the peer is dead or fenced by then).
 *
 * Re-protection is not done by the agent (spareAvailable is always false): whoever re-protects
 * (the provider, an operator, the lab test) calls `reprotect`; the agents follow the new roles
 * from the pair records and etcd, so the spec need not change.
 *
 * Logs: pino JSON lines. Status: an optional JSON file rewritten on every change (for tests
 * and operators).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Etcd3, IKeyValue, Watcher } from 'etcd3';
import pino, { Logger } from 'pino';
import { KeyObject } from 'crypto';
import { failover, fence } from '../hosts/colo-failover';
import { coloPaths } from '../hosts/colo-command-line';
import { vmPaths } from '../hosts/qemu-command-line';
import { errorMessage } from '../hosts/host-errors';
import { ActiveRole } from './active-role';
import { Action, decide, RoleView } from './decision';
import { connectEtcd } from './etcd-connection';
import { GuestState, HeartbeatEndpoint, HeartbeatPeer } from './heartbeat';
import { asSshSession, LocalSession } from './local-session';
import { KEY_PREFIX, loadVerifyKey, pairKeys, PairRuntimeSpec, verifyPairSpec } from './pair-spec';
import { DEFAULT_TIMING } from './timing';

export interface AgentConfig {
  /** This host's name, as in the pair specs. */
  host: string;
  etcd: { endpoints: string[]; caPath: string; certPath: string; keyPath: string };
  /** PEM (SPKI) Ed25519 public key that verifies the pair specs. */
  specPublicKeyPath: string;
  heartbeat: {
    /** Where this agent listens for its peers' heartbeats (UDP). */
    address: string;
    port: number;
    /** At least 32 bytes, the same on every host of the cluster. */
    keyPath: string;
    /** Default: DEFAULT_TIMING (the pair specs' timing should match; a mismatch is logged). */
    intervalMs?: number;
    misses?: number;
  };
  /** JSON lines; default stdout. */
  logPath?: string;
  /** Rewritten (atomically) whenever a pair's status changes. */
  statusPath?: string;
  /** Loop period per pair. Default 20 ms. */
  tickMs?: number;
}

export interface PairStatus {
  role: RoleView;
  local: GuestState;
  peer: 'alive' | 'lost';
  peerState: GuestState;
  etcd: 'reachable' | 'unreachable';
  /** What the last decision did or why it waited. */
  last: string;
  failovers: number;
}

export interface AgentStatus {
  host: string;
  pid: number;
  startedAt: string;
  /** Set once the initial spec read and the heartbeat socket are done. */
  ready: boolean;
  pairs: Record<string, PairStatus>;
}

interface Pair {
  spec: PairRuntimeSpec;
  peer: PairRuntimeSpec['hosts'][number];
  role: ActiveRole;
  lost: boolean;
  lastHolder: 'self' | 'peer' | 'none';
  lastRoleAt: number;
  view: RoleView;
  etcdReachable: boolean;
  local: GuestState;
  busy: boolean;
  retryAt: number;
  last: string;
  failovers: number;
}

const RETRY_AFTER_ERROR_MS = 1000;

/**
 * This host's guest of `vm`, from the pair record and the QEMU pid file (the agent runs in the
 * host's own mount namespace: /var/lib/orbit, /run/orbit are the host's).
 */
export function localGuestState(vm: string): GuestState {
  let role: string | undefined;
  try {
    role = (JSON.parse(fs.readFileSync(coloPaths(vm).pairFile, 'utf8')) as { role?: string }).role;
  } catch {
    role = undefined;
  }
  if (role === 'fenced') return 'fenced';
  if (!qemuRuns(vm)) return 'dead';
  switch (role) {
    case 'primary':
      return 'colo-primary';
    case 'secondary':
      return 'colo-secondary';
    case 'solo':
      return 'serving-alone';
    default:
      return 'unknown'; // a QEMU without a (readable) pair record: not ours to judge
  }
}

function qemuRuns(vm: string): boolean {
  try {
    const pid = Number(fs.readFileSync(vmPaths(vm).pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    // Guards against a reused pid; a zombie has an empty cmdline.
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`guest=${vm},`);
  } catch {
    return false;
  }
}

export class Agent {
  readonly log: Logger;
  private etcd!: Etcd3;
  private verifyKey!: KeyObject;
  private heartbeat!: HeartbeatEndpoint;
  private watcher?: Watcher;
  private readonly pairs = new Map<string, Pair>();
  private readonly session: LocalSession;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly status: AgentStatus;
  private lastStatusJson = '';

  constructor(private readonly config: AgentConfig) {
    this.log = pino({ base: { host: config.host }, timestamp: pino.stdTimeFunctions.isoTime }, config.logPath ? pino.destination({ dest: config.logPath, sync: true, mkdir: true }) : pino.destination(1));
    this.session = new LocalSession({ name: config.host });
    this.status = { host: config.host, pid: process.pid, startedAt: new Date().toISOString(), ready: false, pairs: {} };
  }

  async start(): Promise<void> {
    const { config } = this;
    this.verifyKey = loadVerifyKey(fs.readFileSync(config.specPublicKeyPath));
    this.etcd = connectEtcd({
      endpoints: config.etcd.endpoints,
      tls: { ca: fs.readFileSync(config.etcd.caPath), cert: fs.readFileSync(config.etcd.certPath), key: fs.readFileSync(config.etcd.keyPath) },
    });
    this.heartbeat = await HeartbeatEndpoint.start({
      self: config.host,
      bind: { address: config.heartbeat.address, port: config.heartbeat.port },
      key: fs.readFileSync(config.heartbeat.keyPath),
      intervalMs: config.heartbeat.intervalMs ?? DEFAULT_TIMING.heartbeatIntervalMs,
      misses: config.heartbeat.misses ?? DEFAULT_TIMING.heartbeatMisses,
      peers: [],
      localState: (vm) => this.pairs.get(vm)?.local ?? 'unknown',
      onPeerLost: (e) => this.log.warn({ vm: e.peer.pair, peer: e.peer.host, silentForMs: e.silentForMs, state: e.state }, 'peer heartbeats lost'),
      onPeerBack: (e) => this.log.info({ vm: e.peer.pair, peer: e.peer.host, state: e.state }, 'peer heartbeats back'),
    });
    // Watch first, then read: nothing written in between is missed (a spec seen twice is harmless).
    this.watcher = await this.etcd.watch().prefix(KEY_PREFIX).create();
    this.watcher.on('put', (kv) => this.onSpec(kv));
    this.watcher.on('delete', (kv) => this.onSpecDeleted(kv.key.toString()));
    this.watcher.on('error', (error) => this.log.error({ error: errorMessage(error) }, 'spec watch error'));
    const existing = await this.etcd.getAll().prefix(KEY_PREFIX).exec();
    for (const kv of existing.kvs) this.onSpec(kv);
    this.status.ready = true;
    this.log.info({ pairs: [...this.pairs.keys()], heartbeat: `${config.heartbeat.address}:${config.heartbeat.port}` }, 'agent started');
    this.writeStatus();
    this.timer = setInterval(() => this.tickAll(), config.tickMs ?? 20);
  }

  /** Stops watching, heartbeating and renewing, without releasing any role (a restart adopts it). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const pair of this.pairs.values()) pair.role.close();
    await this.watcher?.cancel().catch(() => undefined);
    await this.heartbeat?.stop().catch(() => undefined);
    this.etcd?.close();
    this.log.info('agent stopped');
  }

  // -------------------------------------------------------------------------------------------

  private onSpec(kv: IKeyValue): void {
    const key = kv.key.toString();
    if (!key.endsWith('/spec')) return;
    const existing = this.pairs.get(key.slice(KEY_PREFIX.length, -'/spec'.length));
    let spec: PairRuntimeSpec;
    try {
      spec = verifyPairSpec(kv.value, this.verifyKey, { key, minGeneration: existing?.spec.generation });
    } catch (error) {
      this.log.error({ key, error: errorMessage(error) }, 'pair spec refused');
      return;
    }
    const self = spec.hosts.find((h) => h.name === this.config.host);
    if (!self) {
      if (existing) this.dropPair(spec.vm, 'the spec no longer names this host');
      return;
    }
    const peer = spec.hosts.find((h) => h.name !== this.config.host)!;
    const hb = this.config.heartbeat;
    if (spec.timing.heartbeatIntervalMs !== (hb.intervalMs ?? DEFAULT_TIMING.heartbeatIntervalMs) || spec.timing.heartbeatMisses !== (hb.misses ?? DEFAULT_TIMING.heartbeatMisses)) {
      this.log.warn({ vm: spec.vm, timing: spec.timing }, "the pair's heartbeat timing differs from this agent's heartbeat endpoint; the agent's is used for heartbeats");
    }
    if (existing) {
      existing.spec = spec;
      existing.peer = peer;
      this.log.info({ vm: spec.vm, generation: spec.generation }, 'pair spec updated');
    } else {
      const pair: Pair = {
        spec,
        peer,
        role: new ActiveRole(this.etcd, {
          vm: spec.vm,
          self: this.config.host,
          timing: spec.timing,
          onLost: (loss) => {
            pair.lost = true;
            this.log.error({ ...loss }, 'active role lost');
          },
        }),
        lost: false,
        lastHolder: 'none',
        lastRoleAt: Date.now(),
        view: 'vacant',
        etcdReachable: true,
        local: localGuestState(spec.vm),
        busy: false,
        retryAt: 0,
        last: 'starting',
        failovers: 0,
      };
      this.pairs.set(spec.vm, pair);
      this.log.info({ vm: spec.vm, generation: spec.generation, peer: peer.name, local: pair.local }, 'watching pair');
    }
    this.updatePeers();
  }

  private onSpecDeleted(key: string): void {
    if (!key.endsWith('/spec')) return;
    const vm = key.slice(KEY_PREFIX.length, -'/spec'.length);
    if (this.pairs.has(vm)) this.dropPair(vm, 'its spec was deleted');
  }

  /** Stops monitoring a pair; the role, if held, is left to expire (its guest is not touched). */
  private dropPair(vm: string, why: string): void {
    this.pairs.get(vm)?.role.close();
    this.pairs.delete(vm);
    delete this.status.pairs[vm];
    this.updatePeers();
    this.log.info({ vm }, `no longer watching pair: ${why}`);
    this.writeStatus();
  }

  private updatePeers(): void {
    const peers: HeartbeatPeer[] = [...this.pairs.values()].map((p) => ({ pair: p.spec.vm, host: p.peer.name, address: p.peer.heartbeatAddress, port: p.peer.heartbeatPort }));
    this.heartbeat.setPeers(peers);
  }

  private tickAll(): void {
    if (this.stopped) return;
    for (const pair of this.pairs.values()) {
      if (pair.busy || Date.now() < pair.retryAt) continue;
      pair.busy = true;
      void this.tick(pair)
        .catch((error) => this.log.error({ vm: pair.spec.vm, error: errorMessage(error) }, 'tick failed'))
        .finally(() => {
          pair.busy = false;
          this.writeStatus();
        });
    }
  }

  private async tick(pair: Pair): Promise<void> {
    const vm = pair.spec.vm;
    pair.local = localGuestState(vm);
    if (pair.role.isHeld) {
      pair.view = 'held';
      pair.lastRoleAt = Date.now();
      pair.lastHolder = 'self';
    } else if (!pair.lost) {
      try {
        const holder = await pair.role.currentHolder();
        pair.etcdReachable = true;
        pair.view = holder && holder.holder !== this.config.host ? 'peer' : 'vacant';
        if (holder) pair.lastHolder = holder.holder === this.config.host ? 'self' : 'peer';
      } catch {
        pair.etcdReachable = false;
      }
      // The guest may have changed while etcd answered: decide on the freshest state.
      pair.local = localGuestState(vm);
    }
    const peer = this.heartbeat.peerStatus(vm, pair.peer.name);
    const observation = {
      timing: pair.spec.timing,
      role: pair.lost ? ('lost' as const) : pair.view,
      etcd: pair.etcdReachable ? ('reachable' as const) : ('unreachable' as const),
      lastHolder: pair.lastHolder,
      msWithoutRole: pair.role.isHeld ? 0 : Date.now() - pair.lastRoleAt,
      local: pair.local,
      peer: peer.alive ? ('alive' as const) : ('lost' as const),
      peerState: peer.state,
      peerSilentMs: peer.alive ? 0 : peer.silentForMs,
      spareAvailable: false,
      reprotecting: false,
    };
    const decision = decide(observation);
    if (decision.actions.length === 0) {
      if (pair.last !== decision.waiting) this.log.info({ vm, observation: { ...observation, timing: undefined } }, `waiting: ${decision.waiting}`);
      pair.last = decision.waiting ?? '';
    }
    for (const action of decision.actions) {
      this.log.info({ vm, action: action.kind, reason: action.reason, observation: { ...observation, timing: undefined } }, `decided: ${action.kind}`);
      pair.last = action.kind;
      if (!(await this.act(pair, action))) {
        pair.retryAt = Date.now() + RETRY_AFTER_ERROR_MS;
        break;
      }
    }
    this.status.pairs[vm] = { role: pair.lost ? 'lost' : pair.view, local: pair.local, peer: observation.peer, peerState: peer.state, etcd: observation.etcd, last: pair.last, failovers: pair.failovers };
  }

  /** Carries out one action; false when it failed (logged; retried after a pause). */
  private async act(pair: Pair, action: Action): Promise<boolean> {
    const vm = pair.spec.vm;
    const started = Date.now();
    try {
      switch (action.kind) {
        case 'acquire': {
          const result = await pair.role.tryAcquire();
          if (result.acquired) {
            pair.view = 'held';
            pair.lastHolder = 'self';
            pair.lastRoleAt = Date.now();
            this.log.info({ vm, fencingToken: String(result.fencingToken), adopted: result.adopted, tookMs: result.tookMs }, 'role acquired');
            return true;
          }
          this.log.warn({ vm, holder: result.holder?.holder, problem: result.problem }, 'role not acquired');
          return !result.problem;
        }
        case 'release':
          pair.lost = false;
          pair.view = 'vacant';
          pair.lastHolder = 'self';
          await pair.role.release();
          this.log.info({ vm, tookMs: Date.now() - started }, 'role released');
          return true;
        case 'failover-locally': {
          const result = await failover(asSshSession(this.session), vm);
          pair.failovers++;
          pair.local = localGuestState(vm);
          this.log.info({ vm, as: action.as, callMs: Date.now() - started, qmpMs: result.qmpMs, alreadyFailedOver: result.alreadyFailedOver, status: result.status, generation: result.generation }, 'failover done');
          this.recordEvent(vm, { kind: 'failover', host: this.config.host, as: action.as, at: new Date(started).toISOString(), callMs: Date.now() - started, fencingToken: String(pair.role.fencingToken ?? '') });
          return true;
        }
        case 'fence-self': {
          const result = await fence(asSshSession(this.session), vm);
          pair.local = localGuestState(vm);
          this.log.warn({ vm, killedPids: result.killedPids, tookMs: Date.now() - started }, 'fenced this host\'s guest');
          this.recordEvent(vm, { kind: 'fence', host: this.config.host, at: new Date(started).toISOString(), killedPids: result.killedPids });
          return true;
        }
        case 'start-reprotect':
          this.log.warn({ vm }, 're-protection is not done by the agent: re-protect the pair from the provider');
          return true;
      }
    } catch (error) {
      this.log.error({ vm, action: action.kind, tookMs: Date.now() - started, error: errorMessage(error) }, `${action.kind} failed`);
      return false;
    }
  }

  private recordEvent(vm: string, event: Record<string, unknown>): void {
    this.etcd
      .put(pairKeys(vm).event(Date.now(), this.config.host))
      .value(JSON.stringify(event))
      .exec()
      .catch((error) => this.log.warn({ vm, error: errorMessage(error) }, 'failover event not written to etcd'));
  }

  private writeStatus(): void {
    if (!this.config.statusPath) return;
    const json = JSON.stringify(this.status);
    if (json === this.lastStatusJson) return;
    this.lastStatusJson = json;
    const tmp = `${this.config.statusPath}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.config.statusPath), { recursive: true });
      fs.writeFileSync(tmp, json);
      fs.renameSync(tmp, this.config.statusPath);
    } catch (error) {
      this.log.warn({ error: errorMessage(error) }, 'status file not written');
    }
  }
}
