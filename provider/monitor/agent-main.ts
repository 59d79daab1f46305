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
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { Agent, AgentConfig } from './agent';
import { MONITOR_NICE, SPARE_READY, SPARE_START, STANDBY_ARG, Supervisor } from './supervisor';
import { runningPid } from './running-process';
import { respawnSupervisorWhenOrphaned } from './supervisor-respawn';

/** What the installed config adds for the supervisor. */
export interface InstalledAgentConfig extends AgentConfig {
  supervisor?: {
    logPath?: string;
    pidFile?: string;
    agentOutPath?: string;
    /** Daemon mode only: the agent starts a new supervisor with this when its own dies (supervisor-respawn.ts). */
    respawnCommand?: string;
  };
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

async function run(options: { config: string; standby?: boolean }): Promise<void> {
  const config = readConfig(options.config);
  const agent = new Agent(config);
  if (options.standby) {
    await agent.prepare().catch(() => undefined); // a spare that cannot reach etcd yet still stands by
    await standBy();
  }
  const { respawnCommand, pidFile } = config.supervisor ?? {};
  const respawn = respawnCommand && pidFile ? respawnSupervisorWhenOrphaned({ command: respawnCommand, supervisorPidFile: pidFile, log: agent.log }) : undefined;
  onSignals(() => {
    respawn?.cancel();
    return agent.stop();
  });
  // The hand-over is an exit, as fast as a crash: the new agent adopts the roles before the
  // watchdog's deadline, which a graceful stop (renewals ended, connections closed) can outlast.
  void respawn?.newSupervisorRuns.then(() => {
    agent.log.flush();
    process.exit(0);
  });
  try {
    await agent.start();
  } catch (error) {
    agent.log.fatal({ error: error instanceof Error ? error.message : String(error) }, 'agent could not start');
    process.exit(1);
  }
}

/**
 * A warm spare (supervisor.ts): loaded, idle, until its supervisor tells it to start over the
 * IPC channel. It exits when told to stop, or when its supervisor is gone (the channel closes:
 * it is not the agent, there is nothing to hand over).
 */
function standBy(): Promise<void> {
  if (!process.send) {
    console.error(`orbit-agent: ${STANDBY_ARG} is only for the supervisor's warm spare (it needs the IPC channel)`);
    process.exit(2);
  }
  return new Promise((resolve) => {
    const exit = () => process.exit(0);
    process.once('SIGTERM', exit);
    process.once('SIGINT', exit);
    process.once('disconnect', exit);
    const onMessage = (message: unknown) => {
      if (message !== SPARE_START) return;
      process.removeListener('message', onMessage);
      process.removeListener('SIGTERM', exit);
      process.removeListener('SIGINT', exit);
      process.removeListener('disconnect', exit);
      resolve();
    };
    process.on('message', onMessage);
    process.send!(SPARE_READY);
  });
}

/** The agent of this config still running (its supervisor died and it is handing over), if any. */
function runningAgentPid(config: InstalledAgentConfig, configFile: string): number | undefined {
  if (!config.statusPath) return undefined;
  let pid: number | undefined;
  try {
    pid = (JSON.parse(fs.readFileSync(config.statusPath, 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
  if (pid === process.pid) return undefined;
  return runningPid(pid, (argv) => argv.includes('run') && argv.includes(configFile));
}

function supervise(options: { config: string }): void {
  const config = readConfig(options.config);
  try {
    // Inherited by the agent and its warm spare (supervisor.ts, MONITOR_NICE).
    os.setPriority(MONITOR_NICE);
  } catch (error) {
    console.error(`orbit-agent: could not raise the monitor's priority to nice ${MONITOR_NICE} (${(error as Error).message}); it runs at the host's default`);
  }
  const dir = path.dirname(path.resolve(options.config));
  const supervisor = new Supervisor({
    host: config.host,
    // The same executable (the bundle, or ts-node in a checkout), in `run` mode.
    agentCommand: [process.execPath, ...process.execArgv, process.argv[1], 'run', '--config', path.resolve(options.config)],
    agentOutPath: config.supervisor?.agentOutPath ?? path.join(dir, 'agent.out'),
    ...(config.supervisor?.logPath ? { logPath: config.supervisor.logPath } : {}),
    ...(config.supervisor?.pidFile ? { pidFile: config.supervisor.pidFile } : {}),
    predecessorAgentPid: runningAgentPid(config, path.resolve(options.config)),
    warmSpare: true,
  });
  onSignals(() => supervisor.stop());
  supervisor.start();
}

const program = new Command('orbit-agent').description('Orbit failover monitor: watches the COLO pairs of this host, fails over, fences and re-protects');
program
  .command('run')
  .description('run the agent')
  .requiredOption('--config <file>', 'agent configuration (JSON)')
  .option(STANDBY_ARG, 'load, then wait idle until the supervisor says start (its warm spare; IPC only)')
  .action(run);
program.command('supervise').description('run the agent under its supervisor and watchdog').requiredOption('--config <file>', 'agent configuration (JSON)').action(supervise);
program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`orbit-agent: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
