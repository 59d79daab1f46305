/**
 * The failover monitor's timing (issue 6), Patroni style: a lease in etcd says which half of a
 * pair may be active, and the timing budget is an explicit, checked inequality.
 *
 * - The active half renews its lease every `heartbeatIntervalMs`; the two halves also heartbeat
 *   each other at that interval.
 * - A half that misses `heartbeatMisses` heartbeats in a row (detection: interval x misses)
 *   fences itself (stops its guest's output and QEMU) within `fencingDeadlineMs`.
 * - The lease it last renewed lasts `leaseTtlMs`. The standby takes over only once that lease has
 *   expired, so the old active half must be fenced before then:
 *
 *       heartbeatIntervalMs x heartbeatMisses + fencingDeadlineMs < leaseTtlMs      (the invariant)
 *
 * - Worst-case recovery, from the failure to the standby being promoted: the lease was renewed
 *   just before the failure, so it expires leaseTtlMs later, and the standby sees that at its
 *   next tick, at most one heartbeat interval later:
 *
 *       worstCaseRecoveryMs = leaseTtlMs + heartbeatIntervalMs
 *
 *   It leaves out the promotion itself (COLO failover on the secondary: milliseconds) and the
 *   guest's own recovery (TCP retransmits, application timeouts).
 *
 * Not yet enforced at runtime: orbit_ft_vm has no timing attributes until the monitor (issue 6)
 * lands; then these values are passed through unchanged.
 */

export interface FailoverTimingProps {
  /**
   * How often the active half renews its lease and the halves heartbeat each other, in ms.
   * @default 200
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * Heartbeats missed in a row before a half declares its peer (or etcd) lost.
   * @default 3
   */
  readonly heartbeatMisses?: number;
  /**
   * How long a half that lost its heartbeats has to fence itself (stop its guest), in ms.
   * @default 800
   */
  readonly fencingDeadlineMs?: number;
  /**
   * Lifetime of the active half's lease in etcd, in ms; the standby takes over when it expires.
   * Must exceed heartbeatIntervalMs x heartbeatMisses + fencingDeadlineMs.
   * @default 2000
   */
  readonly leaseTtlMs?: number;
}

/** The defaults: detection 600 ms + fencing 800 ms = 1400 ms < 2000 ms lease (600 ms margin); worst case 2200 ms. */
export const FAILOVER_TIMING_DEFAULTS = {
  heartbeatIntervalMs: 200,
  heartbeatMisses: 3,
  fencingDeadlineMs: 800,
  leaseTtlMs: 2000,
} as const;

export type FailoverTiming = { readonly [K in keyof typeof FAILOVER_TIMING_DEFAULTS]: number };

/** The props with defaults applied. */
export function failoverTiming(props: FailoverTimingProps): FailoverTiming {
  return {
    heartbeatIntervalMs: props.heartbeatIntervalMs ?? FAILOVER_TIMING_DEFAULTS.heartbeatIntervalMs,
    heartbeatMisses: props.heartbeatMisses ?? FAILOVER_TIMING_DEFAULTS.heartbeatMisses,
    fencingDeadlineMs: props.fencingDeadlineMs ?? FAILOVER_TIMING_DEFAULTS.fencingDeadlineMs,
    leaseTtlMs: props.leaseTtlMs ?? FAILOVER_TIMING_DEFAULTS.leaseTtlMs,
  };
}

/** Time from losing the active half until it is surely fenced: interval x misses + fencing deadline. */
export function fencedWithinMs(timing: FailoverTiming): number {
  return timing.heartbeatIntervalMs * timing.heartbeatMisses + timing.fencingDeadlineMs;
}

/** Whether the old active half is always fenced before its lease expires. */
export function timingIsSafe(timing: FailoverTiming): boolean {
  return fencedWithinMs(timing) < timing.leaseTtlMs;
}

/** leaseTtlMs + heartbeatIntervalMs (see above). */
export function worstCaseRecoveryMs(timing: FailoverTiming): number {
  return timing.leaseTtlMs + timing.heartbeatIntervalMs;
}
