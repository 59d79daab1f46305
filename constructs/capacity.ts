/**
 * What VMs ask of hosts. Every Vm and HighlyAvailableVm records, when it is created, the memory
 * and vCPUs it takes on each host it is placed on; automatic placement and the host capacity
 * policy count these.
 *
 * - a Vm takes its maxMemoryMib (the memory QEMU starts with; memoryMib when unset) and vcpus;
 * - a HighlyAvailableVm takes memoryMib and vcpus on its primary, and twice memoryMib (the replica
 *   plus its checkpoint buffer, see the COLO notes) and vcpus on its secondary.
 *
 * Token values (known only at apply time) count as the provider defaults.
 */
import { IConstruct } from 'constructs';
import type { Host } from './host';

export interface HostDemand {
  readonly host: Host;
  /** The construct that places the load (a Vm or HighlyAvailableVm). */
  readonly consumer: IConstruct;
  /** "vm", "primary" or "secondary". */
  readonly role: string;
  readonly memoryMib: number;
  readonly vcpus: number;
}

/** Memory and vCPUs a host needs for its demands. */
export interface HostLoad {
  readonly memoryMib: number;
  readonly vcpus: number;
}

export function sumLoad(demands: readonly HostDemand[]): HostLoad {
  return demands.reduce((acc, d) => ({ memoryMib: acc.memoryMib + d.memoryMib, vcpus: acc.vcpus + d.vcpus }), { memoryMib: 0, vcpus: 0 });
}

/** True when `host` can take `extra` on top of what is already placed on it. Hosts without declared capacity take anything. */
export function hasRoom(host: Host, placed: HostLoad, extra: HostLoad): boolean {
  if (host.memoryMib !== undefined && placed.memoryMib + extra.memoryMib > host.memoryMib) return false;
  if (host.vcpus !== undefined && placed.vcpus + extra.vcpus > host.vcpus) return false;
  return true;
}
