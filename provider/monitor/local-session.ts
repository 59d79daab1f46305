/**
 * The agent's own host as a "session": the COLO primitives (provider/colo/colo-*.ts,
 * qemu-process.ts) take an SshSession, and the agent runs them on the host it lives on,
 * where SSH would only add a hop, a key and a failure mode. LocalSession does the same
 * things locally:
 *
 *   exec             bash -c in a new process group, stdin/env/timeout/abort like remote-exec.ts:
 *                    on timeout or abort the whole group is SIGKILLed (the same errors:
 *                    RemoteCommandError, HostTimeoutError, HostOperationAbortedError)
 *   readFile         fs; a missing file is RemoteFileError ENOENT (readPairRecord relies on it)
 *   writeFile        atomic: temporary file, fsync, chmod, rename (as file-transfer.ts)
 *   openStreamLocal  net.connect to the unix socket (QEMU's QMP), with a timeout
 *
 * Typing. The primitives are typed with the concrete class SshSession (private fields, ssh2
 * ClientChannel), which a local object cannot be. Rather than editing provider/colo and provider/qemu, this file
 * states the narrowest type the primitives need (PrimitiveSession: the members they use, with
 * openStreamLocal returning a Duplex, which is all connectQmpOverSsh uses of the channel) and
 * `asSshSession` casts after a compile-time check that LocalSession satisfies it. That the
 * primitives use nothing else was checked by compiling colo-failover/-reprotect/-pair/-host,
 * qemu-process and qmp-over-ssh with SshSession replaced by PrimitiveSession
 * (local-session-typing.test.ts does it on every run). The clean fix, later: have
 * provider/colo and provider/qemu take PrimitiveSession itself.
 */
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { Duplex } from 'stream';
import { HostAddress, HostChannelError, HostOperationAbortedError, HostTimeoutError, redact, RemoteCommandError, RemoteFileError } from '../ssh/host-errors';
import type { ExecOptions, ExecResult } from '../ssh/remote-exec';
import type { CallOptions, SshSession } from '../ssh/ssh-session';
import type { WriteFileOptions } from '../ssh/file-transfer';

/** What the COLO primitives use of a session (nothing else: see local-session-typing.test.ts). */
export type PrimitiveSession = Pick<SshSession, 'host' | 'exec' | 'readFile' | 'writeFile'> & {
  openStreamLocal(socketPath: string, options?: CallOptions): Promise<Duplex>;
};

export interface LocalSessionOptions {
  /** How errors name this host (the agent's host name from the pair spec). */
  name: string;
  /** Limit for calls that do not give their own. Default 60 s (as SshSession). */
  defaultTimeoutMs?: number;
  /** The shell; default /bin/bash (root's login shell on our hosts, what sshd would run). */
  shell?: string;
}

export class LocalSession implements PrimitiveSession {
  readonly host: HostAddress;
  private open = true;
  private readonly defaultTimeoutMs: number;
  private readonly shell: string;

  constructor(options: LocalSessionOptions) {
    this.host = { name: options.name, address: 'localhost', port: 0 };
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
    this.shell = options.shell ?? '/bin/bash';
  }

  get isOpen(): boolean {
    return this.open;
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const operation = `command \`${redact(command, options.secrets ?? [])
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 77)}\``;
    return new Promise<ExecResult>((resolve, reject) => {
      if (options.signal?.aborted) return reject(new HostOperationAbortedError(this.host, operation, options.signal.reason));
      // --norc and no SSH_* variables: the agent was started from an SSH session, and Debian's bash
      // then reads root's ~/.bashrc even for `bash -c`; a host's rc files (pyenv, prompts, ...)
      // must not slow or change what the agent runs (a failover waited 5 s on one).
      const child = spawn(this.shell, [...(path.basename(this.shell) === 'bash' ? ['--norc'] : []), '-c', command], {
        env: { ...withoutSshSession(process.env), ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let failure: Error | undefined;
      const killGroup = (error: Error) => {
        failure ??= error;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => killGroup(new HostTimeoutError(this.host, operation, timeoutMs, 'its process group was killed')), timeoutMs);
      const onAbort = () => killGroup(new HostOperationAbortedError(this.host, operation, options.signal?.reason));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.stdin.on('error', () => undefined); // commands that never read stdin
      child.once('error', (error) => (failure ??= error));
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (failure) return reject(failure);
        const result: ExecResult = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), code, ...(signal ? { signal } : {}) };
        if (code !== 0 && !options.allowFailure) {
          return reject(new RemoteCommandError(this.host, { command, exitCode: code, signal: signal ?? undefined, stdout: result.stdout, stderr: result.stderr, secrets: options.secrets }));
        }
        resolve(result);
      });
      child.stdin.end(options.stdin ?? undefined);
    });
  }

  async readFile(file: string, options: CallOptions = {}): Promise<Buffer> {
    try {
      return await this.limited(`read of ${file}`, options, (signal) => fs.promises.readFile(file, { signal }));
    } catch (error) {
      throw fileError(this.host, 'read', file, error);
    }
  }

  /** Atomic: temporary file next to the target, fsync, mode, rename. */
  async writeFile(file: string, data: Buffer | string, options: WriteFileOptions & CallOptions = {}): Promise<void> {
    const mode = options.mode ?? 0o644;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RangeError(`mode must be permission bits between 0 and 0o7777 (e.g. 0o600), got ${mode}`);
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.orbit-${randomBytes(6).toString('hex')}.tmp`);
    try {
      await this.limited(`write of ${file}`, options, async () => {
        const handle = await fs.promises.open(temp, 'w', mode);
        try {
          await handle.writeFile(data);
          await handle.chmod(mode);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await fs.promises.rename(temp, file);
      });
    } catch (error) {
      await fs.promises.rm(temp, { force: true }).catch(() => undefined);
      throw fileError(this.host, 'write', file, error);
    }
  }

  /** A connection to a unix socket on this host (e.g. a QMP socket); the timeout covers connecting. */
  openStreamLocal(socketPath: string, options: CallOptions = {}): Promise<Duplex> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const operation = `a connection to unix socket ${socketPath}`;
    return new Promise<Duplex>((resolve, reject) => {
      const socket = net.connect(socketPath);
      const fail = (error: Error) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new HostTimeoutError(this.host, operation, timeoutMs)), timeoutMs);
      const onAbort = () => fail(new HostOperationAbortedError(this.host, operation, options.signal?.reason));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (error) =>
        fail(new HostChannelError(this.host, operation, error.message, `check that the socket exists (ls -l ${socketPath}) and that its process (e.g. QEMU) is running`, { cause: error })),
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        resolve(socket);
      });
    });
  }

  async close(): Promise<void> {
    this.open = false;
  }

  toString(): string {
    return `LocalSession(${this.host.name} on ${os.hostname()})`;
  }

  private limited<T>(operation: string, options: CallOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new HostTimeoutError(this.host, operation, timeoutMs)), timeoutMs);
    const onAbort = () => controller.abort(new HostOperationAbortedError(this.host, operation, options.signal?.reason));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
    return Promise.race([work(controller.signal), aborted]).finally(() => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    });
  }
}

/**
 * The local session as the primitives' parameter type. Safe because the primitives only use
 * PrimitiveSession's members (see the file comment); the assignment below is the compile-time
 * check that LocalSession provides all of them with compatible types.
 */
export function asSshSession(local: LocalSession): SshSession {
  const narrow: PrimitiveSession = local;
  return narrow as unknown as SshSession;
}

function fileError(host: HostAddress, operation: 'read' | 'write', file: string, error: unknown): Error {
  if (error instanceof HostTimeoutError || error instanceof HostOperationAbortedError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new RemoteFileError(host, operation, file, 'no such file or directory', 'ENOENT', { cause: error });
  if (code === 'EACCES' || code === 'EPERM') return new RemoteFileError(host, operation, file, 'permission denied', 'EACCES', { cause: error });
  return new RemoteFileError(host, operation, file, (error as Error).message, 'EIO', { cause: error });
}

/** The environment without the variables that tell a shell it runs for an SSH session. */
function withoutSshSession(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { SSH_CLIENT: _client, SSH2_CLIENT: _client2, SSH_CONNECTION: _connection, SSH_TTY: _tty, ...rest } = env;
  return rest;
}
