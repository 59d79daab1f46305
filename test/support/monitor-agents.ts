/**
 * Failover monitor agents on lab hosts (TEST ONLY): started inside the host's namespaces over
 * SSH (so they see that host's /var/lib/orbit and /run/orbit and use its network), with their
 * config, log and status files in a directory on the shared filesystem.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { AgentConfig, AgentStatus } from '../../provider/runtime/agent';
import { SshSession } from '../../provider/hosts/ssh-session';

const REPO = path.resolve(__dirname, '../..');

export interface LabAgent {
  host: string;
  session: SshSession;
  config: AgentConfig;
  configPath: string;
  /** Process group (= pid of the agent: started with setsid). */
  pgid: number;
}

export async function startLabAgent(session: SshSession, config: AgentConfig, dir: string): Promise<LabAgent> {
  const configPath = path.join(dir, `agent-${config.host}.json`);
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const out = path.join(dir, `agent-${config.host}.out`);
  const command =
    // `cd` apart: `cd x && y &` would background a subshell that keeps the SSH channel open.
    `cd ${REPO} || exit 1\nsetsid nohup ${process.execPath} -r ts-node/register/transpile-only provider/runtime/agent-main.ts --config ${configPath} ` +
    `> ${out} 2>&1 < /dev/null & echo $!`;
  const { stdout } = await session.exec(command);
  const pgid = Number(stdout.trim());
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`Starting the agent on ${config.host} printed no pid: ${JSON.stringify(stdout)}`);
  return { host: config.host, session, config, configPath, pgid };
}

export function readAgentStatus(agent: LabAgent): AgentStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(agent.config.statusPath!, 'utf8')) as AgentStatus;
  } catch {
    return undefined;
  }
}

/** The agent's log as parsed JSON lines. */
export function readAgentLog(agent: LabAgent): Array<Record<string, unknown> & { time: string; msg: string }> {
  let text = '';
  try {
    text = fs.readFileSync(agent.config.logPath!, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** SIGKILL of the agent's process group (no role released: both agents are stopped together). */
export async function killLabAgent(agent: LabAgent): Promise<void> {
  const pid = readAgentStatus(agent)?.pid;
  await agent.session.exec(`kill -KILL -- -${agent.pgid} 2>/dev/null; ${pid ? `kill -KILL ${pid} 2>/dev/null; ` : ''}true`);
}

/** Whether the agent still runs (a zombie waiting for init to reap it counts as gone). */
export async function agentAlive(agent: LabAgent): Promise<boolean> {
  const pids = [...new Set([agent.pgid, readAgentStatus(agent)?.pid].filter((p): p is number => p !== undefined))];
  const { stdout } = await agent.session.exec(`ps -o stat= -p ${pids.join(',')} | grep -v '^Z' | wc -l`);
  return Number(stdout.trim()) > 0;
}

/**
 * SIGKILL of the VM's QEMU on the host (the pattern of colo-guest.ts crashQemu), returning when
 * the host sent it by its own clock (the lab hosts share this machine's clock): the SSH round
 * trip before the kill is then not counted as outage.
 */
export async function crashQemuAt(session: SshSession, vm: string): Promise<number> {
  const { stdout } = await session.exec(`date +%s%3N; pkill -KILL --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${vm},debug-threads=on( |$)'`);
  const at = Number(stdout.trim().split('\n')[0]);
  if (!Number.isFinite(at) || at <= 0) throw new Error(`No kill time from ${session.host.name}: ${JSON.stringify(stdout)}`);
  return at;
}
