/**
 * Runs one remote operation under a time limit and any number of cancellation signals.
 *
 * `work` receives an AbortSignal that fires when the limit passes or a signal aborts; it must
 * then stop what it started (kill the remote process, close the channel) and settle. The
 * returned promise rejects with the trigger's error once `work` has settled, or after
 * `cleanupGraceMs` if it does not, so a stuck cleanup never blocks the caller for long.
 */
export interface CancelSource {
  readonly signal?: AbortSignal;
  /** The error to reject with when `signal` aborts (given the abort reason). */
  readonly error: (reason: unknown) => Error;
}

export interface DeadlineOptions {
  readonly timeoutMs: number;
  readonly onTimeout: () => Error;
  readonly cancel?: readonly CancelSource[];
  /** How long to wait for `work` to clean up after a trigger. Default 5000 ms. */
  readonly cleanupGraceMs?: number;
}

export function withDeadline<T>(options: DeadlineOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    assertTimeout(options.timeoutMs);
    const controller = new AbortController();
    const detach: Array<() => void> = [];
    // The error is built when the caller gets it, so it can tell what cleanup achieved.
    let trigger: (() => Error) | undefined;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;

    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      detach.forEach((d) => d());
      outcome();
    };
    const fire = (makeError: () => Error) => {
      if (trigger || settled) return;
      trigger = makeError;
      clearTimeout(timer);
      controller.abort(makeError());
      grace = setTimeout(() => settle(() => reject(makeError())), options.cleanupGraceMs ?? 5000);
    };
    const timer = setTimeout(() => fire(options.onTimeout), options.timeoutMs);

    for (const source of options.cancel ?? []) {
      const signal = source.signal;
      if (!signal) continue;
      if (signal.aborted) {
        settle(() => reject(source.error(signal.reason)));
        return;
      }
      const onAbort = () => fire(() => source.error(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      detach.push(() => signal.removeEventListener('abort', onAbort));
    }

    work(controller.signal).then(
      (value) => settle(() => (trigger ? reject(trigger()) : resolve(value))),
      (error) => settle(() => reject(trigger ? trigger() : error)),
    );
  });
}

export function assertTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}; every remote call needs a limit`);
  }
}
