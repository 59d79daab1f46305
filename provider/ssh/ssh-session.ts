/**
 * One SSH connection to one host (an ssh2 Client): connect with a pinned host key, a handshake
 * timeout and keepalive; then exec, SFTP and stream-local forwards over it, each under a time
 * limit and an optional AbortSignal. Session channels (exec, SFTP) are capped per connection.
 *
 * When the connection drops, every operation in flight fails with HostConnectionLostError and
 * the session stays closed: get a new one (SshPool does that).
 */
import { EventEmitter } from 'events';
import { Client, ClientChannel, ConnectConfig, SFTPWrapper, ServerHostKeyAlgorithm } from 'ssh2';
import { ChannelSlots } from './channel-slots';
import { assertTimeout, withDeadline } from './deadline';
import { readRemoteFile, writeFileAtomic, WriteFileOptions } from './file-transfer';
import {
  classifySshError,
  describeHost,
  HostAddress,
  HostChannelError,
  HostConnectionLostError,
  HostError,
  HostKeyMismatchError,
  HostOperationAbortedError,
  HostTimeoutError,
  HostUnreachableError,
} from './host-errors';
import { HostKeyPolicy } from './known-hosts';
import { channelOpenError, execCommand, ExecOptions, ExecResult, lostDuring } from './remote-exec';

/** Who to connect to and how to trust and authenticate. */
export interface SshTarget {
  host: HostAddress;
  username: string;
  /** The client private key (PEM or OpenSSH format). The caller reads it from a file or the environment. */
  privateKey: Buffer | string;
  passphrase?: Buffer | string;
  hostKeys: HostKeyPolicy;
}

/** Limits; every one has a default (SESSION_DEFAULTS). */
export interface SshTuning {
  /** TCP connect + SSH handshake + authentication. */
  connectTimeoutMs?: number;
  /** Keepalive every this many ms; the connection is dropped after `keepaliveCountMax` unanswered ones. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Limit for calls that do not give their own `timeoutMs`. */
  defaultTimeoutMs?: number;
  /** Session channels (exec, SFTP) open at once; keep it at or below sshd's MaxSessions (default 10). */
  maxChannels?: number;
}

export interface SshSessionOptions extends SshTarget, SshTuning {
  /** Cancels connecting. */
  signal?: AbortSignal;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const SESSION_DEFAULTS = {
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  defaultTimeoutMs: 60_000,
  maxChannels: 10,
} as const;

export class SshSession extends EventEmitter {
  private readonly lost = new AbortController();
  private open = true;
  private closing = false;

  private constructor(
    private readonly client: Client,
    readonly host: HostAddress,
    readonly username: string,
    private readonly defaultTimeoutMs: number,
    private readonly slots: ChannelSlots,
  ) {
    super();
    let lastError: Error | undefined;
    client.on('error', (error: Error) => {
      lastError = error;
    });
    client.on('close', () => {
      const reason = lastError ? classifySshError(lastError, { host, username, phase: 'session' }) : undefined;
      this.markClosed(reason instanceof HostConnectionLostError ? reason.reason : 'the host closed the connection', lastError);
    });
  }

  /** Fails operations in flight and tells listeners ('close'), once. */
  private markClosed(reason: string, cause?: Error): void {
    if (!this.open) return;
    this.open = false;
    const why = this.closing ? 'the session was closed by its owner' : reason;
    const lostError = new HostConnectionLostError(this.host, 'the session', why, false, { cause });
    this.lost.abort(lostError);
    this.emit('close', lostError);
  }

  /** Connects and authenticates; rejects with a HostError subclass saying why not. */
  static async connect(options: SshSessionOptions): Promise<SshSession> {
    const { host, username } = options;
    const connectTimeoutMs = options.connectTimeoutMs ?? SESSION_DEFAULTS.connectTimeoutMs;
    const defaultTimeoutMs = options.defaultTimeoutMs ?? SESSION_DEFAULTS.defaultTimeoutMs;
    assertTimeout(connectTimeoutMs);
    assertTimeout(defaultTimeoutMs);
    const slots = new ChannelSlots(options.maxChannels ?? SESSION_DEFAULTS.maxChannels);

    return new Promise<SshSession>((resolve, reject) => {
      const client = new Client();
      let refusal: HostKeyMismatchError | undefined;
      let done = false;
      const finish = (error?: HostError) => {
        if (done) return;
        done = true;
        options.signal?.removeEventListener('abort', onAbort);
        client.removeListener('error', onError);
        client.removeListener('close', onClose);
        client.removeListener('ready', onReady);
        if (error) {
          client.on('error', () => undefined);
          client.destroy();
          reject(error);
        } else {
          resolve(new SshSession(client, host, username, defaultTimeoutMs, slots));
        }
      };
      const onError = (error: Error) => finish(refusal ?? classifySshError(error, { host, username, phase: 'connect', connectTimeoutMs }));
      const onClose = () => finish(refusal ?? new HostUnreachableError(host, 'the connection closed during the SSH handshake', undefined));
      const onReady = () => finish();
      const onAbort = () => finish(new HostOperationAbortedError(host, 'connecting', options.signal?.reason));

      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      client.on('error', onError).on('close', onClose).on('ready', onReady);

      const algorithms = options.hostKeys.hostKeyAlgorithms();
      const config: ConnectConfig = {
        host: host.address,
        port: host.port,
        username,
        privateKey: options.privateKey,
        passphrase: options.passphrase,
        readyTimeout: connectTimeoutMs,
        keepaliveInterval: options.keepaliveIntervalMs ?? SESSION_DEFAULTS.keepaliveIntervalMs,
        keepaliveCountMax: options.keepaliveCountMax ?? SESSION_DEFAULTS.keepaliveCountMax,
        hostVerifier: options.hostKeys.verifier((error) => {
          refusal = error;
        }),
        ...(algorithms ? { algorithms: { serverHostKey: algorithms as ServerHostKeyAlgorithm[] } } : {}),
        tryKeyboard: false,
      };
      try {
        client.connect(config);
      } catch (error) {
        // ssh2 throws synchronously for unusable keys; the message never contains the key.
        onError(error as Error);
      }
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Channels (exec, SFTP) in use right now. */
  get activeChannels(): number {
    return this.slots.active;
  }

  /** Runs `command` with the user's login shell. Rejects with RemoteCommandError on a non-zero exit unless `allowFailure`. */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return execCommand(this.execContext(), command, options.timeoutMs ?? this.defaultTimeoutMs, options);
  }

  /** Writes `data` to `file` atomically (temporary file + rename); `mode` defaults to 0o644. */
  writeFile(file: string, data: Buffer | string, options: WriteFileOptions & CallOptions = {}): Promise<void> {
    return this.withSftp(`SFTP write of ${file}`, options, (sftp) => writeFileAtomic(sftp, this.host, file, data, options));
  }

  readFile(file: string, options: CallOptions = {}): Promise<Buffer> {
    return this.withSftp(`SFTP read of ${file}`, options, (sftp) => readRemoteFile(sftp, this.host, file));
  }

  /**
   * Connects to a unix socket on the host through the SSH connection
   * (direct-streamlocal@openssh.com), e.g. a QEMU QMP socket. The timeout covers opening only;
   * the stream is the caller's to end.
   */
  openStreamLocal(socketPath: string, options: CallOptions = {}): Promise<ClientChannel> {
    const operation = `a connection to unix socket ${socketPath}`;
    return this.guard(
      operation,
      options,
      (signal) =>
        new Promise<ClientChannel>((resolve, reject) => {
          try {
            this.client.openssh_forwardOutStreamLocal(socketPath, (error, channel) => {
              if (signal.aborted) {
                channel?.close();
                return reject(signal.reason);
              }
              if (error) return reject(streamLocalError(this.host, socketPath, error));
              resolve(channel);
            });
          } catch (error) {
            reject(lostDuring(this.host, operation, error, true));
          }
        }),
    );
  }

  /** Ends the connection politely; operations still running fail with HostConnectionLostError. */
  close(): Promise<void> {
    if (!this.open) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      // A dead peer never answers the polite end; after 2 s the socket is destroyed, and
      // close resolves even if ssh2 emits no 'close' for a socket it never heard back from.
      const timer = setTimeout(() => {
        this.client.destroy();
        this.markClosed('the host did not answer the end of the session');
      }, 2000);
      this.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }

  private execContext() {
    return { client: this.client, host: this.host, slots: this.slots, connectionLost: this.lost.signal };
  }

  private guard<T>(operation: string, options: CallOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    if (this.lost.signal.aborted) return Promise.reject(lostDuring(this.host, operation, this.lost.signal.reason, true));
    return withDeadline(
      {
        timeoutMs,
        onTimeout: () => new HostTimeoutError(this.host, operation, timeoutMs, 'its channel was closed'),
        cancel: [
          { signal: options.signal, error: (reason) => new HostOperationAbortedError(this.host, operation, reason) },
          { signal: this.lost.signal, error: (reason) => lostDuring(this.host, operation, reason, false) },
        ],
        // Closing the channel is all the cleanup there is; a host too stuck to confirm it must not hold the caller.
        cleanupGraceMs: 250,
      },
      work,
    );
  }

  private withSftp<T>(operation: string, options: CallOptions, use: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return this.guard(operation, options, async (signal) => {
      const release = await this.slots.acquire(signal);
      let sftp: SFTPWrapper | undefined;
      const onAbort = () => sftp?.end();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        sftp = await this.openSftp(operation, signal);
        return await use(sftp);
      } finally {
        signal.removeEventListener('abort', onAbort);
        sftp?.end();
        release();
      }
    });
  }

  private openSftp(operation: string, signal: AbortSignal): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => {
      try {
        this.client.sftp((error, sftp) => {
          if (signal.aborted) {
            sftp?.end();
            return reject(signal.reason);
          }
          if (error) return reject(channelOpenError(this.host, operation, error));
          resolve(sftp);
        });
      } catch (error) {
        reject(lostDuring(this.host, operation, error, true));
      }
    });
  }

  override toString(): string {
    return `SshSession(${this.username}@${describeHost(this.host)})`;
  }
}

function streamLocalError(host: HostAddress, socketPath: string, error: Error): HostChannelError {
  return new HostChannelError(
    host,
    `a connection to unix socket ${socketPath}`,
    error.message,
    `check that the socket exists on the host (ls -l ${socketPath}) and that its process (e.g. QEMU) is running; ` +
      'sshd must allow stream-local forwarding (AllowStreamLocalForwarding yes, the default)',
    { cause: error },
  );
}
