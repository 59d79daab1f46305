/**
 * Every policy error, one test each: Testing.fullSynth (what `cdktf synth` runs) fails with the
 * construct path, the bad value and the fix.
 */
import { Testing } from 'cdktf';
import { CrossSiteFailover } from '../cross-site-failover';
import { HighlyAvailableVm } from '../highly-available-vm';
import { Placement } from '../placement';
import { TEST_MONITOR, twoSites } from '../test-fixtures';
import { Vm } from '../vm';

/** Something to boot from (a VM needs a disk or a kernel). */
const disks = [{ sizeMib: 16 }];

const network = { bridge: 'vmbr0' };

function synthError(stack: Parameters<typeof Testing.fullSynth>[0]): string {
  try {
    Testing.fullSynth(stack);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected synth to fail');
}

describe('Orbit policies', () => {
  test('a sound stack synthesizes without errors', () => {
    const { stack, a1, b1 } = twoSites({ host: { memoryMib: 4096, vcpus: 8 } });
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1, secondaryHost: b1, memoryMib: 1024 });
    new HighlyAvailableVm(stack, 'db', { disks, network, placement: Placement.separateSites(), memoryMib: 1024 });
    new Vm(stack, 'batch', { disks, memoryMib: 1024 });
    expect(() => Testing.fullSynth(stack)).not.toThrow();
  });

  test('pair separation: primary and secondary on one host', () => {
    const { stack, a1 } = twoSites();
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1, secondaryHost: a1 });
    const message = synthError(stack);
    expect(message).toContain('[test/web] Primary and secondary of "web" are both on host "a1": losing that host loses both halves of the pair.');
    expect(message).toContain('Got secondaryHost = "a1".');
    expect(message).toContain('Allowed: a host other than "a1": "a2", "b1", "b2".');
    expect(message).toContain('Fix: set secondaryHost (or primaryHost) to another host');
  });

  test('pair separation: Placement.separateSites() with both halves in one site', () => {
    const { stack, a1, a2 } = twoSites();
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1, secondaryHost: a2, placement: Placement.separateSites() });
    const message = synthError(stack);
    expect(message).toContain('[test/web] Placement.separateSites() but primary "a1" and secondary "a2" of "web" are both in site "a".');
    expect(message).toContain('Allowed: a host outside site "a": "b1", "b2".');
  });

  test('host capacity: a host over its memory', () => {
    const { stack, a1, b1 } = twoSites({ host: { memoryMib: 2048 } });
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1, secondaryHost: b1, memoryMib: 1024 });
    new Vm(stack, 'batch', { disks, host: b1, memoryMib: 512 });
    const message = synthError(stack);
    expect(message).toContain(
      '[test/Topology/b/b1] Host "b1" is over capacity: the VMs placed on it need 2560 MiB of memory (test/web (secondary) 2048 MiB, test/batch (vm) 512 MiB) but it has 2048 MiB.',
    );
    expect(message).toContain('Got memoryMib = 2048.');
    expect(message).toContain('Fix: move a VM to another host');
    expect(message).not.toContain('[test/Topology/a/a1]');
  });

  test('host capacity: a host over its vCPUs', () => {
    const { stack, a1 } = twoSites({ host: { vcpus: 4 } });
    new Vm(stack, 'batch', { disks, host: a1, vcpus: 6 });
    expect(synthError(stack)).toMatch(/\[test\/Topology\/a\/a1\] Host "a1" is over capacity: the VMs placed on it need 6 vCPUs \(test\/batch \(vm\) 6\) but it has 4\. Got vcpus = 4\./);
  });

  test('cross-site witness: automatic failover between two sites without a witness', () => {
    const { stack, a1, b1 } = twoSites({ witness: false });
    new HighlyAvailableVm(stack, 'db', { disks, network, primaryHost: a1, secondaryHost: b1 });
    const message = synthError(stack);
    expect(message).toContain('[test/db] "db" fails over automatically between sites "a" and "b", but the topology has no witness');
    expect(message).toContain('Got crossSiteFailover = "automatic".');
    expect(message).toContain('Fix: declare a witness in a third location');
    expect(message).toContain('or set crossSiteFailover: CrossSiteFailover.MANUAL');
  });

  test('cross-site witness: manual cross-site failover, or a pair within one site, needs no witness', () => {
    const { stack, a1, a2, b1 } = twoSites({ witness: false });
    new HighlyAvailableVm(stack, 'db', { disks, network, primaryHost: a1, secondaryHost: b1, crossSiteFailover: CrossSiteFailover.MANUAL });
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a2, secondaryHost: a1 });
    expect(() => Testing.fullSynth(stack)).not.toThrow();
  });

  test('failover timing: detection + fencing not below the lease TTL', () => {
    const { stack } = twoSites();
    new HighlyAvailableVm(stack, 'web', { disks, network, heartbeatIntervalMs: 500, heartbeatMisses: 3, fencingDeadlineMs: 1000, leaseTtlMs: 2000 });
    const message = synthError(stack);
    expect(message).toContain(
      '[test/web] The failover timing of "web" is unsafe: heartbeatIntervalMs x heartbeatMisses + fencingDeadlineMs = 500 x 3 + 1000 = 2500 ms, not below leaseTtlMs = 2000 ms',
    );
    expect(message).toContain('Got leaseTtlMs = 2000.');
    expect(message).toContain('Fix: raise leaseTtlMs to 3000 (whole seconds), or lower fencingDeadlineMs to 499 or less');
  });

  test('failover timing: a lease etcd cannot grant (not whole seconds, or under 2 s)', () => {
    const { stack } = twoSites();
    new HighlyAvailableVm(stack, 'web', { disks, network, heartbeatIntervalMs: 100, heartbeatMisses: 3, fencingDeadlineMs: 500, leaseTtlMs: 2500 });
    const message = synthError(stack);
    expect(message).toContain('[test/web] The failover lease of "web" cannot be granted as declared: leaseTtlMs must be whole seconds');
    expect(message).toContain('Fix: set leaseTtlMs to 3000');
  });

  test('failover monitor: automatic failover on a topology without etcd and monitor', () => {
    const { stack, a1, a2 } = twoSites({ topology: {} });
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1, secondaryHost: a2 });
    const message = synthError(stack);
    expect(message).toContain('[test/web] "web" fails over automatically, but the topology has no etcd and no monitor: nothing would watch the pair');
    expect(message).toContain('Got topology = "etcd, monitor missing".');
    expect(message).toContain('Fix: give the Topology `etcd: {...}` and `monitor: {...}` (see FailoverMonitorProps)');
  });

  test('failover monitor: a host of the pair (or a spare) without the etcd client certificate etcd requires', () => {
    const { stack, a1, a2, b1 } = twoSites({ topology: { ...TEST_MONITOR, etcd: { ...TEST_MONITOR.etcd!, certPath: '/etc/orbit/tf.crt', keyPath: '/etc/orbit/tf.key' } } });
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1, secondaryHost: a2, spareHosts: [b1] });
    const message = synthError(stack);
    expect(message).toContain('[test/web] Host "a1" gets a failover monitor agent for "web", but has no etcd client certificate, which this etcd requires');
    expect(message).toContain('Host "b1" gets a failover monitor agent');
    expect(message).toContain('Fix: give host "a1" agentCertPath and agentKeyPath');
  });

  test('failover monitor: a manual cross-site pair needs none', () => {
    const { stack, a1, b1 } = twoSites({ topology: {} });
    new HighlyAvailableVm(stack, 'db', { disks, network, primaryHost: a1, secondaryHost: b1, crossSiteFailover: CrossSiteFailover.MANUAL });
    expect(() => Testing.fullSynth(stack)).not.toThrow();
  });

  test('every error is reported at once, as error annotations', () => {
    const { stack, a1 } = twoSites({ witness: false, host: { memoryMib: 512 } });
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1, secondaryHost: a1, leaseTtlMs: 100 });
    const message = synthError(stack);
    expect(message).toContain('both on host "a1"');
    expect(message).toContain('over capacity');
    expect(message).toContain('timing of "web" is unsafe');
  });

  test('policies can be turned off (topology policies: false)', () => {
    const { stack, a1 } = twoSites({ topology: { policies: false } });
    new HighlyAvailableVm(stack, 'web', { disks, network, primaryHost: a1, secondaryHost: a1 });
    expect(() => Testing.fullSynth(stack)).not.toThrow();
  });
});
