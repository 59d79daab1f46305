/**
 * The installer's refusals, before anything is written to a host: no Node.js, one too old, a
 * systemd service manager asked for where systemd does not run. Each names the host and the
 * fix. (The install itself, on real hosts over SSH: test/lab/monitor-chaos.test.ts and
 * test/provider/lab-ft-vm-monitor.test.ts.)
 */
import { SshSession } from '../ssh/ssh-session';
import { AgentBundle } from './agent-bundle';
import { AgentHostSetup, AgentInstallError, ensureAgent } from './agent-install';

/** A host that answers the installer's probes from a script; anything that would change the host fails the test. */
function scriptedHost(answers: { node?: { path: string; version: string } | null; pid1?: string }): { session: SshSession; commands: string[] } {
  const commands: string[] = [];
  const session = {
    host: { name: 'site-a', address: '10.0.0.11', port: 22 },
    async exec(command: string) {
      commands.push(command);
      if (command.includes('command -v') && command.includes('process.versions.node')) {
        return answers.node ? { stdout: `${answers.node.path}\n${answers.node.version}`, stderr: '', code: 0 } : { stdout: '', stderr: '', code: 3 };
      }
      if (command.startsWith('cat /proc/1/comm')) return { stdout: `${answers.pid1 ?? 'init'}\nhas-systemctl\n`, stderr: '', code: 0 };
      throw new Error(`the installer went on to change the host: ${command}`);
    },
    async writeFile(file: string) {
      throw new Error(`the installer wrote ${file}`);
    },
  };
  return { session: session as unknown as SshSession, commands };
}

const bundle: AgentBundle = { dir: '/nonexistent', release: '0123456789abcdef', files: ['bin/orbit-agent.js'] };
const setup = (overrides: Partial<AgentHostSetup> = {}): AgentHostSetup => ({
  host: 'site-a',
  nodeBinary: 'node',
  serviceManager: 'auto',
  etcdEndpoints: ['https://10.0.0.2:2379'],
  listenAddress: '10.0.0.11',
  heartbeatPort: 7400,
  specPublicKeyPem: '-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n',
  heartbeatKey: Buffer.alloc(32, 1),
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<AgentInstallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentInstallError);
  return error as AgentInstallError;
}

test('no Node.js on the host', async () => {
  const error = await refusal(ensureAgent(scriptedHost({ node: null }).session, bundle, setup()));
  expect(error.message).toContain('The failover monitor agent on site-a (10.0.0.11:22): Node.js (node) is not installed or does not run');
  expect(error.fix).toBe("install Node.js 20 or newer on the host, or set node_binary in the provider's monitor block to its path");
});

test('a Node.js older than 20', async () => {
  const error = await refusal(ensureAgent(scriptedHost({ node: { path: '/usr/bin/node', version: '18.19.0' } }).session, bundle, setup()));
  expect(error.summary).toContain('Node.js 18.19.0 at /usr/bin/node is too old (the agent needs 20 or newer)');
});

test('service_manager "systemd" where systemd is not PID 1', async () => {
  const { session } = scriptedHost({ node: { path: '/usr/bin/node', version: '20.20.2' }, pid1: 'init' });
  const error = await refusal(ensureAgent(session, bundle, setup({ serviceManager: 'systemd' })));
  expect(error.summary).toContain('service_manager is "systemd" but systemd is not PID 1 on the host');
  expect(error.fix).toContain('set service_manager = "daemon" (or "auto")');
});
