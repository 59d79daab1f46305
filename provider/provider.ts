/**
 * The `orbit` provider: its configuration (hosts reached over SSH with pinned host keys, and
 * the etcd cluster) and the list of resources and data sources it serves.
 *
 *   provider "orbit" {
 *     hosts {
 *       name             = "site-a"
 *       address          = "10.0.0.11"
 *       private_key_path = "~/.ssh/orbit"
 *       host_key         = "ssh-ed25519 AAAAC3Nza..."
 *     }
 *     etcd { endpoints = ["http://10.0.0.2:2379"] }
 *   }
 *
 * Nothing is required at the top level, because `cdktf get` configures the provider with `{}`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AttributePath } from './protocol/attribute-path';
import { t } from './protocol/cty-type';
import { Diagnostics } from './protocol/diagnostics';
import { errorToDiagnostic, OrbitError } from './framework/errors';
import { MaybeUnknown, ModelOf, Unknowable } from './framework/model';
import { defineProvider } from './framework/provider-definition';
import { createProviderContext, EtcdConfig, HostConfig, HostKeyPin, MonitorConfig, PrivateKeySource } from './config/provider-context';
import { block, nested, optional, required, schema } from './framework/schema-builder';
import { between, integer, matches, oneOf } from './framework/validators';
import { sharedHostConnector } from './config/host-connections';
import { VM_SPEC_DEFAULTS } from './qemu/vm-spec';
import { KnownHosts, KnownHostsFormatError, sha256Fingerprint } from './ssh/known-hosts';
import { diskResource } from './resources/disk-resource';
import { imageResource } from './resources/image-resource';
import { hostDataSource } from './resources/host-data-source';
import { vmResource } from './resources/vm-resource';
import { ftVmResource } from './resources/ft-vm-resource';
import { loadSigningKey } from './monitor/pair-spec';

const DEFAULT_QEMU_BINARY = VM_SPEC_DEFAULTS.qemuBinary;
const HOST_KEY_PATTERN = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}(\s.*)?$/;
const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;
const HOST_KEY_ALLOWED = 'a public key like "ssh-ed25519 AAAAC3Nza..." or a fingerprint like "SHA256:" followed by 43 base64 characters';

const hostBlock = block({
  description: 'A host Orbit manages over SSH.',
  attributes: {
    name: required(t.string, {
      description: 'The name resources use to refer to this host.',
      validators: [matches(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit', 'site-a')],
    }),
    address: required(t.string, { description: 'IP address or DNS name to reach the host over SSH.' }),
    port: optional(t.number, { default: 22, description: 'SSH port. Default 22.', validators: [integer(), between(1, 65535)] }),
    user: optional(t.string, { default: 'root', description: 'SSH user. Default root.' }),
    private_key_path: optional(t.string, {
      description: 'Path to the SSH client private key (`~` is expanded). One of private_key_path, private_key_env, private_key.',
    }),
    private_key_env: optional(t.string, {
      description: 'Name of an environment variable holding the SSH client private key.',
      validators: [matches(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name', 'ORBIT_SSH_KEY')],
    }),
    private_key: optional(t.string, {
      sensitive: true,
      writeOnly: true,
      description: 'The SSH client private key itself (PEM or OpenSSH format). Write-only: never stored.',
    }),
    host_key: optional(t.string, {
      description: `The host's pinned SSH key: ${HOST_KEY_ALLOWED}. One of host_key, known_hosts.`,
      validators: [validateHostKey],
    }),
    known_hosts: optional(t.string, {
      description: 'OpenSSH known_hosts lines for the host, or the path of a known_hosts file. One of host_key, known_hosts.',
    }),
    qemu_binary: optional(t.string, {
      default: DEFAULT_QEMU_BINARY,
      description: `The QEMU system emulator VMs on this host run with: a command on the host's PATH or an absolute path. Default "${DEFAULT_QEMU_BINARY}".`,
      validators: [matches(/^([A-Za-z0-9_.+-]+|\/[^\s]+)$/, 'a command name or an absolute path without spaces', '/opt/qemu/bin/qemu-system-x86_64')],
    }),
    data_address: optional(t.string, {
      description: 'The address other hosts reach this host at for VM traffic between hosts (live migration streams, disk copies), e.g. on a dedicated replication network. Default: address.',
      validators: [matches(/^[A-Za-z0-9.:-]+$/, 'an IP address or DNS name', '10.99.0.11')],
    }),
    agent_cert_path: optional(t.string, {
      description:
        "TLS client certificate (PEM) of this host's failover monitor agent for etcd, when etcd requires client certificates (it should). Installed on the host with the agent. Needs agent_key_path.",
    }),
    agent_key_path: optional(t.string, {
      description: 'The private key (PEM) of agent_cert_path. Read by the provider and written to the host (mode 0600) over SSH; never stored in state.',
    }),
  },
});

const monitorBlock = block({
  description:
    'The failover monitor: one agent per host, installed by apply on the hosts of every orbit_ft_vm with failover = "automatic". Agents hold the active role of each pair in etcd, heartbeat each other, fail over, fence and re-protect.',
  attributes: {
    signing_key_path: required(t.string, {
      description:
        'Ed25519 private key (PEM, PKCS#8) that signs the pair specs the provider writes to etcd; agents get only its public half and act only on specs it signed. Make one with `openssl genpkey -algorithm ed25519 -out signing.key`; keep it where terraform runs, never on the hosts.',
    }),
    heartbeat_key_path: required(t.string, {
      description: "A secret of at least 32 bytes (a file) that authenticates the agents' heartbeats to each other. Make one with `openssl rand 32 > heartbeat.key`.",
    }),
    agent_ssh_key_path: optional(t.string, {
      description:
        'SSH private key the agents use to re-protect a pair onto another host (installed on every agent host, mode 0600). Its public key must be authorized on the hosts. Without it, agents never re-protect: a pair stays degraded after a failover until an operator runs `orbit-ft reprotect`.',
    }),
    heartbeat_port: optional(t.number, {
      default: 7400,
      description: "UDP port the agents heartbeat each other on (on each host's address). Default 7400.",
      validators: [integer(), between(1, 65535)],
    }),
    metrics_port: optional(t.number, {
      default: 9464,
      description: "TCP port of each agent's Prometheus metrics (http://<host address>:<port>/metrics, bound to the host's address only). 0 turns metrics off. Default 9464.",
      validators: [integer(), between(0, 65535)],
    }),
    node_binary: optional(t.string, {
      default: 'node',
      description: 'Node.js (20 or newer) on the hosts, which runs the agent: a command on PATH or an absolute path. Default "node".',
      validators: [matches(/^([A-Za-z0-9_.+-]+|\/[^\s]+)$/, 'a command name or an absolute path without spaces', '/usr/bin/node')],
    }),
    service_manager: optional(t.string, {
      default: 'auto',
      description:
        'How agents are kept running: "systemd" (a unit with Restart=always, enabled at boot), "daemon" (a self-daemonizing supervisor; the host\'s boot must run /var/lib/orbit/agent/start), or "auto" (systemd where it is PID 1). Default "auto".',
      validators: [oneOf(['auto', 'systemd', 'daemon'])],
    }),
  },
});

const etcdBlock = block({
  description: 'The etcd cluster that holds runtime specs, leases and fencing tokens.',
  attributes: {
    endpoints: required(t.list(t.string), {
      description: 'Client URLs, e.g. ["https://10.0.0.2:2379"].',
      validators: [validateEndpoints],
    }),
    ca_path: optional(t.string, { description: 'CA certificate (PEM) to verify the etcd servers.' }),
    cert_path: optional(t.string, { description: 'Client certificate (PEM) for TLS client authentication; needs key_path.' }),
    key_path: optional(t.string, { description: 'Client private key (PEM) for TLS client authentication; needs cert_path.' }),
  },
});

export const orbitProviderSchema = schema({
  description: 'Orbit: highly available QEMU VMs on ordinary Linux hosts, driven over SSH.',
  blocks: {
    hosts: nested.list(hostBlock),
    etcd: nested.single(etcdBlock),
    monitor: nested.single(monitorBlock),
  },
});

type OrbitConfig = ModelOf<typeof orbitProviderSchema.block>;
type HostModel = OrbitConfig['hosts'][number];

export const orbitProvider = defineProvider({
  typeName: 'orbit',
  schema: orbitProviderSchema,
  validate: ({ config, diagnostics }) => validateOrbitConfig(config, diagnostics),
  configure: ({ config, terraformVersion, diagnostics }) => {
    validateOrbitConfig(config, diagnostics);
    const hosts: HostConfig[] = [];
    (config.hosts ?? []).forEach((host, index) => {
      if (!host || !isKnownHost(host)) return;
      try {
        hosts.push(parseHost(host, ['hosts', index]));
      } catch (error) {
        diagnostics.add(errorToDiagnostic(error, { block: orbitProviderSchema.block }));
      }
    });
    let monitor: MonitorConfig | undefined;
    try {
      monitor = parseMonitor(config.monitor);
    } catch (error) {
      diagnostics.add(errorToDiagnostic(error, { block: orbitProviderSchema.block }));
    }
    return createProviderContext({ terraformVersion, hosts, etcd: parseEtcd(config.etcd), monitor, connector: sharedHostConnector() });
  },
  resources: [imageResource, diskResource, vmResource, ftVmResource],
  dataSources: [hostDataSource],
});

/** Checks that need more than one attribute. Values may be unknown here; those are skipped. */
function validateOrbitConfig(config: Unknowable<OrbitConfig>, diagnostics: Diagnostics): void {
  const seen = new Map<string, number>();
  (config.hosts ?? []).forEach((host, index) => {
    if (!host) return;
    const where: AttributePath = ['hosts', index];
    const label = typeof host.name === 'string' ? `Host "${host.name}"` : `hosts[${index}]`;
    const report = (error: OrbitError) => diagnostics.add(errorToDiagnostic(error, { block: orbitProviderSchema.block }));

    if (typeof host.name === 'string') {
      const first = seen.get(host.name);
      if (first !== undefined) {
        report(
          new OrbitError(`${label} is configured twice (hosts[${first}] and hosts[${index}])`, {
            attribute: [...where, 'name'],
            value: host.name,
            fix: 'give every host a unique name',
          }),
        );
      }
      seen.set(host.name, index);
    }

    const keySources = (['private_key_path', 'private_key_env', 'private_key'] as const).filter((name) => host[name] !== null);
    if (keySources.length !== 1) {
      report(
        new OrbitError(keySources.length === 0 ? `${label} has no SSH client key` : `${label} has more than one SSH client key`, {
          attribute: where,
          allowed: 'exactly one of private_key_path, private_key_env, private_key',
          fix: keySources.length === 0 ? 'set private_key_path = "<path to the key>" (or private_key_env / private_key)' : `keep one of ${keySources.join(', ')} and remove the others`,
        }),
      );
    }

    const pins = (['host_key', 'known_hosts'] as const).filter((name) => host[name] !== null);
    if (pins.length !== 1) {
      const address = typeof host.address === 'string' ? host.address : '<address>';
      report(
        new OrbitError(pins.length === 0 ? `${label} has no pinned host key` : `${label} pins its host key twice`, {
          attribute: where,
          allowed: `exactly one of host_key (${HOST_KEY_ALLOWED}) or known_hosts (known_hosts lines or a file path)`,
          fix:
            pins.length === 0
              ? `set host_key to the host's key, e.g. the content of /etc/ssh/ssh_host_ed25519_key.pub on the host, ` +
                `or the output of \`ssh-keyscan -t ed25519 ${address}\` from a network you trust. Orbit never accepts unknown host keys.`
              : 'keep either host_key or known_hosts',
        }),
      );
    }
  });

  (config.hosts ?? []).forEach((host, index) => {
    if (host && (host.agent_cert_path === null) !== (host.agent_key_path === null) && host.agent_cert_path !== undefined && host.agent_key_path !== undefined) {
      diagnostics.add(
        errorToDiagnostic(
          new OrbitError(`Host ${typeof host.name === 'string' ? `"${host.name}"` : `hosts[${index}]`}'s agent certificate needs both agent_cert_path and agent_key_path`, {
            attribute: ['hosts', index],
            fix: host.agent_cert_path === null ? 'add agent_cert_path, or remove agent_key_path' : 'add agent_key_path, or remove agent_cert_path',
          }),
        ),
      );
    }
  });

  const etcd = config.etcd;
  if (etcd && (etcd.cert_path === null) !== (etcd.key_path === null)) {
    diagnostics.add(
      errorToDiagnostic(
        new OrbitError('etcd TLS client authentication needs both cert_path and key_path', {
          attribute: ['etcd'],
          fix: etcd.cert_path === null ? 'add cert_path, or remove key_path' : 'add key_path, or remove cert_path',
        }),
      ),
    );
  }
}

function isKnownHost(host: NonNullable<MaybeUnknown<HostModel>>): host is HostModel {
  return Object.values(host).every((v) => v !== undefined);
}

function parseHost(host: HostModel, where: AttributePath): HostConfig {
  return {
    name: host.name,
    address: host.address,
    port: host.port ?? 22,
    user: host.user ?? 'root',
    privateKey: parsePrivateKey(host, where),
    hostKey: parseHostKey(host, where),
    qemuBinary: host.qemu_binary ?? DEFAULT_QEMU_BINARY,
    dataAddress: host.data_address ?? host.address,
    ...(host.agent_cert_path !== null ? { agentCertPath: readablePath(host.agent_cert_path, [...where, 'agent_cert_path'], `Host "${host.name}"'s agent certificate`) } : {}),
    ...(host.agent_key_path !== null ? { agentKeyPath: readablePath(host.agent_key_path, [...where, 'agent_key_path'], `Host "${host.name}"'s agent key`) } : {}),
  };
}

/** A file the provider reads later (keys, certificates): checked now, so the error points at the attribute. */
function readablePath(value: string, where: AttributePath, what: string): string {
  const file = expandHome(value);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw new OrbitError(`${what} ${file} cannot be read`, { attribute: where, value, fix: 'point it at a readable file on the machine terraform runs on' });
  }
  return file;
}

function parseMonitor(monitor: MaybeUnknown<OrbitConfig['monitor']>): MonitorConfig | undefined {
  if (!monitor || typeof monitor.signing_key_path !== 'string' || typeof monitor.heartbeat_key_path !== 'string') return undefined;
  const signingKeyPath = readablePath(monitor.signing_key_path, ['monitor', 'signing_key_path'], 'The monitor signing key');
  const heartbeatKeyPath = readablePath(monitor.heartbeat_key_path, ['monitor', 'heartbeat_key_path'], 'The monitor heartbeat key');
  const heartbeatBytes = fs.statSync(heartbeatKeyPath).size;
  if (heartbeatBytes < 32) {
    throw new OrbitError(`The heartbeat key ${heartbeatKeyPath} has ${heartbeatBytes} bytes`, {
      attribute: ['monitor', 'heartbeat_key_path'],
      allowed: 'a file of at least 32 bytes',
      fix: 'make one with `openssl rand 32 > heartbeat.key`',
    });
  }
  try {
    loadSigningKey(fs.readFileSync(signingKeyPath));
  } catch (error) {
    throw new OrbitError(`The monitor signing key ${signingKeyPath} cannot be used: ${(error as Error).message.split('. Fix:')[0]}`, {
      attribute: ['monitor', 'signing_key_path'],
      allowed: 'an Ed25519 private key in PEM (PKCS#8)',
      fix: 'make one with `openssl genpkey -algorithm ed25519 -out signing.key`',
    });
  }
  const metricsPort = typeof monitor.metrics_port === 'number' ? monitor.metrics_port : 9464;
  return {
    signingKeyPath,
    heartbeatKeyPath,
    ...(typeof monitor.agent_ssh_key_path === 'string' ? { agentSshKeyPath: readablePath(monitor.agent_ssh_key_path, ['monitor', 'agent_ssh_key_path'], "The agents' SSH key") } : {}),
    heartbeatPort: typeof monitor.heartbeat_port === 'number' ? monitor.heartbeat_port : 7400,
    ...(metricsPort > 0 ? { metricsPort } : {}),
    nodeBinary: typeof monitor.node_binary === 'string' ? monitor.node_binary : 'node',
    serviceManager: (typeof monitor.service_manager === 'string' ? monitor.service_manager : 'auto') as MonitorConfig['serviceManager'],
  };
}

function parsePrivateKey(host: HostModel, where: AttributePath): PrivateKeySource {
  if (host.private_key !== null) return { kind: 'inline', pem: host.private_key };
  if (host.private_key_env !== null) {
    const variable = host.private_key_env;
    if (!process.env[variable]) {
      throw new OrbitError(`The environment variable ${variable} for host "${host.name}"'s SSH key is not set`, {
        attribute: [...where, 'private_key_env'],
        value: variable,
        fix: `export ${variable} (the private key itself) in the environment terraform runs in`,
      });
    }
    return { kind: 'env', variable };
  }
  const file = expandHome(host.private_key_path ?? '');
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw new OrbitError(`Host "${host.name}"'s SSH key ${file} cannot be read`, {
      attribute: [...where, 'private_key_path'],
      value: host.private_key_path,
      fix: 'point private_key_path at a readable private key file',
    });
  }
  return { kind: 'path', path: file };
}

function parseHostKey(host: HostModel, where: AttributePath): HostKeyPin {
  if (host.host_key !== null) {
    const pin = host.host_key.trim();
    if (FINGERPRINT_PATTERN.test(pin)) return { kind: 'fingerprint', sha256: pin };
    const [algorithm, key] = pin.split(/\s+/);
    return { kind: 'public-key', algorithm, key };
  }
  const value = host.known_hosts ?? '';
  const isContent = /\s/.test(value.trim());
  let content = value;
  let source = 'inline';
  if (!isContent) {
    source = expandHome(value);
    try {
      content = fs.readFileSync(source, 'utf8');
    } catch {
      throw new OrbitError(`Host "${host.name}"'s known_hosts file ${source} cannot be read`, {
        attribute: [...where, 'known_hosts'],
        value,
        fix: 'point known_hosts at a readable file, or put the known_hosts lines themselves in it',
      });
    }
  }
  let known: KnownHosts;
  try {
    known = KnownHosts.parse(content, source);
  } catch (error) {
    if (!(error instanceof KnownHostsFormatError)) throw error;
    throw new OrbitError(`Host "${host.name}"'s known_hosts cannot be used: ${error.problem}`, {
      attribute: [...where, 'known_hosts'],
      value: isContent ? undefined : value,
      detail: error.lineNumber !== undefined ? `The problem is on line ${error.lineNumber}${isContent ? '' : ` of ${source}`}.` : undefined,
      fix: error.fix,
    });
  }
  if (known.keysFor(host.address, host.port ?? 22).length === 0) {
    const name = (host.port ?? 22) === 22 ? host.address : `[${host.address}]:${host.port}`;
    throw new OrbitError(`known_hosts has no key for host "${host.name}" (${name})`, {
      attribute: [...where, 'known_hosts'],
      value: isContent ? undefined : value,
      allowed: `a line starting with ${name} (plain or hashed)`,
      fix: `add the host's key for ${name} to known_hosts (e.g. from /etc/ssh/ssh_host_ed25519_key.pub on the host)`,
    });
  }
  return { kind: 'known-hosts', content, source };
}

function parseEtcd(etcd: MaybeUnknown<OrbitConfig['etcd']>): EtcdConfig | undefined {
  if (!etcd || !Array.isArray(etcd.endpoints)) return undefined;
  return {
    endpoints: etcd.endpoints.filter((e): e is string => typeof e === 'string'),
    caPath: typeof etcd.ca_path === 'string' ? expandHome(etcd.ca_path) : undefined,
    certPath: typeof etcd.cert_path === 'string' ? expandHome(etcd.cert_path) : undefined,
    keyPath: typeof etcd.key_path === 'string' ? expandHome(etcd.key_path) : undefined,
  };
}

function validateHostKey(value: string, where: AttributePath): void {
  const pin = value.trim();
  if (FINGERPRINT_PATTERN.test(pin)) return;
  const problem = HOST_KEY_PATTERN.test(pin) ? embeddedAlgorithmProblem(pin) : 'it is neither an SSH public key nor a SHA256 fingerprint';
  if (problem) {
    throw new OrbitError('Invalid host key', {
      attribute: where,
      value,
      allowed: HOST_KEY_ALLOWED,
      detail: `The value is not usable: ${problem}.`,
      fix: 'copy the whole line of /etc/ssh/ssh_host_ed25519_key.pub from the host, or its fingerprint from `ssh-keygen -lf` on that file',
    });
  }
}

/** An OpenSSH key blob starts with its own algorithm name; a mismatch means a damaged or mixed-up key. */
function embeddedAlgorithmProblem(pin: string): string | undefined {
  const [algorithm, blob] = pin.split(/\s+/);
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < 4) return 'the key is truncated';
  const length = bytes.readUInt32BE(0);
  const embedded = bytes.subarray(4, 4 + length).toString('latin1');
  return embedded === algorithm ? undefined : `the key data is for "${embedded || 'nothing'}", not "${algorithm}"`;
}

function validateEndpoints(endpoints: string[], where: AttributePath): void {
  endpoints.forEach((endpoint, index) => {
    if (!/^https?:\/\/[^/\s]+$/.test(endpoint)) {
      throw new OrbitError('Invalid etcd endpoint', {
        attribute: [...where, index],
        value: endpoint,
        allowed: 'a URL like "https://10.0.0.2:2379" (http or https, host and port, no path)',
        fix: 'write each endpoint as scheme://host:port',
      });
    }
  });
}

function expandHome(file: string): string {
  return file.startsWith('~/') ? path.join(os.homedir(), file.slice(2)) : file;
}

/** `SHA256:...` fingerprint of an OpenSSH public key blob (base64), as `ssh-keygen -l` prints it. */
export function sshFingerprint(base64Blob: string): string {
  return sha256Fingerprint(Buffer.from(base64Blob, 'base64'));
}
