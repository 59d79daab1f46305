/**
 * Waiting for something to become true by asking again and again: one helper for the
 * provider, the lab and the tests instead of a deadline loop in each.
 */
import { setTimeout as sleep } from 'timers/promises';

export interface PollOptions {
  /** How long to keep asking, in ms; or give `deadline`. */
  timeoutMs?: number;
  /** When to stop asking (ms since the epoch), for a step of a longer operation. */
  deadline?: number;
  /** Pause between two probes. Default 100 ms. */
  everyMs?: number;
  signal?: AbortSignal;
  /**
   * A probe that throws: `retry` counts it as "not yet" (a service still starting), `throw`
   * ends the waiting with its error (a driver whose probe fails for real). Default `retry`.
   */
  probeErrors?: 'retry' | 'throw';
  /** The error at the deadline, built from what the probes saw. Default: `<what> did not happen within <n> ms`. */
  timeoutError?: () => Error;
}

/**
 * Calls `probe` until it returns a value other than undefined, and returns that value. A probe
 * that throws counts as "not yet" unless `probeErrors` is `throw` (its last error is in the
 * final message). Past the deadline it fails with `timeoutError()` or `<what> did not happen
 * within <n> ms`.
 */
export async function pollUntil<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, options: PollOptions): Promise<T> {
  const started = Date.now();
  const deadline = options.deadline ?? started + (options.timeoutMs ?? 0);
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (options.probeErrors === 'throw') throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      if (options.timeoutError) throw options.timeoutError();
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what} did not happen within ${Date.now() - started} ms${why}`);
    }
    await sleep(Math.min(options.everyMs ?? 100, Math.max(0, deadline - Date.now())), undefined, options.signal ? { signal: options.signal } : undefined);
  }
}
