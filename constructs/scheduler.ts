/**
 * Automatic placement: deterministic, stable across synths, and capacity-aware.
 *
 * Hosts are ranked per VM by rendezvous hashing (the SHA-256 of "<vm name>/<host name>",
 * highest first), and the VM goes to the first eligible host in that order with room for it
 * (capacity.ts). The ranking depends only on the VM's name and the host names, so adding a VM
 * or a host does not shuffle the others; only a host that fills up sends later VMs to their next
 * choice, and VMs are considered in declaration order. When no eligible host has room, the
 * first eligible host is taken anyway and the host capacity policy reports it at synth.
 * Witness hosts are never eligible. Pin hosts explicitly where a move would hurt.
 */
import { createHash } from 'crypto';
import { IConstruct } from 'constructs';
import { HostLoad, hasRoom } from './capacity';
import { OrbitValidationError } from './errors';
import type { Host } from './host';
import type { Topology } from './topology';

/** `hosts` in rendezvous order for `key`. */
export function rankHosts(key: string, hosts: readonly Host[]): Host[] {
  const score = (host: Host) => createHash('sha256').update(`${key}/${host.hostName}`).digest('hex');
  return hosts
    .map((host) => ({ host, score: score(host) }))
    .sort((a, b) => (a.score === b.score ? a.host.hostName.localeCompare(b.host.hostName) : a.score < b.score ? 1 : -1))
    .map((entry) => entry.host);
}

/**
 * The host for `load` among the topology's non-witness hosts that pass `eligible`; undefined when
 * none does.
 */
export function pickHost(topology: Topology, key: string, load: HostLoad, eligible: (host: Host) => boolean = () => true): Host | undefined {
  const candidates = rankHosts(
    key,
    topology.hosts.filter((h) => !h.isWitness && eligible(h)),
  );
  return candidates.find((h) => hasRoom(h, topology.loadOn(h), load)) ?? candidates[0];
}

/** Throws unless `host` (given in prop `prop` of `scope`) can run VMs of `topology`. */
export function checkVmHost(scope: IConstruct, topology: Topology, prop: string, host: Host): void {
  if (host.topology !== topology) {
    throw new OrbitValidationError(scope, {
      what: `${prop} is a host of another stack's topology (${host.node.path})`,
      prop,
      value: host.hostName,
      fix: "use a host declared in this stack's Topology",
    });
  }
  if (host.isWitness) {
    throw new OrbitValidationError(scope, {
      what: `${prop} "${host.hostName}" is in the witness site "${host.site.siteName}", which runs no VMs`,
      prop,
      value: host.hostName,
      allowed:
        topology.hosts
          .filter((h) => !h.isWitness)
          .map((h) => `"${h.hostName}"`)
          .join(', ') || 'none declared',
      fix: `pick a host in another site, or leave ${prop} unset for automatic placement`,
    });
  }
}
