/**
 * Policy: no host is given more memory or vCPUs than it declares (Host memoryMib / vcpus).
 * What each VM takes is in capacity.ts (a pair's secondary takes twice its memory).
 */
import { Annotations } from 'cdktf';
import { IConstruct } from 'constructs';
import { sumLoad } from '../capacity';
import { describeProblem } from '../errors';
import { Host } from '../host';
import { OrbitPolicy } from './orbit-policy';

export class HostCapacityPolicy implements OrbitPolicy {
  public readonly name = 'host-capacity';

  public visit(node: IConstruct): void {
    if (!(node instanceof Host)) return;
    const demands = node.topology.demandsOn(node);
    const load = sumLoad(demands);
    const breakdown = (pick: (d: (typeof demands)[number]) => number, unit: string) => demands.map((d) => `${d.consumer.node.path} (${d.role}) ${pick(d)}${unit}`).join(', ');
    if (node.memoryMib !== undefined && load.memoryMib > node.memoryMib) {
      Annotations.of(node).addError(
        describeProblem({
          what: `Host "${node.hostName}" is over capacity: the VMs placed on it need ${load.memoryMib} MiB of memory ` + `(${breakdown((d) => d.memoryMib, ' MiB')}) but it has ${node.memoryMib} MiB`,
          prop: 'memoryMib',
          value: node.memoryMib,
          allowed: `at least ${load.memoryMib} MiB, or fewer VMs on the host`,
          fix: "move a VM to another host (set its host / primaryHost / secondaryHost), shrink memoryMib of a VM, or raise the host's memoryMib if it really has more",
        }),
      );
    }
    if (node.vcpus !== undefined && load.vcpus > node.vcpus) {
      Annotations.of(node).addError(
        describeProblem({
          what: `Host "${node.hostName}" is over capacity: the VMs placed on it need ${load.vcpus} vCPUs ` + `(${breakdown((d) => d.vcpus, '')}) but it has ${node.vcpus}`,
          prop: 'vcpus',
          value: node.vcpus,
          allowed: `at least ${load.vcpus} vCPUs, or fewer VMs on the host`,
          fix: "move a VM to another host, give a VM fewer vcpus, or raise the host's vcpus (overcommit) if you accept slower guests",
        }),
      );
    }
  }
}
