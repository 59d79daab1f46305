/**
 * What every Orbit resource receives from the configured provider (the framework's provider
 * data): the hosts it may reach (with how to authenticate and which host key to trust), the
 * monitor and the etcd cluster. Parsed and validated from the `provider "orbit"` block by
 * provider/provider.ts; host-connections.ts builds sessions from these descriptions.
 */
import type { HostConnector, RemoteHost, RemoteHostOptions } from './host-connections';
import { AttributePath } from '../protocol/attribute-path';
import { OrbitError } from '../framework/errors';
import { definitionsFor } from '../framework/provider-data';

/** Where the SSH client key comes from. The key material itself is read when connecting. */
export type PrivateKeySource = { readonly kind: 'path'; readonly path: string } | { readonly kind: 'env'; readonly variable: string } | { readonly kind: 'inline'; readonly pem: string };

/** How the host's SSH key is pinned. Unknown or changed keys are always an error, never accepted. */
export type HostKeyPin =
  /** An OpenSSH public key line without host name: `ssh-ed25519 AAAA...`. */
  | { readonly kind: 'public-key'; readonly algorithm: string; readonly key: string }
  /** `SHA256:` + unpadded base64 of the key's SHA-256, as `ssh-keygen -lf` prints it. */
  | { readonly kind: 'fingerprint'; readonly sha256: string }
  /** known_hosts lines (OpenSSH format, hashed or plain); `source` is the file or `inline`. */
  | { readonly kind: 'known-hosts'; readonly content: string; readonly source: string };

export interface HostConfig {
  /** The name resources use to refer to the host. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: PrivateKeySource;
  readonly hostKey: HostKeyPin;
  /** The QEMU system emulator VMs on this host run with (command on PATH or absolute path). */
  readonly qemuBinary: string;
  /** Where other hosts reach this host for migration and replication streams. */
  readonly dataAddress: string;
  /** TLS client certificate and key of this host's monitor agent for etcd (PEM files on the provider's machine). */
  readonly agentCertPath?: string;
  readonly agentKeyPath?: string;
}

/** The failover monitor agents: their keys and how they run (provider "orbit" { monitor { ... } }). */
export interface MonitorConfig {
  /** Ed25519 private key (PKCS#8 PEM) the provider signs pair specs with; agents get its public half. */
  readonly signingKeyPath: string;
  /** The agents' shared heartbeat secret (a file of at least 32 bytes). */
  readonly heartbeatKeyPath: string;
  /** The SSH identity agents re-protect with (installed on every agent host); none: agents never re-protect. */
  readonly agentSshKeyPath?: string;
  readonly heartbeatPort: number;
  /** Omitted: agents serve no metrics. */
  readonly metricsPort?: number;
  /** Node.js on the hosts (command on PATH or absolute path). */
  readonly nodeBinary: string;
  readonly serviceManager: 'auto' | 'systemd' | 'daemon';
}

export interface EtcdConfig {
  readonly endpoints: readonly string[];
  readonly caPath?: string;
  readonly certPath?: string;
  readonly keyPath?: string;
}

export interface ProviderContext {
  readonly terraformVersion: string;
  readonly hosts: ReadonlyMap<string, HostConfig>;
  readonly etcd: EtcdConfig | undefined;
  readonly monitor: MonitorConfig | undefined;
  /** The configured host called `name`; an OrbitError naming the configured hosts otherwise. */
  host(name: string, attribute?: AttributePath): HostConfig;
  /**
   * The configured host called `name`, to run commands on and move files to. Errors (unknown
   * host, unreachable, refused, failed command) are OrbitErrors shown at `options.attribute`.
   */
  remote(name: string, options?: RemoteHostOptions): RemoteHost;
}

export function createProviderContext(options: {
  terraformVersion: string;
  hosts?: readonly HostConfig[];
  etcd?: EtcdConfig;
  monitor?: MonitorConfig;
  /** How to reach hosts (provider.ts passes the SSH one); without it `remote` throws. */
  connector?: HostConnector;
}): ProviderContext {
  const hosts = new Map((options.hosts ?? []).map((h) => [h.name, h]));
  const host = (name: string, attribute?: AttributePath): HostConfig => {
    const found = hosts.get(name);
    if (!found) {
      throw new OrbitError(`Unknown host "${name}"`, {
        attribute,
        value: name,
        allowed: hosts.size > 0 ? [...hosts.keys()] : 'no hosts are configured',
        fix: `add a hosts { name = "${name}" ... } entry to the provider "orbit" block, or use one of the configured hosts`,
      });
    }
    return found;
  };
  return {
    terraformVersion: options.terraformVersion,
    hosts,
    etcd: options.etcd,
    monitor: options.monitor,
    host,
    remote(name, remoteOptions = {}) {
      const config = host(name, remoteOptions.attribute);
      if (!options.connector) throw new Error('this provider context was created without a host connector (a bug in the provider)');
      return options.connector.connect(config, remoteOptions);
    },
  };
}

/** Orbit's resources and data sources: every request's `provider` is the ProviderContext. */
export const { defineResource, defineDataSource } = definitionsFor<ProviderContext>();
