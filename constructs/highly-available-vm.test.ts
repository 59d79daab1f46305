import { Testing } from 'cdktf';
import { Boot } from './boot';
import { CrossSiteFailover } from './cross-site-failover';
import { FAILOVER_TIMING_DEFAULTS, fencedWithinMs, timingIsSafe, worstCaseRecoveryMs } from './failover-timing';
import { HighlyAvailableVm } from './highly-available-vm';
import { Placement } from './placement';
import { hostProps, synthObject, testStack, twoSites } from './test-fixtures';
import { Topology } from './topology';

/** Something to boot from (a VM needs a disk or a kernel). */
const disks = [{ sizeMib: 16 }];

const network = { bridge: 'vmbr0' };

describe('HighlyAvailableVm', () => {
  test('synth snapshot', () => {
    const { stack, a1, b1 } = twoSites();
    new HighlyAvailableVm(stack, 'web', {
      primaryHost: a1,
      secondaryHost: b1,
      memoryMib: 128,
      checkpointDelayMs: 2000,
      boot: Boot.kernel({ kernelPath: '/var/lib/orbit/images/vmlinuz', initrdPath: '/var/lib/orbit/images/initrd.img', cmdline: 'ip=10.89.0.60/24' }),
      disks: [{ sizeMib: 16 }],
      network: { bridge: 'vmbr0', mac: '52:54:00:0a:59:3c' },
    });
    expect(Testing.synth(stack)).toMatchSnapshot();
  });

  test('stable logical IDs: orbit_ft_vm.<id> and output <id>_worst_case_recovery_ms', () => {
    const { stack } = twoSites();
    new HighlyAvailableVm(stack, 'web', { disks, network });
    const config = synthObject(stack);
    expect(Object.keys(config.resource.orbit_ft_vm)).toEqual(['web']);
    expect(Object.keys(config.output)).toEqual(['web_worst_case_recovery_ms']);
  });

  test('exposes the worst-case recovery time as a property and an output (defaults: 2000 + 500 + 200 ms)', () => {
    const { stack } = twoSites();
    const web = new HighlyAvailableVm(stack, 'web', { disks, network });
    expect(web.worstCaseRecoveryMs).toBe(2700);
    expect(web.timing).toEqual(FAILOVER_TIMING_DEFAULTS);
    expect(synthObject(stack).output.web_worst_case_recovery_ms.value).toBe(2700);

    const fast = new HighlyAvailableVm(stack, 'fast', { disks, network, heartbeatIntervalMs: 50, heartbeatMisses: 4, fencingDeadlineMs: 300, leaseTtlMs: 2000 });
    expect(fast.worstCaseRecoveryMs).toBe(2550);
    expect(synthObject(stack).resource.orbit_ft_vm.fast).toMatchObject({ heartbeat_interval_ms: 50, heartbeat_misses: 4, fencing_deadline_ms: 300, lease_ttl_ms: 2000 });
  });

  test('failover: "automatic" by default, "manual" for a cross-site pair with manual failover; spares by name', () => {
    const { stack, a1, a2, b1, b2 } = twoSites();
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1, secondaryHost: a2, spareHosts: [b1, b2] });
    new HighlyAvailableVm(stack, 'db', { disks, network, primaryHost: b1, secondaryHost: a1, crossSiteFailover: CrossSiteFailover.MANUAL });
    const resources = synthObject(stack).resource.orbit_ft_vm;
    expect(resources.web).toMatchObject({ failover: 'automatic', spare_hosts: ['b1', 'b2'] });
    expect(resources.db).toMatchObject({ failover: 'manual' });
    expect(resources.db.spare_hosts).toBeUndefined();
  });

  test('a spare that is one of the pair, a witness host, or listed twice is refused', () => {
    const { stack, a1, a2, b1, witness } = twoSites();
    expect(() => new HighlyAvailableVm(stack, 'x', { disks, network, primaryHost: a1, secondaryHost: a2, spareHosts: [a2] })).toThrow(
      '[test/x] spareHosts[0] is "a2", which is the secondary host. Got spareHosts[0] = "a2". Fix: list other hosts, each once',
    );
    expect(() => new HighlyAvailableVm(stack, 'y', { disks, network, primaryHost: a1, secondaryHost: a2, spareHosts: [b1, b1] })).toThrow('spareHosts[1] is "b1", which is listed twice');
    expect(() => new HighlyAvailableVm(stack, 'z', { disks, network, primaryHost: a1, secondaryHost: a2, spareHosts: [witness!] })).toThrow(
      'spareHosts[0] "w1" is in the witness site "witness", which runs no VMs',
    );
  });

  test('the default timing is safe with margin', () => {
    expect(timingIsSafe(FAILOVER_TIMING_DEFAULTS)).toBe(true);
    expect(FAILOVER_TIMING_DEFAULTS.leaseTtlMs - fencedWithinMs(FAILOVER_TIMING_DEFAULTS)).toBeGreaterThanOrEqual(500);
    expect(worstCaseRecoveryMs(FAILOVER_TIMING_DEFAULTS)).toBeLessThan(5000);
  });

  test('manual cross-site failover has no automatic worst case', () => {
    const { stack, a1, b1 } = twoSites({ witness: false });
    const vm = new HighlyAvailableVm(stack, 'db', { disks, network, primaryHost: a1, secondaryHost: b1, crossSiteFailover: CrossSiteFailover.MANUAL });
    expect(vm.failsOverAutomatically).toBe(false);
    expect(vm.worstCaseRecoveryMs).toBeUndefined();
    expect(synthObject(stack).output.db_worst_case_recovery_ms.value).toMatch(/^manual/);
  });

  test('Placement.separateSites() puts the halves in different sites, never on the witness', () => {
    const { stack } = twoSites();
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      const vm = new HighlyAvailableVm(stack, id, { disks, network, placement: Placement.separateSites() });
      expect(vm.primaryHost.site).not.toBe(vm.secondaryHost.site);
      expect(vm.primaryHost.isWitness || vm.secondaryHost.isWitness).toBe(false);
    }
  });

  test('the default placement separates hosts; a pinned half gets a partner', () => {
    const { stack, a1 } = twoSites();
    const vm = new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1 });
    expect(vm.placement.separation).toBe('host');
    expect(vm.primaryHost).toBe(a1);
    expect(vm.secondaryHost).not.toBe(a1);
  });

  test('automatic placement counts twice the memory on the secondary', () => {
    const { stack, topology } = twoSites({ host: { memoryMib: 1024 } });
    const vm = new HighlyAvailableVm(stack, 'web', { disks, network, memoryMib: 512 });
    expect(topology.loadOn(vm.primaryHost).memoryMib).toBe(512);
    expect(topology.loadOn(vm.secondaryHost).memoryMib).toBe(1024);
    // The secondary host is now full: the next pair's secondary goes elsewhere.
    const next = new HighlyAvailableVm(stack, 'api', { disks, network, memoryMib: 512 });
    expect(next.secondaryHost).not.toBe(vm.secondaryHost);
  });

  test('throws if the pair cannot be placed apart', () => {
    const stack = testStack();
    new Topology(stack, 'Topology').addSite('only').addHost('h1', hostProps('10.0.0.1'));
    expect(() => new HighlyAvailableVm(stack, 'web', { disks, network, placement: Placement.separateSites() })).toThrow(
      /\[test\/web\] Cannot place the pair: Placement\.separateSites\(\) needs two hosts in different sites.*Allowed: hosts available: "h1" \(site "only"\).*Fix: declare a host in a second site/,
    );
  });

  test('throws if a timing prop is out of range', () => {
    const { stack } = twoSites();
    expect(() => new HighlyAvailableVm(stack, 'web', { disks, network, heartbeatMisses: 0 })).toThrow(
      /\[test\/web\] heartbeatMisses must be a whole number from 1 to 100\. Got heartbeatMisses = 0\. Allowed: .*Fix: use 3 \(the default\)/,
    );
    expect(() => new HighlyAvailableVm(stack, 'web2', { disks, network, checkpointDelayMs: 5 })).toThrow(/Got checkpointDelayMs = 5/);
  });

  test('throws if a half is placed on a witness host', () => {
    const { stack, witness } = twoSites();
    expect(() => new HighlyAvailableVm(stack, 'web', { disks, network, secondaryHost: witness })).toThrow(/secondaryHost "w1" is in the witness site/);
  });
});
