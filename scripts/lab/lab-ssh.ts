import * as fs from 'fs';
import { HostKeyPolicy } from '../../provider/ssh/known-hosts';
import { SshSession, SshTuning } from '../../provider/ssh/ssh-session';
import { LabDescription, LabHost } from './description';

/** Looks up a lab host by name, with an error that lists the hosts there are. */
export function labHost(lab: LabDescription, name: string): LabHost {
  const host = lab.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`The lab has no host "${name}"; it has ${lab.hosts.map((h) => h.name).join(', ')}.`);
  return host;
}

/**
 * An SSH session to a lab host, trusting only the lab's known_hosts file (or `pinnedHostKey`,
 * to prove that a wrong key is refused).
 */
export function connectToLabHost(lab: LabDescription, name: string, opts: SshTuning & { pinnedHostKey?: string } = {}): Promise<SshSession> {
  const host = labHost(lab, name);
  const address = { name: host.name, address: host.address, port: host.sshPort };
  const hostKeys = opts.pinnedHostKey
    ? HostKeyPolicy.forHost(address, { pinned: [opts.pinnedHostKey] })
    : HostKeyPolicy.forHost(address, { knownHosts: fs.readFileSync(lab.knownHostsPath, 'utf8'), knownHostsSource: lab.knownHostsPath });
  return SshSession.connect({
    host: address,
    username: host.sshUser,
    privateKey: fs.readFileSync(host.privateKeyPath),
    hostKeys,
    connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
    defaultTimeoutMs: opts.defaultTimeoutMs ?? 30_000,
    keepaliveIntervalMs: opts.keepaliveIntervalMs,
    keepaliveCountMax: opts.keepaliveCountMax,
  });
}
