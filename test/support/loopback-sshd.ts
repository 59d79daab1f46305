/**
 * A real OpenSSH sshd on 127.0.0.1 for tests (TEST ONLY): a free port, fresh host and client
 * keys, key-only login for the current user, everything in a temporary directory.
 * `stop()` kills it with everything it started; call it in afterAll/afterEach.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import { freePort } from './ports';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { sshdConfig } from '../../scripts/lab/sshd';

const run = promisify(execFile);
export const SSHD = process.env.ORBIT_SSHD ?? '/usr/sbin/sshd';

export interface KeyPair {
  privateKey: Buffer;
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
}

export interface LoopbackSshd {
  readonly address: string;
  readonly port: number;
  readonly username: string;
  /** The host key as `ssh-ed25519 AAAA...` (no comment). */
  readonly hostKey: string;
  readonly hostKeyFingerprint: string;
  /** A known_hosts line for this sshd (`[127.0.0.1]:port ssh-ed25519 ...`). */
  readonly knownHosts: string;
  /** A private key the sshd accepts. */
  readonly clientKey: KeyPair;
  readonly dir: string;
  readonly pid: number;
  /** What sshd logged so far (for diagnostics in failing tests). */
  log(): string;
  /** Kills the per-connection sshd processes (and their commands); the listener keeps running. */
  dropConnections(): Promise<void>;
  /** Stops (SIGSTOP) the per-connection processes, like a host that hangs; the listener keeps running. */
  freezeConnections(): void;
  stop(): Promise<void>;
}

export async function startLoopbackSshd(options: { extraConfig?: string[] } = {}): Promise<LoopbackSshd> {
  if (!fs.existsSync(SSHD)) throw new Error(`${SSHD} not found: install openssh-server (apt-get install openssh-server) to run the SSH tests`);
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-sshd-'));
  try {
    const hostKeyFile = path.join(dir, 'ssh_host_ed25519_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'orbit-test-host', '-f', hostKeyFile]);
    const [type, blob] = fs.readFileSync(`${hostKeyFile}.pub`, 'utf8').trim().split(/\s+/);
    const clientKey = await generateKeyPair(dir, 'client');
    fs.writeFileSync(path.join(dir, 'authorized_keys'), `${clientKey.publicKey}\n`, { mode: 0o600 });

    // A port picked now may be taken by the time sshd binds it; try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = path.join(dir, 'sshd_config');
      fs.writeFileSync(config, loopbackSshdConfig(dir, port, hostKeyFile, options.extraConfig ?? []));
      try {
        const child = await spawnSshd(config, port);
        return loopback(child, { dir, port, hostKey: `${type} ${blob}`, clientKey });
      } catch (error) {
        if (attempt >= 3 || !/Address already in use/.test(String(error))) throw error;
      }
    }
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function generateKeyPair(dir: string, name: string): Promise<KeyPair> {
  const file = path.join(dir, `${name}_ed25519`);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `orbit-test-${name}`, '-f', file]);
  return { privateKey: fs.readFileSync(file), publicKey: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** All processes below `pid` (children, grandchildren, ...), from /proc. */
export function descendantPids(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process exited while we looked
    }
  }
  const found: number[] = [];
  const visit = (p: number) => {
    for (const child of parents.get(p) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

function loopbackSshdConfig(dir: string, port: number, hostKeyFile: string, extra: string[]): string {
  return sshdConfig({
    listenAddress: '127.0.0.1',
    port,
    hostKeyFile,
    pidFile: path.join(dir, 'sshd.pid'),
    authorizedKeysFile: path.join(dir, 'authorized_keys'),
    extra,
  });
}

function spawnSshd(config: string, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sshd did not start listening on 127.0.0.1:${port} within 10 s:\n${output}`));
    }, 10_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-64 * 1024);
      if (output.includes(`Server listening on 127.0.0.1 port ${port}`)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited (code ${code}, signal ${signal}) before listening on port ${port}:\n${output}`));
    });
  });
}

const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) killTree(pid);
});

/**
 * Kills sshd and every session process it started. The tree is frozen first (SIGSTOP until no
 * new process appears): killing a snapshot would orphan a session child forked meanwhile,
 * which then lives on under PID 1.
 */
function killTree(pid: number): void {
  let frozen = new Set<number>([pid]);
  for (let round = 0; round < 20; round++) {
    const found = [pid, ...descendantPids(pid)];
    signalAll(found, 'SIGSTOP');
    if (found.every((p) => frozen.has(p))) break;
    frozen = new Set([...frozen, ...found]);
  }
  signalAll([...descendantPids(pid).reverse(), ...frozen, pid], 'SIGKILL');
}

function isDirectChild(child: number, parent: number): boolean {
  try {
    return fs.readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(parent);
  } catch {
    return false;
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

function loopback(started: { child: ChildProcess; output: () => string }, info: { dir: string; port: number; hostKey: string; clientKey: KeyPair }): LoopbackSshd {
  const { child } = started;
  const pid = child.pid!;
  running.add(pid);
  const blob = Buffer.from(info.hostKey.split(' ')[1], 'base64');
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    address: '127.0.0.1',
    port: info.port,
    username: os.userInfo().username,
    hostKey: info.hostKey,
    hostKeyFingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
    knownHosts: `[127.0.0.1]:${info.port} ${info.hostKey}\n`,
    clientKey: info.clientKey,
    dir: info.dir,
    pid,
    log: started.output,
    async dropConnections() {
      for (const child of descendantPids(pid).filter((p) => isDirectChild(p, pid))) killTree(child);
    },
    freezeConnections() {
      signalAll(descendantPids(pid), 'SIGSTOP');
    },
    async stop() {
      killTree(pid);
      await exited;
      running.delete(pid);
      fs.rmSync(info.dir, { recursive: true, force: true });
    },
  };
}
