/**
 * How resources reach the hosts configured in the provider block: a HostConfig becomes an
 * SshTarget (client key read when connecting, host key policy from the pin), sessions come
 * from one SshPool per provider process, and whatever goes wrong on the way (unreachable,
 * refused login, changed host key, failed command, timeout) comes back as an OrbitError that
 * terraform shows at the resource's host attribute, with the fix.
 *
 * The pool is never closed explicitly: the framework has no shutdown hook, and terraform ends
 * every provider process (Shutdown -> process.exit), which drops the connections with it.
 */
import * as fs from 'fs';
import { AttributePath } from '../protocol/attribute-path';
import { OrbitError } from '../framework/errors';
import type { HostConfig } from './provider-context';
import { describeHost, HostAddress, HostError, HostUnreachableError, isErrorLike, RemoteCommandError } from '../ssh/host-errors';
import { HostKeyPolicy, KnownHostsFormatError } from '../ssh/known-hosts';
import { ExecOptions, ExecResult } from '../ssh/remote-exec';
import { CallOptions, SshSession, SshTarget, SshTuning } from '../ssh/ssh-session';
import { SshPool } from '../ssh/ssh-pool';
import { WriteFileOptions } from '../ssh/file-transfer';

/** One configured host, as resources use it. Every failure is an OrbitError naming the resource's host attribute. */
export interface RemoteHost {
  /** The host's name in the provider configuration. */
  readonly name: string;
  /** Runs a shell command; rejects on a non-zero exit unless `allowFailure`. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  readFile(file: string, options?: CallOptions): Promise<Buffer>;
  /** Atomic (temporary file + rename). */
  writeFile(file: string, data: Buffer | string, options?: WriteFileOptions & CallOptions): Promise<void>;
  /**
   * Runs `work` with the host's pooled SSH session, for the host layer's drivers (QEMU, QMP,
   * migration); their errors become OrbitErrors like every other failure here.
   */
  withSession<T>(work: (session: SshSession) => Promise<T>): Promise<T>;
  /**
   * The host's pooled SSH session, for drivers that work on several hosts at once (a COLO pair);
   * a failure to connect is an OrbitError. The pool owns the session: do not close it.
   */
  session(): Promise<SshSession>;
}

export interface RemoteHostOptions {
  /** The attribute of the resource that names the host (`['host']`); errors are shown there. */
  attribute?: AttributePath;
  /** Cancels the host's operations (terraform interrupt); passed on to calls that give none. */
  signal?: AbortSignal;
}

/** Gives resources their hosts. The provider uses SshHostConnector; tests may use fakes. */
export interface HostConnector {
  connect(host: HostConfig, options?: RemoteHostOptions): RemoteHost;
}

export const PROVIDER_SSH_TUNING: SshTuning = {
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  defaultTimeoutMs: 60_000,
};

export class SshHostConnector implements HostConnector {
  private readonly policies = new WeakMap<HostConfig, HostKeyPolicy>();

  constructor(
    private readonly pool: SshPool = new SshPool(PROVIDER_SSH_TUNING),
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  connect(host: HostConfig, options: RemoteHostOptions = {}): RemoteHost {
    const attribute = options.attribute;
    const guarded = async <T>(work: (target: SshTarget) => Promise<T>): Promise<T> => {
      try {
        return await work(this.target(host));
      } catch (error) {
        throw hostErrorToOrbitError(error, host.name, attribute);
      }
    };
    const withSignal = <O extends { signal?: AbortSignal }>(o: O | undefined): O => ({ ...o, signal: o?.signal ?? options.signal }) as O;
    return {
      name: host.name,
      exec: (command, o) => guarded((target) => this.pool.exec(target, command, withSignal(o))),
      readFile: (file, o) => guarded(async (target) => (await this.pool.session(target, withSignal(o))).readFile(file, withSignal(o))),
      writeFile: (file, data, o) => guarded(async (target) => (await this.pool.session(target, withSignal(o))).writeFile(file, data, withSignal(o))),
      withSession: (work) => guarded(async (target) => work(await this.pool.session(target, { signal: options.signal }))),
      session: () => guarded((target) => this.pool.session(target, { signal: options.signal })),
    };
  }

  /** The SshTarget for a configured host. Reads the client key now, so a rotated key file is picked up on the next connect. */
  target(host: HostConfig): SshTarget {
    const address: HostAddress = { name: host.name, address: host.address, port: host.port };
    return { host: address, username: host.user, privateKey: this.privateKey(host), hostKeys: this.policy(host, address) };
  }

  close(): Promise<void> {
    return this.pool.closeAll();
  }

  private privateKey(host: HostConfig): string | Buffer {
    const source = host.privateKey;
    switch (source.kind) {
      case 'inline':
        return source.pem;
      case 'env': {
        const value = this.env[source.variable];
        if (!value) {
          throw new OrbitError(`The environment variable ${source.variable} with host "${host.name}"'s SSH key is not set`, {
            fix: `export ${source.variable} (the private key itself) in the environment terraform runs in`,
          });
        }
        return value;
      }
      case 'path':
        try {
          return fs.readFileSync(source.path);
        } catch (error) {
          throw new OrbitError(`Host "${host.name}"'s SSH key ${source.path} cannot be read: ${(error as Error).message}`, {
            fix: 'point private_key_path in the provider "orbit" block at a readable private key file',
          });
        }
    }
  }

  private policy(host: HostConfig, address: HostAddress): HostKeyPolicy {
    let policy = this.policies.get(host);
    if (!policy) {
      const pin = host.hostKey;
      policy =
        pin.kind === 'known-hosts'
          ? HostKeyPolicy.forHost(address, { knownHosts: pin.content, knownHostsSource: pin.source })
          : HostKeyPolicy.forHost(address, { pinned: [pin.kind === 'fingerprint' ? pin.sha256 : `${pin.algorithm} ${pin.key}`] });
      this.policies.set(host, policy);
    }
    return policy;
  }
}

let shared: SshHostConnector | undefined;

/** The provider process's connector (one SshPool), created on first use. */
export function sharedHostConnector(): SshHostConnector {
  shared ??= new SshHostConnector();
  return shared;
}

/**
 * Makes a failure on the way to a host a complete diagnostic: the host layer's summary (which
 * names the host) and fix, shown at the resource attribute that chose the host. OrbitErrors
 * get that attribute if they have none; anything else passes through unchanged.
 */
/** The pooled sessions of every host that answers, and why the others did not. */
export async function reachableSessions(
  remotes: readonly RemoteHost[],
): Promise<{ sessions: Array<{ remote: RemoteHost; session: SshSession }>; unreachable: Array<{ name: string; problem: string }> }> {
  const results = await Promise.allSettled(remotes.map(async (remote) => ({ remote, session: await remote.session() })));
  const sessions: Array<{ remote: RemoteHost; session: SshSession }> = [];
  const unreachable: Array<{ name: string; problem: string }> = [];
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') sessions.push(result.value);
    else unreachable.push({ name: remotes[i].name, problem: result.reason instanceof Error ? result.reason.message : String(result.reason) });
  });
  return { sessions, unreachable };
}

/** Whether an error, or one it wraps, says the host could not be reached at all (not a wrong host key or login: those stay errors). */
export function isHostUnreachable(error: unknown): boolean {
  for (let e: unknown = error; isErrorLike(e); e = e.cause) if (e instanceof HostUnreachableError) return true;
  return false;
}

export function hostErrorToOrbitError(error: unknown, hostName: string, attribute?: AttributePath): unknown {
  if (error instanceof OrbitError) {
    if (error.attribute || !attribute) return error;
    return new OrbitError(error.message, { attribute, value: hostName, detail: error.detail, fix: error.fix, allowed: error.allowed, cause: error });
  }
  if (error instanceof HostError) {
    // error.host, not hostName: an error from another host can surface here (a migration's source, seen through its destination).
    const where = `Host "${error.host.name}" is configured in the provider "orbit" block as ${error.host.address} port ${error.host.port}.`;
    if (error instanceof RemoteCommandError) {
      // Commands are often whole scripts: name the first line, show the end of stderr.
      const status = error.signal !== undefined ? `was killed by signal ${error.signal}` : `exited with code ${error.exitCode}`;
      const [first, ...more] = error.command.trim().split('\n');
      const stderr = error.stderr.trimEnd().split('\n').slice(-20).join('\n').slice(-2000);
      return new OrbitError(`Command on host ${describeHost(error.host)} ${status}: ${first}${more.length > 0 ? ' ...' : ''}`, {
        attribute,
        value: hostName,
        detail: `${stderr ? `stderr (last lines):\n${stderr}` : '(no stderr)'}\n${where}`,
        fix: error.fix,
        cause: error,
      });
    }
    return new OrbitError(error.summary, { attribute, value: hostName, detail: where, fix: error.fix, cause: error });
  }
  if (error instanceof KnownHostsFormatError) {
    return new OrbitError(`The pinned host key of host "${hostName}" is unusable: ${error.problem}`, {
      attribute,
      value: hostName,
      detail: `In ${error.source}${error.lineNumber !== undefined ? ` line ${error.lineNumber}` : ''}.`,
      fix: `${error.fix} (in the provider "orbit" block)`,
      cause: error,
    });
  }
  return error;
}
