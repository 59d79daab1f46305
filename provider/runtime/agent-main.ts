/**
 * `orbit-agent`: the failover monitor's executable (bundled into one file by agent-bundle.ts and
 * installed on every host by the provider).
 *
 *   orbit-agent supervise --config /var/lib/orbit/agent/config.json   the supervisor: runs and
 *                                                 restarts the agent, fences overdue guests
 *   orbit-agent run --config /var/lib/orbit/agent/config.json         the agent itself
 *
 * SIGTERM/SIGINT stop it without releasing any role (a restarted agent adopts its lease).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { Agent, AgentConfig } from './agent';
import { Supervisor } from './supervisor';

/** What the installed config adds for the supervisor. */
export interface InstalledAgentConfig extends AgentConfig {
  supervisor?: { logPath?: string; pidFile?: string; agentOutPath?: string };
}

function readConfig(file: string): InstalledAgentConfig {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as InstalledAgentConfig;
  } catch (error) {
    console.error(`orbit-agent: cannot read the config ${file}: ${(error as Error).message}`);
    process.exit(2);
  }
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

async function run(options: { config: string }): Promise<void> {
  const agent = new Agent(readConfig(options.config));
  onSignals(() => agent.stop());
  try {
    await agent.start();
  } catch (error) {
    agent.log.fatal({ error: error instanceof Error ? error.message : String(error) }, 'agent could not start');
    process.exit(1);
  }
}

function supervise(options: { config: string }): void {
  const config = readConfig(options.config);
  const dir = path.dirname(path.resolve(options.config));
  const supervisor = new Supervisor({
    host: config.host,
    // The same executable (the bundle, or ts-node in a checkout), in `run` mode.
    agentCommand: [process.execPath, ...process.execArgv, process.argv[1], 'run', '--config', path.resolve(options.config)],
    agentOutPath: config.supervisor?.agentOutPath ?? path.join(dir, 'agent.out'),
    ...(config.supervisor?.logPath ? { logPath: config.supervisor.logPath } : {}),
    ...(config.supervisor?.pidFile ? { pidFile: config.supervisor.pidFile } : {}),
  });
  onSignals(() => supervisor.stop());
  supervisor.start();
}

const program = new Command('orbit-agent').description('Orbit failover monitor: watches the COLO pairs of this host, fails over, fences and re-protects');
program.command('run').description('run the agent').requiredOption('--config <file>', 'agent configuration (JSON)').action(run);
program.command('supervise').description('run the agent under its supervisor and watchdog').requiredOption('--config <file>', 'agent configuration (JSON)').action(supervise);
program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`orbit-agent: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
