// https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface OrbitProviderConfig {
  /**
  * Alias name
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#alias OrbitProvider#alias}
  */
  readonly alias?: string;
  /**
  * etcd block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#etcd OrbitProvider#etcd}
  */
  readonly etcd?: OrbitProviderEtcd;
  /**
  * hosts block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#hosts OrbitProvider#hosts}
  */
  readonly hosts?: OrbitProviderHosts[] | cdktf.IResolvable;
  /**
  * monitor block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#monitor OrbitProvider#monitor}
  */
  readonly monitor?: OrbitProviderMonitor;
}
export interface OrbitProviderEtcd {
  /**
  * CA certificate (PEM) to verify the etcd servers.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#ca_path OrbitProvider#ca_path}
  */
  readonly caPath?: string;
  /**
  * Client certificate (PEM) for TLS client authentication; needs key_path.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#cert_path OrbitProvider#cert_path}
  */
  readonly certPath?: string;
  /**
  * Client URLs, e.g. ["https://10.0.0.2:2379"].
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#endpoints OrbitProvider#endpoints}
  */
  readonly endpoints: string[];
  /**
  * Client private key (PEM) for TLS client authentication; needs cert_path.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#key_path OrbitProvider#key_path}
  */
  readonly keyPath?: string;
}

export function orbitProviderEtcdToTerraform(struct?: OrbitProviderEtcd | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    ca_path: cdktf.stringToTerraform(struct!.caPath),
    cert_path: cdktf.stringToTerraform(struct!.certPath),
    endpoints: cdktf.listMapper(cdktf.stringToTerraform, false)(struct!.endpoints),
    key_path: cdktf.stringToTerraform(struct!.keyPath),
  }
}


export function orbitProviderEtcdToHclTerraform(struct?: OrbitProviderEtcd | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    ca_path: {
      value: cdktf.stringToHclTerraform(struct!.caPath),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    cert_path: {
      value: cdktf.stringToHclTerraform(struct!.certPath),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    endpoints: {
      value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(struct!.endpoints),
      isBlock: false,
      type: "list",
      storageClassType: "stringList",
    },
    key_path: {
      value: cdktf.stringToHclTerraform(struct!.keyPath),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export interface OrbitProviderHosts {
  /**
  * IP address or DNS name to reach the host over SSH.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#address OrbitProvider#address}
  */
  readonly address: string;
  /**
  * TLS client certificate (PEM) of this host's failover monitor agent for etcd, when etcd requires client certificates (it should). Installed on the host with the agent. Needs agent_key_path.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#agent_cert_path OrbitProvider#agent_cert_path}
  */
  readonly agentCertPath?: string;
  /**
  * The private key (PEM) of agent_cert_path. Read by the provider and written to the host (mode 0600) over SSH; never stored in state.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#agent_key_path OrbitProvider#agent_key_path}
  */
  readonly agentKeyPath?: string;
  /**
  * The address other hosts reach this host at for VM traffic between hosts (live migration streams, disk copies), e.g. on a dedicated replication network. Default: address.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#data_address OrbitProvider#data_address}
  */
  readonly dataAddress?: string;
  /**
  * The host's pinned SSH key: a public key like "ssh-ed25519 AAAAC3Nza..." or a fingerprint like "SHA256:" followed by 43 base64 characters. One of host_key, known_hosts.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#host_key OrbitProvider#host_key}
  */
  readonly hostKey?: string;
  /**
  * OpenSSH known_hosts lines for the host, or the path of a known_hosts file. One of host_key, known_hosts.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#known_hosts OrbitProvider#known_hosts}
  */
  readonly knownHosts?: string;
  /**
  * The name resources use to refer to this host.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#name OrbitProvider#name}
  */
  readonly name: string;
  /**
  * SSH port. Default 22.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#port OrbitProvider#port}
  */
  readonly port?: number;
  /**
  * The SSH client private key itself (PEM or OpenSSH format). Write-only: never stored.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#private_key OrbitProvider#private_key}
  */
  readonly privateKey?: string;
  /**
  * Name of an environment variable holding the SSH client private key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#private_key_env OrbitProvider#private_key_env}
  */
  readonly privateKeyEnv?: string;
  /**
  * Path to the SSH client private key (`~` is expanded). One of private_key_path, private_key_env, private_key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#private_key_path OrbitProvider#private_key_path}
  */
  readonly privateKeyPath?: string;
  /**
  * The QEMU system emulator VMs on this host run with: a command on the host's PATH or an absolute path. Default "qemu-system-x86_64".
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#qemu_binary OrbitProvider#qemu_binary}
  */
  readonly qemuBinary?: string;
  /**
  * SSH user. Default root.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#user OrbitProvider#user}
  */
  readonly user?: string;
}

export function orbitProviderHostsToTerraform(struct?: OrbitProviderHosts | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    address: cdktf.stringToTerraform(struct!.address),
    agent_cert_path: cdktf.stringToTerraform(struct!.agentCertPath),
    agent_key_path: cdktf.stringToTerraform(struct!.agentKeyPath),
    data_address: cdktf.stringToTerraform(struct!.dataAddress),
    host_key: cdktf.stringToTerraform(struct!.hostKey),
    known_hosts: cdktf.stringToTerraform(struct!.knownHosts),
    name: cdktf.stringToTerraform(struct!.name),
    port: cdktf.numberToTerraform(struct!.port),
    private_key: cdktf.stringToTerraform(struct!.privateKey),
    private_key_env: cdktf.stringToTerraform(struct!.privateKeyEnv),
    private_key_path: cdktf.stringToTerraform(struct!.privateKeyPath),
    qemu_binary: cdktf.stringToTerraform(struct!.qemuBinary),
    user: cdktf.stringToTerraform(struct!.user),
  }
}


export function orbitProviderHostsToHclTerraform(struct?: OrbitProviderHosts | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    address: {
      value: cdktf.stringToHclTerraform(struct!.address),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    agent_cert_path: {
      value: cdktf.stringToHclTerraform(struct!.agentCertPath),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    agent_key_path: {
      value: cdktf.stringToHclTerraform(struct!.agentKeyPath),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    data_address: {
      value: cdktf.stringToHclTerraform(struct!.dataAddress),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    host_key: {
      value: cdktf.stringToHclTerraform(struct!.hostKey),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    known_hosts: {
      value: cdktf.stringToHclTerraform(struct!.knownHosts),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    name: {
      value: cdktf.stringToHclTerraform(struct!.name),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    port: {
      value: cdktf.numberToHclTerraform(struct!.port),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    private_key: {
      value: cdktf.stringToHclTerraform(struct!.privateKey),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    private_key_env: {
      value: cdktf.stringToHclTerraform(struct!.privateKeyEnv),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    private_key_path: {
      value: cdktf.stringToHclTerraform(struct!.privateKeyPath),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    qemu_binary: {
      value: cdktf.stringToHclTerraform(struct!.qemuBinary),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    user: {
      value: cdktf.stringToHclTerraform(struct!.user),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export interface OrbitProviderMonitor {
  /**
  * SSH private key the agents use to re-protect a pair onto another host (installed on every agent host, mode 0600). Its public key must be authorized on the hosts. Without it, agents never re-protect: a pair stays degraded after a failover until an operator runs `orbit-ft reprotect`.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#agent_ssh_key_path OrbitProvider#agent_ssh_key_path}
  */
  readonly agentSshKeyPath?: string;
  /**
  * A secret of at least 32 bytes (a file) that authenticates the agents' heartbeats to each other. Make one with `openssl rand 32 > heartbeat.key`.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#heartbeat_key_path OrbitProvider#heartbeat_key_path}
  */
  readonly heartbeatKeyPath: string;
  /**
  * UDP port the agents heartbeat each other on (on each host's address). Default 7400.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#heartbeat_port OrbitProvider#heartbeat_port}
  */
  readonly heartbeatPort?: number;
  /**
  * TCP port of each agent's Prometheus metrics (http://<host address>:<port>/metrics, bound to the host's address only). 0 turns metrics off. Default 9464.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#metrics_port OrbitProvider#metrics_port}
  */
  readonly metricsPort?: number;
  /**
  * Node.js (20 or newer) on the hosts, which runs the agent: a command on PATH or an absolute path. Default "node".
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#node_binary OrbitProvider#node_binary}
  */
  readonly nodeBinary?: string;
  /**
  * How agents are kept running: "systemd" (a unit with Restart=always, enabled at boot), "daemon" (a self-daemonizing supervisor; the host's boot must run /var/lib/orbit/agent/start), or "auto" (systemd where it is PID 1). Default "auto".
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#service_manager OrbitProvider#service_manager}
  */
  readonly serviceManager?: string;
  /**
  * Ed25519 private key (PEM, PKCS#8) that signs the pair specs the provider writes to etcd; agents get only its public half and act only on specs it signed. Make one with `openssl genpkey -algorithm ed25519 -out signing.key`; keep it where terraform runs, never on the hosts.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#signing_key_path OrbitProvider#signing_key_path}
  */
  readonly signingKeyPath: string;
}

export function orbitProviderMonitorToTerraform(struct?: OrbitProviderMonitor | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    agent_ssh_key_path: cdktf.stringToTerraform(struct!.agentSshKeyPath),
    heartbeat_key_path: cdktf.stringToTerraform(struct!.heartbeatKeyPath),
    heartbeat_port: cdktf.numberToTerraform(struct!.heartbeatPort),
    metrics_port: cdktf.numberToTerraform(struct!.metricsPort),
    node_binary: cdktf.stringToTerraform(struct!.nodeBinary),
    service_manager: cdktf.stringToTerraform(struct!.serviceManager),
    signing_key_path: cdktf.stringToTerraform(struct!.signingKeyPath),
  }
}


export function orbitProviderMonitorToHclTerraform(struct?: OrbitProviderMonitor | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    agent_ssh_key_path: {
      value: cdktf.stringToHclTerraform(struct!.agentSshKeyPath),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    heartbeat_key_path: {
      value: cdktf.stringToHclTerraform(struct!.heartbeatKeyPath),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    heartbeat_port: {
      value: cdktf.numberToHclTerraform(struct!.heartbeatPort),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    metrics_port: {
      value: cdktf.numberToHclTerraform(struct!.metricsPort),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    node_binary: {
      value: cdktf.stringToHclTerraform(struct!.nodeBinary),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    service_manager: {
      value: cdktf.stringToHclTerraform(struct!.serviceManager),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    signing_key_path: {
      value: cdktf.stringToHclTerraform(struct!.signingKeyPath),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}


/**
* Represents a {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs orbit}
*/
export class OrbitProvider extends cdktf.TerraformProvider {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "orbit";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a OrbitProvider resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the OrbitProvider to import
  * @param importFromId The id of the existing OrbitProvider that should be imported. Refer to the {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the OrbitProvider to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "orbit", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs orbit} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options OrbitProviderConfig = {}
  */
  public constructor(scope: Construct, id: string, config: OrbitProviderConfig = {}) {
    super(scope, id, {
      terraformResourceType: 'orbit',
      terraformGeneratorMetadata: {
        providerName: 'orbit',
        providerVersion: '0.1.0'
      },
      terraformProviderSource: 'registry.terraform.io/orbit/orbit'
    });
    this._alias = config.alias;
    this._etcd = config.etcd;
    this._hosts = config.hosts;
    this._monitor = config.monitor;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // alias - computed: false, optional: true, required: false
  private _alias?: string; 
  public get alias() {
    return this._alias;
  }
  public set alias(value: string | undefined) {
    this._alias = value;
  }
  public resetAlias() {
    this._alias = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get aliasInput() {
    return this._alias;
  }

  // etcd - computed: false, optional: true, required: false
  private _etcd?: OrbitProviderEtcd; 
  public get etcd() {
    return this._etcd;
  }
  public set etcd(value: OrbitProviderEtcd | undefined) {
    this._etcd = value;
  }
  public resetEtcd() {
    this._etcd = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get etcdInput() {
    return this._etcd;
  }

  // hosts - computed: false, optional: true, required: false
  private _hosts?: OrbitProviderHosts[] | cdktf.IResolvable; 
  public get hosts() {
    return this._hosts;
  }
  public set hosts(value: OrbitProviderHosts[] | cdktf.IResolvable | undefined) {
    this._hosts = value;
  }
  public resetHosts() {
    this._hosts = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get hostsInput() {
    return this._hosts;
  }

  // monitor - computed: false, optional: true, required: false
  private _monitor?: OrbitProviderMonitor; 
  public get monitor() {
    return this._monitor;
  }
  public set monitor(value: OrbitProviderMonitor | undefined) {
    this._monitor = value;
  }
  public resetMonitor() {
    this._monitor = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get monitorInput() {
    return this._monitor;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      alias: cdktf.stringToTerraform(this._alias),
      etcd: orbitProviderEtcdToTerraform(this._etcd),
      hosts: cdktf.listMapper(orbitProviderHostsToTerraform, true)(this._hosts),
      monitor: orbitProviderMonitorToTerraform(this._monitor),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      alias: {
        value: cdktf.stringToHclTerraform(this._alias),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      etcd: {
        value: orbitProviderEtcdToHclTerraform(this._etcd),
        isBlock: true,
        type: "struct",
        storageClassType: "OrbitProviderEtcd",
      },
      hosts: {
        value: cdktf.listMapperHcl(orbitProviderHostsToHclTerraform, true)(this._hosts),
        isBlock: true,
        type: "list",
        storageClassType: "OrbitProviderHostsList",
      },
      monitor: {
        value: orbitProviderMonitorToHclTerraform(this._monitor),
        isBlock: true,
        type: "struct",
        storageClassType: "OrbitProviderMonitor",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
