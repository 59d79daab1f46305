/**
 * The agent's supervisor, one per host: it keeps the agent running and is its watchdog.
 *
 * - Restarts: the agent runs as a child process; when it exits (crash, kill -9, OOM) it is
 *   started again after 100 ms, backing off (doubling, up to 5 s) while it keeps dying within
 *   5 s of its start. A restarted agent adopts the leases it held (active-role.ts), so its
 *   guests are not disturbed, provided it does so before the watchdog's deadline (interval x
 *   misses + fencing deadline after its last renewal, 1.4 s by default). Loading the agent
 *   (Node.js and the bundle) takes most of a second on a fast host and more on a slow or loaded
 *   one, so with `warmSpare` a second agent process is kept loaded and idle (`run --standby`,
 *   on an IPC channel: it says when it is ready, and is told to start): when the agent dies,
 *   a ready spare starts at once and a new spare is loaded behind it. An agent restart then
 *   costs its etcd round trips, not a process start.
 * - Watchdog (serving-deadline.ts): every 50 ms it reads the guests' deadlines and fences any
 *   live copy of a guest whose deadline has passed: the agent could not confirm its role in
 *   time (dead and not back yet, hung, cut off from etcd) and the lease may expire soon, after
 *   which the peer takes over. Patroni's watchdog reboots the machine; fencing the one guest is
 *   enough here, because the guest is what must not serve twice.
 *
 * It has no network dependency (no etcd, no SSH): it must work exactly when everything else
 * fails. Where systemd is PID 1 it runs as a unit with Restart=always; elsewhere it is a daemon
 * (agent-install.ts) that a host's boot starts, and that its agent starts again when it dies
 * (supervisor-respawn.ts).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import pino, { Logger } from 'pino';
import { fence } from '../colo/colo-failover';
import { errorMessage } from '../ssh/host-errors';
import { readLocalGuest, sigkillLocalQemu } from './local-guest';
import { asSshSession, LocalSession } from './local-session';
import { anyProgram, processHoldsResources, runningPid } from './running-process';
import { isOnlyCopy } from './decision';
import { readOnlyCopyMarker, readServingDeadlines, removeServingDeadline } from './serving-deadline';

export interface SupervisorOptions {
  /** This host's name (log lines, errors). */
  readonly host: string;
  /** The agent's command: executable and arguments. */
  readonly agentCommand: readonly [string, ...string[]];
  /** The agent's stdout/stderr (its own log goes where its config says). */
  readonly agentOutPath: string;
  /** The supervisor's own JSON log lines; default stdout. */
  readonly logPath?: string;
  readonly pidFile?: string;
  /** Default 50 ms. */
  readonly watchdogMs?: number;
  /** Where the VMs' run directories are (default /run/orbit). */
  readonly runRoot?: string;
  /**
   * An agent left running by a supervisor that died (supervisor-respawn.ts): the first agent is
   * started only once it has handed over and exited (SIGKILLed if it has not after 15 s).
   */
  readonly predecessorAgentPid?: number;
  /**
   * Keep a loaded, idle agent (`agentCommand` + `--standby`, started by SIGUSR1) to replace a
   * dead agent at once. Default false.
   */
  readonly warmSpare?: boolean;
}

/**
 * The niceness of the supervisor, its agents and the lab's etcd: the monitor gets the CPU before
 * the guests' vCPUs (nice 0). A renewal, a heartbeat or a watchdog check that waits behind busy
 * vCPUs on a loaded host makes the agent lose its role and fence a healthy guest. Corosync runs
 * real-time for the same reason; a niceness keeps a runaway agent from freezing the host.
 */
export const MONITOR_NICE = -10;

/** The argument that starts an agent as a warm spare (agent-main.ts). */
export const STANDBY_ARG = '--standby';
/** The IPC messages between the supervisor and its warm spare. */
export const SPARE_READY = 'orbit-spare-ready';
export const SPARE_START = 'orbit-spare-start';
const SPARE_RESTART_MS = 1000;
/** How long a supervisor taking over from a dead one waits for its spare before it lets the old agent go anyway. */
const SPARE_READY_WAIT_MS = 5000;

const FIRST_RESTART_MS = 100;
const MAX_RESTART_MS = 5000;
/** An agent that dies younger than this is crash-looping (bad config, etcd refusing it): back off. */
const YOUNG_MS = 5000;
const STOP_GRACE_MS = 5000;
const PREDECESSOR_GRACE_MS = 15_000;

export class Supervisor {
  readonly log: Logger;
  private child?: ChildProcess;
  private spare?: ChildProcess;
  private spareReady = false;
  private spareTimer?: NodeJS.Timeout;
  private pidFileTimer?: NodeJS.Timeout;
  private childStartedAt = 0;
  private restartDelayMs = FIRST_RESTART_MS;
  private restartTimer?: NodeJS.Timeout;
  private watchdogTimer?: NodeJS.Timeout;
  private fencing = new Set<string>();
  private stopping = false;
  private readonly session: LocalSession;
  /** Agent starts so far (1 = never restarted). */
  starts = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.log = pino(
      { base: { host: options.host, component: 'supervisor' }, timestamp: pino.stdTimeFunctions.isoTime },
      options.logPath ? pino.destination({ dest: options.logPath, sync: true, mkdir: true }) : pino.destination(1),
    );
    this.session = new LocalSession({ name: options.host, defaultTimeoutMs: 10_000 });
  }

  start(): void {
    this.watchdogTimer = setInterval(() => this.watchdog(), this.options.watchdogMs ?? 50);
    this.log.info({ pid: process.pid, agent: this.options.agentCommand.join(' ') }, 'supervisor started');
    const predecessor = this.options.predecessorAgentPid;
    if (predecessor !== undefined && runningPid(predecessor, anyProgram) !== undefined) {
      // The pid file tells the orphaned agent to hand over (exit). With a warm spare it is written
      // once the spare is loaded, so that the spare takes over at once instead of a process start
      // that can outlast the guests' watchdog deadlines.
      this.log.info({ predecessor }, 'waiting for the agent of the previous supervisor to hand over');
      this.ensureSpare();
      this.writePidFileWhenReady(Date.now() + SPARE_READY_WAIT_MS);
      this.awaitPredecessor(predecessor, Date.now() + PREDECESSOR_GRACE_MS);
    } else {
      this.writePidFile();
      this.spawnAgent();
    }
  }

  /** The pid file says the watchdog runs (an orphaned agent hands over once it sees it). */
  private writePidFile(): void {
    if (!this.options.pidFile || this.stopping) return;
    fs.mkdirSync(path.dirname(this.options.pidFile), { recursive: true });
    fs.writeFileSync(this.options.pidFile, `${process.pid}\n`);
  }

  private writePidFileWhenReady(until: number): void {
    if (this.spareReady || !this.options.warmSpare || Date.now() > until) return this.writePidFile();
    this.pidFileTimer = setTimeout(() => this.writePidFileWhenReady(until), 20);
  }

  private awaitPredecessor(pid: number, deadline: number): void {
    if (this.stopping) return;
    // Gone means gone or a zombie: an exiting process loses its command line (its memory)
    // before its sockets, and the new agent must be able to bind the heartbeat and metrics ports.
    if (!processHoldsResources(pid)) {
      this.spawnAgent();
      return;
    }
    if (Date.now() > deadline) {
      this.log.error({ predecessor: pid }, 'the previous agent did not hand over: killing it');
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    this.restartTimer = setTimeout(() => this.awaitPredecessor(pid, deadline), 20);
  }

  get agentPid(): number | undefined {
    return this.child?.pid;
  }

  /** The warm spare's pid (loaded, idle), if one runs. */
  get sparePid(): number | undefined {
    return this.spare?.pid;
  }

  /** Stops the agent (SIGTERM, then SIGKILL after 5 s) and the watchdog. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.spareTimer);
    clearTimeout(this.pidFileTimer);
    clearInterval(this.watchdogTimer);
    this.spare?.kill('SIGKILL');
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    if (this.options.pidFile) fs.rmSync(this.options.pidFile, { force: true });
    this.log.info('supervisor stopped');
  }

  private spawnProcess(extraArgs: string[], ipc = false): ChildProcess {
    const [command, ...args] = this.options.agentCommand;
    fs.mkdirSync(path.dirname(this.options.agentOutPath), { recursive: true });
    const out = fs.openSync(this.options.agentOutPath, 'a');
    const child = spawn(command, [...args, ...extraArgs], { stdio: ipc ? ['ignore', out, out, 'ipc'] : ['ignore', out, out] });
    fs.closeSync(out);
    return child;
  }

  private spawnAgent(): void {
    if (this.stopping) return;
    const spare = this.spare;
    let child: ChildProcess;
    if (spare && this.spareReady && spare.exitCode === null && spare.signalCode === null && spare.connected && spare.send(SPARE_START)) {
      this.spare = undefined;
      this.spareReady = false;
      child = spare;
      this.log.info({ pid: spare.pid }, 'the warm spare agent takes over');
    } else {
      child = this.spawnProcess([]);
      child.once('error', (error) => this.log.error({ error: error.message }, 'the agent could not be started'));
    }
    this.child = child;
    this.childStartedAt = Date.now();
    this.starts++;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      const livedMs = Date.now() - this.childStartedAt;
      const young = livedMs < YOUNG_MS;
      this.restartDelayMs = young ? Math.min(this.restartDelayMs * 2, MAX_RESTART_MS) : FIRST_RESTART_MS;
      // A healthy agent that died is replaced at once by the loaded spare (its guests' deadlines run).
      const delay = !young && this.spare ? 0 : this.restartDelayMs;
      this.log.error({ code, signal, livedMs, restartInMs: delay }, 'the agent exited; restarting it');
      this.restartTimer = setTimeout(() => this.spawnAgent(), delay);
    });
    this.ensureSpare();
  }

  /** Keeps one loaded, idle agent ready (warmSpare). */
  private ensureSpare(): void {
    if (!this.options.warmSpare || this.stopping || this.spare) return;
    const spare = this.spawnProcess([STANDBY_ARG], true);
    this.spare = spare;
    this.spareReady = false;
    spare.on('message', (message) => {
      if (message === SPARE_READY && this.spare === spare) this.spareReady = true;
    });
    spare.on('error', (error) => this.log.error({ error: error.message }, 'the warm spare agent could not be started'));
    spare.once('exit', (code, signal) => {
      if (this.spare !== spare) return; // promoted: its exit is the agent's
      this.spare = undefined;
      this.spareReady = false;
      if (this.stopping) return;
      this.log.warn({ code, signal, restartInMs: SPARE_RESTART_MS }, 'the warm spare agent exited; loading another');
      this.spareTimer = setTimeout(() => this.ensureSpare(), SPARE_RESTART_MS);
    });
  }

  private watchdog(): void {
    const now = Date.now();
    for (const [vm, deadline] of readServingDeadlines(this.options.runRoot)) {
      if (deadline > now || this.fencing.has(vm)) continue;
      const guest = readLocalGuest(vm);
      const live = guest.state === 'colo-primary' || guest.state === 'colo-secondary' || guest.state === 'serving-alone';
      if (!live) {
        removeServingDeadline(vm);
        continue;
      }
      if (isOnlyCopy(guest.state, guest.record?.generation, readOnlyCopyMarker(vm, this.options.runRoot))) {
        // The only copy (decision.ts, rule 1): no replica can be promoted, a kill protects nothing.
        removeServingDeadline(vm);
        this.log.warn(
          { vm, overdueMs: now - deadline, state: guest.state, generation: guest.record?.generation, agentPid: this.agentPid },
          'watchdog: the agent did not confirm its role in time, but this guest is the only copy (it runs alone, or is being promoted to, as recorded in etcd): not fenced',
        );
        continue;
      }
      this.fencing.add(vm);
      const overdueMs = now - deadline;
      const killed = sigkillLocalQemu(vm);
      const killedAt = new Date().toISOString();
      fence(asSshSession(this.session), vm)
        .then((result) => {
          removeServingDeadline(vm);
          this.log.error(
            { vm, overdueMs, killedAt, state: guest.state, killedPids: killed !== undefined ? [killed] : result.killedPids, agentPid: this.agentPid },
            "watchdog: the agent did not confirm its role in time; this host's guest was fenced before the lease can expire",
          );
        })
        .catch((error) => this.log.error({ vm, error: errorMessage(error) }, 'watchdog: fencing failed'))
        .finally(() => this.fencing.delete(vm));
    }
  }
}
