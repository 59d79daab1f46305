import { generateKeyPairSync, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Etcd3 } from 'etcd3';
import { destroyPair, startProtectedPair } from '../../provider/hosts/colo-pair';
import { reprotect } from '../../provider/hosts/colo-reprotect';
import { SshSession } from '../../provider/hosts/ssh-session';
import { AgentConfig } from '../../provider/runtime/agent';
import { connectEtcd } from '../../provider/runtime/etcd-connection';
import { PairHost, pairKeys, PairRuntimeSpec, signPairSpec } from '../../provider/runtime/pair-spec';
import { DEFAULT_TIMING } from '../../provider/runtime/timing';
import { readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { LabDescription } from '../../scripts/lab/description';
import { labUp } from '../../scripts/lab/lab';
import { labAccelerator } from '../../scripts/lab/lab-accelerator';
import { connectToLabHost, labHost } from '../../scripts/lab/lab-ssh';
import { coloGuestSpec } from '../support/colo-guest';
import { pollGuest } from '../support/guest-poller';
import { vmTraces } from '../support/guest-vm';
import { agentAlive, crashQemuAt, killLabAgent, LabAgent, readAgentLog, readAgentStatus, startLabAgent, waitFor } from '../support/monitor-agents';

/**
 * Issue 6's failover monitor on real COLO: an agent per host (site-a, site-b, started inside
 * their namespaces), a protected pair of the test guest, and N rounds of: SIGKILL of the
 * primary's QEMU, the agents fail over on their own (the killed side releases the role, the
 * secondary takes it and runs `failover` locally), the guest answers again with its state
 * intact; then the test re-protects onto the killed host (as the provider would) and the agents
 * follow the new roles without any spec change. Measured: kill -> first guest answer.
 */

jest.setTimeout(900_000);


const VM = { name: 'mon-web', ip: '10.89.0.83' };
const LOOPS = Number(process.env.ORBIT_MONITOR_LOOPS ?? 5);
const HEARTBEAT_PORT = 17400;
const HOSTS = ['site-a', 'site-b'] as const;

let lab: LabDescription;
const sessions: Record<string, SshSession> = {};
let etcd: Etcd3 | undefined;
let dir: string;
const agents: LabAgent[] = [];

beforeAll(async () => {
  lab = await labUp(); // as the other lab tests: idempotent, brings the lab up when it is down
  for (const name of HOSTS) sessions[name] = await connectToLabHost(lab, name, { defaultTimeoutMs: 60_000 });
  const provider = lab.etcd.clients.provider;
  etcd = connectEtcd({ endpoints: lab.etcd.endpoints, tls: { ca: fs.readFileSync(lab.etcd.caPath), cert: fs.readFileSync(provider.certPath), key: fs.readFileSync(provider.keyPath) }, callTimeoutMs: 5000 });
  await destroyPair(Object.values(sessions), VM.name, { removeDisks: true });
  await etcd.delete().prefix(`/orbit/v1/pairs/${VM.name}/`);
  // On the shared filesystem: the agents inside the namespaces read their config and keys here.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-monitor-'));
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => killLabAgent(agent).catch((e) => console.error(e))));
  const open = Object.values(sessions).filter((s) => s.isOpen);
  await destroyPair(open, VM.name, { removeDisks: true }).catch((e) => console.error(e));
  await new Promise((r) => setTimeout(r, 500)); // init reaps the killed agents
  const aliveAgents: string[] = [];
  for (const agent of agents) if (await agentAlive(agent)) aliveAgents.push(agent.host);
  const traces: string[] = [];
  for (const s of open) traces.push(...(await vmTraces(s, VM.name)).map((t) => `${s.host.name}: ${t}`));
  let keysLeft: string[] = [];
  if (etcd) {
    await etcd.delete().prefix(`/orbit/v1/pairs/${VM.name}/`);
    keysLeft = await etcd.getAll().prefix(`/orbit/v1/pairs/${VM.name}/`).keys();
    etcd.close();
  }
  await Promise.all(open.map((s) => s.close()));
  console.log(`agent logs: ${dir}`);
  if (dir && process.env.ORBIT_MONITOR_KEEP_LOGS !== '1') fs.rmSync(dir, { recursive: true, force: true });
  expect(aliveAgents).toEqual([]);
  expect(traces).toEqual([]);
  expect(keysLeft).toEqual([]);
});

function pairHost(name: string): PairHost {
  const host = labHost(lab, name);
  return { name, sshAddress: host.address, sshPort: host.sshPort, replicationAddress: host.address, heartbeatAddress: host.address, heartbeatPort: HEARTBEAT_PORT };
}

const agentOf = (host: string) => agents.find((a) => a.host === host)!;
const pairStatus = (host: string) => readAgentStatus(agentOf(host))?.pairs[VM.name];

/** Both agents agree: `primary` holds the role and runs the COLO primary, `secondary` stands by, heartbeats flow. */
async function waitProtected(primary: string, secondary: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${primary} active (colo-primary) and ${secondary} standby (colo-secondary)`,
    () => {
      const p = pairStatus(primary);
      const s = pairStatus(secondary);
      const ok = p?.role === 'held' && p.local === 'colo-primary' && p.peer === 'alive' && p.peerState === 'colo-secondary' && s?.role === 'peer' && s.local === 'colo-secondary' && s.peer === 'alive' && s.peerState === 'colo-primary';
      return ok ? true : undefined;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${primary}: ${JSON.stringify(pairStatus(primary))}\n${secondary}: ${JSON.stringify(pairStatus(secondary))}`);
  });
}

/** ms after `since` of the first log line of `host`'s agent with message `msg` (and its fields). */
function logged(host: string, msg: string, since: number): { at: number; line: Record<string, unknown> } | undefined {
  const line = readAgentLog(agentOf(host)).find((l) => l.msg === msg && Date.parse(l.time) >= since);
  return line ? { at: Date.parse(line.time), line } : undefined;
}

test(`the agents fail the pair over on their own when the primary's QEMU is killed (${LOOPS} rounds, re-protected in between)`, async () => {
  const { accelerator } = await labAccelerator(lab);

  // Keys: the provider signs specs (Ed25519 private key stays here), agents get the public key and the heartbeat secret.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  fs.writeFileSync(path.join(dir, 'spec-signing.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  fs.writeFileSync(path.join(dir, 'heartbeat.key'), randomBytes(32), { mode: 0o600 });

  const started = await startProtectedPair(sessions['site-a'], sessions['site-b'], coloGuestSpec(lab, { ...VM, accelerator }));
  console.log(`pair started in ${started.setupMs} ms`);
  const firstReport = await waitForGuestReport(VM.ip, 7000, 90_000);

  const spec: PairRuntimeSpec = { version: 1, vm: VM.name, generation: 1, hosts: [pairHost('site-a'), pairHost('site-b')], spareHosts: [], timing: DEFAULT_TIMING };
  await etcd!.put(pairKeys(VM.name).spec).value(JSON.stringify(signPairSpec(spec, privateKey)));

  const config = (host: string): AgentConfig => ({
    host,
    etcd: { endpoints: lab.etcd.endpoints, caPath: lab.etcd.caPath, certPath: lab.etcd.clients[host].certPath, keyPath: lab.etcd.clients[host].keyPath },
    specPublicKeyPath: path.join(dir, 'spec-signing.pub'),
    heartbeat: { address: labHost(lab, host).address, port: HEARTBEAT_PORT, keyPath: path.join(dir, 'heartbeat.key') },
    logPath: path.join(dir, `agent-${host}.log`),
    statusPath: path.join(dir, `agent-${host}.status.json`),
  });
  // Both agents at once: started alone, either would see a silent peer within interval x misses
  // (600 ms, less than ts-node's start-up) and act on it: the primary's agent fails over to run
  // alone (decision rule 2), the secondary's takes the vacant role after 1400 ms (rule 4).
  const startAt = Date.now();
  agents.push(...(await Promise.all(HOSTS.map((host) => startLabAgent(sessions[host], config(host), dir)))));
  await waitFor('site-a agent to hold the role', () => (pairStatus('site-a')?.role === 'held' ? true : undefined), 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${fs.readFileSync(path.join(dir, 'agent-site-a.out'), 'utf8').slice(-2000)}`);
  });
  console.log(`site-a agent holds the role ${Date.now() - startAt} ms after the agents' start`);
  await waitProtected('site-a', 'site-b');

  let [primary, secondary] = ['site-a', 'site-b'];
  let lastCounter = firstReport.counter;
  const rounds: Array<Record<string, unknown>> = [];
  for (let round = 1; round <= LOOPS; round++) {
    // Enough requests in flight that ones whose SYN is lost at the switch-over (TCP retries after
    // 1 s) never stop new ones from starting: the measured silence is the guest's, not TCP's.
    const poller = pollGuest(VM.ip, { intervalMs: 25, timeoutMs: 1500, maxInFlight: 100 });
    await new Promise((r) => setTimeout(r, 1000));
    const callAt = Date.now();
    const killAt = await crashQemuAt(sessions[primary], VM.name); // when the host sent SIGKILL
    const killedAt = Date.now(); // the QEMU is surely gone: only the secondary can answer from here on
    let survivorState: string | undefined;
    try {
      await waitFor(`${secondary}'s agent to fail over`, () => (pairStatus(secondary)?.local === 'serving-alone' ? true : undefined), 20_000, 10);
      await waitFor('the guest to answer after the failover', () => readGuestReport(VM.ip, 7000, 2000).then(() => true, () => undefined), 20_000, 100);
    } catch (error) {
      survivorState = (error as Error).message;
    }
    const samples = await poller.stop();
    const before = samples.filter((s) => s.report && s.doneAt < callAt).sort((a, b) => a.doneAt - b.doneAt).pop();
    const after = samples.filter((s) => s.report && s.at >= killedAt).sort((a, b) => a.doneAt - b.doneAt)[0];
    const release = logged(primary, 'role released', killAt);
    const acquired = logged(secondary, 'role acquired', killAt);
    const decided = logged(secondary, 'decided: failover-locally', killAt);
    const done = logged(secondary, 'failover done', killAt);
    const result = {
      round,
      killed: primary,
      survivor: secondary,
      killToAnswerMs: after ? after.doneAt - killAt : null,
      killCallToAnswerMs: after ? after.doneAt - callAt : null,
      killSshRoundTripMs: killedAt - callAt,
      releaseAtMs: release ? release.at - killAt : null,
      acquireAtMs: acquired ? acquired.at - killAt : null,
      failoverDecidedAtMs: decided ? decided.at - killAt : null,
      failoverDoneAtMs: done ? done.at - killAt : null,
      failoverCallMs: done?.line.callMs ?? null,
      failedRequests: samples.filter((s) => s.error && s.at >= killAt && (!after || s.at < after.doneAt)).length,
      counterBefore: before?.report?.counter ?? null,
      counterAfter: after?.report?.counter ?? null,
      sameBoot: Boolean(before && after && before.report!.boot === after.report!.boot),
    };
    rounds.push(result);
    console.log(JSON.stringify({ monitorRound: result }));
    if (survivorState) throw new Error(`round ${round}: ${survivorState}\n${secondary}: ${JSON.stringify(pairStatus(secondary))}\n${primary}: ${JSON.stringify(pairStatus(primary))}`);
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    expect(after!.report!.boot).toBe(firstReport.boot);
    expect(after!.report!.counter).toBeGreaterThanOrEqual(before!.report!.counter);
    expect(after!.report!.counter).toBeGreaterThanOrEqual(lastCounter);
    lastCounter = after!.report!.counter;
    // The survivor is active in etcd; the killed side has nothing running.
    expect(pairStatus(secondary)).toMatchObject({ role: 'held', local: 'serving-alone' });
    expect(pairStatus(primary)?.local).toBe('dead');

    // Re-protect onto the killed host, as the provider would; the agents follow without a spec change.
    const re = await reprotect(sessions[secondary], sessions[primary], VM.name);
    console.log(`round ${round}: re-protected onto ${primary} in ${re.wallMs} ms (guest stopped ${re.guestStoppedMs} ms)`);
    [primary, secondary] = [secondary, primary];
    await waitProtected(primary, secondary);
  }
  const times = rounds.map((r) => r.killToAnswerMs as number);
  console.log(JSON.stringify({ monitorSummary: { rounds: rounds.length, killToAnswerMs: times, under1s: times.filter((t) => t < 1000).length } }));
});
