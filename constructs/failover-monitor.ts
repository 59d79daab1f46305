/**
 * The failover monitor of a topology: the agents the provider installs on the hosts of every
 * HighlyAvailableVm that fails over automatically (the provider's `monitor` block). Declared
 * once, on the Topology:
 *
 *   new Topology(stack, 'Topology', {
 *     etcd: { endpoints: ['https://10.0.0.2:2379'], caPath: 'ca.crt', certPath: 'tf.crt', keyPath: 'tf.key' },
 *     monitor: {
 *       signingKeyPath: 'monitor/signing.key',     // openssl genpkey -algorithm ed25519
 *       heartbeatKeyPath: 'monitor/heartbeat.key', // openssl rand 32
 *       agentSshKeyPath: 'monitor/agent_ed25519',  // lets agents re-protect onto other hosts
 *     },
 *   });
 */

/** How the agents are kept running on the hosts. */
export enum ServiceManager {
  /** systemd where it is PID 1, else a self-daemonizing supervisor. */
  AUTO = 'auto',
  /** A systemd unit with Restart=always, enabled at boot. */
  SYSTEMD = 'systemd',
  /** A self-daemonizing supervisor; the host's boot must run /var/lib/orbit/agent/start. */
  DAEMON = 'daemon',
}

export interface FailoverMonitorProps {
  /**
   * Ed25519 private key (PEM, PKCS#8) on the machine that runs terraform; it signs the pair specs
   * the agents act on. Never put it on the hosts.
   */
  readonly signingKeyPath: string;
  /** A file of at least 32 random bytes: the agents' shared heartbeat secret. */
  readonly heartbeatKeyPath: string;
  /**
   * SSH private key the agents re-protect pairs with (its public key authorized on the hosts).
   * @default - none: after a failover the pair stays degraded until an operator re-protects it (orbit-ft)
   */
  readonly agentSshKeyPath?: string;
  /**
   * UDP port of the agents' heartbeats.
   * @default 7400
   */
  readonly heartbeatPort?: number;
  /**
   * TCP port of each agent's Prometheus metrics, on the host's address; 0 turns them off.
   * @default 9464
   */
  readonly metricsPort?: number;
  /**
   * Node.js (20 or newer) on the hosts.
   * @default "node"
   */
  readonly nodeBinary?: string;
  /**
   * @default ServiceManager.AUTO
   */
  readonly serviceManager?: ServiceManager;
}
