/**
 * The supervisor's start with an agent left by its dead predecessor (supervisor-respawn.ts): the
 * first agent starts only once that one has exited, so two agents never run at once. Real
 * processes (`sleep` stands in for both agents).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Supervisor } from './supervisor';

jest.setTimeout(20_000);

let dir: string;
let supervisor: Supervisor | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-supervisor-'));
});

afterEach(async () => {
  await supervisor?.stop();
  supervisor = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

function newSupervisor(predecessorAgentPid?: number): Supervisor {
  return new Supervisor({
    host: 'test',
    agentCommand: ['sleep', '30'],
    agentOutPath: path.join(dir, 'agent.out'),
    logPath: path.join(dir, 'supervisor.log'),
    pidFile: path.join(dir, 'supervisor.pid'),
    runRoot: path.join(dir, 'run'),
    ...(predecessorAgentPid !== undefined ? { predecessorAgentPid } : {}),
  });
}

test("a supervisor whose predecessor's agent still runs starts its own agent only after that one exits", async () => {
  const predecessor = spawn('sleep', ['1.5'], { stdio: 'ignore' });
  const exited = new Promise<number>((resolve) => predecessor.once('exit', () => resolve(Date.now())));
  supervisor = newSupervisor(predecessor.pid);
  supervisor.start();
  // The pid file (the sign that the watchdog runs) is there at once; the agent is not.
  expect(fs.readFileSync(path.join(dir, 'supervisor.pid'), 'utf8').trim()).toBe(String(process.pid));
  await new Promise((r) => setTimeout(r, 500));
  expect(supervisor.agentPid).toBeUndefined();
  const exitedAt = await exited;
  while (supervisor.agentPid === undefined) await new Promise((r) => setTimeout(r, 10));
  expect(Date.now() - exitedAt).toBeLessThan(1000);
  expect(supervisor.starts).toBe(1);
});

test('a supervisor whose predecessor left no live agent starts its agent at once', async () => {
  const gone = spawn('true');
  await new Promise((r) => gone.once('exit', r));
  supervisor = newSupervisor(gone.pid);
  supervisor.start();
  expect(supervisor.agentPid).toBeDefined();
});
