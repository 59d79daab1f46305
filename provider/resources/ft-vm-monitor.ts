/**
 * The failover monitor of an orbit_ft_vm, as apply sets it up: the pair's signed runtime spec
 * in etcd (spec-publisher.ts) and an agent on each of the pair's hosts and spares
 * (agent-install.ts), from the provider's `monitor` and `etcd` blocks; and what Read reports
 * about it (the agents' release, the failovers they recorded).
 */
import * as fs from 'fs';
import { Etcd3 } from 'etcd3';
import { createPrivateKey } from 'crypto';
import { OrbitError } from '../framework/errors';
import { EtcdConfig, HostConfig, MonitorConfig, ProviderContext } from '../config/provider-context';
import { AttributePath } from '../protocol/attribute-path';
import { errorMessage } from '../ssh/host-errors';
import { KnownHosts } from '../ssh/known-hosts';
import { SshSession } from '../ssh/ssh-session';
import { AgentBundle, locateAgentBundle } from '../monitor/agent-bundle';
import { AgentHostSetup, ensureAgent, EnsureResult, readAgentStatusOn, removeAgent } from '../monitor/agent-install';
import { connectEtcd } from '../monitor/etcd-connection';
import { PairHost } from '../monitor/pair-spec';
import { PairEvent, pairsNaming, publishPairSpec, PublishResult, readPairEvents, removePairFromEtcd, verifyKeyPem } from '../monitor/spec-publisher';
import { FailoverTiming } from '../monitor/timing';
import { pollUntil } from '../ssh/poll';

export interface MonitoredPair {
  readonly vm: string;
  readonly primary: string;
  readonly secondary: string;
  readonly spares: readonly string[];
  readonly timing: FailoverTiming;
}

export const allHosts = (pair: Pick<MonitoredPair, 'primary' | 'secondary' | 'spares'>): string[] => [pair.primary, pair.secondary, ...pair.spares];

/** The provider's etcd and monitor configuration, or an error saying what to add. */
export function requireMonitor(provider: ProviderContext, attribute: AttributePath): { etcd: EtcdConfig; monitor: MonitorConfig } {
  const missing = [!provider.etcd && 'etcd', !provider.monitor && 'monitor'].filter(Boolean) as string[];
  if (missing.length > 0) {
    throw new OrbitError(`failover = "automatic" needs the failover monitor, but the provider has no ${missing.join(' and no ')} block`, {
      attribute,
      value: 'automatic',
      allowed: '"automatic" (with the provider\'s etcd and monitor blocks) or "manual"',
      fix: `add ${missing.map((m) => `${m} { ... }`).join(' and ')} to the provider "orbit" block (see the provider docs), or set failover = "manual" and fail over with orbit-ft`,
    });
  }
  return { etcd: provider.etcd!, monitor: provider.monitor! };
}

/** Every host an agent goes to must be configured, and have an etcd client certificate when etcd requires them. */
export function checkMonitorHosts(provider: ProviderContext, hosts: readonly string[], attribute: AttributePath): void {
  for (const name of hosts) {
    const host = provider.host(name, attribute);
    if (provider.etcd?.certPath && !host.agentCertPath) {
      throw new OrbitError(`Host "${name}" has no etcd client certificate for its failover monitor agent`, {
        attribute,
        value: name,
        detail: 'The provider talks to etcd with a client certificate (etcd cert_path), so etcd requires one; the agent on this host needs its own.',
        fix: `set agent_cert_path and agent_key_path in the hosts block of "${name}" (a certificate from the etcd cluster's CA)`,
      });
    }
  }
}

export function openEtcd(provider: ProviderContext): Etcd3 {
  const etcd = provider.etcd!;
  const tls = etcd.caPath ? { ca: fs.readFileSync(etcd.caPath), ...(etcd.certPath && etcd.keyPath ? { cert: fs.readFileSync(etcd.certPath), key: fs.readFileSync(etcd.keyPath) } : {}) } : undefined;
  return connectEtcd({ endpoints: etcd.endpoints, ...(tls ? { tls } : {}), callTimeoutMs: 10_000, dialTimeoutMs: 5000 });
}

export async function withEtcd<T>(provider: ProviderContext, attribute: AttributePath, work: (etcd: Etcd3) => Promise<T>): Promise<T> {
  const etcd = openEtcd(provider);
  try {
    return await work(etcd);
  } catch (error) {
    if (error instanceof OrbitError) throw error;
    throw new OrbitError(`etcd (${provider.etcd!.endpoints.join(', ')}) did not do what the failover monitor needs: ${errorMessage(error).split('\n')[0]}`, {
      attribute,
      fix: "check that etcd is up and reachable from where terraform runs, and the provider's etcd TLS files, then apply again",
    });
  } finally {
    etcd.close();
  }
}

/** A host as the pair spec carries it: how to reach it, which keys to trust, where its agent listens. */
export function pairHost(host: HostConfig, monitor: MonitorConfig): PairHost {
  return {
    name: host.name,
    sshAddress: host.address,
    sshPort: host.port,
    sshUser: host.user,
    hostKeys: pinnedKeys(host),
    replicationAddress: host.dataAddress,
    heartbeatAddress: host.address,
    heartbeatPort: monitor.heartbeatPort,
  };
}

function pinnedKeys(host: HostConfig): string[] {
  const pin = host.hostKey;
  switch (pin.kind) {
    case 'public-key':
      return [`${pin.algorithm} ${pin.key}`];
    case 'fingerprint':
      return [pin.sha256];
    case 'known-hosts':
      return KnownHosts.parse(pin.content, pin.source)
        .keysFor(host.address, host.port)
        .map((k) => `${k.type} ${k.blob.toString('base64')}`);
  }
}

export async function publishSpec(provider: ProviderContext, etcd: Etcd3, pair: MonitoredPair): Promise<PublishResult> {
  const monitor = provider.monitor!;
  const host = (name: string) => pairHost(provider.host(name), monitor);
  return publishPairSpec(etcd, createPrivateKey(fs.readFileSync(monitor.signingKeyPath)), {
    vm: pair.vm,
    hosts: [host(pair.primary), host(pair.secondary)],
    spareHosts: pair.spares.map(host),
    timing: pair.timing,
  });
}

/** What the agent on `name` gets, from the provider's configuration (key material read now). */
export function agentSetup(provider: ProviderContext, name: string): AgentHostSetup {
  const monitor = provider.monitor!;
  const etcd = provider.etcd!;
  const host = provider.host(name);
  return {
    host: name,
    nodeBinary: monitor.nodeBinary,
    serviceManager: monitor.serviceManager,
    etcdEndpoints: etcd.endpoints,
    listenAddress: host.address,
    heartbeatPort: monitor.heartbeatPort,
    ...(monitor.metricsPort !== undefined ? { metricsPort: monitor.metricsPort } : {}),
    specPublicKeyPem: verifyKeyPem(createPrivateKey(fs.readFileSync(monitor.signingKeyPath))),
    heartbeatKey: fs.readFileSync(monitor.heartbeatKeyPath),
    ...(etcd.caPath ? { etcdCa: fs.readFileSync(etcd.caPath) } : {}),
    ...(host.agentCertPath && host.agentKeyPath ? { etcdCert: fs.readFileSync(host.agentCertPath), etcdKey: fs.readFileSync(host.agentKeyPath) } : {}),
    ...(monitor.agentSshKeyPath ? { sshIdentity: fs.readFileSync(monitor.agentSshKeyPath) } : {}),
  };
}

/** One install at a time per host within this provider process (two pairs sharing a host apply in parallel). */
const hostLocks = new Map<string, Promise<unknown>>();

function serialized<T>(host: string, work: () => Promise<T>): Promise<T> {
  const previous = hostLocks.get(host) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(work);
  hostLocks.set(host, next);
  return next;
}

const sessionOf = (provider: ProviderContext, name: string, attribute: AttributePath, signal: AbortSignal): Promise<SshSession> => provider.remote(name, { attribute, signal }).session();

/** Installs (or upgrades) the agent on every host, in parallel; the bundle's release. */
export async function installAgents(provider: ProviderContext, hosts: readonly string[], attribute: AttributePath, signal: AbortSignal): Promise<{ bundle: AgentBundle; results: EnsureResult[] }> {
  const bundle = locateAgentBundle();
  const results = await Promise.all(
    hosts.map((name) => serialized(name, () => provider.remote(name, { attribute, signal }).withSession((session) => ensureAgent(session, bundle, agentSetup(provider, name))))),
  );
  return { bundle, results };
}

/** Removes the agent from those of `hosts` that no published pair names any more. Unreachable hosts are skipped (returned). */
export async function removeUnneededAgents(provider: ProviderContext, etcd: Etcd3, hosts: readonly string[], attribute: AttributePath, signal: AbortSignal): Promise<string[]> {
  const skipped: string[] = [];
  for (const name of new Set(hosts)) {
    if ((await pairsNaming(etcd, name)).length > 0) continue;
    await serialized(name, async () => {
      try {
        await provider.remote(name, { attribute, signal }).withSession((session) => removeAgent(session));
      } catch {
        skipped.push(name);
      }
    });
  }
  return skipped;
}

/**
 * Waits until the agents watch the pair and agree it is protected: one agent (on whichever
 * host runs the guest now: after runtime failovers it need not be primary_host) holds the role
 * and sees a live secondary, whose agent stands by. The failure names what each agent reported.
 */
export async function waitMonitored(provider: ProviderContext, pair: MonitoredPair, attribute: AttributePath, signal: AbortSignal, timeoutMs = 60_000): Promise<void> {
  let seen = '';
  const watched = await pollUntil(
    'the agents to watch the pair',
    async () => {
      const statuses = await Promise.all(
        allHosts(pair).map(async (name) => {
          const session = await sessionOf(provider, name, attribute, signal).catch(() => undefined);
          const status = session ? await readAgentStatusOn(session, 10_000).catch(() => undefined) : undefined;
          return { name, pair: status?.pairs[pair.vm] };
        }),
      );
      seen = statuses.map((s) => `${s.name}: ${s.pair ? `${s.pair.role}, ${s.pair.protection} (${s.pair.last})` : 'not watching it'}`).join('; ');
      const active = statuses.find((s) => s.pair?.role === 'held' && s.pair.protection === 'protected');
      return (active && statuses.some((s) => s.name === active.pair!.peerHost && s.pair?.protection === 'standby')) || undefined;
    },
    { timeoutMs, everyMs: 300, probeErrors: 'throw', timeoutError: () => new Error('not watched') },
  ).catch(() => false);
  if (watched) return;
  throw new OrbitError(`The failover monitor did not take the pair of VM "${pair.vm}" under watch within ${timeoutMs} ms`, {
    attribute,
    detail: `The agents report: ${seen}`,
    fix: "check the agents' logs in /var/lib/orbit/agent/log/ on the hosts (etcd reachable with the agent certificate? heartbeat port open between the hosts?), then apply again",
  });
}

/** Waits (bounded) until no reachable agent watches the pair any more (its spec was removed). */
export async function waitUnwatched(provider: ProviderContext, vm: string, hosts: readonly string[], signal: AbortSignal, timeoutMs = 10_000): Promise<string[]> {
  let watching = [...new Set(hosts)];
  // Bounded, not required: past the limit the caller goes on.
  await pollUntil(
    'the agents to drop the pair',
    async () => {
      const still = await Promise.all(
        watching.map(async (name) => {
          try {
            const session = await sessionOf(provider, name, [], signal);
            const status = await readAgentStatusOn(session, 5000);
            return status?.supervisorRunning && status.pairs[vm] ? name : undefined;
          } catch {
            return undefined; // unreachable: its agent cannot act on the pair's guest here anyway once it is destroyed
          }
        }),
      );
      watching = still.filter((n): n is string => n !== undefined);
      return watching.length === 0 || undefined;
    },
    { timeoutMs, everyMs: 200 },
  ).catch(() => undefined);
  return watching;
}

export interface MonitorObservation {
  /** The release every reachable host of the pair runs, or a description of what is off ("missing on site-a"). */
  agentRelease: string;
  failoverCount?: number;
  lastFailover?: string | null;
}

/** What Read reports about the monitor; unreachable hosts are left out, and an unreachable etcd leaves the counts unknown. */
export async function observeMonitor(provider: ProviderContext, pair: Pick<MonitoredPair, 'vm' | 'primary' | 'secondary' | 'spares'>, signal: AbortSignal): Promise<MonitorObservation> {
  const releases = await Promise.all(
    allHosts(pair).map(async (name) => {
      let session: SshSession;
      try {
        session = await sessionOf(provider, name, [], signal);
      } catch {
        return { name, release: undefined, skipped: true };
      }
      const status = await readAgentStatusOn(session, 10_000).catch(() => undefined);
      return { name, release: status?.supervisorRunning ? status.installedRelease : undefined, skipped: false };
    }),
  );
  const checked = releases.filter((r) => !r.skipped);
  const missing = checked.filter((r) => !r.release).map((r) => r.name);
  const distinct = [...new Set(checked.map((r) => r.release).filter(Boolean))];
  const agentRelease =
    missing.length > 0
      ? `missing on ${missing.join(', ')}`
      : distinct.length === 1
        ? distinct[0]!
        : distinct.length === 0
          ? 'no host reachable'
          : `mixed: ${checked.map((r) => `${r.name}=${r.release}`).join(', ')}`;
  let events: PairEvent[] | undefined;
  const etcd = openEtcd(provider);
  try {
    events = await readPairEvents(etcd, pair.vm);
  } catch {
    events = undefined;
  } finally {
    etcd.close();
  }
  if (!events) return { agentRelease };
  const failovers = events.filter((e) => e.kind === 'failover');
  const last = failovers[failovers.length - 1];
  return { agentRelease, failoverCount: failovers.length, lastFailover: last ? describeFailover(last) : null };
}

function describeFailover(event: PairEvent): string {
  const took = typeof event.callMs === 'number' ? ` (${event.callMs} ms)` : '';
  return `${event.at}: ${event.host} took over as ${event.as === 'secondary' ? 'the promoted secondary' : 'the primary running alone'}${took}: ${String(event.reason ?? '')}`;
}

export { removePairFromEtcd };
