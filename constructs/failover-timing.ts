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
 * - etcd leases are whole seconds, at least 2 s (etcd raises shorter ones): leaseTtlMs must be.
 * - Worst-case recovery, from the failure to the standby being promoted: the lease was renewed
 *   just before the failure, so it expires leaseTtlMs later, etcd notices within its 500 ms
 *   expiry loop, and the standby sees that at its next tick, at most one heartbeat interval later:
 *
 *       worstCaseRecoveryMs = leaseTtlMs + 500 + heartbeatIntervalMs
 *
 *   It leaves out the promotion itself (COLO failover on the secondary: milliseconds) and the
 *   guest's own recovery (TCP retransmits, application timeouts).
 *
 * The defaults, ranges and arithmetic are the runtime's own (provider/monitor/timing.ts), so
 * synth, the provider's plan and the agents agree. The values are passed to orbit_ft_vm, whose
 * failover monitor agents act on them.
 */
import * as runtime from '../provider/monitor/timing';

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

/** The defaults: detection 600 ms + fencing 800 ms = 1400 ms < 2000 ms lease (600 ms margin); worst case 2700 ms. */
export const FAILOVER_TIMING_DEFAULTS = runtime.DEFAULT_TIMING;

/** What each value may be on its own (whole numbers); the invariant comes on top. */
export const FAILOVER_TIMING_RANGES = runtime.TIMING_RANGES;

export type FailoverTiming = runtime.FailoverTiming;

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
  return runtime.fencedWithinMs(timing);
}

/** Whether the old active half is always fenced before its lease expires (and the lease is one etcd can grant). */
export function timingIsSafe(timing: FailoverTiming): boolean {
  return runtime.timingProblems(timing).length === 0;
}

/** What is wrong with the timing besides the invariant (lease not whole seconds, or shorter than etcd allows). */
export function leaseProblems(timing: FailoverTiming): string[] {
  return runtime.timingProblems(timing).filter((p) => p.startsWith('leaseTtlMs must'));
}

/** leaseTtlMs + 500 + heartbeatIntervalMs (see above). */
export function worstCaseRecoveryMs(timing: FailoverTiming): number {
  return runtime.worstCaseRecoveryMs(timing);
}
