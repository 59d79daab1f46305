/**
 * The Orbit policies, as Aspects. Topology adds them all to its stack (TopologyProps.policies);
 * each adds error annotations, so `cdktf synth` (and Testing.fullSynth) fails with a message
 * naming the construct path, the bad value and the fix.
 */
import { Aspects } from 'cdktf';
import { IConstruct } from 'constructs';
import { CrossSiteWitnessPolicy } from './cross-site-witness-policy';
import { FailoverMonitorPolicy } from './failover-monitor-policy';
import { FailoverTimingPolicy } from './failover-timing-policy';
import { HostCapacityPolicy } from './host-capacity-policy';
import { OrbitPolicy } from './orbit-policy';
import { PairSeparationPolicy } from './pair-separation-policy';

export { CrossSiteWitnessPolicy, FailoverMonitorPolicy, FailoverTimingPolicy, HostCapacityPolicy, OrbitPolicy, PairSeparationPolicy };

/** Every Orbit policy, fresh instances. */
export function orbitPolicies(): OrbitPolicy[] {
  return [new PairSeparationPolicy(), new HostCapacityPolicy(), new CrossSiteWitnessPolicy(), new FailoverTimingPolicy(), new FailoverMonitorPolicy()];
}

/** Adds every Orbit policy to `scope` (usually the stack). */
export function addOrbitPolicies(scope: IConstruct): void {
  for (const policy of orbitPolicies()) Aspects.of(scope).add(policy);
}
