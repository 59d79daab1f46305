import { Testing } from 'cdktf';
import { HighlyAvailableVm } from '../../constructs/highly-available-vm';
import { labTopology, LabTopologyDescription } from './lab-topology';
import { Placement } from '../../constructs/placement';
import { synthObject, TEST_HOST_KEY, testStack } from '../../constructs/test-fixtures';

/** Something to boot from (a VM needs a disk or a kernel). */
const disks = [{ sizeMib: 16 }];

/** What `npm run lab -- up` describes, trimmed to what labTopology reads. */
const lab: LabTopologyDescription = {
  hosts: ['site-a:a', 'site-b:b', 'witness:witness'].map((spec, i) => {
    const [name, site] = spec.split(':');
    return {
      name,
      site,
      address: `10.88.0.${11 + i}`,
      vmAddress: `10.89.0.${11 + i}`,
      sshPort: 22,
      sshUser: 'root',
      privateKeyPath: '/run/orbit-lab/id_ed25519',
      hostKey: TEST_HOST_KEY,
      netns: `orbit-${name}`,
      vmBridge: 'vmbr0',
    };
  }),
  qemuBinary: '/opt/orbit-qemu-colo/bin/qemu-system-x86_64',
  etcd: {
    endpoints: ['https://10.88.0.2:2379'],
    address: '10.88.0.2',
    netns: 'orbit-etcd',
    caPath: '/run/orbit-lab/etcd/tls/ca.crt',
    clients: {
      provider: { certPath: '/run/orbit-lab/etcd/tls/client-provider.crt', keyPath: '/run/orbit-lab/etcd/tls/client-provider.key' },
      ...Object.fromEntries(['site-a', 'site-b', 'witness'].map((h) => [h, { certPath: `/run/orbit-lab/etcd/tls/client-${h}.crt`, keyPath: `/run/orbit-lab/etcd/tls/client-${h}.key` }])),
    },
  },
  monitor: { signingKeyPath: '/run/orbit-lab/monitor/spec-signing.key', heartbeatKeyPath: '/run/orbit-lab/monitor/heartbeat.key' },
  privateKeyPath: '/run/orbit-lab/id_ed25519',
};

describe('labTopology', () => {
  test('synth snapshot: one site per lab site, the witness site marked, keys pinned', () => {
    const stack = testStack('demo');
    const topology = labTopology(stack, 'Topology', lab);
    expect(topology.sites.map((s) => [s.siteName, s.witness])).toEqual([
      ['a', false],
      ['b', false],
      ['witness', true],
    ]);
    expect(Testing.synth(stack)).toMatchSnapshot();
  });

  test('the demo pair: primary on site-a, secondary on site-b, automatic failover allowed by the witness', () => {
    const stack = testStack('demo');
    const topology = labTopology(stack, 'Topology', lab);
    new HighlyAvailableVm(stack, 'web', {
      disks,
      name: 'demo-web',
      primaryHost: topology.host('site-a'),
      secondaryHost: topology.host('site-b'),
      placement: Placement.separateSites(),
      memoryMib: 128,
      network: { bridge: 'vmbr0' },
    });
    expect(synthObject(stack).resource.orbit_ft_vm.web).toMatchObject({ name: 'demo-web', primary_host: 'site-a', secondary_host: 'site-b' });
    expect(() => Testing.fullSynth(stack)).not.toThrow();
  });

  test("the failover monitor is wired by default: the lab's etcd, its monitor keys, each host's agent certificate", () => {
    const stack = testStack('demo');
    labTopology(stack, 'Topology', lab);
    const provider = synthObject(stack).provider.orbit[0];
    expect(provider.etcd).toEqual({
      endpoints: ['https://10.88.0.2:2379'],
      ca_path: '/run/orbit-lab/etcd/tls/ca.crt',
      cert_path: '/run/orbit-lab/etcd/tls/client-provider.crt',
      key_path: '/run/orbit-lab/etcd/tls/client-provider.key',
    });
    expect(provider.monitor).toEqual({
      signing_key_path: '/run/orbit-lab/monitor/spec-signing.key',
      heartbeat_key_path: '/run/orbit-lab/monitor/heartbeat.key',
      agent_ssh_key_path: '/run/orbit-lab/id_ed25519',
      service_manager: 'daemon',
    });
    expect(provider.hosts[0]).toMatchObject({ agent_cert_path: '/run/orbit-lab/etcd/tls/client-site-a.crt', agent_key_path: '/run/orbit-lab/etcd/tls/client-site-a.key' });
  });

  test('monitor off: no etcd, no monitor (pairs must then fail over manually); capacity is opt-in', () => {
    const stack = testStack('demo');
    const topology = labTopology(stack, 'Topology', lab, { monitor: false, hostMemoryMib: 2048 });
    const provider = synthObject(stack).provider.orbit[0];
    expect(provider.etcd).toBeUndefined();
    expect(provider.monitor).toBeUndefined();
    expect(topology.host('site-a').memoryMib).toBe(2048);
  });
});
