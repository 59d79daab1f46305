/**
 * The supervisor's start with an agent left by its dead predecessor (supervisor-respawn.ts): the
 * first agent starts only once that one has exited, so two agents never run at once. Real
 * processes (`sleep` stands in for both agents).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SPARE_READY, SPARE_START, STANDBY_ARG, Supervisor } from './supervisor';
import { setTimeout as sleep } from 'timers/promises';

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
  await sleep(500);
  expect(supervisor.agentPid).toBeUndefined();
  const exitedAt = await exited;
  while (supervisor.agentPid === undefined) await sleep(10);
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

describe('warm spare', () => {
  // A stand-in agent with agent-main's spare protocol: with --standby it says it is ready and
  // waits for "start"; started, it writes "started <pid>" and lives on.
  const fakeAgent = (): string => {
    const file = path.join(dir, 'fake-agent.js');
    fs.writeFileSync(
      file,
      `const fs = require('fs');
const started = () => fs.appendFileSync(${JSON.stringify(path.join(dir, 'started'))}, 'started ' + process.pid + '\\n');
if (process.argv.includes('${STANDBY_ARG}')) {
  process.on('message', (m) => { if (m === '${SPARE_START}') started(); });
  process.send('${SPARE_READY}');
} else started();
setInterval(() => {}, 1000);`,
    );
    return file;
  };
  const startedPids = (): number[] =>
    fs.existsSync(path.join(dir, 'started'))
      ? fs
          .readFileSync(path.join(dir, 'started'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => Number(l.split(' ')[1]))
      : [];
  const until = async (what: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!what()) {
      if (Date.now() > end) throw new Error('timed out');
      await sleep(10);
    }
  };

  test('a dead agent is replaced by the loaded spare at once, and a new spare is loaded behind it', async () => {
    supervisor = new Supervisor({
      host: 'test',
      agentCommand: [process.execPath, fakeAgent()],
      agentOutPath: path.join(dir, 'agent.out'),
      logPath: path.join(dir, 'supervisor.log'),
      runRoot: path.join(dir, 'run'),
      warmSpare: true,
    });
    supervisor.start();
    await until(() => startedPids().length === 1);
    const first = supervisor.agentPid!;
    expect(startedPids()).toEqual([first]);
    await sleep(1000);
    const spare = supervisor.sparePid;
    expect(spare).toBeDefined();
    const killedAt = Date.now();
    process.kill(first, 'SIGKILL');
    await until(() => startedPids().length === 2);
    const tookMs = Date.now() - killedAt;
    const second = startedPids()[1];
    // The spare was already loaded: it is the new agent, not a process started after the death.
    expect(supervisor.agentPid).toBe(second);
    expect(second).toBe(spare);
    await until(() => supervisor!.sparePid !== undefined && supervisor!.sparePid !== spare);
    expect(second).not.toBe(first);
    console.log(`agent killed -> spare started in ${tookMs} ms`);
    // A new spare is loaded behind it (it has not started: only one more "started" line later).
    await sleep(1000);
    expect(startedPids()).toEqual([first, second]);
  });
});
