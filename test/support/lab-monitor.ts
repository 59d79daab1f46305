/**
 * Failover monitors on lab hosts (TEST ONLY): agents installed with the provider's own
 * installer (agent-install.ts: the bundle uploaded over SSH, started under its supervisor),
 * pair specs published the way apply publishes them, and the agents' status and logs read back
 * over SSH. What apply does through terraform is tested in test/provider; this drives the same
 * pieces directly so that chaos tests can kill, cut and heal around them.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Etcd3 } from 'etcd3';
import { createPrivateKey, KeyObject } from 'crypto';
import { SshSession } from '../../provider/ssh/ssh-session';
import type { AgentStatus, PairStatus } from '../../provider/monitor/agent';
import { locateAgentBundle } from '../../provider/monitor/agent-bundle';
import { AGENT_PATHS, AgentHostSetup, ensureAgent, EnsureResult, readAgentStatusOn, removeAgent } from '../../provider/monitor/agent-install';
import { connectEtcd } from '../../provider/monitor/etcd-connection';
import { STANDBY_ARG } from '../../provider/monitor/supervisor';
import { PairHost } from '../../provider/monitor/pair-spec';
import { PairEvent, publishPairSpec, readPairEvents, removePairFromEtcd, verifyKeyPem } from '../../provider/monitor/spec-publisher';
import { DEFAULT_TIMING, FailoverTiming } from '../../provider/monitor/timing';
import { LabDescription } from '../../scripts/lab/description';
import { pollUntil } from '../../provider/ssh/poll';
import { connectToLabHost, labHost } from '../../scripts/lab/lab-ssh';
import { destroyPair, startProtectedPair } from '../../provider/colo/colo-pair';
import { VmSpecInput } from '../../provider/qemu/vm-spec';
import { vmTraces } from './guest-vm';

export const LAB_HEARTBEAT_PORT = 7400;
export const LAB_METRICS_PORT = 9464;

export function labEtcd(lab: LabDescription, client = 'provider'): Etcd3 {
  const c = lab.etcd.clients[client];
  return connectEtcd({ endpoints: lab.etcd.endpoints, tls: { ca: fs.readFileSync(lab.etcd.caPath), cert: fs.readFileSync(c.certPath), key: fs.readFileSync(c.keyPath) }, callTimeoutMs: 5000 });
}

export function labSigningKey(lab: LabDescription): KeyObject {
  return createPrivateKey(fs.readFileSync(lab.monitor.signingKeyPath));
}

/** A lab host's agent as the provider would set it up from the lab's provider configuration. */
export function labAgentSetup(lab: LabDescription, host: string): AgentHostSetup {
  const h = labHost(lab, host);
  const client = lab.etcd.clients[host];
  return {
    host,
    nodeBinary: process.execPath,
    serviceManager: 'daemon',
    etcdEndpoints: lab.etcd.endpoints,
    listenAddress: h.address,
    heartbeatPort: LAB_HEARTBEAT_PORT,
    metricsPort: LAB_METRICS_PORT,
    specPublicKeyPem: verifyKeyPem(labSigningKey(lab)),
    heartbeatKey: fs.readFileSync(lab.monitor.heartbeatKeyPath),
    etcdCa: fs.readFileSync(lab.etcd.caPath),
    etcdCert: fs.readFileSync(client.certPath),
    etcdKey: fs.readFileSync(client.keyPath),
    sshIdentity: fs.readFileSync(lab.privateKeyPath),
  };
}

export function installLabAgent(lab: LabDescription, session: SshSession): Promise<EnsureResult> {
  return ensureAgent(session, locateAgentBundle(), labAgentSetup(lab, session.host.name));
}

export function removeLabAgent(session: SshSession): Promise<void> {
  return removeAgent(session);
}

export function labPairHost(lab: LabDescription, name: string): PairHost {
  const h = labHost(lab, name);
  return { name, sshAddress: h.address, sshPort: h.sshPort, sshUser: h.sshUser, hostKeys: [h.hostKey], replicationAddress: h.address, heartbeatAddress: h.address, heartbeatPort: LAB_HEARTBEAT_PORT };
}

export async function publishLabPair(lab: LabDescription, etcd: Etcd3, vm: string, hosts: [string, string], spares: string[] = [], timing: FailoverTiming = DEFAULT_TIMING): Promise<number> {
  const result = await publishPairSpec(etcd, labSigningKey(lab), { vm, hosts: [labPairHost(lab, hosts[0]), labPairHost(lab, hosts[1])], spareHosts: spares.map((s) => labPairHost(lab, s)), timing });
  return result.generation;
}

export { readPairEvents, removePairFromEtcd };
export type { PairEvent };

export async function agentStatus(session: SshSession): Promise<(AgentStatus & { supervisorRunning: boolean }) | undefined> {
  return readAgentStatusOn(session, 5000).catch(() => undefined);
}

export async function pairStatusOn(session: SshSession, vm: string): Promise<PairStatus | undefined> {
  return (await agentStatus(session))?.pairs[vm];
}

/** The agent's log lines (JSON) on the host, parsed. */
export async function agentLog(session: SshSession, file: 'agent.log' | 'supervisor.log' = 'agent.log'): Promise<Array<Record<string, unknown> & { time: string; msg: string }>> {
  const result = await session.exec(`cat ${AGENT_PATHS.logs}/${file} 2>/dev/null; true`, { timeoutMs: 10_000 });
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
}

/** pids of the agent (`run`) and its supervisor in this host's mount namespace. */
/**
 * The host's agent processes: the agent (the pid its status file names: a warm spare that took
 * over keeps `--standby` in its command line), its supervisor, and the warm spares.
 */
export async function agentPids(session: SshSession): Promise<{ agent: number[]; supervisor: number[]; spare: number[] }> {
  const { stdout } = await session.exec(`pgrep --ns $$ --nslist mnt -af 'orbit-agent.js (run|supervise)' || true`, { timeoutMs: 10_000 });
  const status = await agentStatus(session).catch(() => undefined);
  const processes = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ pid: Number(line.split(' ')[0]), argv: line.split(' ').slice(1) }));
  const mode = (p: { pid: number; argv: string[] }) => (p.argv.includes('supervise') ? 'supervisor' : p.pid === status?.pid || !p.argv.includes(STANDBY_ARG) ? 'agent' : 'spare');
  const pids = (wanted: string) => processes.filter((p) => mode(p) === wanted).map((p) => p.pid);
  return { agent: pids('agent'), supervisor: pids('supervisor'), spare: pids('spare') };
}

/**
 * Waits until one agent holds the role of `vm` with a protected pair and another stands by as
 * its replica; returns where each is. `session` gives a live session to a host by name.
 */
export async function waitForProtectedPair(session: (host: string) => Promise<SshSession>, vm: string, hosts: readonly string[], timeoutMs = 120_000): Promise<{ active: string; standby: string }> {
  let seen = '';
  return waitFor(
    'the pair to be protected (one agent active and protected, another standby)',
    async () => {
      const statuses = await Promise.all(hosts.map(async (h) => [h, await pairStatusOn(await session(h), vm).catch(() => undefined)] as const));
      seen = statuses.map(([h, s]) => `${h}: ${s ? `${s.role}/${s.local}/${s.protection}/${s.last}` : 'no status'}`).join('; ');
      const active = statuses.find(([, s]) => s?.role === 'held' && s.protection === 'protected');
      const standby = statuses.find(([, s]) => s?.protection === 'standby' && s.peerHost === active?.[0]);
      return active && standby && active[1]?.peerHost === standby[0] ? { active: active[0], standby: standby[0] } : undefined;
    },
    timeoutMs,
    250,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\nlast seen: ${seen}`);
  });
}

/** pollUntil with the limit as an argument (reads better at the call sites here). */
export function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  return pollUntil(what, probe, { timeoutMs, everyMs });
}

/**
 * Copies the agents' logs (agent and supervisor, JSON lines) of every host to a new directory
 * on this machine, one folder per host, before the agents (and their logs) are removed: what
 * happened stays readable after a failed test or benchmark round. Returns the directory.
 */
export async function saveAgentLogs(sessions: SshSession[], prefix: string): Promise<string> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  for (const s of sessions) {
    const logs = await s.exec(`cd ${AGENT_PATHS.logs} 2>/dev/null && tar cf - . | base64 -w0; true`, { timeoutMs: 30_000 }).catch(() => undefined);
    if (!logs?.stdout.trim()) continue;
    fs.mkdirSync(path.join(logDir, s.host.name));
    execFileSync('tar', ['xf', '-', '-C', path.join(logDir, s.host.name)], { input: Buffer.from(logs.stdout.trim(), 'base64') });
  }
  return logDir;
}

/** Live SSH sessions to lab hosts by name. */
export interface LabSessions {
  /** The host's session, reconnected if it was lost (a killed host, a partition). */
  session(host: string): Promise<SshSession>;
  /** Sessions to those of `hosts` that can be reached now. */
  reachable(hosts: readonly string[]): Promise<SshSession[]>;
  closeAll(): Promise<void>;
}

export function labSessions(lab: LabDescription): LabSessions {
  const open = new Map<string, SshSession>();
  const session = async (host: string): Promise<SshSession> => {
    const existing = open.get(host);
    if (existing?.isOpen) return existing;
    const fresh = await connectToLabHost(lab, host, { defaultTimeoutMs: 60_000 });
    open.set(host, fresh);
    return fresh;
  };
  return {
    session,
    reachable: async (hosts) => (await Promise.all(hosts.map((h) => session(h).catch(() => undefined)))).filter((s): s is SshSession => s !== undefined),
    closeAll: async () => {
      await Promise.all([...open.values()].map((s) => s.close()));
      open.clear();
    },
  };
}

/** Where a monitored lab pair runs: primary and secondary first, then the spares. */
export interface MonitoredPairHosts {
  primary: string;
  secondary: string;
  spares: string[];
}

export const monitoredPairHostNames = (hosts: MonitoredPairHosts): string[] => [hosts.primary, hosts.secondary, ...hosts.spares];

/**
 * What apply does for an `orbit_ft_vm` with monitoring, step by step: removes what an earlier
 * run left, installs an agent on every host, publishes the pair (the spec first, so the agents
 * watch it from its first moment), starts the COLO pair and waits until the agents report it
 * protected. Returns where the active and the standby run.
 */
export async function startMonitoredLabPair(
  lab: LabDescription,
  etcd: Etcd3,
  ssh: LabSessions,
  spec: VmSpecInput,
  hosts: MonitoredPairHosts,
  timeoutMs = 180_000,
): Promise<{ active: string; standby: string }> {
  const names = monitoredPairHostNames(hosts);
  await removePairFromEtcd(etcd, spec.name);
  await destroyPair(await Promise.all(names.map(ssh.session)), spec.name, { removeDisks: true });
  for (const h of names) await installLabAgent(lab, await ssh.session(h));
  await publishLabPair(lab, etcd, spec.name, [hosts.primary, hosts.secondary], hosts.spares);
  await startProtectedPair(await ssh.session(hosts.primary), await ssh.session(hosts.secondary), spec);
  return waitForProtectedPair(ssh.session, spec.name, names, timeoutMs);
}

/**
 * Undoes startMonitoredLabPair on every host that can be reached: keeps the agents' logs (in
 * the directory returned), removes the pair from etcd, destroys the VM with its disks and
 * removes the agents. `leftovers` lists whatever of the VM or the agents is still there.
 */
export async function removeMonitoredLabPair(etcd: Etcd3 | undefined, ssh: LabSessions, vm: string, hosts: readonly string[], logPrefix: string): Promise<{ logDir: string; leftovers: string[] }> {
  const reachable = await ssh.reachable(hosts);
  const logDir = await saveAgentLogs(reachable, logPrefix).catch((e: Error) => `(not saved: ${e.message})`);
  if (etcd) await removePairFromEtcd(etcd, vm).catch((e) => console.error(e));
  await destroyPair(reachable, vm, { removeDisks: true }).catch((e) => console.error(e));
  for (const s of reachable) await removeLabAgent(s).catch((e) => console.error(e));
  const leftovers: string[] = [];
  for (const s of reachable) {
    leftovers.push(...(await vmTraces(s, vm)).map((t) => `${s.host.name}: ${t}`));
    const pids = await agentPids(s);
    if (pids.agent.length + pids.supervisor.length + pids.spare.length > 0) leftovers.push(`${s.host.name}: agent processes ${JSON.stringify(pids)}`);
  }
  return { logDir, leftovers };
}
