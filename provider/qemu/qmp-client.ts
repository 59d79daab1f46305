/**
 * A QEMU Machine Protocol client over any byte stream (a local unix socket, or an SSH
 * stream-local channel, see qmp-over-ssh.ts).
 *
 * QMP is one JSON object per line. QEMU greets first; commands are refused until
 * `qmp_capabilities`. Every command we send carries an `id` that QEMU echoes in its reply, so
 * replies are matched even when a caller has given up on an earlier one. Events arrive at any
 * time and are emitted as `event`.
 *
 * QEMU serves one QMP client per socket at a time; a second client gets no greeting until the
 * first disconnects, which shows up here as a greeting timeout.
 */
import { EventEmitter } from 'events';
import type { Duplex } from 'stream';

export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

export interface QmpClientOptions {
  /** Names the QMP endpoint in errors, e.g. `VM db on site-a (10.0.0.11:22), /run/orbit/db/qmp.sock`. */
  where?: string;
  /** Limit for the greeting and capabilities negotiation, and the default for commands. Default 10 s. */
  timeoutMs?: number;
}

export interface QmpCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** QEMU answered a command with an error. */
export class QmpError extends Error {
  constructor(
    readonly command: string,
    /** QMP error class: `GenericError`, `CommandNotFound`, `DeviceNotFound`, ... */
    readonly errorClass: string,
    readonly desc: string,
    readonly where: string,
  ) {
    super(`QMP command "${command}" failed on ${where}: ${errorClass}: ${desc}`);
    this.name = 'QmpError';
  }
}

export class QmpTimeoutError extends Error {
  constructor(
    /** `the greeting`, `command "query-status"` or `event STOP`. */
    readonly operation: string,
    readonly timeoutMs: number,
    readonly where: string,
    hint = 'QEMU may be hung or very busy: check the process on the host (and its log); raise the timeout if it is legitimately slow',
  ) {
    super(`No QMP answer for ${operation} from ${where} within ${timeoutMs} ms\nFix: ${hint}`);
    this.name = 'QmpTimeoutError';
  }
}

/** The QMP connection is closed (by us, by QEMU exiting, or the transport dropped). */
export class QmpClosedError extends Error {
  constructor(
    readonly operation: string,
    readonly where: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `QMP connection to ${where} closed during ${operation}: ${reason}\nFix: check whether QEMU is still running (it closes QMP when it exits) and reconnect`,
      options?.cause !== undefined ? { cause: options.cause } : undefined,
    );
    this.name = 'QmpClosedError';
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_LINE_BYTES = 16 * 1024 * 1024;

export class QmpClient extends EventEmitter {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedBy: QmpClosedError | undefined;
  private onGreeting: ((greeting: QmpGreeting) => void) | undefined;
  private greetingValue: QmpGreeting | undefined;
  readonly where: string;
  private readonly defaultTimeoutMs: number;

  private constructor(
    private readonly stream: Duplex,
    options: QmpClientOptions,
  ) {
    super();
    this.where = options.where ?? 'QMP';
    this.defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    stream.on('data', (chunk: Buffer) => this.receive(chunk));
    stream.on('error', (error: Error) => this.shutDown(error.message, error));
    stream.on('end', () => this.shutDown('the other end closed the connection'));
    stream.on('close', () => this.shutDown('the connection closed'));
  }

  /** Reads the greeting and negotiates capabilities; the client is ready for commands when this resolves. */
  static async connect(stream: Duplex, options: QmpClientOptions = {}): Promise<QmpClient> {
    const client = new QmpClient(stream, options);
    try {
      await client.greet();
      await client.execute('qmp_capabilities');
      return client;
    } catch (error) {
      stream.destroy();
      throw error;
    }
  }

  get greeting(): QmpGreeting {
    if (!this.greetingValue) throw new Error('QmpClient.greeting read before the greeting arrived');
    return this.greetingValue;
  }

  get isOpen(): boolean {
    return this.closedBy === undefined;
  }

  /** Runs a QMP command and resolves with its `return` value; rejects with QmpError when QEMU refuses it. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options: QmpCallOptions = {}): Promise<T> {
    const operation = `command "${command}"`;
    if (this.closedBy) return Promise.reject(new QmpClosedError(operation, this.where, 'the connection is closed', { cause: this.closedBy }));
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const timer = setTimeout(() => {
        done();
        reject(new QmpTimeoutError(operation, timeoutMs, this.where));
      }, timeoutMs);
      const onAbort = () => {
        done();
        reject(options.signal?.reason);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        command,
        resolve: (value) => {
          done();
          resolve(value as T);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      this.stream.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  /** Runs an HMP command line (e.g. `info status`) through QMP and resolves with its text output. */
  humanMonitorCommand(commandLine: string, options: QmpCallOptions = {}): Promise<string> {
    return this.execute<string>('human-monitor-command', { 'command-line': commandLine }, options);
  }

  /**
   * Resolves with the next event called `name` (that `predicate` accepts). Events that came
   * before the call are not seen: call this before triggering the event, then await it.
   */
  waitForEvent(name: string, predicate: (event: QmpEvent) => boolean = () => true, timeoutMs = this.defaultTimeoutMs): Promise<QmpEvent> {
    const operation = `event ${name}`;
    if (this.closedBy) return Promise.reject(new QmpClosedError(operation, this.where, 'the connection is closed'));
    return new Promise((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        this.removeListener('event', onEvent);
        this.removeListener('close', onClose);
      };
      const onEvent = (event: QmpEvent) => {
        if (event.event !== name || !predicate(event)) return;
        stop();
        resolve(event);
      };
      const onClose = (error: QmpClosedError) => {
        stop();
        reject(new QmpClosedError(operation, this.where, 'the connection closed', { cause: error }));
      };
      const timer = setTimeout(() => {
        stop();
        reject(new QmpTimeoutError(operation, timeoutMs, this.where, 'the event did not happen: check what QEMU is doing (query-status) and its log'));
      }, timeoutMs);
      this.on('event', onEvent);
      this.once('close', onClose);
    });
  }

  /** Closes the connection; commands still waiting fail with QmpClosedError. */
  close(): Promise<void> {
    if (this.closedBy) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.stream.destroy(), 2000);
      this.stream.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.shutDown('the client closed it');
      this.stream.end();
    });
  }

  private greet(): Promise<QmpGreeting> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onGreeting = undefined;
        this.removeListener('close', onClose);
        reject(
          new QmpTimeoutError(
            'the greeting',
            this.defaultTimeoutMs,
            this.where,
            'QEMU serves one QMP client at a time: another client may hold the socket; otherwise check that QEMU is running and not hung',
          ),
        );
      }, this.defaultTimeoutMs);
      const onClose = (error: QmpClosedError) => {
        clearTimeout(timer);
        reject(new QmpClosedError('the greeting', this.where, 'the connection closed before QEMU greeted', { cause: error }));
      };
      this.once('close', onClose);
      this.onGreeting = (greeting) => {
        clearTimeout(timer);
        this.removeListener('close', onClose);
        resolve(greeting);
      };
    });
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let newline: number;
    while ((newline = this.buffered.indexOf(0x0a)) >= 0) {
      const line = this.buffered.subarray(0, newline).toString('utf8').trim();
      this.buffered = this.buffered.subarray(newline + 1);
      if (line) this.handleLine(line);
      if (this.closedBy) return;
    }
    if (this.buffered.length > MAX_LINE_BYTES) {
      this.fail(`a QMP message exceeded ${MAX_LINE_BYTES} bytes without a newline`);
    }
  }

  private handleLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line);
    } catch {
      return this.fail(`QEMU sent a line that is not JSON: ${line.slice(0, 200)}`);
    }
    if ('QMP' in message) {
      this.greetingValue = message.QMP as QmpGreeting;
      const onGreeting = this.onGreeting;
      this.onGreeting = undefined;
      onGreeting?.(this.greetingValue);
    } else if (typeof message.event === 'string') {
      this.emit('event', message as unknown as QmpEvent);
    } else if ('return' in message || 'error' in message) {
      this.settleReply(message);
    }
  }

  private settleReply(message: Record<string, unknown>): void {
    // QEMU replies without an id only to input it could not parse; that belongs to the oldest command.
    const id = typeof message.id === 'number' ? message.id : this.pending.keys().next().value;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (!pending) return; // a reply to a command whose caller timed out
    if ('error' in message) {
      const error = (message.error ?? {}) as { class?: string; desc?: string };
      pending.reject(new QmpError(pending.command, error.class ?? 'GenericError', error.desc ?? 'no description', this.where));
    } else {
      pending.resolve(message.return);
    }
  }

  private fail(reason: string): void {
    this.shutDown(reason);
    this.stream.destroy();
  }

  private shutDown(reason: string, cause?: Error): void {
    if (this.closedBy) return;
    const closed = new QmpClosedError('the session', this.where, reason, cause ? { cause } : undefined);
    this.closedBy = closed;
    for (const pending of [...this.pending.values()]) {
      pending.reject(new QmpClosedError(`command "${pending.command}"`, this.where, reason, { cause }));
    }
    this.emit('close', closed);
  }
}
