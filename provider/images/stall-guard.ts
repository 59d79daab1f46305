/**
 * Gives up a stream that stops moving: progress, not total time, decides. `touch()` on every
 * chunk re-arms the limit; when no chunk came for `limitMs`, `signal` aborts and `stalled` says
 * that this (and not the caller's own signal) ended it.
 */
export class StallGuard {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;
  /** Aborts on a stall or when the caller's signal aborts. */
  readonly signal: AbortSignal;

  constructor(
    readonly limitMs: number,
    outer?: AbortSignal,
  ) {
    this.timer = this.arm();
    this.signal = outer ? AbortSignal.any([outer, this.controller.signal]) : this.controller.signal;
  }

  get stalled(): boolean {
    return this.controller.signal.aborted;
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = this.arm();
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private arm(): NodeJS.Timeout {
    return setTimeout(() => this.controller.abort(), this.limitMs);
  }
}
