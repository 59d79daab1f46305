/**
 * The agent process's plumbing on a real etcd (TLS) and real UDP, without QEMU: it verifies the
 * specs it watches (a forged one is refused with a log line), follows specs written after it
 * started, heartbeats the peer named in the spec, and with no guest on its host it does nothing
 * (decision rule 5). The failover itself is proven in the lab (test/lab/monitor-failover.test.ts).
 */
import { generateKeyPairSync, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Etcd3 } from 'etcd3';
import { Agent, AgentConfig, AgentStatus } from './agent';
import { connectEtcd } from './etcd-connection';
import { pairKeys, PairRuntimeSpec, signPairSpec } from './pair-spec';
import { LocalEtcd, startLocalEtcd } from '../../test/support/local-etcd';
import { freePort } from '../../test/support/ports';
import { DEFAULT_TIMING } from './timing';
import { pollUntil } from '../ssh/poll';

jest.setTimeout(30_000);

let etcd: LocalEtcd;
let client: Etcd3;
let dir: string;
const agents: Agent[] = [];

beforeAll(async () => {
  etcd = await startLocalEtcd({ tls: true });
  const c = etcd.certificates!;
  client = connectEtcd({ endpoints: [etcd.endpoint], tls: { ca: fs.readFileSync(c.caFile), cert: fs.readFileSync(c.clientCertFile), key: fs.readFileSync(c.clientKeyFile) } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-agent-'));
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  client?.close();
  await etcd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const until = <T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> => pollUntil(what, probe, { timeoutMs, everyMs: 20 });

const readStatus = (file: string): AgentStatus | undefined => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as AgentStatus;
  } catch {
    return undefined;
  }
};

test('verifies specs, follows new ones, heartbeats its peer, and does nothing without a local guest', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const forger = generateKeyPairSync('ed25519');
  fs.writeFileSync(path.join(dir, 'spec.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  fs.writeFileSync(path.join(dir, 'hb.key'), randomBytes(32));
  const ports = { a: await freePort(), b: await freePort() };
  const host = (name: 'a' | 'b') => ({
    name: `host-${name}`,
    sshAddress: '127.0.0.1',
    sshPort: 22,
    sshUser: 'root',
    hostKeys: [`SHA256:${'A'.repeat(43)}`],
    replicationAddress: '127.0.0.1',
    heartbeatAddress: '127.0.0.1',
    heartbeatPort: ports[name],
  });
  // Random VM names: nothing of them exists under /var/lib/orbit or /run/orbit on this machine.
  const suffix = randomBytes(3).toString('hex');
  const spec = (vm: string): PairRuntimeSpec => ({ version: 1, vm, generation: 1, hosts: [host('a'), host('b')], spareHosts: [], timing: DEFAULT_TIMING });
  await client.put(pairKeys(`forged-${suffix}`).spec).value(JSON.stringify(signPairSpec(spec(`forged-${suffix}`), forger.privateKey)));
  await client.put(pairKeys(`early-${suffix}`).spec).value(JSON.stringify(signPairSpec(spec(`early-${suffix}`), privateKey)));

  const c = etcd.certificates!;
  const config = (name: 'a' | 'b'): AgentConfig => ({
    host: `host-${name}`,
    etcd: { endpoints: [etcd.endpoint], caPath: c.caFile, certPath: c.clientCertFile, keyPath: c.clientKeyFile },
    specPublicKeyPath: path.join(dir, 'spec.pub'),
    heartbeat: { address: '127.0.0.1', port: ports[name], keyPath: path.join(dir, 'hb.key') },
    logPath: path.join(dir, `agent-${name}.log`),
    statusPath: path.join(dir, `agent-${name}.status.json`),
  });
  for (const name of ['a', 'b'] as const) {
    const agent = new Agent(config(name));
    agents.push(agent);
    await agent.start();
  }
  await client.put(pairKeys(`late-${suffix}`).spec).value(JSON.stringify(signPairSpec(spec(`late-${suffix}`), privateKey)));

  for (const name of ['a', 'b'] as const) {
    const other = name === 'a' ? 'host-b' : 'host-a';
    const status = await until(`agent ${name} to see both pairs with the other agent heard`, () => {
      const s = readStatus(config(name).statusPath!);
      const pairs = s?.pairs ?? {};
      const heard = (vm: string) => pairs[vm]?.hosts[other]?.alive === true && pairs[vm]?.hosts[other]?.state === 'dead';
      return heard(`early-${suffix}`) && heard(`late-${suffix}`) ? s : undefined;
    });
    expect(Object.keys(status.pairs).sort()).toEqual([`early-${suffix}`, `late-${suffix}`]);
    // No guest here, so no COLO peer either: heartbeats are per host of the spec.
    expect(status.pairs[`early-${suffix}`]).toMatchObject({ role: 'vacant', local: 'dead', protection: 'down', etcd: 'reachable' });
    expect(status.pairs[`early-${suffix}`].peerHost).toBeUndefined();
    const log = fs.readFileSync(config(name).logPath!, 'utf8');
    expect(log).toMatch(/"key":"\/orbit\/v1\/pairs\/forged-[0-9a-f]+\/spec".*"msg":"pair spec refused"/);
  }
  // Nobody took a role for a guest that runs nowhere.
  expect((await client.getAll().prefix(`/orbit/v1/pairs/early-${suffix}/active`).keys()).length).toBe(0);

  // A deleted spec is no longer watched.
  await client.delete().key(pairKeys(`late-${suffix}`).spec);
  await until('the deleted pair to disappear', () => (readStatus(config('a').statusPath!)?.pairs[`late-${suffix}`] ? undefined : true));
  await client.delete().prefix('/orbit/v1/pairs/');
});
