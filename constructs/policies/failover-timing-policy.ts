/**
 * Policy: the failover monitor's timing is safe (failover-timing.ts): the active half is fenced
 * before its lease expires, i.e. heartbeatIntervalMs x heartbeatMisses + fencingDeadlineMs < leaseTtlMs.
 * Otherwise the standby could take over while the old active half still runs.
 */
import { Annotations } from 'cdktf';
import { IConstruct } from 'constructs';
import { describeProblem } from '../errors';
import { fencedWithinMs, leaseProblems, timingIsSafe } from '../failover-timing';
import { HighlyAvailableVm } from '../highly-available-vm';
import { OrbitPolicy } from './orbit-policy';

export class FailoverTimingPolicy implements OrbitPolicy {
  public readonly name = 'failover-timing';

  public visit(node: IConstruct): void {
    if (!(node instanceof HighlyAvailableVm)) return;
    const t = node.timing;
    if (timingIsSafe(t)) return;
    const fenced = fencedWithinMs(t);
    if (fenced < t.leaseTtlMs) {
      Annotations.of(node).addError(
        describeProblem({
          what: `The failover lease of "${node.vmName}" cannot be granted as declared: ${leaseProblems(t).join('; ')}`,
          prop: 'leaseTtlMs',
          value: t.leaseTtlMs,
          allowed: 'whole seconds, at least 2000 ms (etcd leases are whole seconds, and etcd raises shorter ones)',
          fix: `set leaseTtlMs to ${Math.max(2000, Math.ceil(t.leaseTtlMs / 1000) * 1000)}`,
        }),
      );
      return;
    }
    const maxFencing = t.leaseTtlMs - t.heartbeatIntervalMs * t.heartbeatMisses - 1;
    Annotations.of(node).addError(
      describeProblem({
        what:
          `The failover timing of "${node.vmName}" is unsafe: heartbeatIntervalMs x heartbeatMisses + fencingDeadlineMs = ` +
          `${t.heartbeatIntervalMs} x ${t.heartbeatMisses} + ${t.fencingDeadlineMs} = ${fenced} ms, not below leaseTtlMs = ${t.leaseTtlMs} ms, ` +
          'so the standby could take over while the old active half still runs',
        prop: 'leaseTtlMs',
        value: t.leaseTtlMs,
        allowed: `more than ${fenced} ms with these heartbeat and fencing settings, in whole seconds`,
        fix:
          `raise leaseTtlMs to ${Math.floor(fenced / 1000) * 1000 + 1000} (whole seconds)` +
          (maxFencing >= 1 ? `, or lower fencingDeadlineMs to ${maxFencing} or less` : '') +
          ', or detect sooner (smaller heartbeatIntervalMs or heartbeatMisses)',
      }),
    );
  }
}
