import * as fs from 'fs';
import * as path from 'path';
import { builtQemuColoBinary } from '../qemu-colo/qemu-colo';
import { DEFAULT_STATE_DIR, LabDescription, descriptionPath } from './description';
import { etcdEndpoint, etcdHealthy, startEtcd } from './etcd';
import { ensureEtcdTls } from './etcd-tls';
import { ensureMonitorKeys } from './monitor-keys';
import { commandExists, ip, run } from './exec';
import { deleteLink, deleteNetns, droppedDestinations, ensureBridges, ensureMgmtLink, ensureNetns, ensureVmLink, linkExists, listNetns } from './network';
import { ensureKeyPair, hostDirs, sshdAlive, startSshd, tcpReachable } from './sshd';
import { ETCD_ADDRESS, ETCD_NETNS, HOST_VM_BRIDGE, HostSpec, MGMT_BRIDGE, MGMT_PREFIX, VM_BRIDGE, VM_PREFIX, guestAddresses, hostAddress, hostVmAddress, hostNetns, parseHostSpecs } from './topology';

const SSH_PORT = 22;
const REQUIRED_COMMANDS: Array<[string, string]> = [
  ['ip', 'iproute2'],
  ['unshare', 'util-linux'],
  ['/usr/sbin/sshd', 'openssh-server'],
  ['ssh-keygen', 'openssh-client'],
  ['etcd', 'etcd-server'],
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['qemu-img', 'qemu-utils'],
];

export interface LabOptions {
  stateDir?: string;
  /** `name:site,...`; default site-a:a, site-b:b, witness:witness (or ORBIT_LAB_HOSTS). */
  hosts?: string;
}

async function checkPrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('The lab needs root (network namespaces, bridges, mounts). Run it as root.');
  const missing: string[] = [];
  for (const [command, pkg] of REQUIRED_COMMANDS) if (!(await commandExists(command))) missing.push(`${command} (Debian package ${pkg})`);
  if (missing.length > 0) {
    throw new Error(`The lab cannot start; missing: ${missing.join(', ')}. Install them with apt-get (see .ci/run).`);
  }
}

/** Brings the lab up, or repairs whatever part of it is missing. Safe to run again at any time. */
export async function labUp(opts: LabOptions = {}): Promise<LabDescription> {
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const specs = parseHostSpecs(opts.hosts ?? process.env.ORBIT_LAB_HOSTS);
  await checkPrerequisites();
  const existing = fs.existsSync(descriptionPath(stateDir)) ? (JSON.parse(fs.readFileSync(descriptionPath(stateDir), 'utf8')) as LabDescription) : undefined;
  if (existing && existing.hosts.map((h) => h.name).join(',') !== specs.map((s) => s.name).join(',')) {
    throw new Error(
      `The lab is already up with hosts ${existing.hosts.map((h) => h.name).join(', ')}; ` + `run \`npm run lab -- down\` before starting it with hosts ${specs.map((s) => s.name).join(', ')}.`,
    );
  }

  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const privateKeyPath = path.join(stateDir, 'id_ed25519');
  const clientKey = await ensureKeyPair(privateKeyPath, 'orbit-lab-client');
  const authorizedKeys = path.join(stateDir, 'authorized_keys');
  fs.writeFileSync(authorizedKeys, `${clientKey} orbit-lab-client\n`, { mode: 0o600 });

  await ensureBridges();
  await ensureNetns(ETCD_NETNS);
  await ensureMgmtLink('etcd', ETCD_NETNS, ETCD_ADDRESS);

  const hosts = await Promise.all(specs.map((spec, index) => ensureHost(stateDir, spec, index, privateKeyPath, authorizedKeys)));
  const etcdTls = ensureEtcdTls(stateDir, ETCD_ADDRESS, [...hosts.map((h) => h.name), 'provider']);
  await startEtcd(stateDir, etcdTls);
  const monitor = ensureMonitorKeys(stateDir);

  const qemuBinary = builtQemuColoBinary();
  const knownHostsPath = path.join(stateDir, 'known_hosts');
  fs.writeFileSync(knownHostsPath, hosts.map((h) => `${h.address} ${h.hostKey}\n`).join(''));
  const description: LabDescription = {
    version: 1,
    hosts,
    knownHostsPath,
    privateKeyPath,
    etcd: { endpoints: [etcdEndpoint], address: ETCD_ADDRESS, netns: ETCD_NETNS, caPath: etcdTls.caPath, clients: etcdTls.clients },
    monitor,
    network: {
      mgmtCidr: `${MGMT_PREFIX}.0/24`,
      clientAddress: `${MGMT_PREFIX}.1`,
      vmCidr: `${VM_PREFIX}.0/24`,
      vmClientAddress: `${VM_PREFIX}.1`,
      guestAddresses: guestAddresses(),
    },
    ...(qemuBinary ? { qemuBinary } : {}),
    descriptionPath: descriptionPath(stateDir),
    stateDir,
  };
  fs.writeFileSync(description.descriptionPath, JSON.stringify(description, null, 2) + '\n');
  return description;
}

async function ensureHost(stateDir: string, spec: HostSpec, index: number, privateKeyPath: string, authorizedKeys: string) {
  const netns = hostNetns(spec.name);
  const address = hostAddress(index);
  const dirs = hostDirs(stateDir, spec.name);
  fs.mkdirSync(dirs.root, { recursive: true });
  await ensureNetns(netns);
  await ensureMgmtLink(spec.name, netns, address);
  await ensureVmLink(spec.name, netns, hostVmAddress(index));
  const hostKey = await ensureKeyPair(dirs.hostKey, `orbit-lab-${spec.name}`);
  if (!(await sshdAlive(dirs))) {
    await startSshd({ name: spec.name, netns, address, port: SSH_PORT, dirs, authorizedKeys });
  }
  return {
    name: spec.name,
    site: spec.site,
    address,
    vmAddress: hostVmAddress(index),
    sshPort: SSH_PORT,
    sshUser: 'root',
    privateKeyPath,
    hostKey,
    netns,
    vmBridge: HOST_VM_BRIDGE,
  };
}

/** Tears the lab down completely and verifies that nothing is left. */
export async function labDown(opts: { stateDir?: string } = {}): Promise<void> {
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  for (const netns of await listNetns()) await deleteNetns(netns);
  await killProcessesReferencing(stateDir);
  for (const link of await labRootLinks()) await deleteLink(link);
  fs.rmSync(stateDir, { recursive: true, force: true });
  for (const dir of ['/run/orbit', '/var/lib/orbit']) removeIfEmpty(dir);
  const left = await labLeftovers(stateDir);
  if (left.length > 0) throw new Error(`lab down left things behind:\n  ${left.join('\n  ')}`);
}

function removeIfEmpty(dir: string): void {
  try {
    if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  } catch {
    // absent already, or in use by something that is not the lab
  }
}

async function labRootLinks(): Promise<string[]> {
  const out = (await ip(['-o', 'link', 'show'])).stdout;
  return out
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0])
    .filter((n): n is string => !!n && (n === MGMT_BRIDGE || n === VM_BRIDGE || /^o[mv]-/.test(n)));
}

function processesReferencing(text: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (cmdline.includes(text)) found.push({ pid, cmdline });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function killProcessesReferencing(stateDir: string): Promise<void> {
  const pids = processesReferencing(stateDir).map((p) => String(p.pid));
  if (pids.length > 0) await run('kill', ['-9', ...pids], { allowFailure: true });
}

/** Everything the lab could leave behind: namespaces, links, processes, mounts, its state dir. */
export async function labLeftovers(stateDir = DEFAULT_STATE_DIR): Promise<string[]> {
  const left: string[] = [];
  for (const ns of await listNetns()) left.push(`network namespace ${ns}`);
  for (const link of await labRootLinks()) left.push(`link ${link}`);
  for (const p of processesReferencing(stateDir)) left.push(`process ${p.pid}: ${p.cmdline}`);
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  for (const m of mounts) if (m.includes(stateDir) || m.includes('orbit-run')) left.push(`mount ${m}`);
  if (fs.existsSync(stateDir)) left.push(`directory ${stateDir}`);
  return left;
}

export interface HostStatus {
  name: string;
  alive: boolean;
  sshReachable: boolean;
  uplinks: 'up' | 'down';
  /** Addresses this host's packets are dropped for (partitions). */
  unreachable: string[];
}

export interface LabStatus {
  up: boolean;
  description?: LabDescription;
  hosts: HostStatus[];
  etcdHealthy: boolean;
}

/** The lab as it is right now: which hosts live, which are cut off, whether etcd answers. */
export async function labStatus(opts: { stateDir?: string } = {}): Promise<LabStatus> {
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  if (!fs.existsSync(descriptionPath(stateDir))) return { up: false, hosts: [], etcdHealthy: false };
  const description = JSON.parse(fs.readFileSync(descriptionPath(stateDir), 'utf8')) as LabDescription;
  const hosts = await Promise.all(
    description.hosts.map(async (h) => {
      const exists = (await listNetns()).includes(h.netns);
      const eth0Up = exists && (await linkExists('eth0', h.netns)) && (await ip(['-o', 'link', 'show', 'eth0'], h.netns)).stdout.includes(',UP');
      const unreachable = exists ? await droppedDestinations(h.netns) : [];
      return {
        name: h.name,
        alive: await sshdAlive(hostDirs(stateDir, h.name)),
        sshReachable: await tcpReachable(h.address, h.sshPort, 500),
        uplinks: eth0Up ? ('up' as const) : ('down' as const),
        unreachable,
      };
    }),
  );
  return { up: true, description, hosts, etcdHealthy: await etcdHealthy(stateDir) };
}
