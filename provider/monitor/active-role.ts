/**
 * The "active" role of one COLO pair, held in etcd: whoever holds it may run the guest that
 * serves; everyone else must not. Patroni's leader key, for a VM.
 *
 * - Acquire: grant a lease (TTL = timing.leaseTtlMs), then ONE transaction: if the key
 *   /orbit/v1/pairs/<vm>/active does not exist (create revision 0), put it with the lease,
 *   and put /orbit/v1/pairs/<vm>/last-holder (no lease: it outlives the holding, so a standby
 *   can tell "the peer held it and let it go" from "nobody ever held it", even after its own
 *   agent restarted); else read it. Exactly one contender's put wins; the key's mod revision is
 *   the holder's fencing token (it grows with every new holder: a stale holder's token is smaller).
 * - Renew: a keepalive every heartbeatIntervalMs, each with a deadline of one interval.
 *   etcd's expiry is at least (the moment the last confirmed renewal was SENT) + TTL.
 * - Loss: when no renewal has been confirmed for interval x misses since the last confirmed
 *   send, or etcd says the lease is gone, `onLost` fires, once. By the timing invariant the
 *   holder then still has fencingDeadlineMs before the lease can expire: it must stop its
 *   guest in that time (`mustBeFencedBy`). The lease is NOT revoked on loss: revoking before
 *   the guest is stopped would hand the role over while it still serves. Call release() after
 *   fencing.
 * - Release: revoke the lease at once (the key goes with it; a watching standby takes over in
 *   one round trip).
 * - A restarted agent that finds the key naming itself adopts the lease it holds (its id is in
 *   the value) instead of waiting for it to expire, so an agent restart does not fence a healthy
 *   guest.
 *
 * Every etcd call has a deadline; nothing retries behind the caller's back (etcd-connection.ts).
 */
import { CompareResult, CompareTarget, Etcd3, IKeyValue, ILeaseKeepAliveResponse, Watcher } from 'etcd3';
import { pairKeys } from './pair-spec';
import { assertSafeTiming, detectionMs, FailoverTiming, leaseTtlSeconds } from './timing';

/** The value of the active key. */
export interface RoleRecord {
  readonly holder: string;
  /** Decimal lease id (int64), so a restarted holder can adopt it. */
  readonly leaseId: string;
  readonly acquiredAt: string;
}

export type AcquireResult =
  | { readonly acquired: true; readonly fencingToken: bigint; readonly leaseId: string; readonly adopted: boolean; readonly tookMs: number }
  | { readonly acquired: false; readonly holder?: RoleRecord; /** Why not, when etcd did not answer. */ readonly problem?: string };

export interface RoleLoss {
  readonly vm: string;
  readonly reason: 'renewal-timeout' | 'lease-gone';
  readonly detail: string;
  /** Epoch ms: the guest must be stopped before this (the earliest moment the lease can expire). */
  readonly mustBeFencedBy: number;
}

export interface ActiveRoleOptions {
  readonly vm: string;
  /** This agent's host name (the holder recorded in etcd). */
  readonly self: string;
  readonly timing: FailoverTiming;
  /** Called once per holding when the role is lost without release(): fence now. */
  readonly onLost: (loss: RoleLoss) => void;
  /** Called after every confirmed renewal (for the lease-renew-latency metric). */
  readonly onRenewed?: (latencyMs: number) => void;
  /**
   * Called whenever the role is confirmed (acquired, adopted, renewed) with the moment the
   * confirmed request was SENT: etcd's expiry is at least that + TTL (the watchdog deadline).
   */
  readonly onConfirmed?: (confirmedSentAt: number) => void;
}

/**
 * "This host runs the guest alone from pair generation `generation` on": written by the holder
 * of the role before a COLO primary runs alone (and after a secondary took over), so that any
 * replica of an older generation, wherever it still runs, is known to be stale and is never
 * promoted, and so that the copy that runs alone knows it is the only one (decision.ts).
 */
export interface RunsAlone {
  readonly host: string;
  readonly generation: number;
}

/** The role as etcd has it now. */
export interface RoleState {
  /** The holder now (undefined: vacant). */
  readonly holder?: RoleRecord & { readonly fencingToken: bigint };
  /** The host that acquired it last (undefined: nobody ever did). */
  readonly lastHolder?: string;
  /** The last "runs alone" record (undefined: none since the pair was created). */
  readonly runsAlone?: RunsAlone;
}

interface Holding {
  readonly leaseId: string;
  readonly fencingToken: bigint;
  lastConfirmedSentAt: number;
  renewTimer?: NodeJS.Timeout;
  lossTimer?: NodeJS.Timeout;
}

export class ActiveRole {
  readonly key: string;
  private readonly lastHolderKey: string;
  private readonly runsAloneKey: string;
  private holding?: Holding;
  /** The lease of a holding that was lost: release() still revokes it (after fencing). */
  private lostLeaseId?: string;
  private closed = false;

  constructor(
    private readonly etcd: Etcd3,
    private readonly options: ActiveRoleOptions,
  ) {
    this.key = pairKeys(options.vm).active;
    this.lastHolderKey = pairKeys(options.vm).lastHolder;
    this.runsAloneKey = pairKeys(options.vm).runsAlone;
    assertSafeTiming(options.timing, `VM ${options.vm} (active role)`);
  }

  get isHeld(): boolean {
    return this.holding !== undefined;
  }

  get fencingToken(): bigint | undefined {
    return this.holding?.fencingToken;
  }

  /** Epoch ms until which the lease surely is still ours (last confirmed renewal sent + TTL). */
  get validUntil(): number | undefined {
    return this.holding ? this.holding.lastConfirmedSentAt + this.options.timing.leaseTtlMs : undefined;
  }

  /** One attempt: grant a lease, put-if-absent with it. Never throws for etcd trouble: `problem` says it. */
  async tryAcquire(): Promise<AcquireResult> {
    if (this.closed) throw new Error(`ActiveRole of VM ${this.options.vm} is closed`);
    if (this.holding) return { acquired: true, fencingToken: this.holding.fencingToken, leaseId: this.holding.leaseId, adopted: false, tookMs: 0 };
    const started = Date.now();
    this.lostLeaseId = undefined;
    let leaseId: string | undefined;
    try {
      const sentAt = Date.now();
      const grant = await this.etcd.leaseClient.leaseGrant({ TTL: leaseTtlSeconds(this.options.timing) }, this.deadline());
      leaseId = grant.ID;
      if (Number(grant.TTL) * 1000 !== this.options.timing.leaseTtlMs) {
        throw new Error(
          `etcd granted a ${grant.TTL} s lease for ${leaseTtlSeconds(this.options.timing)} s: its minimum lease is longer. Fix: raise leaseTtlMs to ${Number(grant.TTL) * 1000} or lower etcd's --election-timeout`,
        );
      }
      const record: RoleRecord = { holder: this.options.self, leaseId, acquiredAt: new Date().toISOString() };
      const key = Buffer.from(this.key);
      const txn = await this.etcd.kv.txn(
        {
          compare: [{ key, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }],
          success: [
            { request_put: { key, value: Buffer.from(JSON.stringify(record)), lease: leaseId } },
            { request_put: { key: Buffer.from(this.lastHolderKey), value: Buffer.from(this.options.self) } },
          ],
          failure: [{ request_range: { key } }],
        },
        this.deadline(),
      );
      if (txn.succeeded) {
        this.hold(leaseId, BigInt(txn.header.revision), sentAt);
        return { acquired: true, fencingToken: BigInt(txn.header.revision), leaseId, adopted: false, tookMs: Date.now() - started };
      }
      this.revokeQuietly(leaseId);
      leaseId = undefined;
      const existing = txn.responses[0]?.response_range?.kvs?.[0];
      const holder = existing ? parseRecord(existing) : undefined;
      if (existing && holder?.holder === this.options.self) return await this.adopt(existing, holder, started);
      return { acquired: false, holder };
    } catch (error) {
      // Unknown outcome (e.g. the txn timed out after etcd applied it): revoking the lease
      // removes a key we might have put. Until then nobody else can take it, so this is safe.
      if (leaseId !== undefined) this.revokeQuietly(leaseId);
      return { acquired: false, problem: describeEtcdError(error) };
    }
  }

  /**
   * Takes up the lease that etcd, in a read just made (`state()`), says this host holds: a
   * restarted agent, or a warm spare taking over, confirms it with one keepalive instead of the
   * grant, transaction and revoke of tryAcquire(). Safe because a key bound to a live lease is
   * only ever removed with that lease: if the keepalive finds it alive, the key is still ours.
   */
  async adoptOwn(holder: RoleRecord & { readonly fencingToken: bigint }): Promise<AcquireResult> {
    if (this.closed) throw new Error(`ActiveRole of VM ${this.options.vm} is closed`);
    if (this.holding) return { acquired: true, fencingToken: this.holding.fencingToken, leaseId: this.holding.leaseId, adopted: false, tookMs: 0 };
    if (holder.holder !== this.options.self) return { acquired: false, holder };
    const started = Date.now();
    try {
      const sentAt = Date.now();
      const response = await this.keepalive(holder.leaseId);
      if (Number(response.TTL) <= 0) return { acquired: false, holder, problem: 'the key names this host but its lease is gone; it will disappear shortly' };
      this.hold(holder.leaseId, holder.fencingToken, sentAt);
      return { acquired: true, fencingToken: holder.fencingToken, leaseId: holder.leaseId, adopted: true, tookMs: Date.now() - started };
    } catch (error) {
      return { acquired: false, problem: describeEtcdError(error) };
    }
  }

  /** Gives the role up at once (revokes the lease; the key goes with it). After a loss: revokes what is left of the lost lease. */
  async release(): Promise<void> {
    const leaseId = this.holding?.leaseId ?? this.lostLeaseId;
    if (leaseId === undefined) return;
    this.stopHolding();
    this.lostLeaseId = undefined;
    try {
      await this.etcd.leaseClient.leaseRevoke({ ID: leaseId }, this.deadline());
    } catch (error) {
      throw new Error(
        `Releasing the active role of VM ${this.options.vm} (lease ${leaseId}) failed: ${describeEtcdError(error)}. ` +
          `The lease expires by itself within ${this.options.timing.leaseTtlMs + 500} ms of its last renewal; nothing to fix unless etcd stays unreachable`,
      );
    }
  }

  /** Stops renewing without revoking: the lease expires after its TTL (a crashed agent; tests). */
  abandon(): void {
    this.stopHolding();
  }

  /** Who holds the role now; undefined when nobody does. Throws if etcd does not answer. */
  async currentHolder(): Promise<(RoleRecord & { fencingToken: bigint }) | undefined> {
    const response = await this.etcd.kv.range({ key: Buffer.from(this.key) }, this.deadline());
    const kv = response.kvs[0];
    const record = kv ? parseRecord(kv) : undefined;
    return kv && record ? { ...record, fencingToken: BigInt(kv.mod_revision) } : undefined;
  }

  /** Holder, last holder and the "runs alone" record in one atomic read. Throws if etcd does not answer. */
  async state(): Promise<RoleState> {
    const ranges = [this.key, this.lastHolderKey, this.runsAloneKey].map((key) => ({ request_range: { key: Buffer.from(key) } }));
    const txn = await this.etcd.kv.txn({ compare: [], success: ranges, failure: [] }, this.deadline());
    const kv = txn.responses[0]?.response_range?.kvs?.[0];
    const record = kv ? parseRecord(kv) : undefined;
    const last = txn.responses[1]?.response_range?.kvs?.[0]?.value.toString();
    const alone = parseRunsAlone(txn.responses[2]?.response_range?.kvs?.[0]?.value.toString());
    return { holder: kv && record ? { ...record, fencingToken: BigInt(kv.mod_revision) } : undefined, lastHolder: last || record?.holder, ...(alone ? { runsAlone: alone } : {}) };
  }

  /**
   * Records that this host runs the guest alone from `generation` on, only while it still holds
   * the role (one transaction comparing the active key's lease with ours). True when written;
   * false when the role is not held any more; throws when etcd does not answer.
   */
  async recordRunsAlone(generation: number): Promise<boolean> {
    if (!this.holding) return false;
    const value: RunsAlone = { host: this.options.self, generation };
    const txn = await this.etcd.kv.txn(
      {
        compare: [{ key: Buffer.from(this.key), target: CompareTarget.Lease, result: CompareResult.Equal, lease: this.holding.leaseId }],
        success: [{ request_put: { key: Buffer.from(this.runsAloneKey), value: Buffer.from(JSON.stringify(value)) } }],
        failure: [],
      },
      this.deadline(),
    );
    return txn.succeeded;
  }

  /**
   * Tries until it holds the role, `signal` aborts (then resolves not acquired) or the role is
   * closed. It retries when the key is deleted (watch: one round trip after a release or an
   * expiry) and at least every heartbeat interval (in case the watch is down).
   */
  async acquireWhenVacant(signal?: AbortSignal): Promise<AcquireResult> {
    let wake: () => void = () => undefined;
    // Set up in the background: with etcd down, the first attempts must not wait for the watch.
    const watching = this.watchDeletes(() => wake()).catch(() => undefined);
    const onAbort = () => wake();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        const result = await this.tryAcquire();
        if (result.acquired || signal?.aborted || this.closed) return result;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.timing.heartbeatIntervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      void watching.then((watcher) => watcher?.cancel().catch(() => undefined));
    }
  }

  /** Stops renewing (without revoking) and watching. */
  close(): void {
    this.closed = true;
    this.stopHolding();
  }

  // -------------------------------------------------------------------------------------------

  private deadline(): { deadline: number } {
    return { deadline: Date.now() + this.options.timing.heartbeatIntervalMs * 2 };
  }

  private async watchDeletes(onDelete: () => void): Promise<Watcher> {
    const creating = this.etcd.watch().key(this.key).create();
    const watcher = await Promise.race([creating, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('watch not established in time')), this.options.timing.leaseTtlMs))]).catch(
      (error) => {
        void creating.then((w) => w.cancel()).catch(() => undefined);
        throw error;
      },
    );
    watcher.on('delete', onDelete);
    watcher.on('error', () => undefined);
    return watcher;
  }

  private async adopt(existing: IKeyValue, record: RoleRecord, started: number): Promise<AcquireResult> {
    const sentAt = Date.now();
    const response = await this.keepalive(record.leaseId);
    if (Number(response.TTL) <= 0 || String(existing.lease) !== record.leaseId)
      return { acquired: false, holder: record, problem: 'the key names this host but its lease is gone; it will disappear shortly' };
    const fencingToken = BigInt(existing.mod_revision);
    this.hold(record.leaseId, fencingToken, sentAt);
    return { acquired: true, fencingToken, leaseId: record.leaseId, adopted: true, tookMs: Date.now() - started };
  }

  private hold(leaseId: string, fencingToken: bigint, confirmedSentAt: number): void {
    const holding: Holding = { leaseId, fencingToken, lastConfirmedSentAt: confirmedSentAt };
    this.holding = holding;
    this.armLossTimer(holding);
    this.options.onConfirmed?.(confirmedSentAt);
    holding.renewTimer = setInterval(() => void this.renew(holding), this.options.timing.heartbeatIntervalMs);
  }

  private armLossTimer(holding: Holding): void {
    clearTimeout(holding.lossTimer);
    const detection = detectionMs(this.options.timing);
    const dueIn = holding.lastConfirmedSentAt + detection - Date.now();
    holding.lossTimer = setTimeout(
      () => {
        // Node runs due timers before it reads the sockets: after a stall, a confirmation may be
        // waiting unread. Decide after this loop's I/O (setImmediate), on what etcd has answered.
        setImmediate(() => {
          if (this.holding !== holding) return;
          const since = Date.now() - holding.lastConfirmedSentAt;
          // Not due yet: confirmed meanwhile, or the timer ran early by the wall clock (Node times
          // timers from the loop's cached clock, which can lag Date.now()). Check again when due;
          // returning without a timer would leave a holder cut off from etcd that never fences.
          if (since < detection) return this.armLossTimer(holding);
          this.lose(holding, 'renewal-timeout', `no renewal of the lease was confirmed by etcd for ${since} ms (limit ${detection} ms: heartbeat interval x misses)`);
        });
      },
      Math.max(0, dueIn),
    );
  }

  private async renew(holding: Holding): Promise<void> {
    const sentAt = Date.now();
    try {
      const response = await this.keepalive(holding.leaseId);
      if (this.holding !== holding) return;
      if (Number(response.TTL) <= 0) return this.lose(holding, 'lease-gone', `etcd says lease ${holding.leaseId} has expired or was revoked`);
      if (sentAt > holding.lastConfirmedSentAt) {
        holding.lastConfirmedSentAt = sentAt;
        this.armLossTimer(holding);
        this.options.onConfirmed?.(sentAt);
      }
      this.options.onRenewed?.(Date.now() - sentAt);
    } catch {
      // Counted by the loss timer: only confirmed renewals move it.
    }
  }

  /** One keepalive on its own stream, with a deadline of one heartbeat interval. */
  private async keepalive(leaseId: string): Promise<ILeaseKeepAliveResponse> {
    const timeoutMs = this.options.timing.heartbeatIntervalMs;
    const stream = await this.etcd.leaseClient.leaseKeepAlive({ deadline: Date.now() + timeoutMs });
    return new Promise<ILeaseKeepAliveResponse>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no keepalive answer within ${timeoutMs} ms`)), timeoutMs);
      const finish = (error?: Error, response?: ILeaseKeepAliveResponse) => {
        clearTimeout(timer);
        (stream as unknown as { cancel?: () => void }).cancel?.();
        if (error) reject(error);
        else resolve(response!);
      };
      stream.on('data', (response: ILeaseKeepAliveResponse) => finish(undefined, response));
      stream.on('error', (error: Error) => finish(error));
      stream.write({ ID: leaseId });
    });
  }

  private lose(holding: Holding, reason: RoleLoss['reason'], detail: string): void {
    if (this.holding !== holding) return;
    const mustBeFencedBy = holding.lastConfirmedSentAt + this.options.timing.leaseTtlMs;
    this.stopHolding();
    this.lostLeaseId = holding.leaseId;
    this.options.onLost({ vm: this.options.vm, reason, detail, mustBeFencedBy });
  }

  private stopHolding(): void {
    const holding = this.holding;
    if (!holding) return;
    clearInterval(holding.renewTimer);
    clearTimeout(holding.lossTimer);
    this.holding = undefined;
  }

  private revokeQuietly(leaseId: string): void {
    this.etcd.leaseClient.leaseRevoke({ ID: leaseId }, this.deadline()).catch(() => undefined);
  }
}

function parseRecord(kv: IKeyValue): RoleRecord | undefined {
  try {
    const record = JSON.parse(kv.value.toString()) as Partial<RoleRecord>;
    if (typeof record.holder === 'string' && typeof record.leaseId === 'string') return record as RoleRecord;
  } catch {
    // fall through
  }
  return { holder: '(unreadable)', leaseId: String(kv.lease), acquiredAt: '' };
}

function describeEtcdError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `etcd did not answer (${message.split('\n')[0]})`;
}

function parseRunsAlone(text: string | undefined): RunsAlone | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<RunsAlone>;
    return typeof parsed.host === 'string' && Number.isSafeInteger(parsed.generation) ? { host: parsed.host, generation: parsed.generation as number } : undefined;
  } catch {
    return undefined;
  }
}
