/**
 * COLO's defaults and limits, defined once for the host layer, the resource's schema and the
 * constructs' synth-time checks (so this file imports nothing).
 */

export const COLO_DEFAULTS = {
  /** QEMU's x-checkpoint-delay: the longest time between checkpoints while the outputs agree. */
  checkpointDelayMs: 2000,
  /** A whole start or re-protection of a pair. */
  timeoutMs: 180_000,
} as const;

export const CHECKPOINT_DELAY_RANGE_MS = { min: 100, max: 3_600_000 } as const;

/**
 * QMP calls while a pair is started or re-protected: they add NBD clients, block jobs and
 * filters to a running guest's QEMU, which takes longer than a plain command on a loaded host
 * (twice QMP_TIMEOUT_MS).
 */
export const COLO_SETUP_QMP_TIMEOUT_MS = 20_000;
