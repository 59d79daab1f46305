/**
 * The monitor's timing budget as a checked invariant (Patroni style), on the runtime side.
 *
 * The one home of the four values, their defaults, ranges and invariant: the constructs check
 * them at synth time with this code (constructs/failover-timing.ts), the resource at plan time,
 * and the agent re-checks what it reads from etcd (a spec written by hand, or by an older
 * provider, never reaches the decision core unchecked):
 *
 *     heartbeatIntervalMs x heartbeatMisses + fencingDeadlineMs < leaseTtlMs      (the invariant)
 *
 * The active side's agent declares its role lost when it has not renewed its lease for
 * interval x misses, measured from the moment it SENT the last renewal etcd confirmed (etcd's
 * expiry is at least that moment + TTL); it then has fencingDeadlineMs to stop its guest. So
 * its guest is stopped before the lease can expire and before the standby can take the role.
 *
 * Two facts of etcd in it:
 * - etcd leases are whole seconds: leaseTtlMs must be a multiple of 1000 here (and at least
 *   ETCD_MIN_LEASE_TTL_MS: etcd raises shorter TTLs to 1.5 election timeouts, 2 s by default,
 *   which would silently break the arithmetic).
 * - etcd finds expired leases in a loop that runs every 500 ms (etcd 3.4 lessor), so an
 *   expired lease's key disappears up to 500 ms after the TTL. The worst case therefore is
 *
 *     worstCaseRecoveryMs = leaseTtlMs + ETCD_EXPIRY_CHECK_MS + heartbeatIntervalMs
 *
 *   The last term is the standby's reaction: it watches the key and also polls it every interval.
 *   It leaves out the COLO failover itself (tens of ms) and the
 *   guest's own recovery.
 */

export interface FailoverTiming {
  readonly heartbeatIntervalMs: number;
  readonly heartbeatMisses: number;
  readonly fencingDeadlineMs: number;
  readonly leaseTtlMs: number;
}

/** The defaults, for the agents, the resource's schema and the constructs alike. */
export const DEFAULT_TIMING: FailoverTiming = {
  heartbeatIntervalMs: 200,
  heartbeatMisses: 3,
  fencingDeadlineMs: 800,
  leaseTtlMs: 2000,
};

/** The values each setting may take on its own (the invariant and the lease rules come on top). */
export const TIMING_RANGES: { readonly [K in keyof FailoverTiming]: { readonly min: number; readonly max: number } } = {
  heartbeatIntervalMs: { min: 10, max: 60_000 },
  heartbeatMisses: { min: 1, max: 100 },
  fencingDeadlineMs: { min: 1, max: 600_000 },
  // Whole seconds and at least ETCD_MIN_LEASE_TTL_MS: checked on their own, with their own messages.
  leaseTtlMs: { min: 1, max: 600_000 },
};

/** etcd 3.4's lessor checks for expired leases every 500 ms. */
export const ETCD_EXPIRY_CHECK_MS = 500;
/** etcd's smallest lease with its default election timeout (1 s): 1.5 x 1 s, rounded up to whole seconds. */
export const ETCD_MIN_LEASE_TTL_MS = 2000;

/** The timing is unusable; the message names every value at fault and the fix. */
export class TimingError extends Error {
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`Failover timing of ${where} is invalid:\n- ${problems.join('\n- ')}`);
    this.name = 'TimingError';
  }
}

/** interval x misses: how long a side goes without hearing its peer (or renewing) before it acts. */
export function detectionMs(timing: FailoverTiming): number {
  return timing.heartbeatIntervalMs * timing.heartbeatMisses;
}

/** interval x misses + fencing deadline: by then a side that lost its lease has stopped its guest. */
export function fencedWithinMs(timing: FailoverTiming): number {
  return detectionMs(timing) + timing.fencingDeadlineMs;
}

/** How much earlier than the lease's expiry the old active side is surely fenced (> 0 when safe). */
export function safetyMarginMs(timing: FailoverTiming): number {
  return timing.leaseTtlMs - fencedWithinMs(timing);
}

/** From the failure of the active side to the standby holding the role (see the file comment). */
export function worstCaseRecoveryMs(timing: FailoverTiming): number {
  return timing.leaseTtlMs + ETCD_EXPIRY_CHECK_MS + timing.heartbeatIntervalMs;
}

/** The lease TTL etcd is asked for, in whole seconds. */
export function leaseTtlSeconds(timing: FailoverTiming): number {
  return timing.leaseTtlMs / 1000;
}

/** Every problem at once; an empty list means the timing is safe. */
export function timingProblems(timing: FailoverTiming): string[] {
  const problems: string[] = [];
  const inRange = (name: keyof FailoverTiming) => {
    const value = timing[name];
    const { min, max } = TIMING_RANGES[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return false;
    }
    return true;
  };
  const ok = (Object.keys(TIMING_RANGES) as Array<keyof FailoverTiming>).map(inRange).every(Boolean);
  if (!ok) return problems;

  if (timing.leaseTtlMs % 1000 !== 0) {
    problems.push(`leaseTtlMs must be whole seconds (etcd leases are), got ${timing.leaseTtlMs}: use ${Math.ceil(timing.leaseTtlMs / 1000) * 1000}`);
  }
  if (timing.leaseTtlMs < ETCD_MIN_LEASE_TTL_MS) {
    problems.push(`leaseTtlMs must be at least ${ETCD_MIN_LEASE_TTL_MS} (etcd raises shorter leases to 1.5 election timeouts, 2 s by default), got ${timing.leaseTtlMs}`);
  }
  const fenced = fencedWithinMs(timing);
  if (fenced >= timing.leaseTtlMs) {
    const { heartbeatIntervalMs: i, heartbeatMisses: m, fencingDeadlineMs: f, leaseTtlMs: ttl } = timing;
    const neededTtl = Math.floor(fenced / 1000) * 1000 + 1000;
    const maxFencing = ttl - i * m - 1;
    problems.push(
      `heartbeatIntervalMs x heartbeatMisses + fencingDeadlineMs must be < leaseTtlMs, got ${i} x ${m} + ${f} = ${fenced} >= ${ttl}: ` +
        `a side that loses etcd could still serve when its lease expires and the other side takes over (two active guests). ` +
        `Fix: raise leaseTtlMs to ${neededTtl}` +
        (maxFencing > 0 ? `, or lower fencingDeadlineMs to at most ${maxFencing}` : '') +
        `, or lower heartbeatIntervalMs or heartbeatMisses`,
    );
  }
  return problems;
}

/** Throws a TimingError naming `where` (e.g. `VM db (etcd /orbit/v1/pairs/db/spec)`) unless the timing is safe. */
export function assertSafeTiming(timing: FailoverTiming, where: string): FailoverTiming {
  const problems = timingProblems(timing);
  if (problems.length > 0) throw new TimingError(where, problems);
  return timing;
}

/** One line for logs and status output. */
export function describeTiming(timing: FailoverTiming): string {
  return (
    `heartbeat ${timing.heartbeatIntervalMs} ms x ${timing.heartbeatMisses} + fencing ${timing.fencingDeadlineMs} ms = ${fencedWithinMs(timing)} ms ` +
    `< lease ${timing.leaseTtlMs} ms (margin ${safetyMarginMs(timing)} ms); worst-case recovery ${worstCaseRecoveryMs(timing)} ms`
  );
}
