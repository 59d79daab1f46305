/**
 * One SSH connection per host, shared by everyone who talks to that host. A live connection is
 * reused, a dropped one is replaced on next use, and concurrent first callers share one
 * connect. Channel limits are per connection (see SshSession's `maxChannels`).
 */
import { describeHost, HostConnectionLostError, HostOperationAbortedError } from './host-errors';
import { ExecOptions, ExecResult } from './remote-exec';
import { SshSession, SshTarget, SshTuning } from './ssh-session';

interface PoolEntry {
  readonly connecting: Promise<SshSession>;
  /** Set once connected. */
  session?: SshSession;
}

export class SshPool {
  private readonly entries = new Map<string, PoolEntry>();
  private closed = false;

  constructor(private readonly tuning: SshTuning = {}) {}

  /** The live session for `target`, connecting (or reconnecting) when there is none. */
  session(target: SshTarget, options: { signal?: AbortSignal } = {}): Promise<SshSession> {
    if (this.closed) return Promise.reject(new Error('This SshPool was closed (closeAll); create a new pool to connect again'));
    const key = poolKey(target);
    let entry = this.entries.get(key);
    if (!entry || (entry.session && !entry.session.isOpen)) {
      entry = this.connect(key, target);
      this.entries.set(key, entry);
    }
    return abortable(entry.connecting, options.signal, target);
  }

  /**
   * Runs a command on the target's session. If the pooled connection turns out to be dead
   * before the command started, it reconnects and tries once more; a command that may have
   * run is never repeated.
   */
  async exec(target: SshTarget, command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const session = await this.session(target, { signal: options.signal });
    try {
      return await session.exec(command, options);
    } catch (error) {
      if (!(error instanceof HostConnectionLostError && error.beforeStart)) throw error;
      const fresh = await this.session(target, { signal: options.signal });
      return fresh.exec(command, options);
    }
  }

  /** Number of hosts with a pooled (connecting or connected) session. */
  get size(): number {
    return this.entries.size;
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      entries.map((e) =>
        e.connecting.then(
          (s) => s.close(),
          () => undefined,
        ),
      ),
    );
  }

  private connect(key: string, target: SshTarget): PoolEntry {
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    const entry: PoolEntry = {
      connecting: SshSession.connect({ ...this.tuning, ...target }).then(
        (session) => {
          entry.session = session;
          session.once('close', forget);
          if (this.closed) void session.close();
          return session;
        },
        (error) => {
          forget();
          throw error;
        },
      ),
    };
    return entry;
  }
}

function poolKey(target: SshTarget): string {
  return `${target.username}@${describeHost(target.host)}`;
}

/** Lets one caller stop waiting for a shared connect without cancelling it for the others. */
function abortable(pending: Promise<SshSession>, signal: AbortSignal | undefined, target: SshTarget): Promise<SshSession> {
  if (!signal) return pending;
  const aborted = () => new HostOperationAbortedError(target.host, 'connecting', signal.reason);
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
