import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { run, waitFor } from './exec';

/** Each lab host runs its own OpenSSH sshd: own host key, key-only auth, private /var/lib/orbit and /run/orbit. */

export interface HostDirs {
  /** `<state>/hosts/<name>` */
  root: string;
  /** Bind-mounted on /var/lib/orbit inside the host; survives host kills (it is the host's disk). */
  varLibOrbit: string;
  /**
   * Bind-mounted on /root inside the host: the host's own root home, with empty shell rc files.
   * Without it every SSH command on a lab host ran this machine's /root/.bashrc (Debian's bash
   * reads it for commands sshd starts): on our machines that runs `pyenv init`, whose rehash
   * lock made one `ssh host true` take 61 s and stalled failovers, fences and re-protections.
   */
  rootHome: string;
  hostKey: string;
  config: string;
  pidFile: string;
  log: string;
}

export function hostDirs(stateDir: string, name: string): HostDirs {
  const root = path.join(stateDir, 'hosts', name);
  return {
    root,
    varLibOrbit: path.join(root, 'var-lib-orbit'),
    rootHome: path.join(root, 'root-home'),
    hostKey: path.join(root, 'ssh_host_ed25519_key'),
    config: path.join(root, 'sshd_config'),
    pidFile: path.join(root, 'sshd.pid'),
    log: path.join(root, 'sshd.log'),
  };
}

/** Creates an ed25519 key pair at `file` unless it exists; returns `ssh-ed25519 AAAA...`. */
export async function ensureKeyPair(file: string, comment: string): Promise<string> {
  if (!fs.existsSync(file)) {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  }
  const [type, blob] = fs.readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  return `${type} ${blob}`;
}

export interface SshdConfigOptions {
  listenAddress: string;
  port: number;
  hostKeyFile: string;
  pidFile: string;
  authorizedKeysFile: string;
  /** More `Keyword value` lines. */
  extra?: string[];
}

/**
 * An OpenSSH sshd_config for a test host: key-only root login, stream-local forwarding (QMP
 * over SSH) and internal SFTP. Shared by the lab hosts and the loopback sshd of unit tests.
 */
export function sshdConfig(o: SshdConfigOptions): string {
  return [
    `ListenAddress ${o.listenAddress}`,
    `Port ${o.port}`,
    `HostKey ${o.hostKeyFile}`,
    `PidFile ${o.pidFile}`,
    `AuthorizedKeysFile ${o.authorizedKeysFile}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // Key files live in temp/tmpfs directories whose modes sshd's StrictModes would reject.
    'StrictModes no',
    'AllowStreamLocalForwarding yes',
    'PrintMotd no',
    'Subsystem sftp internal-sftp',
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

export async function sshdAlive(dirs: HostDirs): Promise<boolean> {
  if (!fs.existsSync(dirs.pidFile)) return false;
  const pid = Number(fs.readFileSync(dirs.pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function tcpReachable(address: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * Boots the host's userland: a private mount and UTS namespace inside the host's network
 * namespace, with /var/lib/orbit bound to the host's own directory and a fresh tmpfs on
 * /run/orbit (so a killed and revived host comes back like a rebooted one), the services a
 * host enables (the failover monitor agent, once the provider has installed it: its start
 * script is what an init system would run at boot), then sshd.
 */
export async function startSshd(opts: { name: string; netns: string; address: string; port: number; dirs: HostDirs; authorizedKeys: string }): Promise<void> {
  const { dirs } = opts;
  fs.mkdirSync(dirs.varLibOrbit, { recursive: true });
  fs.mkdirSync(dirs.rootHome, { recursive: true, mode: 0o700 });
  for (const rc of ['.bashrc', '.profile']) {
    const file = path.join(dirs.rootHome, rc);
    if (!fs.existsSync(file)) fs.writeFileSync(file, `# ${opts.name}'s own ${rc} (scripts/lab/sshd.ts): a lab host does not run this machine's.\n`);
  }
  fs.mkdirSync('/var/lib/orbit', { recursive: true });
  fs.mkdirSync('/run/orbit', { recursive: true });
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  fs.writeFileSync(
    dirs.config,
    sshdConfig({
      listenAddress: opts.address,
      port: opts.port,
      hostKeyFile: dirs.hostKey,
      pidFile: dirs.pidFile,
      authorizedKeysFile: opts.authorizedKeys,
      extra: ['AllowTcpForwarding yes', 'MaxSessions 32', 'MaxStartups 64:30:128'],
    }),
  );
  fs.rmSync(dirs.pidFile, { force: true });
  const boot = [
    'set -e',
    `hostname ${opts.name}`,
    `mount --bind ${dirs.varLibOrbit} /var/lib/orbit`,
    `mount --bind ${dirs.rootHome} /root`,
    'mount -t tmpfs -o mode=0755,size=1g orbit-run /run/orbit',
    '[ -x /var/lib/orbit/agent/start ] && /var/lib/orbit/agent/start || true',
    `exec /usr/sbin/sshd -f ${dirs.config} -E ${dirs.log}`,
  ].join('\n');
  await run('ip', ['netns', 'exec', opts.netns, 'unshare', '--mount', '--uts', '--propagation', 'private', '--', 'sh', '-c', boot]);
  await waitFor(`sshd of lab host ${opts.name} to listen on ${opts.address}:${opts.port}`, 10_000, async () => ((await tcpReachable(opts.address, opts.port)) ? true : undefined));
}
