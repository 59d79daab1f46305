/**
 * Automatic re-protection, by the agent that holds a pair's role while its guest runs alone:
 * it picks a host for the new secondary and runs the host layer's `reprotect` (drive-mirror to
 * the new secondary's NBD export, then a new COLO migration; the guest keeps running), with
 * this host as a LocalSession and the new one over SSH.
 *
 * Candidates, in order: the pair's hosts as applied (primary_host, secondary_host), then its
 * declared spares, never this host. A candidate qualifies only while its agent is heard and
 * reports no live copy of the guest (dead, fenced or none): a host whose agent runs can watch
 * the new secondary, and a host that still runs a copy is left to its own agent's fencing.
 *
 * The applied host comes back first: the pair returns to the hosts the configuration names
 * (no drift for terraform to report). Right after a failover the old host's agent may still
 * report the copy that just died (it has not noticed yet) or be briefly unheard, while a spare
 * already qualifies. So a spare is chosen only when the applied host cannot come back:
 * - its agent is heard and reports a live copy: that copy is resolved by its own agent (it
 *   notices the dead QEMU, or fences a replica without the role) and the spare waits, up to
 *   APPLIED_HOST_STUCK_MS (an agent that resolves nothing in that long is stuck);
 * - its agent is unheard: the spare waits one lease and one detection period (a heartbeat
 *   missed while its host was busy), then the host counts as gone.
 * While an applied host is in back-off after a failed attempt, the spare is chosen at once.
 *
 * SSH: the agent's identity (the provider's monitor `ssh_private_key_path`, installed with the
 * agent) and, for each host, exactly the host keys the provider pinned, carried in the signed
 * spec. Without an identity the agent never re-protects; the pair stays degraded until an
 * operator runs `orbit-ft reprotect`.
 *
 * A failed attempt is undone by `reprotect` itself (the guest runs on alone); the candidate is
 * then left out for a while (5 s, doubling up to 2 min) and the next one is tried.
 */
import { reprotect, ReprotectResult } from '../colo/colo-reprotect';
import { errorMessage } from '../ssh/host-errors';
import { HostKeyPolicy } from '../ssh/known-hosts';
import { SshSession } from '../ssh/ssh-session';
import { GuestState } from './heartbeat';
import { asSshSession, LocalSession } from './local-session';
import { PairHost, PairRuntimeSpec } from './pair-spec';
import { detectionMs } from './timing';

export interface CandidateView {
  /** The candidate's agent is heard, and what it reports about its copy of the guest. */
  readonly alive: boolean;
  readonly state: GuestState;
}

export interface ReprotectAttempt {
  readonly vm: string;
  readonly onto: string;
  readonly ok: boolean;
  readonly wallMs: number;
  readonly result?: ReprotectResult;
  readonly error?: string;
}

const FIRST_BACKOFF_MS = 5_000;
const MAX_BACKOFF_MS = 120_000;
const REPROTECT_TIMEOUT_MS = 180_000;
const SSH_CONNECT_TIMEOUT_MS = 5_000;
/** How long an applied host whose agent reports a live copy is waited for before a spare is used. */
export const APPLIED_HOST_STUCK_MS = 60_000;

export class AutoReprotect {
  private readonly running = new Set<string>();
  /** `${vm}\0${host}` -> { until, backoffMs } */
  private readonly backoff = new Map<string, { until: number; ms: number }>();
  /** vm -> when a spare first qualified while an applied host was still waited for. */
  private readonly spareWaitingSince = new Map<string, number>();

  constructor(
    private readonly self: string,
    private readonly local: LocalSession,
    private readonly identity: { privateKey: Buffer } | undefined,
  ) {}

  get enabled(): boolean {
    return this.identity !== undefined;
  }

  isRunning(vm: string): boolean {
    return this.running.has(vm);
  }

  /** The host a re-protection would go to now, or undefined (see the file comment for the order). */
  candidate(spec: PairRuntimeSpec, view: (host: string) => CandidateView, now = Date.now()): PairHost | undefined {
    if (!this.identity) return undefined;
    let waitForAppliedMs = 0;
    for (const host of spec.hosts) {
      if (host.name === this.self || this.inBackoff(spec.vm, host.name, now)) continue;
      const v = view(host.name);
      if (qualifies(v)) return this.chosen(spec.vm, host);
      waitForAppliedMs = Math.max(waitForAppliedMs, v.alive ? APPLIED_HOST_STUCK_MS : spec.timing.leaseTtlMs + detectionMs(spec.timing));
    }
    const spare = spec.spareHosts.find((host) => host.name !== this.self && !this.inBackoff(spec.vm, host.name, now) && qualifies(view(host.name)));
    if (!spare) return undefined;
    const since = this.spareWaitingSince.get(spec.vm) ?? now;
    this.spareWaitingSince.set(spec.vm, since);
    return now - since >= waitForAppliedMs ? this.chosen(spec.vm, spare) : undefined;
  }

  /** The pair no longer looks for a host (protected again, or no longer watched here). */
  forget(vm: string): void {
    this.spareWaitingSince.delete(vm);
  }

  /**
   * Runs one re-protection of `vm` onto `onto` in the background; `stillActive` is asked just
   * before anything changes (the role may have been lost meanwhile). Never rejects: the result
   * goes to `done`.
   */
  start(vm: string, onto: PairHost, stillActive: () => boolean, done: (attempt: ReprotectAttempt) => void): void {
    if (this.running.has(vm)) return;
    this.running.add(vm);
    const started = Date.now();
    void this.run(vm, onto, stillActive)
      .then(
        (result) => {
          this.backoff.delete(key(vm, onto.name));
          return { vm, onto: onto.name, ok: true, wallMs: Date.now() - started, result };
        },
        (error: unknown) => {
          const previous = this.backoff.get(key(vm, onto.name));
          const ms = previous ? Math.min(previous.ms * 2, MAX_BACKOFF_MS) : FIRST_BACKOFF_MS;
          this.backoff.set(key(vm, onto.name), { until: Date.now() + ms, ms });
          return { vm, onto: onto.name, ok: false, wallMs: Date.now() - started, error: errorMessage(error) };
        },
      )
      .then((attempt) => {
        this.running.delete(vm);
        done(attempt);
      });
  }

  private inBackoff(vm: string, host: string, now: number): boolean {
    const b = this.backoff.get(key(vm, host));
    return b !== undefined && now < b.until;
  }

  private chosen(vm: string, host: PairHost): PairHost {
    this.spareWaitingSince.delete(vm);
    return host;
  }

  private async run(vm: string, onto: PairHost, stillActive: () => boolean): Promise<ReprotectResult> {
    const host = { name: onto.name, address: onto.sshAddress, port: onto.sshPort };
    const session = await SshSession.connect({
      host,
      username: onto.sshUser,
      privateKey: this.identity!.privateKey,
      hostKeys: HostKeyPolicy.forHost(host, { pinned: onto.hostKeys }),
      connectTimeoutMs: SSH_CONNECT_TIMEOUT_MS,
      defaultTimeoutMs: 60_000,
    });
    try {
      if (!stillActive()) throw new Error('the active role was lost before the re-protection began');
      return await reprotect(asSshSession(this.local), session, vm, { secondaryAddress: onto.replicationAddress, timeoutMs: REPROTECT_TIMEOUT_MS });
    } finally {
      await session.close().catch(() => undefined);
    }
  }
}

function holdsNoCopy(state: GuestState): boolean {
  return state === 'dead' || state === 'fenced' || state === 'unknown';
}

function qualifies(view: CandidateView): boolean {
  return view.alive && holdsNoCopy(view.state);
}

function key(vm: string, host: string): string {
  return `${vm}\0${host}`;
}
