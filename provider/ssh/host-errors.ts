/**
 * Everything that can go wrong between the provider and a host, each as its own class so
 * callers can decide (retry, report, fence) by type. Every message names the host and ends
 * with what to do. Secrets never reach a message: command text and stderr pass through
 * `redact`, environment values and stdin are never shown.
 */

/** Where a host is: its configured name and the address:port we dial. */
export interface HostAddress {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

/** `site-a (10.0.0.11:22)`, or just `10.0.0.11:22` when the name is the address. */
export function describeHost(host: HostAddress): string {
  const endpoint = host.address.includes(':') ? `[${host.address}]:${host.port}` : `${host.address}:${host.port}`;
  return host.name === host.address ? endpoint : `${host.name} (${endpoint})`;
}

export abstract class HostError extends Error {
  /** The problem without the fix. */
  readonly summary: string;

  constructor(
    readonly host: HostAddress,
    summary: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`${summary}\nFix: ${fix}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.summary = summary;
    this.name = new.target.name;
  }
}

/** The host could not be reached at all: refused, no route, no answer, name not found. */
export class HostUnreachableError extends HostError {
  constructor(
    host: HostAddress,
    readonly reason: string,
    /** The socket error code (`ECONNREFUSED`, `EHOSTUNREACH`, `ETIMEDOUT`, ...) when there was one. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(host, `Cannot reach host ${describeHost(host)} over SSH: ${reason}`, unreachableFix(host, code), options);
  }
}

function unreachableFix(host: HostAddress, code: string | undefined): string {
  switch (code) {
    case 'ECONNREFUSED':
      return `nothing accepts connections on port ${host.port}: check that sshd runs on the host (systemctl status ssh) and that the configured port is right`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `there is no route to ${host.address}: check the address, that the host is up, and the network path and firewalls between here and the host`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the name ${host.address} does not resolve: check the address (or use the host's IP address)`;
    default:
      return `check that the host is up, that ${host.address}:${host.port} is the right address and that firewalls let SSH through; raise the connect timeout if the network is slow`;
  }
}

/** The host answered but did not accept our user/key. */
export class HostAuthenticationError extends HostError {
  constructor(
    host: HostAddress,
    readonly username: string,
    readonly reason: string,
    fix?: string,
    options?: { cause?: unknown },
  ) {
    super(
      host,
      `Host ${describeHost(host)} refused SSH login as "${username}": ${reason}`,
      fix ??
        `add the public half of the configured private key (ssh-keygen -y -f <key file> prints it) to ~${username}/.ssh/authorized_keys on the host, ` +
          `and check that the user "${username}" is right and may log in with a key (PermitRootLogin prohibit-password for root)`,
      options,
    );
  }
}

export type HostKeyProblem = 'unknown' | 'changed' | 'revoked';

/** The host presented a key we do not trust. Never accepted, never remembered. */
export class HostKeyMismatchError extends HostError {
  constructor(
    host: HostAddress,
    readonly problem: HostKeyProblem,
    /** Fingerprint (`SHA256:...`) and type of the key the host presented. */
    readonly seen: { readonly fingerprint: string; readonly type: string },
    /** Fingerprints we would have accepted. */
    readonly expected: readonly string[],
    /** Where the trusted keys came from, e.g. `pinned host_key` or `known_hosts /etc/orbit/known_hosts`. */
    readonly trustSource: string,
  ) {
    super(host, hostKeySummary(host, problem, seen, expected, trustSource), hostKeyFix(problem), undefined);
  }
}

function hostKeySummary(host: HostAddress, problem: HostKeyProblem, seen: { fingerprint: string; type: string }, expected: readonly string[], trustSource: string): string {
  const presented = `host ${describeHost(host)} presented ${seen.type} key ${seen.fingerprint}`;
  const wanted = expected.length > 0 ? `expected ${expected.join(' or ')} (from ${trustSource})` : `${trustSource} has no key for this host`;
  switch (problem) {
    case 'revoked':
      return `Refusing to connect: ${presented}, which is marked @revoked in ${trustSource}`;
    case 'unknown':
      return `Refusing to connect: ${presented}, but ${wanted}`;
    case 'changed':
      return `Refusing to connect: the host key changed: ${presented}, ${wanted}. This can be a man-in-the-middle attack`;
  }
}

function hostKeyFix(problem: HostKeyProblem): string {
  const verify = 'read the fingerprint on the host itself (console, not over this network): ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub';
  switch (problem) {
    case 'revoked':
      return 'give the host a new host key (ssh-keygen -A after removing the revoked one), then pin the new key';
    case 'unknown':
      return `${verify}; if it matches, pin it (host_key = "ssh-ed25519 AAAA..." or the SHA256: fingerprint, or a known_hosts line). Orbit never trusts a key on first use`;
    case 'changed':
      return `if the host was reinstalled or its key rotated on purpose, ${verify}; if it matches, replace the pinned key. Otherwise do not connect and find out who answers at this address`;
  }
}

/** A remote command ran and failed (non-zero exit or killed by a signal). */
export class RemoteCommandError extends HostError {
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal?: string;
  readonly stdout: string;
  readonly stderr: string;

  constructor(host: HostAddress, details: { command: string; exitCode: number | null; signal?: string; stdout: string; stderr: string; secrets?: readonly string[] }) {
    const secrets = details.secrets ?? [];
    const command = redact(details.command, secrets);
    const stderr = redact(details.stderr, secrets);
    const status =
      details.signal !== undefined
        ? `was killed by signal ${details.signal}`
        : details.exitCode === null
          ? 'ended without an exit status (its channel was closed before sshd reported one: the command may or may not have run)'
          : `exited with code ${details.exitCode}`;
    const tail = lastLines(stderr, 20, 2000);
    super(
      host,
      `Command on host ${describeHost(host)} ${status}: ${shorten(command, 300)}${tail ? `\nstderr (last lines):\n${tail}` : '\n(no stderr)'}`,
      'read the stderr above; to reproduce, run the command on the host by hand as the same user',
    );
    this.command = command;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stdout = redact(details.stdout, secrets);
    this.stderr = stderr;
  }
}

/** An operation did not finish within its limit; whatever it started on the host was stopped. */
export class HostTimeoutError extends HostError {
  constructor(
    host: HostAddress,
    /** What we were doing, e.g. `exec \`qemu-img info ...\`` or `SFTP write /etc/x`. */
    readonly operation: string,
    readonly timeoutMs: number,
    aftermath = '',
  ) {
    super(
      host,
      `${operation} on host ${describeHost(host)} did not finish within ${timeoutMs} ms${aftermath ? `; ${aftermath}` : ''}`,
      'check the host (load, disk, a hung process) and the network to it; if the operation is legitimately slow, raise its timeout',
    );
  }
}

/** The SSH connection dropped while an operation was using it. */
export class HostConnectionLostError extends HostError {
  constructor(
    host: HostAddress,
    readonly operation: string,
    readonly reason: string,
    /** True when the operation had not started on the host yet, so it is safe to retry on a new connection. */
    readonly beforeStart: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      host,
      `The SSH connection to host ${describeHost(host)} was lost during ${operation}: ${reason}` +
        (beforeStart ? ' (before the operation started)' : '; the operation may or may not have completed on the host'),
      'check whether the host rebooted, sshd restarted or the network dropped, then run again (apply is safe to re-run)',
      options,
    );
  }
}

/** The caller cancelled (AbortSignal), e.g. terraform was interrupted. `cause` is the abort reason. */
export class HostOperationAbortedError extends HostError {
  constructor(
    host: HostAddress,
    readonly operation: string,
    reason: unknown,
  ) {
    super(host, `${operation} on host ${describeHost(host)} was cancelled${isErrorLike(reason) ? `: ${reason.message}` : ''}`, 'nothing to fix if you interrupted it; run again to finish the work', {
      cause: reason,
    });
  }
}

/** The host refused to open a channel (session, SFTP, stream-local forward). */
export class HostChannelError extends HostError {
  constructor(
    host: HostAddress,
    readonly operation: string,
    readonly reason: string,
    fix: string,
    options?: { cause?: unknown },
  ) {
    super(host, `Host ${describeHost(host)} refused ${operation}: ${reason}`, fix, options);
  }
}

/** An SFTP read or write failed on the host. */
export class RemoteFileError extends HostError {
  constructor(
    host: HostAddress,
    readonly operation: 'read' | 'write',
    readonly path: string,
    readonly reason: string,
    /** `ENOENT`, `EACCES` or `EIO` (mapped from the SFTP status). */
    readonly code: 'ENOENT' | 'EACCES' | 'EIO',
    options?: { cause?: unknown },
  ) {
    super(host, `Cannot ${operation} ${path} on host ${describeHost(host)}: ${reason}`, fileFix(operation, code), options);
  }
}

function fileFix(operation: 'read' | 'write', code: 'ENOENT' | 'EACCES' | 'EIO'): string {
  if (code === 'ENOENT') return operation === 'read' ? 'check the path; the file does not exist on the host' : 'create the parent directory first (or check the path)';
  if (code === 'EACCES') return 'the SSH user may not access this path: use a user that can (root by default) or fix the permissions';
  return 'check the host (disk full, read-only filesystem) and run again';
}

/** ssh2 errors carry `level` ('client-socket', 'client-authentication', ...) and socket `code`s. */
interface Ssh2Error extends Error {
  level?: string;
  code?: string | number;
}

/**
 * Turns an ssh2 connection error into one of ours. `phase` says whether the session was
 * already up (then a drop is a lost connection) or still being set up.
 */
export function classifySshError(error: unknown, context: { host: HostAddress; username: string; phase: 'connect' | 'session'; operation?: string; connectTimeoutMs?: number }): HostError {
  if (error instanceof HostError) return error;
  const { host } = context;
  const e: Ssh2Error = isErrorLike(error) ? error : new Error(String(error));
  const code = typeof e.code === 'string' ? e.code : undefined;

  if (context.phase === 'session') {
    const reason = e.level === 'client-timeout' ? `no answer to SSH keepalives (${e.message})` : e.message;
    return new HostConnectionLostError(host, context.operation ?? 'the session', reason, false, { cause: e });
  }
  if (e.level === 'client-authentication') {
    return new HostAuthenticationError(host, context.username, 'the server accepted none of our keys', undefined, { cause: e });
  }
  if (/^Cannot parse privateKey/.test(e.message)) {
    return new HostAuthenticationError(
      host,
      context.username,
      `the configured private key cannot be used (${e.message.replace(/^Cannot parse privateKey:\s*/, '')})`,
      'give an OpenSSH or PEM private key (ed25519, ecdsa or rsa), with its passphrase if it is encrypted',
      { cause: e },
    );
  }
  if (e.level === 'client-timeout') {
    return new HostUnreachableError(host, `no SSH handshake within ${context.connectTimeoutMs ?? '?'} ms`, 'ETIMEDOUT', { cause: e });
  }
  if (e.level === 'client-dns') return new HostUnreachableError(host, e.message, 'ENOTFOUND', { cause: e });
  if (code !== undefined) return new HostUnreachableError(host, socketReason(code, e.message), code, { cause: e });
  return new HostUnreachableError(host, `the SSH handshake failed: ${e.message}`, undefined, { cause: e });
}

function socketReason(code: string, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
      return 'no route to host';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'the connection was reset during the SSH handshake';
    default:
      return message;
  }
}

/**
 * Duck-typed, because errors from Node itself may come from another realm (jest's vm
 * contexts) where `instanceof Error` is false.
 */
export function isErrorLike(value: unknown): value is Error {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

export function errorMessage(value: unknown): string {
  return isErrorLike(value) ? value.message : String(value);
}

/** Replaces every occurrence of each secret with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more characters)`;
}

function lastLines(text: string, lines: number, maxChars: number): string {
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return tail.length <= maxChars ? tail : `...${tail.slice(-maxChars)}`;
}
