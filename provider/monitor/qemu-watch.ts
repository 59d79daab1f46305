/**
 * The agent's eye on its local QEMU of a pair, over the QEMU's agent monitor
 * (/run/orbit/<vm>/qmp-agent.sock, colo-command-line.ts): one connection kept open, QMP events
 * passed on, and `query-status` + `query-colo-status` every poll.
 *
 * What it adds to the pid file the agent checks every tick: whether the QEMU still ANSWERS.
 * A QEMU that is alive but hung (a wedged main loop, a stuck checkpoint) is neither a serving
 * guest nor a usable replica; once it has not answered for `hungAfterMs` the agent fences it,
 * which turns a silent hang into an ordinary, handled failure. The QEMU must have answered once
 * before a silence counts (a QEMU without the agent monitor, started before it existed, is
 * never judged), and while the pid is gone the watch reports nothing.
 */
import * as net from 'net';
import { QmpClient, QmpEvent } from '../qemu/qmp-client';

export interface QemuWatchOptions {
  readonly vm: string;
  readonly socketPath: string;
  /** Default 1000 ms. */
  readonly pollMs?: number;
  /** Default 5000 ms. */
  readonly hungAfterMs?: number;
  readonly onEvent?: (event: QmpEvent) => void;
}

export interface QemuHealth {
  /** It answered within the last `hungAfterMs`. */
  readonly answering: boolean;
  /** It answered once, and has not for `hungAfterMs` since. */
  readonly hung: boolean;
  readonly silentForMs?: number;
  /** QMP run state (`running`, `paused`, `colo`, `inmigrate`, ...), as last answered. */
  readonly status?: string;
  /** `query-colo-status` mode: `primary`, `secondary` or `none`. */
  readonly coloMode?: string;
}

export const QEMU_WATCH_DEFAULTS = { pollMs: 1000, hungAfterMs: 5000 } as const;

export class QemuWatch {
  private client?: QmpClient;
  private connecting = false;
  private polling = false;
  private timer?: NodeJS.Timeout;
  private lastAnswerAt?: number;
  private status?: string;
  private coloMode?: string;
  private stopped = false;
  private readonly pollMs: number;
  private readonly hungAfterMs: number;

  constructor(private readonly options: QemuWatchOptions) {
    this.pollMs = options.pollMs ?? QEMU_WATCH_DEFAULTS.pollMs;
    this.hungAfterMs = options.hungAfterMs ?? QEMU_WATCH_DEFAULTS.hungAfterMs;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    void this.client?.close().catch(() => undefined);
    this.client = undefined;
  }

  /** Forgets what it knew (the QEMU is gone, or was replaced by another process). */
  reset(): void {
    void this.client?.close().catch(() => undefined);
    this.client = undefined;
    this.lastAnswerAt = undefined;
    this.status = undefined;
    this.coloMode = undefined;
  }

  /** `hungAfterMs` overrides the watch's own threshold (the agent raises it for pairs with long checkpoint delays). */
  health(now = Date.now(), hungAfterMs = this.hungAfterMs): QemuHealth {
    const silentForMs = this.lastAnswerAt === undefined ? undefined : now - this.lastAnswerAt;
    const answering = silentForMs !== undefined && silentForMs < hungAfterMs;
    return {
      answering,
      hung: silentForMs !== undefined && !answering,
      ...(silentForMs !== undefined ? { silentForMs } : {}),
      ...(this.status ? { status: this.status } : {}),
      ...(this.coloMode ? { coloMode: this.coloMode } : {}),
    };
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.polling) return;
    this.polling = true;
    try {
      const client = this.client?.isOpen ? this.client : await this.connect();
      if (!client) return;
      const timeoutMs = this.hungAfterMs;
      const { status } = await client.execute<{ status: string }>('query-status', undefined, { timeoutMs });
      const colo = await client.execute<{ mode: string }>('query-colo-status', undefined, { timeoutMs }).catch(() => undefined);
      this.lastAnswerAt = Date.now();
      this.status = status;
      this.coloMode = colo?.mode;
    } catch {
      // Not answering: counted by health(); the connection is rebuilt on the next poll.
      void this.client?.close().catch(() => undefined);
      this.client = undefined;
    } finally {
      this.polling = false;
    }
  }

  private async connect(): Promise<QmpClient | undefined> {
    if (this.connecting) return undefined;
    this.connecting = true;
    try {
      const stream = net.connect(this.options.socketPath);
      await new Promise<void>((resolve, reject) => {
        stream.once('connect', resolve);
        stream.once('error', reject);
      });
      // A hung QEMU accepts the connection (the kernel does) but never greets.
      const client = await QmpClient.connect(stream, { where: `the agent monitor of VM ${this.options.vm}`, timeoutMs: this.hungAfterMs });
      client.on('event', (event: QmpEvent) => this.options.onEvent?.(event));
      client.on('error', () => undefined);
      this.client = client;
      return client;
    } finally {
      this.connecting = false;
    }
  }
}
