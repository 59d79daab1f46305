/**
 * supervisor-respawn.ts with real processes: a stand-in agent (test/support/orphanable-agent.ts) under
 * a shell that plays its supervisor. Killing the shell must make the agent run the start
 * command, keep working until the new supervisor's pid file appears, then hand over and exit; a
 * signalled agent, or one whose parent lives, must start nothing.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';
import { pollUntil } from '../ssh/poll';

jest.setTimeout(30_000);

const AGENT = path.resolve(__dirname, '../../test/support/orphanable-agent.ts');

interface Setup {
  dir: string;
  supervisor: ChildProcess;
  agentPid: number;
}

let setups: Setup[] = [];

afterEach(() => {
  for (const s of setups) {
    const newSupervisor = fs.existsSync(path.join(s.dir, 'supervisor.pid')) ? Number(fs.readFileSync(path.join(s.dir, 'supervisor.pid'), 'utf8')) : undefined;
    for (const pid of [s.supervisor.pid, s.agentPid, newSupervisor]) {
      if (!pid) continue;
      try {
        process.kill(pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
  setups = [];
});

/**
 * Complete lines in a file the processes under test write (a pid per line). Existence is not
 * enough: a writer creates the file before it writes the line.
 */
function wholeLines(file: string): number {
  return fs.existsSync(file) ? (fs.readFileSync(file, 'utf8').match(/\n/g) ?? []).length : 0;
}

/** Runs of the start command so far (it appends its parent's pid). */
const startLines = (dir: string) => wholeLines(path.join(dir, 'started'));

const waitFor = (what: string, check: () => boolean, timeoutMs = 15_000): Promise<true> => pollUntil(what, () => check() || undefined, { timeoutMs, everyMs: 50 });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A shell (the "supervisor") running the stand-in agent as its child; resolves once the agent
 * watches. The start command records who ran it (`started`, one line per run) and, unless
 * `supervisorComes` is false, a second later brings up a "supervisor" that writes its pid file.
 */
async function start(options: { supervisorComes?: boolean; supervisorStartMs?: number } = {}): Promise<Setup> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-respawn-'));
  const startScript = path.join(dir, 'start');
  const newSupervisor = `(sleep 1; sh -c 'echo $$ > ${dir}/supervisor.pid; exec sleep 60') </dev/null >/dev/null 2>&1 &`;
  fs.writeFileSync(startScript, `#!/bin/sh\necho "$PPID" >> ${dir}/started\n${options.supervisorComes === false ? '' : newSupervisor}\n`, { mode: 0o755 });
  const args = [AGENT, startScript, dir, ...(options.supervisorStartMs ? [String(options.supervisorStartMs)] : [])];
  const agent = [process.execPath, '-r', 'ts-node/register/transpile-only', ...args].map((a) => `'${a}'`).join(' ');
  const supervisor = spawn('sh', ['-c', `${agent} & wait`], { stdio: 'ignore' });
  const setup: Setup = { dir, supervisor, agentPid: 0 };
  setups.push(setup);
  await waitFor('the agent to start', () => wholeLines(path.join(dir, 'ready')) >= 1);
  setup.agentPid = Number(fs.readFileSync(path.join(dir, 'ready'), 'utf8'));
  return setup;
}

test('an agent whose supervisor is killed starts a new one, hands over once it runs, and exits', async () => {
  const s = await start();
  s.supervisor.kill('SIGKILL');
  await waitFor('the start command', () => startLines(s.dir) >= 1);
  // The start command ran as the agent's child; the agent keeps working until the new supervisor is up.
  expect(Number(fs.readFileSync(path.join(s.dir, 'started'), 'utf8'))).toBe(s.agentPid);
  expect(fs.existsSync(path.join(s.dir, 'handed-over'))).toBe(false);
  expect(alive(s.agentPid)).toBe(true);
  await waitFor('the hand-over', () => wholeLines(path.join(s.dir, 'handed-over')) >= 1);
  expect(fs.existsSync(path.join(s.dir, 'supervisor.pid'))).toBe(true);
  expect(Number(fs.readFileSync(path.join(s.dir, 'handed-over'), 'utf8'))).toBe(s.agentPid);
  await waitFor('the old agent to exit', () => !alive(s.agentPid), 5000);
});

test('an agent whose new supervisor does not come up keeps working and starts one again', async () => {
  const s = await start({ supervisorComes: false, supervisorStartMs: 500 });
  s.supervisor.kill('SIGKILL');
  await waitFor('a second start', () => startLines(s.dir) >= 2);
  expect(alive(s.agentPid)).toBe(true);
  expect(fs.existsSync(path.join(s.dir, 'handed-over'))).toBe(false);
});

test('an agent whose supervisor lives starts nothing', async () => {
  const s = await start();
  await sleep(1000);
  expect(alive(s.agentPid)).toBe(true);
  expect(fs.existsSync(path.join(s.dir, 'handed-over'))).toBe(false);
  expect(fs.existsSync(path.join(s.dir, 'started'))).toBe(false);
});

test('an agent stopped by a signal starts no supervisor', async () => {
  const s = await start();
  process.kill(s.agentPid, 'SIGTERM');
  await waitFor('the agent to exit', () => !alive(s.agentPid), 5000);
  s.supervisor.kill('SIGKILL');
  await sleep(500);
  expect(fs.existsSync(path.join(s.dir, 'handed-over'))).toBe(false);
  expect(fs.existsSync(path.join(s.dir, 'started'))).toBe(false);
});
