/**
 * Caps the session channels (exec, SFTP) open at once on one SSH connection. sshd refuses
 * channels beyond its MaxSessions (10 by default), so we queue instead of failing.
 *
 * The last slot is kept for urgent work: killing a timed-out command needs a channel of its
 * own, and it must not wait behind the very work that is stuck.
 */
export class ChannelSlots {
  private inUse = 0;
  private readonly waiting: Array<{ urgent: boolean; grant: () => void }> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError(`maxChannels must be an integer of at least 2 (one is kept for killing timed-out commands), got ${capacity}`);
    }
  }

  get active(): number {
    return this.inUse;
  }

  /** Resolves with a release function once a slot is free; rejects if `signal` aborts first. */
  acquire(signal: AbortSignal, urgent = false): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const waiter = {
        urgent,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.inUse++;
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.inUse--;
            this.grantNext();
          });
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (urgent) this.waiting.unshift(waiter);
      else this.waiting.push(waiter);
      this.grantNext();
    });
  }

  private grantNext(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      const limit = next.urgent ? this.capacity : this.capacity - 1;
      if (this.inUse >= limit) return;
      this.waiting.shift();
      next.grant();
    }
  }
}
