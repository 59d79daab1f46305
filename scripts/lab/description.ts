import * as fs from 'fs';

/** One lab host: a network namespace with its own sshd, hostname and /var/lib/orbit, /run/orbit. */
export interface LabHost {
  /** Host name, also its UTS hostname inside the namespace (e.g. `site-a`). */
  name: string;
  /** Failure domain the host belongs to (`a`, `b`, `witness`). */
  site: string;
  /** Management address (SSH, etcd, replication traffic). */
  address: string;
  /** The host's own address on the VM network (guests are reachable from it). */
  vmAddress: string;
  sshPort: number;
  sshUser: string;
  /** Client private key accepted by this host's sshd. */
  privateKeyPath: string;
  /** `ssh-ed25519 AAAA...` host key that clients must pin. */
  hostKey: string;
  /** Network namespace name (`ip netns exec <netns>`). */
  netns: string;
  /** Bridge inside the namespace that VM taps join; it is uplinked to the shared VM network. */
  vmBridge: string;
}

export interface LabDescription {
  version: 1;
  hosts: LabHost[];
  /** OpenSSH known_hosts file with every host's key, for clients that pin keys. */
  knownHostsPath: string;
  privateKeyPath: string;
  /**
   * One etcd member, TLS only, client certificates required: `caPath` verifies the server,
   * `clients` holds a certificate and key per lab host (its agent) and `provider`.
   */
  etcd: { endpoints: string[]; address: string; netns: string; caPath: string; clients: Record<string, { certPath: string; keyPath: string }> };
  /**
   * The failover monitor's cluster keys (scripts/lab/monitor-keys.ts): the Ed25519 key the
   * provider signs pair specs with, and the agents' shared heartbeat secret.
   */
  monitor: { signingKeyPath: string; heartbeatKeyPath: string };
  network: {
    /** Management network (hosts, etcd); the machine itself is `clientAddress` on it. */
    mgmtCidr: string;
    clientAddress: string;
    /** VM network (guests); the machine itself is `vmClientAddress` on it. */
    vmCidr: string;
    vmClientAddress: string;
    /** Addresses handed to test guests, in order, by tests and stacks. */
    guestAddresses: string[];
  };
  /**
   * The QEMU lab hosts run: the COLO-capable build of scripts/qemu-colo/build.sh (stock QEMU 7.2
   * cannot run COLO under TCG, the only accelerator here). Absent when that build is missing:
   * hosts then have only the stock `qemu-system-x86_64`.
   */
  qemuBinary?: string;
  /** Where this description is written (also printed by `lab status`). */
  descriptionPath: string;
  /** Lab state directory removed by `lab down`. */
  stateDir: string;
}

export const DEFAULT_STATE_DIR = process.env.ORBIT_LAB_DIR ?? '/run/orbit-lab';
export const descriptionPath = (stateDir = DEFAULT_STATE_DIR) => `${stateDir}/lab.json`;

/** Reads the description written by `lab up`; a clear error when the lab is not up. */
export function readLabDescription(stateDir = DEFAULT_STATE_DIR): LabDescription {
  const file = descriptionPath(stateDir);
  if (!fs.existsSync(file)) {
    throw new Error(`No lab is up: ${file} does not exist. Start it with \`npm run lab -- up\`.`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as LabDescription;
}
