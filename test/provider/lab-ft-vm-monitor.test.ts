/**
 * orbit_ft_vm with failover = "automatic" through the real terraform binary, on lab hosts with
 * real COLO: apply installs the failover monitor (an agent per host of the pair and its spare,
 * the signed spec in etcd) and returns once the agents watch the pair; a SIGKILL of the
 * primary's QEMU is failed over and re-protected by the agents alone, and the next plan is
 * empty while a refresh reports the failover; an agent removed behind terraform's back is a
 * change the next apply makes; failover = "manual" takes the monitor away in place; destroy
 * leaves nothing (no agent, no etcd key, no QEMU). Without the provider's monitor block the
 * plan fails, naming the fix.
 */
import { execFileSync } from 'child_process';
import * as http from 'http';
import { Etcd3 } from 'etcd3';
import { SshSession } from '../../provider/ssh/ssh-session';
import { pairKeys } from '../../provider/monitor/pair-spec';
import { pairsNaming } from '../../provider/monitor/spec-publisher';
import { guestArtifacts, guestKernelArgs, readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { labGuestMac } from '../../scripts/lab/lab-guest';
import { connectToLabHost, labHost } from '../../scripts/lab/lab-ssh';
import { crashQemu, labColoQemu } from '../support/colo-guest';
import { agentPids, agentStatus, labEtcd, waitFor } from '../support/lab-monitor';
import { guestAnswersAfterFault } from '../support/monitored-failover';
import { LabTerraform, REPO, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { requiredProviders, RunResult, Workspace } from '../support/terraform';
import { SLOW_ANSWER_LIMIT_MS } from '../support/guest-poller';
import { expectSeedOnBothSides } from '../support/seed-on-host';

jest.setTimeout(900_000);

const IP = '10.89.0.87';
const HOSTS = ['site-a', 'site-b', 'witness'];

const flat = (result: RunResult) => result.output.replace(/\s+/g, ' ');
const ok = (result: RunResult) => {
  if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
  return result;
};

function ftVm(name: string, failover: 'automatic' | 'manual' = 'automatic', hosts = { primary: 'site-a', secondary: 'site-b', spare: 'witness' }, vcpus = 1): string {
  const { kernelPath, initrdPath } = guestArtifacts();
  return `resource "orbit_ft_vm" "web" {
  name           = "${name}"
  primary_host   = "${hosts.primary}"
  secondary_host = "${hosts.secondary}"
  spare_hosts    = ["${hosts.spare}"]
  failover       = "${failover}"
  memory_mib     = 128
  vcpus          = ${vcpus}
  stop_timeout_ms = 0
  kernel_path    = "${kernelPath}"
  initrd_path    = "${initrdPath}"
  kernel_cmdline = "${guestKernelArgs({ ip: `${IP}/24` })}"
  disk {
    size_mib = 16
  }
  network {
    bridge = "vmbr0"
    mac    = "${labGuestMac(IP)}"
  }
  cloud_init {
    user_data = "#cloud-config\\nhostname: monitored\\n"
  }
}
`;
}

/** The operator CLI, as an operator runs it. */
function orbitFt(args: string[]): string {
  return execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'provider/cli/orbit-ft.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '--no-deprecation' },
  });
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { timeout: 3000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

describe('orbit_ft_vm with the failover monitor', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  let etcd: Etcd3;
  const name = uniqueName('tf-mon');
  const attributes = () => ws.state().resources.find((r) => r.type === 'orbit_ft_vm')!.instances[0].attributes;
  const onHost = async <T>(host: string, use: (session: SshSession) => Promise<T>): Promise<T> => {
    const session = await connectToLabHost(lab.lab, host);
    try {
      return await use(session);
    } finally {
      await session.close();
    }
  };
  const agentsOn = (host: string) => onHost(host, agentPids);
  const statusOn = (host: string) => onHost(host, agentStatus);
  /** SIGKILL of the pair's QEMU on `host`; returns when it is gone. */
  const crashOn = (host: string) => onHost(host, (session) => crashQemu(session, name));
  /** The guest's first answer after a fault; without one in 30 s, every host's evidence. */
  const answersAfter = async (faultAt: number) => {
    const sessions = new Map<string, SshSession>();
    const session = async (host: string) => sessions.get(host) ?? sessions.set(host, await connectToLabHost(lab.lab, host)).get(host)!;
    try {
      return await guestAnswersAfterFault(name, { ip: IP, faultAt, hosts: HOSTS, session, timeoutMs: 30_000 });
    } finally {
      for (const s of sessions.values()) await s.close();
    }
  };

  /** The host's agent is gone, unless a pair of another test (a shared lab) still needs it. */
  const expectAgentGoneUnlessNeeded = async (host: string) => {
    const others = await pairsNaming(etcd, host);
    const pids = await agentsOn(host);
    if (others.length > 0) expect(pids.supervisor).toHaveLength(1);
    else {
      expect(pids).toEqual({ agent: [], supervisor: [], spare: [] });
      expect((await lab.ssh(host, 'ls -d /var/lib/orbit/agent /run/orbit/agent 2>/dev/null; true')).stdout.trim()).toBe('');
    }
  };

  beforeAll(async () => {
    lab = await setUpLabTerraform();
    etcd = labEtcd(lab.lab);
    ws = lab.workspace('');
    const qemu = labColoQemu(lab.lab);
    ws.write('main.tf', `${requiredProviders}\n${lab.providerBlock({ monitor: true, overrides: Object.fromEntries(HOSTS.map((h) => [h, { qemu_binary: qemu }])) })}`);
    ok(await ws.run(['init']));
  });

  afterAll(async () => {
    for (const host of HOSTS) {
      await lab?.ssh(host, `pkill -9 -f '^[^ ]+ -name guest=${name},'; sleep 0.3; rm -rf /run/orbit/${name} /var/lib/orbit/${name}; true`);
    }
    if (etcd) {
      await etcd
        .delete()
        .prefix(pairKeys(name).prefix)
        .catch(() => undefined);
      etcd.close();
    }
    lab?.cleanup();
  });

  test('apply installs an agent on each host of the pair and its spare, publishes the spec, and returns with the pair under watch', async () => {
    ws.write('ft.tf', ftVm(name));
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toMatch(/\+ agent_release\s+= "[0-9a-f]{16}"/);
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 400_000 }));
    await waitForGuestReport(IP, 7000, 120_000);
    const state = attributes();
    expect(state).toMatchObject({ active_host: 'site-a', standby_host: 'site-b', protection: 'protected', failover: 'automatic', failover_count: 0, last_failover: null });
    expect(state.agent_release).toMatch(/^[0-9a-f]{16}$/);
    for (const host of HOSTS) {
      const status = await statusOn(host);
      expect(status).toMatchObject({ ready: true, release: state.agent_release, supervisorRunning: true });
      expect(Object.keys(status!.pairs)).toContain(name);
    }
    expect((await statusOn('site-a'))!.pairs[name]).toMatchObject({ role: 'held', protection: 'protected', peerHost: 'site-b' });
    expect((await statusOn('site-b'))!.pairs[name]).toMatchObject({ role: 'peer', protection: 'standby', peerHost: 'site-a' });
    expect(await etcd.get(pairKeys(name).spec).string()).toContain('"signature"');

    // Metrics on the management address, and only there.
    const siteA = labHost(lab.lab, 'site-a');
    const metrics = await httpGet(`http://${siteA.address}:9464/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain(`orbit_pair_role_held{vm="${name}"} 1`);
    expect(metrics.body).toContain(`orbit_pair_protection_state{vm="${name}",state="protected"} 1`);
    expect(metrics.body).toMatch(/orbit_lease_renew_seconds_count\{vm="[^"]+"\} [1-9]/);
    const listening = await lab.ssh('site-a', "ss -Hltn 'sport = :9464' | awk '{print $4}'");
    expect(listening.stdout.trim()).toBe(`${siteA.address}:9464`);

    const quiet = await ws.run(['plan', '-detailed-exitcode']);
    expect(quiet.output).toContain('No changes.');
    expect(quiet.code).toBe(0);
  });

  test("the agents fail over and re-protect on their own after a SIGKILL of the primary's QEMU; the plan stays empty, a refresh reports it", async () => {
    const before = await readGuestReport(IP, 7000, SLOW_ANSWER_LIMIT_MS);
    const faultAt = await crashOn('site-a');
    const after = await answersAfter(faultAt);
    expect(after.boot).toBe(before.boot);
    expect(after.counter).toBeGreaterThanOrEqual(before.counter);
    await waitFor('the agents to re-protect the pair', async () => ((await statusOn('site-b'))?.pairs[name]?.protection === 'protected' ? true : undefined), 120_000, 500);
    // The agents' re-protection carried the seed to the new replica's host.
    await expectSeedOnBothSides(lab, ['site-b', 'site-a'], name);
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.output).toContain('No changes.');
    expect(plan.code).toBe(0);
    ok(await ws.run(['apply', '-refresh-only', '-auto-approve']));
    expect(attributes()).toMatchObject({ active_host: 'site-b', standby_host: 'site-a', protection: 'protected', failover_count: 1, primary_host: 'site-a', secondary_host: 'site-b' });
    expect(String(attributes().last_failover)).toMatch(/site-b took over as the promoted secondary/);
    const metrics = await httpGet(`http://${labHost(lab.lab, 'site-b').address}:9464/metrics`);
    expect(metrics.body).toMatch(new RegExp(`orbit_failovers_total\\{vm="${name}",as="secondary"\\} 1`));
    expect(metrics.body).toMatch(new RegExp(`orbit_reprotections_total\\{vm="${name}",result="ok"\\} 1`));

    // The operator's view of the same: the agents' events in etcd, and each agent's status.
    const events = orbitFt(['--lab', 'events', name])
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { kind: string; host: string });
    expect(events.map((e) => `${e.kind}@${e.host}`)).toEqual(expect.arrayContaining(['failover@site-b', 'reprotect@site-b']));
    const agents = JSON.parse(orbitFt(['--lab', 'agents', name])) as Record<string, { pair: { role: string } }>;
    expect(agents['site-b'].pair.role).toBe('held');
    expect(agents['site-a'].pair.role).toBe('peer');
  });

  test("an agent removed behind terraform's back is a change; apply puts it back", async () => {
    await lab.ssh('witness', 'kill $(cat /run/orbit/agent/supervisor.pid); sleep 1; rm -rf /var/lib/orbit/agent /run/orbit/agent');
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(flat(plan)).toMatch(/~ agent_release\s+= "missing on witness" -> "[0-9a-f]{16}"/);
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    expect((await statusOn('witness'))?.pairs[name]).toBeDefined();
    const quiet = await ws.run(['plan', '-detailed-exitcode']);
    expect(quiet.code).toBe(0);
  });

  test('failover = "manual" takes the monitor away in place (the guest runs on); "automatic" brings it back', async () => {
    const before = await readGuestReport(IP, 7000, SLOW_ANSWER_LIMIT_MS);
    ws.write('ft.tf', ftVm(name, 'manual'));
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toMatch(/~ failover\s+= "automatic" -> "manual"/);
    expect(plan.output).not.toContain('forces replacement');
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    for (const host of HOSTS) await expectAgentGoneUnlessNeeded(host);
    expect(await etcd.get(pairKeys(name).spec).string()).toBeNull();
    expect(attributes().agent_release).toBeNull();
    expect((await readGuestReport(IP, 7000, SLOW_ANSWER_LIMIT_MS)).boot).toBe(before.boot);

    ws.write('ft.tf', ftVm(name));
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 300_000 }));
    expect((await statusOn('site-b'))?.pairs[name]).toMatchObject({ role: 'held', protection: 'protected' });
    expect((await ws.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  });

  test('a new primary_host moves that side with the monitor held off (a planned move is no failover); the agents then watch the pair on its new hosts', async () => {
    const before = await readGuestReport(IP, 7000, SLOW_ANSWER_LIMIT_MS);
    ok(await ws.run(['apply', '-refresh-only', '-auto-approve']));
    const failovers = attributes().failover_count; // from the agents' events in etcd, which the move keeps
    ws.write('ft.tf', ftVm(name, 'automatic', { primary: 'witness', secondary: 'site-b', spare: 'site-a' }));
    const plan = ok(await ws.run(['plan']));
    expect(flat(plan)).toContain(`its side on "site-a" moves to "witness", the guest running on`);
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 400_000 }));
    expect(attributes()).toMatchObject({ primary_host: 'witness', active_host: 'site-b', standby_host: 'witness', protection: 'protected', failover_count: failovers });
    expect((await statusOn('site-b'))?.pairs[name]).toMatchObject({ role: 'held', protection: 'protected', peerHost: 'witness' });
    expect((await statusOn('witness'))?.pairs[name]).toMatchObject({ role: 'peer', protection: 'standby', peerHost: 'site-b' });
    const after = await waitFor('the guest to answer', () => readGuestReport(IP, 7000, SLOW_ANSWER_LIMIT_MS).catch(() => undefined), 60_000, 250);
    expect(after.boot).toBe(before.boot);
    // Each lab host sees the others' processes (one pid namespace): only site-a's own count.
    const onSiteA = await lab.ssh('site-a', `pgrep --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${name},'; ls -d /var/lib/orbit/${name} /run/orbit/${name} 2>/dev/null; true`);
    expect(onSiteA.stdout.trim()).toBe('');
    expect((await ws.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  });

  test('a restart of the pair for new vCPUs holds the monitor off; afterwards the agents still fail the rebuilt pair over on a QEMU kill', async () => {
    const hosts = { primary: 'witness', secondary: 'site-b', spare: 'site-a' };
    ws.write('ft.tf', ftVm(name, 'automatic', hosts, 2));
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 400_000 }));
    expect(attributes()).toMatchObject({ vcpus: 2, active_host: 'site-b', standby_host: 'witness', protection: 'protected' });
    const before = await waitFor('the rebuilt guest to answer', () => readGuestReport(IP, 7000, SLOW_ANSWER_LIMIT_MS).catch(() => undefined), 120_000, 250);
    const faultAt = await crashOn('site-b');
    const after = await answersAfter(faultAt);
    expect(after.boot).toBe(before.boot);
    await waitFor('the agents to re-protect the pair', async () => ((await statusOn('witness'))?.pairs[name]?.protection === 'protected' ? true : undefined), 120_000, 500);
  });

  test('destroy removes the pair, its keys in etcd and the agents from every host', async () => {
    ok(await ws.run(['destroy', '-auto-approve'], { timeoutMs: 300_000 }));
    for (const host of HOSTS) {
      await expectAgentGoneUnlessNeeded(host);
      const left = await lab.ssh(host, `pgrep -f '^[^ ]+ -name guest=${name},'; ls -d /var/lib/orbit/${name} /run/orbit/${name} 2>/dev/null; true`);
      expect(left.stdout.trim()).toBe('');
    }
    expect(await etcd.getAll().prefix(pairKeys(name).prefix).keys()).toEqual([]);
    await expect(readGuestReport(IP, 7000, 2000)).rejects.toThrow();
  });

  test('failover = "automatic" without the provider\'s monitor block fails the plan, naming the fix', async () => {
    const bare = lab.workspace(ftVm(uniqueName('tf-nomon')));
    ok(await bare.run(['init']));
    const plan = await bare.run(['plan']);
    expect(plan.code).not.toBe(0);
    expect(flat(plan)).toContain('failover = "automatic" needs the failover monitor, but the provider has no etcd and no monitor block');
    expect(flat(plan)).toContain('Fix: add etcd { ... } and monitor { ... } to the provider "orbit" block');
  });
});
