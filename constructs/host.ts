/**
 * A host Orbit manages: how to reach it over SSH (address, user, client key, pinned host key),
 * what it runs VMs with, and what it can hold (capacity, optional). Created in a Site.
 */
import { Construct } from 'constructs';
import { OrbitProviderHosts } from '../provider/bindings/providers/orbit/provider';
import { OrbitValidationError } from './errors';
import { HostKey } from './host-key';
import type { Site } from './site';
import { SshKey } from './ssh-key';
import type { Topology } from './topology';
import { checkPattern, checkWholeNumber } from './validation';

export interface HostProps {
  /**
   * The host's name, which resources use to refer to it.
   * @default - the construct id
   */
  readonly name?: string;
  /** IP address or DNS name to reach the host over SSH. */
  readonly address: string;
  /**
   * SSH port.
   * @default 22
   */
  readonly sshPort?: number;
  /**
   * SSH user.
   * @default "root"
   */
  readonly sshUser?: string;
  /** The client key Orbit logs in with. */
  readonly sshKey: SshKey;
  /** The host's SSH key, pinned: Orbit never accepts an unknown host key. */
  readonly hostKey: HostKey;
  /**
   * Memory the host can give to VMs, in MiB (leave room for the host itself and QEMU overhead).
   * Automatic placement fills hosts up to it and the host capacity policy fails synth beyond it.
   * @default - not declared: anything fits, and the host is not checked
   */
  readonly memoryMib?: number;
  /**
   * vCPUs the host can give to VMs (overcommit included, if you want it).
   * @default - not declared: anything fits, and the host is not checked
   */
  readonly vcpus?: number;
  /**
   * The QEMU system emulator VMs on this host run with: a command on the host's PATH or an absolute path.
   * Fault-tolerant pairs need a COLO-capable build.
   * @default - the provider's default, "qemu-system-x86_64"
   */
  readonly qemuBinary?: string;
  /**
   * The address other hosts reach this host at for VM traffic (live migration, replication),
   * e.g. on a dedicated replication network.
   * @default - address
   */
  readonly dataAddress?: string;
  /**
   * TLS client certificate (PEM, on the machine that runs terraform) of this host's failover
   * monitor agent for etcd; needs agentKeyPath. Required on hosts of automatically failing-over
   * pairs when etcd takes client certificates (monitor policy).
   * @default - none
   */
  readonly agentCertPath?: string;
  /**
   * The private key of agentCertPath.
   * @default - none
   */
  readonly agentKeyPath?: string;
}

export class Host extends Construct {
  /** The name resources refer to the host by. */
  public readonly hostName: string;
  public readonly site: Site;
  public readonly topology: Topology;
  public readonly address: string;
  /** Declared memory capacity for VMs, in MiB; undefined when not declared. */
  public readonly memoryMib?: number;
  /** Declared vCPU capacity for VMs; undefined when not declared. */
  public readonly vcpus?: number;
  /** Whether the host has a TLS client certificate for its failover monitor agent. */
  public readonly hasAgentCertificate: boolean;
  private readonly props: HostProps;

  constructor(site: Site, id: string, props: HostProps) {
    super(site, id);
    this.site = site;
    this.topology = site.topology;
    this.props = props;
    this.hostName = props.name ?? id;
    this.address = props.address;
    this.memoryMib = props.memoryMib;
    this.vcpus = props.vcpus;
    this.hasAgentCertificate = props.agentCertPath !== undefined && props.agentKeyPath !== undefined;
    if ((props.agentCertPath === undefined) !== (props.agentKeyPath === undefined)) {
      throw new OrbitValidationError(this, {
        what: 'The agent certificate needs both agentCertPath and agentKeyPath',
        prop: props.agentCertPath === undefined ? 'agentCertPath' : 'agentKeyPath',
        fix: props.agentCertPath === undefined ? 'add agentCertPath, or remove agentKeyPath' : 'add agentKeyPath, or remove agentCertPath',
      });
    }
    checkPattern(this, 'name', this.hostName, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
      allowed: 'letters, digits, ".", "_" and "-", starting with a letter or digit',
      fix: 'pick a name like "site-a" or "kvm-01"',
    });
    checkWholeNumber(this, 'sshPort', props.sshPort, { min: 1, max: 65535, fix: 'use the port sshd listens on (22 unless changed)' });
    checkWholeNumber(this, 'memoryMib', props.memoryMib, { min: 1, fix: 'declare the MiB of memory VMs may use on this host, or leave it unset' });
    checkWholeNumber(this, 'vcpus', props.vcpus, { min: 1, fix: 'declare the vCPUs VMs may use on this host, or leave it unset' });
    site._registerHost(this);
    this.topology._registerHost(this);
  }

  /** Whether the host is in a witness site (runs no VMs). */
  public get isWitness(): boolean {
    return this.site.witness;
  }

  /** The provider's `hosts` block for this host. */
  public toProviderHost(): OrbitProviderHosts {
    const p = this.props;
    return {
      name: this.hostName,
      address: p.address,
      port: p.sshPort,
      user: p.sshUser,
      ...p.sshKey.config,
      ...p.hostKey.config,
      qemuBinary: p.qemuBinary,
      dataAddress: p.dataAddress,
      agentCertPath: p.agentCertPath,
      agentKeyPath: p.agentKeyPath,
    };
  }
}
