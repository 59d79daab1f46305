/**
 * Running one command on a host over an SSH exec channel, and quoting arguments for it.
 *
 * A timed-out or cancelled command is killed, not just abandoned: closing an SSH channel does
 * not stop the process behind it (sshd only signals processes with a pty). sshd starts every
 * command as the leader of a new session, so the login shell's `$$` is also the process group
 * of everything the command starts; the script we send first reports `$$` on stderr, and on
 * timeout a second channel runs `kill -s KILL -- -<pgid>`.
 */
import { randomBytes } from 'crypto';
import type { Readable } from 'stream';
import type { Client, ClientChannel } from 'ssh2';
import { ChannelSlots } from './channel-slots';
import { withDeadline } from './deadline';
import { errorMessage, HostAddress, HostChannelError, redact, HostConnectionLostError, HostOperationAbortedError, HostTimeoutError, RemoteCommandError } from './host-errors';

export interface ExecOptions {
  /** Limit for the whole call, queueing included. Default: the session's default timeout. */
  timeoutMs?: number;
  /**
   * Written to the command's stdin, then EOF. Without it stdin is closed at once. The place for
   * secrets. A stream is piped with backpressure (never whole in memory); if it fails, the
   * command is killed and the call rejects with the stream's error.
   */
  stdin?: string | Buffer | Readable;
  /** Exported before the command runs. Values are visible in the host's process list: pass secrets on stdin. */
  env?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** Resolve with the exit code instead of rejecting with RemoteCommandError when it is not 0. */
  allowFailure?: boolean;
  /** Strings masked as `***` wherever the command or its output appears in errors. */
  secrets?: readonly string[];
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when the command was killed by a signal (see `signal`). */
  code: number | null;
  /** `SIGKILL`, `SIGTERM`, ... when a signal ended the command. */
  signal?: string;
}

/** What remote-exec needs from the session that owns the connection. */
export interface ExecContext {
  readonly client: Client;
  readonly host: HostAddress;
  readonly slots: ChannelSlots;
  /** Aborts when the connection drops; its reason is a HostConnectionLostError. */
  readonly connectionLost: AbortSignal;
}

/** Quotes each argument for a POSIX shell and joins them with spaces. */
export function shellQuote(...args: string[]): string {
  return args
    .map((arg) => {
      if (typeof arg !== 'string') throw new TypeError(`shellQuote takes strings, got ${typeof arg}`);
      if (arg.includes('\0')) throw new TypeError('shellQuote: an argument contains a NUL byte, which no shell can pass');
      return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
    })
    .join(' ');
}

const KILL_TIMEOUT_MS = 5000;
const PGID_PATIENCE_MS = 2000;

export async function execCommand(context: ExecContext, command: string, timeoutMs: number, options: ExecOptions = {}): Promise<ExecResult> {
  const { host } = context;
  const operation = `command \`${shorten(redact(command, options.secrets ?? []))}\``;
  const marker = `orbit-exec-${randomBytes(6).toString('hex')}-pgid:`;
  const script = `printf '%s%s\\n' '${marker}' "$$" >&2\n${envExports(options.env)}${command}`;
  let aftermath = 'its channel was closed before the command reported its process group';
  const progress = { requestSent: false };
  if (context.connectionLost.aborted) throw lostDuring(host, operation, context.connectionLost.reason, true);

  return withDeadline(
    {
      timeoutMs,
      onTimeout: () => new HostTimeoutError(host, operation, timeoutMs, aftermath),
      cancel: [
        { signal: options.signal, error: (reason) => new HostOperationAbortedError(host, operation, reason) },
        { signal: context.connectionLost, error: (reason) => lostDuring(host, operation, reason, !progress.requestSent) },
      ],
      cleanupGraceMs: PGID_PATIENCE_MS + KILL_TIMEOUT_MS + 2000,
    },
    async (signal) => {
      const release = await context.slots.acquire(signal);
      try {
        const opened = await openExecChannel(context, script, operation, signal, progress);
        const outcome = await collect(opened, marker, options.stdin, signal, async (pgid) => {
          aftermath = await killProcessGroup(context, pgid);
        });
        if (outcome.code !== 0 && !options.allowFailure) {
          throw new RemoteCommandError(host, { command, exitCode: outcome.code, signal: outcome.signal, stdout: outcome.stdout, stderr: outcome.stderr, secrets: options.secrets });
        }
        return outcome;
      } finally {
        release();
      }
    },
  );
}

function envExports(env: Readonly<Record<string, string>> | undefined): string {
  if (!env) return '';
  return Object.entries(env)
    .map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new TypeError(`Invalid environment variable name "${name}": use letters, digits and "_", not starting with a digit`);
      }
      return `export ${name}=${shellQuote(value)}\n`;
    })
    .join('');
}

/** How the command ended, as sshd reported it (`exit-status` or `exit-signal`). */
interface ExitReport {
  code: number | null;
  signal?: string;
}

/** An exec channel, with its exit report watched from the moment ssh2 hands the channel over. */
interface ExecChannel {
  channel: ClientChannel;
  exit: ExitReport;
}

/**
 * `progress.requestSent` tells whether the command may have reached the host: ssh2 sends the
 * exec request only once the channel is open, and a connection that drops before that fails
 * the open with "No response from server".
 */
function openExecChannel(context: ExecContext, script: string, operation: string, signal: AbortSignal, progress: { requestSent: boolean } = { requestSent: false }): Promise<ExecChannel> {
  const { client, host } = context;
  return new Promise((resolve, reject) => {
    try {
      // Resolves with the channel even when `signal` aborted meanwhile: the command is running
      // then, and the caller has to kill it rather than just close the channel.
      client.exec(script, (error, channel) => {
        if (error && errorMessage(error) === 'No response from server') progress.requestSent = false;
        if (error) return reject(signal.aborted ? signal.reason : channelOpenError(host, operation, error));
        // Here, not after the promise resolves: a quick command's output, EOF, exit status and
        // close can arrive in the same read as the exec reply, and ssh2 emits 'exit' right
        // away, with nobody listening later ("ended without an exit status").
        const exit: ExitReport = { code: null };
        channel.on('exit', (code: number | null, signalName?: string) => {
          exit.code = code;
          exit.signal = signalName;
        });
        resolve({ channel, exit });
      });
      progress.requestSent = true;
    } catch (error) {
      reject(lostDuring(host, operation, error, true));
    }
  });
}

/**
 * Feeds stdin and gathers output until the channel closes. On abort it kills the command's
 * process group first. A shell that has not reported its group yet is about to start the
 * command, and closing the channel would not stop it, so we wait a little for the report.
 */
function collect({ channel, exit }: ExecChannel, marker: string, stdin: ExecOptions['stdin'], signal: AbortSignal, kill: (pgid: number) => Promise<void>): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stderrHead = '';
    let pgid: number | undefined;
    let abortRequested = false;
    let killing = false;
    let killed: Promise<void> = Promise.resolve();
    let patience: NodeJS.Timeout | undefined;
    let stdinError: unknown;

    const killNow = () => {
      if (killing) return;
      killing = true;
      clearTimeout(patience);
      const close = () => channel.close();
      if (pgid === undefined) return close();
      killed = kill(pgid).then(close, close);
    };
    const onAbort = () => {
      abortRequested = true;
      if (pgid !== undefined) killNow();
      else patience = setTimeout(killNow, PGID_PATIENCE_MS);
    };

    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (pgid !== undefined || stderrHead.length > 64 * 1024) return;
      stderrHead += chunk.toString('latin1');
      const found = new RegExp(`${marker}(\\d+)\\n`).exec(stderrHead);
      if (found) {
        pgid = Number(found[1]);
        if (abortRequested) killNow();
      }
    });
    channel.on('error', () => undefined);
    channel.on('close', () => {
      clearTimeout(patience);
      signal.removeEventListener('abort', onAbort);
      // The command dies before our kill channel reports back: wait, so the error can say how the kill went.
      if (signal.aborted) return void killed.then(() => reject(signal.reason));
      if (stdinError !== undefined) return void killed.then(() => reject(stdinError));
      const errText = Buffer.concat(stderr)
        .toString('utf8')
        .replace(new RegExp(`${marker}\\d+\\n`), '');
      resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: errText, code: exit.code, signal: exit.signal });
    });

    if (stdin === undefined || typeof stdin === 'string' || Buffer.isBuffer(stdin)) {
      channel.end(stdin ?? undefined);
    } else {
      stdin.once('error', (error) => {
        stdinError = error;
        onAbort();
      });
      // A command that exits without reading all of stdin ends the pipe; the stream is not needed then.
      channel.once('close', () => {
        stdin.unpipe(channel);
        stdin.destroy();
      });
      stdin.pipe(channel);
    }
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Kills the command's process group over a new channel; says what happened, for the error message. */
async function killProcessGroup(context: ExecContext, pgid: number): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${KILL_TIMEOUT_MS} ms`)), KILL_TIMEOUT_MS);
  try {
    const release = await context.slots.acquire(controller.signal, true);
    try {
      const { channel } = await openExecChannel(context, `kill -s KILL -- -${pgid} 2>/dev/null; true`, 'kill', controller.signal);
      await new Promise<void>((resolve) => {
        channel.on('close', () => resolve());
        channel.on('error', () => undefined);
        channel.resume();
        channel.stderr.resume();
        channel.end();
        controller.signal.addEventListener('abort', () => channel.close(), { once: true });
      });
      return `its process group ${pgid} was killed on the host`;
    } finally {
      release();
    }
  } catch (error) {
    return `killing its process group ${pgid} failed (${errorMessage(error)}); it may still be running on the host`;
  } finally {
    clearTimeout(timer);
  }
}

export function channelOpenError(host: HostAddress, operation: string, error: Error): HostChannelError {
  return new HostChannelError(
    host,
    `a channel for ${operation}`,
    error.message,
    'sshd may limit sessions per connection (MaxSessions) or forbid this channel type; check its configuration and log (journalctl -u ssh)',
    { cause: error },
  );
}

export function lostDuring(host: HostAddress, operation: string, reason: unknown, beforeStart: boolean): HostConnectionLostError {
  if (reason instanceof HostConnectionLostError) {
    return new HostConnectionLostError(host, operation, reason.reason, beforeStart, { cause: reason });
  }
  const text = errorMessage(reason);
  return new HostConnectionLostError(host, operation, text === 'Not connected' ? 'the connection is closed' : text, beforeStart, { cause: reason });
}

function shorten(command: string): string {
  const line = command.replace(/\s+/g, ' ').trim();
  return line.length <= 80 ? line : `${line.slice(0, 77)}...`;
}
