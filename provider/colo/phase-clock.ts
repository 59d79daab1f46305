/**
 * Times the phases of a long operation (a pair's start, a re-protection) for its result and
 * the monitor's events, and reports each phase as it begins.
 */
export class PhaseClock<P extends string> {
  /** ms per finished phase, plus "<phase>.<step>" for steps timed within one. */
  readonly phasesMs: Record<string, number> = {};
  private startedAt = Date.now();

  constructor(
    private phase: P,
    private readonly onProgress?: (phase: P) => void,
  ) {
    onProgress?.(phase);
  }

  get current(): P {
    return this.phase;
  }

  /** When the current phase began (this machine's clock). */
  get currentSince(): number {
    return this.startedAt;
  }

  enter(next: P): void {
    const now = Date.now();
    this.phasesMs[this.phase] = now - this.startedAt;
    this.phase = next;
    this.startedAt = now;
    this.onProgress?.(next);
  }

  /** Records a step of the current phase that began at `since`; returns now, where the next step begins. */
  step(name: string, since: number): number {
    const now = Date.now();
    this.phasesMs[`${this.phase}.${name}`] = now - since;
    return now;
  }
}
