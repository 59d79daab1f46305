/** Shared fixtures for the construct tests: a stack with a two-site topology and a witness. */
import { Testing, TerraformStack } from 'cdktf';
import { HostKey } from './host-key';
import { SshKey } from './ssh-key';
import { Topology, TopologyProps } from './topology';
import type { Host, HostProps } from './host';

export const TEST_HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0rbit0rbit0rbit0rbit0rbit0rbit0rbit0rbit0rb';

export function testStack(id = 'test'): TerraformStack {
  return new TerraformStack(Testing.app(), id);
}

export function hostProps(address: string, extra: Partial<HostProps> = {}): HostProps {
  return { address, sshKey: SshKey.fromFile('/keys/orbit'), hostKey: HostKey.publicKey(TEST_HOST_KEY), ...extra };
}

export interface TwoSites {
  stack: TerraformStack;
  topology: Topology;
  a1: Host;
  a2: Host;
  b1: Host;
  b2: Host;
  witness?: Host;
}

/** The failover monitor's settings of the fixtures (etcd without client certificates: no agent certificates needed). */
export const TEST_MONITOR: Pick<TopologyProps, 'etcd' | 'monitor'> = {
  etcd: { endpoints: ['https://10.0.3.2:2379'], caPath: '/etc/orbit/etcd-ca.crt' },
  monitor: { signingKeyPath: '/etc/orbit/signing.key', heartbeatKeyPath: '/etc/orbit/heartbeat.key' },
};

/**
 * Sites a and b with two hosts each (a1, a2, b1, b2), and (unless `witness: false`) a witness
 * site; the topology has TEST_MONITOR unless `topology` is given.
 */
export function twoSites(options: { witness?: boolean; host?: Partial<HostProps>; topology?: TopologyProps } = {}): TwoSites {
  const stack = testStack();
  const topology = new Topology(stack, 'Topology', options.topology ?? TEST_MONITOR);
  const a = topology.addSite('a');
  const b = topology.addSite('b');
  const a1 = a.addHost('a1', hostProps('10.0.1.1', options.host));
  const a2 = a.addHost('a2', hostProps('10.0.1.2', options.host));
  const b1 = b.addHost('b1', hostProps('10.0.2.1', options.host));
  const b2 = b.addHost('b2', hostProps('10.0.2.2', options.host));
  let witness: Host | undefined;
  if (options.witness ?? true) witness = topology.addSite('witness', { witness: true }).addHost('w1', hostProps('10.0.3.1'));
  return { stack, topology, a1, a2, b1, b2, witness };
}

/** The synthesized configuration as an object. */
export function synthObject(stack: TerraformStack): any {
  return JSON.parse(Testing.synth(stack));
}
