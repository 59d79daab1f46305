/**
 * The failover monitor agent: one process per host (started and restarted by its supervisor,
 * supervisor.ts; installed by the provider, agent-install.ts). It watches the signed pair specs
 * in etcd and, for every pair that names this host (as one of its two hosts or as a spare),
 * runs the loop observe -> decide -> act every tick (20 ms):
 *
 *   observe  this host's copy of the guest (local-guest.ts: pair record + QEMU pid, and
 *            qemu-watch.ts: does the QEMU still answer QMP), the COLO peer's heartbeats, the
 *            active role in etcd (active-role.ts);
 *   decide   decision.ts (pure);
 *   act      acquire / release the role, `failover` or `fence` on this host through a
 *            LocalSession, or start a re-protection onto another host (auto-reprotect.ts).
 *
 * Every confirmed hold of the role moves this host's watchdog deadline (serving-deadline.ts):
 * if the agent dies or hangs, its supervisor fences the guest before the lease can expire.
 *
 * Observability: pino JSON log lines, failover/fence/re-protection events in etcd under the
 * pair's events/ prefix, Prometheus metrics (metrics.ts) on the management address, and a
 * status file (JSON, rewritten on change) that the provider and operators read.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Etcd3, IKeyValue, Watcher } from 'etcd3';
import pino, { Logger } from 'pino';
import { KeyObject } from 'crypto';
import { failover, fence } from '../colo/colo-failover';
import { coloPaths } from '../colo/colo-command-line';
import { errorMessage } from '../ssh/host-errors';
import { ActiveRole, RoleState, RunsAlone } from './active-role';
import { AutoReprotect, ReprotectAttempt } from './auto-reprotect';
import { ColoTraceTail } from './colo-trace-tail';
import { Action, COLO_SLACK_MS, decide, Observation, RoleView, RunsAloneView } from './decision';
import { connectEtcd } from './etcd-connection';
import { GuestState, HeartbeatEndpoint, HeartbeatPeer } from './heartbeat';
import { LocalGuest, readLocalGuest, sigkillLocalQemu } from './local-guest';
import { asSshSession, LocalSession } from './local-session';
import { AgentMetrics, ProtectionView } from './metrics';
import { KEY_PREFIX, loadVerifyKey, pairKeys, PairRuntimeSpec, verifyPairSpec } from './pair-spec';
import { QEMU_WATCH_DEFAULTS, QemuWatch } from './qemu-watch';
import { probeReplicationPath } from './replication-path';
import { removeServingDeadline, writeOnlyCopyMarker, writeServingDeadline } from './serving-deadline';
import { DEFAULT_TIMING, fencedWithinMs } from './timing';
import { COLO_DEFAULTS } from '../colo/colo-limits';

export interface AgentConfig {
  /** This host's name, as in the pair specs. */
  host: string;
  /** The installed release (reported in the status file and metrics). */
  release?: string;
  etcd: { endpoints: string[]; caPath?: string; certPath?: string; keyPath?: string };
  /** PEM (SPKI) Ed25519 public key that verifies the pair specs. */
  specPublicKeyPath: string;
  heartbeat: {
    /** Where this agent listens for its peers' heartbeats (UDP). */
    address: string;
    port: number;
    /** At least 32 bytes, the same on every host of the cluster. */
    keyPath: string;
  };
  /** Prometheus metrics at http://address:port/metrics; none when absent. */
  metrics?: { address: string; port: number };
  /** The identity for re-protecting onto other hosts; without it the agent never re-protects. */
  ssh?: { privateKeyPath: string };
  /** JSON lines; default stdout. */
  logPath?: string;
  /** Rewritten (atomically) whenever a pair's status changes. */
  statusPath?: string;
  /** Loop period per pair. Default 20 ms. */
  tickMs?: number;
  /** A QEMU that has not answered QMP for this long is fenced. Default 5000 ms. */
  qemuHungAfterMs?: number;
}

export interface PairStatus {
  role: RoleView;
  local: GuestState;
  /** This side's view of the pair's protection. */
  protection: ProtectionView;
  /** The COLO peer of this host's copy (none when alone). */
  peerHost?: string;
  peer: 'alive' | 'lost';
  peerState: GuestState;
  etcd: 'reachable' | 'unreachable';
  /** What the last decision did or why it waited. */
  last: string;
  failovers: number;
  reprotections: number;
  reprotecting?: string;
  qemu?: { answering: boolean; status?: string; coloMode?: string };
  /** Every other host of the spec, as its agent's heartbeats say: heard now, and its copy's state. */
  hosts: Record<string, { alive: boolean; state: GuestState }>;
}

export interface AgentStatus {
  host: string;
  release?: string;
  pid: number;
  startedAt: string;
  /** Set once the initial spec read, the heartbeat socket and the metrics server are up. */
  ready: boolean;
  pairs: Record<string, PairStatus>;
}

interface Pair {
  spec: PairRuntimeSpec;
  role: ActiveRole;
  lost: boolean;
  view: RoleView;
  lastHolder?: string;
  etcdReachable: boolean;
  guest: LocalGuest;
  watchingSince: number;
  lastRoleAt: number;
  busy: boolean;
  retryAt: number;
  last: string;
  failovers: number;
  reprotections: number;
  reprotectingOnto?: string;
  qemu: QemuWatch;
  qemuPid?: number;
  trace: ColoTraceTail;
  /** The last "runs alone" record read from or written to etcd. */
  runsAlone?: RunsAlone;
  /** The role as last read, when etcd says this host holds it (a restart: adopt it). */
  ownHolder?: RoleState['holder'];
  /** The last look at the replication path (primary only): when, and what it found. */
  replicationCheck?: { at: number; broken?: string };
}

/** How often a COLO primary whose peer's messages are overdue looks at its replication connections. */
const REPLICATION_CHECK_EVERY_MS = 250;

const RETRY_AFTER_ERROR_MS = 1000;

export class Agent {
  readonly log: Logger;
  private etcd!: Etcd3;
  private verifyKey!: KeyObject;
  private heartbeat!: HeartbeatEndpoint;
  private watcher?: Watcher;
  private readonly pairs = new Map<string, Pair>();
  private readonly session: LocalSession;
  private readonly reprotector: AutoReprotect;
  private readonly metrics: AgentMetrics;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly status: AgentStatus;
  private lastStatusJson = '';

  constructor(private readonly config: AgentConfig) {
    this.log = pino(
      { base: { host: config.host }, timestamp: pino.stdTimeFunctions.isoTime },
      config.logPath ? pino.destination({ dest: config.logPath, sync: true, mkdir: true }) : pino.destination(1),
    );
    this.session = new LocalSession({ name: config.host });
    const identity = config.ssh ? { privateKey: fs.readFileSync(config.ssh.privateKeyPath) } : undefined;
    this.reprotector = new AutoReprotect(config.host, this.session, identity);
    this.metrics = new AgentMetrics(config.host, config.release ?? 'dev');
    this.status = { host: config.host, ...(config.release ? { release: config.release } : {}), pid: process.pid, startedAt: new Date().toISOString(), ready: false, pairs: {} };
  }

  /**
   * What can be done before this agent may act: keys read, and the etcd connection made (TLS
   * and HTTP/2 set up by one read). A warm spare (supervisor.ts) does this while it waits, so that
   * taking over costs only the reads of start().
   */
  async prepare(): Promise<void> {
    if (this.etcd) return;
    const { config } = this;
    this.verifyKey = loadVerifyKey(fs.readFileSync(config.specPublicKeyPath));
    const tls = config.etcd.caPath
      ? { ca: fs.readFileSync(config.etcd.caPath), ...(config.etcd.certPath && config.etcd.keyPath ? { cert: fs.readFileSync(config.etcd.certPath), key: fs.readFileSync(config.etcd.keyPath) } : {}) }
      : undefined;
    this.etcd = connectEtcd({ endpoints: config.etcd.endpoints, ...(tls ? { tls } : {}) });
    await this.etcd
      .get(`${KEY_PREFIX}warm-up`)
      .exec()
      .catch(() => undefined);
  }

  async start(): Promise<void> {
    const { config } = this;
    // A warm spare was created long before it starts: the status tells when it began to act.
    this.status.startedAt = new Date().toISOString();
    await this.prepare();
    if (config.metrics) await this.metrics.listen(config.metrics.address, config.metrics.port);
    this.heartbeat = await HeartbeatEndpoint.start({
      self: config.host,
      bind: { address: config.heartbeat.address, port: config.heartbeat.port },
      key: fs.readFileSync(config.heartbeat.keyPath),
      intervalMs: DEFAULT_TIMING.heartbeatIntervalMs,
      misses: DEFAULT_TIMING.heartbeatMisses,
      peers: [],
      localState: (vm) => this.pairs.get(vm)?.guest.state ?? 'unknown',
      localGeneration: (vm) => this.pairs.get(vm)?.guest.record?.generation,
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
    this.log.info(
      { release: config.release, pairs: [...this.pairs.keys()], heartbeat: `${config.heartbeat.address}:${config.heartbeat.port}`, metrics: config.metrics, reprotects: this.reprotector.enabled },
      'agent started',
    );
    this.writeStatus();
    this.timer = setInterval(() => this.tickAll(), config.tickMs ?? 20);
  }

  /**
   * Stops watching, heartbeating and renewing, without releasing any role and without touching
   * the watchdog deadlines: a restarted agent adopts its leases, and until it does the
   * supervisor's watchdog still guards the guests.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const pair of this.pairs.values()) {
      pair.role.close();
      pair.qemu.stop();
    }
    await this.watcher?.cancel().catch(() => undefined);
    await this.heartbeat?.stop().catch(() => undefined);
    await this.metrics.close().catch(() => undefined);
    this.etcd?.close();
    this.log.info('agent stopped');
  }

  // -------------------------------------------------------------------------------------------
  // Specs

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
    const named = [...spec.hosts, ...spec.spareHosts].some((h) => h.name === this.config.host);
    if (!named) {
      if (existing) this.dropPair(spec.vm, 'the spec no longer names this host');
      return;
    }
    if (existing) {
      const timingChanged = JSON.stringify(existing.spec.timing) !== JSON.stringify(spec.timing);
      existing.spec = spec;
      if (timingChanged) {
        // The role's renewals and loss budget follow the timing: take it up again under the new one.
        existing.role.close();
        existing.role = this.newRole(existing, spec);
      }
      this.log.info({ vm: spec.vm, generation: spec.generation, timingChanged }, 'pair spec updated');
    } else {
      const now = Date.now();
      const pair: Pair = {
        spec,
        role: undefined as unknown as ActiveRole,
        lost: false,
        view: 'vacant',
        etcdReachable: true,
        guest: readLocalGuest(spec.vm),
        watchingSince: now,
        lastRoleAt: now,
        busy: false,
        retryAt: 0,
        last: 'starting',
        failovers: 0,
        reprotections: 0,
        qemu: new QemuWatch({
          vm: spec.vm,
          socketPath: coloPaths(spec.vm).agentQmpSocket,
          hungAfterMs: this.config.qemuHungAfterMs,
          onEvent: (event) => {
            if (['SHUTDOWN', 'STOP', 'RESUME', 'COLO_EXIT', 'FAILOVER_NEGOTIATED', 'RESET'].includes(event.event))
              this.log.info({ vm: spec.vm, event: event.event, data: event.data }, `QEMU event ${event.event}`);
          },
        }),
        trace: new ColoTraceTail(coloPaths(spec.vm).traceLog),
      };
      pair.role = this.newRole(pair, spec);
      pair.qemu.start();
      this.pairs.set(spec.vm, pair);
      this.log.info({ vm: spec.vm, generation: spec.generation, local: pair.guest.state, hosts: spec.hosts.map((h) => h.name), spares: spec.spareHosts.map((h) => h.name) }, 'watching pair');
    }
    this.updatePeers();
  }

  private newRole(pair: Pair, spec: PairRuntimeSpec): ActiveRole {
    const vm = spec.vm;
    return new ActiveRole(this.etcd, {
      vm,
      self: this.config.host,
      timing: spec.timing,
      onLost: (loss) => {
        pair.lost = true;
        this.log.error({ ...loss }, 'active role lost');
      },
      onRenewed: (latencyMs) => this.metrics.leaseRenewSeconds.observe({ vm }, latencyMs / 1000),
      onConfirmed: (sentAt) => {
        writeServingDeadline(vm, sentAt + fencedWithinMs(pair.spec.timing));
      },
    });
  }

  private onSpecDeleted(key: string): void {
    if (!key.endsWith('/spec')) return;
    const vm = key.slice(KEY_PREFIX.length, -'/spec'.length);
    if (this.pairs.has(vm)) this.dropPair(vm, 'its spec was deleted');
  }

  /**
   * Stops monitoring a pair: the guest is not touched, the role (if held) is left to expire, and
   * the watchdog deadline goes (nobody guards the pair any more: destroy, or failover = manual).
   */
  private dropPair(vm: string, why: string): void {
    const pair = this.pairs.get(vm);
    pair?.role.close();
    pair?.qemu.stop();
    this.pairs.delete(vm);
    removeServingDeadline(vm);
    delete this.status.pairs[vm];
    void this.metrics.forgetPair(vm);
    this.reprotector.forget(vm);
    this.updatePeers();
    this.log.info({ vm }, `no longer watching pair: ${why}`);
    this.writeStatus();
  }

  /** Heartbeats go to every other host a pair's spec names (its two hosts and its spares). */
  private updatePeers(): void {
    const peers: HeartbeatPeer[] = [];
    for (const pair of this.pairs.values()) {
      for (const host of [...pair.spec.hosts, ...pair.spec.spareHosts]) {
        if (host.name === this.config.host) continue;
        peers.push({
          pair: pair.spec.vm,
          host: host.name,
          address: host.heartbeatAddress,
          port: host.heartbeatPort,
          intervalMs: pair.spec.timing.heartbeatIntervalMs,
          misses: pair.spec.timing.heartbeatMisses,
        });
      }
    }
    this.heartbeat.setPeers(peers);
  }

  // -------------------------------------------------------------------------------------------
  // The loop

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

  private observeGuest(pair: Pair): void {
    pair.guest = readLocalGuest(pair.spec.vm);
    // Another QEMU (or none) is another process to watch: forget what the old one answered.
    if (pair.guest.pid !== pair.qemuPid) pair.qemu.reset();
    pair.qemuPid = pair.guest.pid;
  }

  /** Follows the COLO trace (peer liveness for decisions; checkpoints and pauses for the metrics). */
  private observeColo(pair: Pair): void {
    if (pair.guest.state !== 'colo-primary' && pair.guest.state !== 'colo-secondary') return;
    const vm = pair.spec.vm;
    try {
      const fresh = pair.trace.read();
      if (pair.guest.state !== 'colo-primary') return;
      if (fresh.checkpoints > 0) this.metrics.checkpoints.inc({ vm }, fresh.checkpoints);
      for (const ms of fresh.pausesMs) this.metrics.checkpointPauseSeconds.observe({ vm }, ms / 1000);
    } catch (error) {
      this.log.warn({ vm, error: errorMessage(error) }, 'COLO trace not read');
    }
  }

  private async tick(pair: Pair): Promise<void> {
    const vm = pair.spec.vm;
    this.observeGuest(pair);
    if (pair.role.isHeld) {
      pair.view = 'held';
      pair.lastRoleAt = Date.now();
      pair.lastHolder = this.config.host;
    } else if (!pair.lost) {
      try {
        const state = await pair.role.state();
        pair.etcdReachable = true;
        pair.view = state.holder && state.holder.holder !== this.config.host ? 'peer' : 'vacant';
        pair.lastHolder = state.lastHolder;
        pair.runsAlone = state.runsAlone;
        pair.ownHolder = state.holder?.holder === this.config.host ? state.holder : undefined;
      } catch {
        pair.etcdReachable = false;
      }
      // The guest may have changed while etcd answered: decide on the freshest state.
      this.observeGuest(pair);
    }

    // A QEMU that stopped answering is fenced: a hung primary serves nobody, a hung secondary
    // stalls its primary. A primary blocked in a checkpoint by a lost secondary is not hung: it
    // is failed over (decision rule 2) before this threshold, which is kept above the time
    // that takes.
    const checkpointDelayMs = pair.guest.record?.checkpointDelayMs ?? COLO_DEFAULTS.checkpointDelayMs;
    const health = pair.qemu.health(Date.now(), Math.max(this.config.qemuHungAfterMs ?? QEMU_WATCH_DEFAULTS.hungAfterMs, checkpointDelayMs + COLO_SLACK_MS + 3000));
    if (health.hung && this.watching(pair) && (pair.guest.state === 'colo-primary' || pair.guest.state === 'colo-secondary' || pair.guest.state === 'serving-alone')) {
      this.log.error({ vm, silentForMs: health.silentForMs, lastStatus: health.status }, "this host's QEMU stopped answering QMP: fencing it");
      if (!(await this.act(pair, { kind: 'fence-self', reason: `the QEMU has not answered QMP for ${health.silentForMs} ms (hung)` }, 'hung'))) pair.retryAt = Date.now() + RETRY_AFTER_ERROR_MS;
      pair.qemu.reset();
      return;
    }

    this.observeColo(pair);
    const peerName = pair.guest.peer;
    const peer = peerName && this.heartbeat.hasPeer(vm, peerName) ? this.heartbeat.peerStatus(vm, peerName) : undefined;
    const now = Date.now();
    const lastHolder: Observation['lastHolder'] = pair.lastHolder === undefined ? 'none' : pair.lastHolder === this.config.host ? 'self' : pair.lastHolder === peerName ? 'peer' : 'other';
    const reprotecting = this.reprotector.isRunning(vm) || pair.guest.pending === 'reprotecting';
    const replicationBroken = await this.replicationEvidence(pair, peer?.alive === true);
    const wantsHost = pair.guest.state === 'serving-alone' && !reprotecting;
    if (!wantsHost) this.reprotector.forget(vm);
    const spare = wantsHost ? this.reprotector.candidate(pair.spec, (host) => this.candidateView(vm, host)) : undefined;
    const observation: Observation = {
      timing: pair.spec.timing,
      role: pair.lost ? 'lost' : pair.view,
      etcd: pair.etcdReachable ? 'reachable' : 'unreachable',
      lastHolder,
      msWithoutRole: pair.role.isHeld ? 0 : now - pair.lastRoleAt,
      local: pair.guest.state,
      peer: peer?.alive ? 'alive' : 'lost',
      peerState: peer?.state ?? 'unknown',
      peerSilentMs: peer ? (peer.alive ? 0 : peer.silentForMs) : now - pair.watchingSince,
      peerHeard: peer?.heard ?? false,
      msWatching: now - pair.watchingSince,
      ...(pair.trace.lastPeerMessageAt !== undefined ? { peerColoMessageAgoMs: Math.max(0, now - pair.trace.lastPeerMessageAt) } : {}),
      checkpointDelayMs,
      ...(pair.guest.record ? { localGeneration: pair.guest.record.generation } : {}),
      ...(peer?.generation !== undefined ? { peerGeneration: peer.generation } : {}),
      ...(pair.runsAlone ? { runsAlone: this.runsAloneView(pair.runsAlone, peerName) } : {}),
      ...(replicationBroken ? { replicationBroken } : {}),
      spareAvailable: spare !== undefined,
      reprotecting,
    };
    // The spec may have been deleted (or no longer name this host) while etcd answered.
    if (!this.watching(pair)) return;
    const decision = decide(observation);
    if (decision.actions.length === 0) {
      if (pair.last !== decision.waiting) this.log.info({ vm, observation: { ...observation, timing: undefined } }, `waiting: ${decision.waiting}`);
      pair.last = decision.waiting ?? '';
    }
    for (const action of decision.actions) {
      if (!this.watching(pair)) return;
      this.log.info({ vm, action: action.kind, reason: action.reason, observation: { ...observation, timing: undefined } }, `decided: ${action.kind}`);
      pair.last = action.kind;
      if (action.kind === 'start-reprotect' && spare) {
        this.startReprotect(pair, spare);
        continue;
      }
      if (!(await this.act(pair, action, 'role'))) {
        pair.retryAt = Date.now() + RETRY_AFTER_ERROR_MS;
        break;
      }
    }
    this.report(pair, observation);
  }

  private runsAloneView(record: RunsAlone, peerName: string | undefined): RunsAloneView {
    return { host: record.host === this.config.host ? 'self' : record.host === peerName ? 'peer' : 'other', generation: record.generation };
  }

  /**
   * The kernel's evidence on this primary's replication path, looked at only when it matters:
   * this host is the COLO primary, its secondary's agent is heard, and the secondary's QEMU's
   * messages are overdue (otherwise they prove the path works). At most every
   * REPLICATION_CHECK_EVERY_MS; the look runs `ss` asynchronously.
   */
  private async replicationEvidence(pair: Pair, peerAlive: boolean): Promise<string | undefined> {
    const overdueSince = pair.trace.lastPeerMessageAt;
    const now = Date.now();
    const relevant = pair.guest.state === 'colo-primary' && peerAlive && overdueSince !== undefined && now - overdueSince > (pair.guest.record?.checkpointDelayMs ?? COLO_DEFAULTS.checkpointDelayMs);
    if (!relevant) {
      pair.replicationCheck = undefined;
      return undefined;
    }
    if (pair.replicationCheck && now - pair.replicationCheck.at < REPLICATION_CHECK_EVERY_MS) return pair.replicationCheck.broken;
    let broken: string | undefined;
    try {
      broken = await probeReplicationPath(pair.spec.vm);
    } catch (error) {
      this.log.warn({ vm: pair.spec.vm, error: errorMessage(error) }, 'replication connections not read');
    }
    pair.replicationCheck = { at: now, ...(broken ? { broken } : {}) };
    return broken;
  }

  private candidateView(vm: string, host: string): { alive: boolean; state: GuestState } {
    if (!this.heartbeat.hasPeer(vm, host)) return { alive: false, state: 'unknown' };
    const status = this.heartbeat.peerStatus(vm, host);
    return { alive: status.alive && status.heard, state: status.state };
  }

  /** Carries out one action; false when it failed (logged; retried after a pause). */
  private async act(pair: Pair, action: Action, fenceReason: 'role' | 'hung'): Promise<boolean> {
    const vm = pair.spec.vm;
    const started = Date.now();
    try {
      switch (action.kind) {
        case 'acquire': {
          // A lease etcd says is ours (this agent restarted) is confirmed in one round trip.
          const own = pair.ownHolder ? await pair.role.adoptOwn(pair.ownHolder) : undefined;
          pair.ownHolder = undefined;
          const result = own?.acquired ? own : await pair.role.tryAcquire();
          if (result.acquired) {
            pair.view = 'held';
            pair.lastHolder = this.config.host;
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
          pair.lastHolder = this.config.host;
          removeServingDeadline(vm);
          await pair.role.release();
          this.log.info({ vm, tookMs: Date.now() - started }, 'role released');
          return true;
        case 'failover-locally': {
          const result = await failover(asSshSession(this.session), vm);
          pair.failovers++;
          this.metrics.failovers.inc({ vm, as: action.as });
          this.metrics.failoverCallSeconds.observe({ vm }, (Date.now() - started) / 1000);
          this.observeGuest(pair);
          this.log.info(
            { vm, as: action.as, callMs: Date.now() - started, qmpMs: result.qmpMs, alreadyFailedOver: result.alreadyFailedOver, status: result.status, generation: result.generation },
            'failover done',
          );
          this.recordEvent(vm, {
            kind: 'failover',
            host: this.config.host,
            as: action.as,
            lost: action.as === 'secondary' ? 'primary' : 'secondary',
            reason: action.reason,
            at: new Date(started).toISOString(),
            callMs: Date.now() - started,
            fencingToken: String(pair.role.fencingToken ?? ''),
          });
          return true;
        }
        case 'fence-self': {
          // SIGKILL first, directly (every millisecond counts against the lease); then the primitive confirms and records it.
          const killed = sigkillLocalQemu(vm);
          const killedAt = new Date().toISOString();
          const result = await fence(asSshSession(this.session), vm);
          removeServingDeadline(vm);
          this.observeGuest(pair);
          this.metrics.fences.inc({ vm, reason: fenceReason });
          this.log.warn({ vm, killedPids: killed !== undefined ? [killed] : result.killedPids, killedAt, tookMs: Date.now() - started, reason: action.reason }, "fenced this host's guest");
          this.recordEvent(vm, { kind: 'fence', host: this.config.host, reason: action.reason, at: new Date(started).toISOString(), killedPids: result.killedPids });
          return true;
        }
        case 'record-runs-alone': {
          const written = await pair.role.recordRunsAlone(action.generation);
          if (!written) {
            this.log.warn({ vm, generation: action.generation }, 'runs-alone not recorded: the role is no longer held');
            return false;
          }
          pair.runsAlone = { host: this.config.host, generation: action.generation };
          // For the watchdog: a guest that runs alone at this generation is the only copy.
          writeOnlyCopyMarker(vm, action.generation);
          this.log.info({ vm, generation: action.generation, tookMs: Date.now() - started }, 'recorded in etcd: this host runs the guest alone');
          return true;
        }
        case 'start-reprotect':
          return true; // needs a candidate: started by tick()
      }
    } catch (error) {
      this.log.error({ vm, action: action.kind, tookMs: Date.now() - started, error: errorMessage(error) }, `${action.kind} failed`);
      return false;
    }
  }

  private startReprotect(pair: Pair, onto: PairRuntimeSpec['hosts'][number]): void {
    const vm = pair.spec.vm;
    pair.reprotectingOnto = onto.name;
    this.log.info({ vm, onto: onto.name }, 're-protection started');
    this.recordEvent(vm, { kind: 'reprotect-started', host: this.config.host, onto: onto.name, at: new Date().toISOString() });
    this.reprotector.start(
      vm,
      onto,
      () => this.pairs.get(vm) === pair && pair.role.isHeld,
      (attempt: ReprotectAttempt) => {
        pair.reprotectingOnto = undefined;
        if (this.watching(pair)) this.metrics.reprotections.inc({ vm, result: attempt.ok ? 'ok' : 'failed' });
        if (attempt.ok) {
          pair.reprotections++;
          this.log.info({ vm, onto: attempt.onto, wallMs: attempt.wallMs, guestStoppedMs: attempt.result?.guestStoppedMs, phasesMs: attempt.result?.phasesMs }, 're-protection done');
          this.recordEvent(vm, {
            kind: 'reprotect',
            host: this.config.host,
            onto: attempt.onto,
            at: new Date().toISOString(),
            wallMs: attempt.wallMs,
            guestStoppedMs: attempt.result?.guestStoppedMs,
            phasesMs: attempt.result?.phasesMs,
          });
        } else {
          this.log.error({ vm, onto: attempt.onto, wallMs: attempt.wallMs, error: attempt.error }, 're-protection failed');
          this.recordEvent(vm, { kind: 'reprotect-failed', host: this.config.host, onto: attempt.onto, at: new Date().toISOString(), error: attempt.error?.split('\n')[0] });
        }
        this.writeStatus();
      },
    );
  }

  /** Whether `pair` is still watched (a tick in flight may outlive its pair's drop). */
  private watching(pair: Pair): boolean {
    return this.pairs.get(pair.spec.vm) === pair && !this.stopped;
  }

  private report(pair: Pair, o: Observation): void {
    if (!this.watching(pair)) return;
    const vm = pair.spec.vm;
    const health = pair.qemu.health();
    const protection = protectionView(o, pair);
    this.metrics.setProtection(vm, protection);
    this.metrics.roleHeld.set({ vm }, pair.role.isHeld ? 1 : 0);
    if (pair.guest.peer) this.metrics.peerAlive.set({ vm, peer: pair.guest.peer }, o.peer === 'alive' ? 1 : 0);
    const rejected = this.heartbeat.stats.rejected;
    for (const [reason, count] of Object.entries(rejected)) this.metrics.heartbeatsRejected.set({ reason }, count);
    this.status.pairs[vm] = {
      role: o.role,
      local: o.local,
      protection,
      ...(pair.guest.peer ? { peerHost: pair.guest.peer } : {}),
      peer: o.peer,
      peerState: o.peerState,
      etcd: o.etcd,
      last: pair.last,
      failovers: pair.failovers,
      reprotections: pair.reprotections,
      ...(pair.reprotectingOnto ? { reprotecting: pair.reprotectingOnto } : {}),
      ...(health.silentForMs !== undefined ? { qemu: { answering: health.answering, status: health.status, coloMode: health.coloMode } } : {}),
      hosts: Object.fromEntries([...pair.spec.hosts, ...pair.spec.spareHosts].filter((h) => h.name !== this.config.host).map((h) => [h.name, this.candidateView(vm, h.name)])),
    };
  }

  private recordEvent(vm: string, event: Record<string, unknown>): void {
    this.etcd
      .put(pairKeys(vm).event(Date.now(), this.config.host))
      .value(JSON.stringify(event))
      .exec()
      .catch((error) => this.log.warn({ vm, error: errorMessage(error) }, 'event not written to etcd'));
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

/** The pair's protection as this side sees it. */
function protectionView(o: Observation, pair: Pair): ProtectionView {
  if (pair.guest.pending === 'starting') return 'starting';
  if (pair.reprotectingOnto) return 're-protecting';
  switch (o.local) {
    case 'colo-primary':
      return o.peer === 'alive' && o.peerState === 'colo-secondary' ? 'protected' : 'degraded';
    case 'serving-alone':
      return o.reprotecting ? 're-protecting' : 'degraded';
    case 'colo-secondary':
      return 'standby';
    case 'fenced':
      return 'fenced';
    case 'unknown':
      return pair.guest.pending === 'reprotecting' ? 're-protecting' : 'down';
    default:
      return 'down';
  }
}
