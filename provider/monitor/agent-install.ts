/**
 * Installs, upgrades and removes the monitor agent on a host, over SSH (the provider's side).
 *
 * On the host:
 *
 *   /var/lib/orbit/agent/releases/<release>/   the bundle (agent-bundle.ts), content-addressed
 *   /var/lib/orbit/agent/current               symlink to the release in use
 *   /var/lib/orbit/agent/config.json           the agent's config (agent.ts AgentConfig), 0600
 *   /var/lib/orbit/agent/keys/                 spec verification key, heartbeat secret, etcd client
 *                                              certificate and key, SSH identity: 0600, root only
 *   /var/lib/orbit/agent/installed.json        release + hash of everything above: "is it current?"
 *   /var/lib/orbit/agent/start                 starts the supervisor unless it runs (daemon mode;
 *                                              what a host's boot runs: the lab's `heal` does)
 *   /var/lib/orbit/agent/log/                  agent.log, supervisor.log (JSON lines), agent.out
 *   /run/orbit/agent/                          supervisor.pid, status.json (tmpfs)
 *
 * Service manager: where systemd is PID 1, a unit (`orbit-agent.service`, Restart=always,
 * enabled: it comes back at boot); elsewhere the supervisor daemonizes itself (setsid) and the
 * host's boot must run /var/lib/orbit/agent/start. `auto` picks by looking at PID 1.
 *
 * `ensureAgent` is idempotent: nothing is written or restarted when the host already runs the
 * same release with the same configuration. A change restarts the supervisor and its agent; the
 * new agent adopts the roles the old one held (active-role.ts), and until it does the guests are
 * guarded by their watchdog deadlines, so guests never notice an upgrade unless it takes longer
 * than the fencing budget (then they fail over, which is what the budget is for).
 *
 * Secrets travel only over the SSH session (SFTP, written 0600 atomically) and never appear in
 * command lines or logs.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { describeHost, HostAddress, HostError, RemoteFileError } from '../ssh/host-errors';
import { SshSession } from '../ssh/ssh-session';
import type { AgentStatus } from './agent';
import { AGENT_ENTRY, AgentBundle } from './agent-bundle';
import type { InstalledAgentConfig } from './agent-main';
import { pollUntil } from '../ssh/poll';

export const AGENT_ROOT = '/var/lib/orbit/agent';
export const AGENT_RUN_DIR = '/run/orbit/agent';
export const AGENT_PATHS = {
  releases: `${AGENT_ROOT}/releases`,
  current: `${AGENT_ROOT}/current`,
  config: `${AGENT_ROOT}/config.json`,
  keys: `${AGENT_ROOT}/keys`,
  installed: `${AGENT_ROOT}/installed.json`,
  start: `${AGENT_ROOT}/start`,
  logs: `${AGENT_ROOT}/log`,
  pidFile: `${AGENT_RUN_DIR}/supervisor.pid`,
  status: `${AGENT_RUN_DIR}/status.json`,
  unit: '/etc/systemd/system/orbit-agent.service',
} as const;

export type ServiceManager = 'auto' | 'systemd' | 'daemon';

/** What the provider knows about one host's agent. */
export interface AgentHostSetup {
  /** The host's name (the agent's identity in the pair specs). */
  readonly host: string;
  /** Node.js on the host: a command on PATH or an absolute path. */
  readonly nodeBinary: string;
  readonly serviceManager: ServiceManager;
  readonly etcdEndpoints: readonly string[];
  /** Where the agent listens for heartbeats (UDP) and serves metrics (TCP): the host's management address. */
  readonly listenAddress: string;
  readonly heartbeatPort: number;
  /** Omitted: no metrics endpoint. */
  readonly metricsPort?: number;
  /** Key material, written under keys/ (0600). */
  readonly specPublicKeyPem: string;
  readonly heartbeatKey: Buffer;
  readonly etcdCa?: Buffer;
  readonly etcdCert?: Buffer;
  readonly etcdKey?: Buffer;
  /** The identity agents re-protect with; without it this agent never re-protects. */
  readonly sshIdentity?: Buffer;
}

export interface EnsureResult {
  readonly host: string;
  readonly release: string;
  readonly mode: 'systemd' | 'daemon';
  /** False when the host already ran this release with this configuration. */
  readonly changed: boolean;
  readonly tookMs: number;
}

/** Installing or running the agent failed; says where, what and the fix. */
export class AgentInstallError extends HostError {
  constructor(host: HostAddress, summary: string, fix: string, options?: { cause?: unknown }) {
    super(host, `The failover monitor agent on ${describeHost(host)}: ${summary}`, fix, options);
  }
}

const MIN_NODE_MAJOR = 20;
const CALL_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 20_000;

/** Installs or upgrades the agent and leaves it running with this release and configuration. */
export async function ensureAgent(session: SshSession, bundle: AgentBundle, setup: AgentHostSetup): Promise<EnsureResult> {
  const started = Date.now();
  const node = await findNode(session, setup.nodeBinary);
  const mode = await serviceMode(session, setup.serviceManager);
  const files = keyFiles(setup);
  const config = agentConfig(setup, bundle.release, files, mode);
  const configHash = hashOf([bundle.release, mode, node, JSON.stringify(config), ...files.map((f) => `${f.path}\0${f.content.toString('base64')}`)]);

  const installed = await readJson<{ release: string; configHash: string }>(session, AGENT_PATHS.installed);
  if (installed?.configHash === configHash && (await supervisorRunning(session))) {
    return { host: setup.host, release: bundle.release, mode, changed: false, tookMs: Date.now() - started };
  }

  await uploadRelease(session, bundle);
  await session.exec(`mkdir -p ${AGENT_PATHS.keys} ${AGENT_PATHS.logs} && chmod 0700 ${AGENT_PATHS.keys}`, { timeoutMs: CALL_TIMEOUT_MS });
  for (const file of files) await session.writeFile(file.path, file.content, { mode: 0o600, timeoutMs: CALL_TIMEOUT_MS });
  await session.writeFile(AGENT_PATHS.config, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, timeoutMs: CALL_TIMEOUT_MS });
  await session.writeFile(AGENT_PATHS.start, startScript(node), { mode: 0o755, timeoutMs: CALL_TIMEOUT_MS });
  await session.exec(`ln -sfn releases/${bundle.release} ${AGENT_PATHS.current}.new && mv -T ${AGENT_PATHS.current}.new ${AGENT_PATHS.current}`, { timeoutMs: CALL_TIMEOUT_MS });

  await stopSupervisor(session);
  if (mode === 'systemd') {
    await session.writeFile(AGENT_PATHS.unit, systemdUnit(node), { mode: 0o644, timeoutMs: CALL_TIMEOUT_MS });
    await session.exec('systemctl daemon-reload && systemctl enable orbit-agent.service && systemctl restart orbit-agent.service', { timeoutMs: CALL_TIMEOUT_MS });
  } else {
    await session.exec(AGENT_PATHS.start, { timeoutMs: CALL_TIMEOUT_MS });
  }
  await waitReady(session, bundle.release);
  await session.writeFile(AGENT_PATHS.installed, `${JSON.stringify({ release: bundle.release, configHash, installedAt: new Date().toISOString() })}\n`, { mode: 0o600, timeoutMs: CALL_TIMEOUT_MS });
  // Keep the release in use and the one before it.
  await session.exec(`cd ${AGENT_PATHS.releases} && for r in *; do [ "$r" = ${bundle.release} ] || [ "$r" = ${installed?.release ?? '-'} ] || rm -rf -- "$r"; done`, {
    timeoutMs: CALL_TIMEOUT_MS,
    allowFailure: true,
  });
  return { host: setup.host, release: bundle.release, mode, changed: true, tookMs: Date.now() - started };
}

/** Stops the agent for good and removes everything it had on the host. Safe to run again. */
export async function removeAgent(session: SshSession): Promise<void> {
  await session.exec(
    [
      'if [ -f /etc/systemd/system/orbit-agent.service ]; then systemctl disable --now orbit-agent.service >/dev/null 2>&1; rm -f /etc/systemd/system/orbit-agent.service; systemctl daemon-reload >/dev/null 2>&1; fi',
      'true',
    ].join('\n'),
    { timeoutMs: CALL_TIMEOUT_MS },
  );
  await stopSupervisor(session);
  await session.exec(`rm -rf ${AGENT_ROOT} ${AGENT_RUN_DIR}`, { timeoutMs: CALL_TIMEOUT_MS });
}

/** What a host says of its agent (one SSH round trip): the status file, whether the supervisor runs, the installed release. */
export type HostAgentStatus = AgentStatus & { supervisorRunning: boolean; installedRelease?: string };

const SECTION = '--orbit-section--';

/** The agent's status on the host (agent.ts), or undefined when it has none. */
export async function readAgentStatusOn(session: SshSession, timeoutMs = CALL_TIMEOUT_MS): Promise<HostAgentStatus | undefined> {
  const { stdout } = await session.exec(
    `cat ${AGENT_PATHS.status} 2>/dev/null; echo ${SECTION}; cat ${AGENT_PATHS.installed} 2>/dev/null; echo ${SECTION}; if ${SUPERVISOR_PID}; then echo running; fi`,
    { timeoutMs },
  );
  const [statusText = '', installedText = '', supervisor = ''] = stdout.split(`${SECTION}\n`);
  const status = parseJson<AgentStatus>(statusText);
  if (!status) return undefined;
  const installedRelease = parseJson<{ release?: string }>(installedText)?.release;
  return { ...status, supervisorRunning: supervisor.trim() === 'running', ...(installedRelease ? { installedRelease } : {}) };
}

function parseJson<T>(text: string): T | undefined {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

interface KeyFile {
  path: string;
  content: Buffer;
}

function keyFiles(setup: AgentHostSetup): KeyFile[] {
  const file = (name: string, content: Buffer | string | undefined): KeyFile[] => (content === undefined ? [] : [{ path: `${AGENT_PATHS.keys}/${name}`, content: Buffer.from(content) }]);
  return [
    ...file('spec-signing.pub', setup.specPublicKeyPem),
    ...file('heartbeat.key', setup.heartbeatKey),
    ...file('etcd-ca.crt', setup.etcdCa),
    ...file('etcd-client.crt', setup.etcdCert),
    ...file('etcd-client.key', setup.etcdKey),
    ...file('ssh-identity', setup.sshIdentity),
  ];
}

function agentConfig(setup: AgentHostSetup, release: string, files: KeyFile[], mode: 'systemd' | 'daemon'): InstalledAgentConfig {
  const has = (name: string) => files.some((f) => f.path.endsWith(`/${name}`));
  const key = (name: string) => `${AGENT_PATHS.keys}/${name}`;
  return {
    host: setup.host,
    release,
    etcd: {
      endpoints: [...setup.etcdEndpoints],
      ...(has('etcd-ca.crt') ? { caPath: key('etcd-ca.crt') } : {}),
      ...(has('etcd-client.crt') ? { certPath: key('etcd-client.crt'), keyPath: key('etcd-client.key') } : {}),
    },
    specPublicKeyPath: key('spec-signing.pub'),
    heartbeat: { address: setup.listenAddress, port: setup.heartbeatPort, keyPath: key('heartbeat.key') },
    ...(setup.metricsPort !== undefined ? { metrics: { address: setup.listenAddress, port: setup.metricsPort } } : {}),
    ...(has('ssh-identity') ? { ssh: { privateKeyPath: key('ssh-identity') } } : {}),
    logPath: `${AGENT_PATHS.logs}/agent.log`,
    statusPath: AGENT_PATHS.status,
    supervisor: {
      logPath: `${AGENT_PATHS.logs}/supervisor.log`,
      pidFile: AGENT_PATHS.pidFile,
      agentOutPath: `${AGENT_PATHS.logs}/agent.out`,
      // Under systemd, systemd restarts a dead supervisor; as a daemon, its agent does.
      ...(mode === 'daemon' ? { respawnCommand: AGENT_PATHS.start } : {}),
    },
  };
}

function hashOf(parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 32);
}

async function findNode(session: SshSession, nodeBinary: string): Promise<string> {
  const quoted = shellQuote(nodeBinary);
  const result = await session.exec(`p=$(command -v ${quoted}) || exit 3; echo "$p"; "$p" -e 'process.stdout.write(process.versions.node)'`, { timeoutMs: CALL_TIMEOUT_MS, allowFailure: true });
  const [where, version] = result.stdout.trim().split('\n');
  const major = Number(version?.split('.')[0]);
  if (result.code !== 0 || !where || !Number.isInteger(major)) {
    throw new AgentInstallError(
      session.host,
      `Node.js (${nodeBinary}) is not installed or does not run`,
      `install Node.js ${MIN_NODE_MAJOR} or newer on the host, or set node_binary in the provider's monitor block to its path`,
    );
  }
  if (major < MIN_NODE_MAJOR) {
    throw new AgentInstallError(
      session.host,
      `Node.js ${version} at ${where} is too old (the agent needs ${MIN_NODE_MAJOR} or newer)`,
      `install Node.js ${MIN_NODE_MAJOR}+ on the host, or set node_binary in the provider's monitor block to a newer one`,
    );
  }
  return where;
}

async function serviceMode(session: SshSession, wanted: ServiceManager): Promise<'systemd' | 'daemon'> {
  if (wanted === 'daemon') return 'daemon';
  const { stdout } = await session.exec('cat /proc/1/comm 2>/dev/null; command -v systemctl >/dev/null && echo has-systemctl; true', { timeoutMs: CALL_TIMEOUT_MS });
  const systemd = stdout.split('\n')[0].trim() === 'systemd' && stdout.includes('has-systemctl');
  if (wanted === 'systemd' && !systemd) {
    throw new AgentInstallError(session.host, 'service_manager is "systemd" but systemd is not PID 1 on the host', 'set service_manager = "daemon" (or "auto") in the provider\'s monitor block');
  }
  return systemd ? 'systemd' : 'daemon';
}

async function uploadRelease(session: SshSession, bundle: AgentBundle): Promise<void> {
  const dir = `${AGENT_PATHS.releases}/${bundle.release}`;
  const complete = await session.exec(`test -f ${dir}/.complete`, { timeoutMs: CALL_TIMEOUT_MS, allowFailure: true });
  if (complete.code === 0) return;
  await session.exec(`rm -rf ${dir} && mkdir -p ${dir}/bin ${dir}/proto`, { timeoutMs: CALL_TIMEOUT_MS });
  for (const file of bundle.files) await session.writeFile(`${dir}/${file}`, fs.readFileSync(path.join(bundle.dir, file)), { mode: 0o644, timeoutMs: 120_000 });
  await session.exec(`touch ${dir}/.complete`, { timeoutMs: CALL_TIMEOUT_MS });
}

/** The supervisor's pid when it runs (checked against its command line), else nothing. */
const SUPERVISOR_PID = `pid=$(cat ${AGENT_PATHS.pidFile} 2>/dev/null) && [ -n "$pid" ] && tr '\\0' ' ' < /proc/$pid/cmdline 2>/dev/null | grep -q 'orbit-agent.js supervise'`;

async function supervisorRunning(session: SshSession): Promise<boolean> {
  const result = await session.exec(SUPERVISOR_PID, { timeoutMs: CALL_TIMEOUT_MS, allowFailure: true });
  return result.code === 0;
}

/** SIGTERM to the supervisor (it stops its agent), SIGKILL after 8 s; also a unit, if any. */
async function stopSupervisor(session: SshSession): Promise<void> {
  await session.exec(
    [
      `if [ -f ${AGENT_PATHS.unit} ] && command -v systemctl >/dev/null; then systemctl stop orbit-agent.service >/dev/null 2>&1; fi`,
      // The agents (only in this host's mount namespace: lab hosts share one process table; "[o]"
      // keeps this shell, whose command line holds the pattern, from matching itself). A
      // signalled agent exits without starting a new supervisor (supervisor-respawn.ts).
      `stop_agents() { pkill -TERM --ns $$ --nslist mnt -f '[o]rbit-agent.js run --config ${AGENT_PATHS.config}' 2>/dev/null; }`,
      `if ${SUPERVISOR_PID}; then`,
      '  kill -TERM "$pid"',
      '  for i in $(seq 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done',
      // A supervisor that did not stop: its agent first, so that it is not orphaned and hands over.
      '  if kill -0 "$pid" 2>/dev/null; then stop_agents; sleep 0.5; kill -KILL "$pid" 2>/dev/null; fi',
      'fi',
      // An agent whose supervisor had been SIGKILLed by someone else: stop it too.
      'stop_agents',
      `rm -f ${AGENT_PATHS.pidFile}`,
      'true',
    ].join('\n'),
    { timeoutMs: CALL_TIMEOUT_MS },
  );
}

async function waitReady(session: SshSession, release: string): Promise<void> {
  let last: AgentStatus | undefined;
  // The error at the deadline is built below, with the agent's logs (an SSH call).
  const notReady = new Error('not ready');
  const ready = await pollUntil(
    'the agent to be ready',
    async () => {
      last = await readJson<AgentStatus>(session, AGENT_PATHS.status).catch(() => undefined);
      if (!(last?.ready && last.release === release)) return undefined;
      const alive = await session.exec(`kill -0 ${last.pid}`, { timeoutMs: CALL_TIMEOUT_MS, allowFailure: true });
      return alive.code === 0 || undefined;
    },
    { timeoutMs: READY_TIMEOUT_MS, everyMs: 200, probeErrors: 'throw', timeoutError: () => notReady },
  ).catch((error: unknown) => {
    if (error === notReady) return false;
    throw error;
  });
  if (ready) return;
  const tail = await session.exec(`tail -n 15 ${AGENT_PATHS.logs}/agent.out ${AGENT_PATHS.logs}/agent.log ${AGENT_PATHS.logs}/supervisor.log 2>/dev/null | cut -c1-400; true`, {
    timeoutMs: CALL_TIMEOUT_MS,
    allowFailure: true,
  });
  throw new AgentInstallError(
    session.host,
    `it did not become ready within ${READY_TIMEOUT_MS} ms (status: ${last ? JSON.stringify({ ready: last.ready, release: last.release, pid: last.pid }) : 'none'}). Its logs end with:\n${tail.stdout.trim()}`,
    'check that the host reaches etcd (endpoints, TLS client certificate) and that the heartbeat and metrics ports are free, then apply again',
  );
}

async function readJson<T>(session: SshSession, file: string, timeoutMs = CALL_TIMEOUT_MS): Promise<T | undefined> {
  let text: string;
  try {
    text = (await session.readFile(file, { timeoutMs })).toString('utf8');
  } catch (error) {
    if (error instanceof RemoteFileError && error.code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function startScript(node: string): string {
  return `#!/bin/sh
# Starts the Orbit failover monitor's supervisor unless it already runs. Written by the orbit
# provider; run by apply, and by the host's boot where systemd does not manage the agent.
${SUPERVISOR_PID} && exit 0
mkdir -p ${AGENT_RUN_DIR} ${AGENT_PATHS.logs}
cd /
setsid -f ${shellQuote(node)} ${AGENT_PATHS.current}/${AGENT_ENTRY} supervise --config ${AGENT_PATHS.config} >>${AGENT_PATHS.logs}/supervisor.out 2>&1 </dev/null
`;
}

function systemdUnit(node: string): string {
  return `# Written by the orbit provider.
[Unit]
Description=Orbit failover monitor (supervisor and agent)
After=network-online.target
Wants=network-online.target

[Service]
ExecStartPre=/bin/mkdir -p ${AGENT_RUN_DIR} ${AGENT_PATHS.logs}
ExecStart=${node} ${AGENT_PATHS.current}/${AGENT_ENTRY} supervise --config ${AGENT_PATHS.config}
Restart=always
RestartSec=1
KillMode=mixed

[Install]
WantedBy=multi-user.target
`;
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
