/**
 * Entry point of the failover monitor agent: `node -r ts-node/register/transpile-only
 * provider/runtime/agent-main.ts --config /etc/orbit/agent.json` (AgentConfig as JSON).
 * SIGTERM/SIGINT stop it without releasing any role (a restarted agent adopts its lease).
 */
import * as fs from 'fs';
import { Command } from 'commander';
import { Agent, AgentConfig } from './agent';

async function main(): Promise<void> {
  const program = new Command('orbit-agent')
    .description('Orbit failover monitor: watches the COLO pairs of this host and fails over when the peer is lost')
    .requiredOption('--config <file>', 'agent configuration (JSON: host, etcd, specPublicKeyPath, heartbeat, logPath, statusPath)')
    .option('--host <name>', "this host's name (overrides the config)")
    .parse(process.argv);
  const options = program.opts<{ config: string; host?: string }>();
  const config = JSON.parse(fs.readFileSync(options.config, 'utf8')) as AgentConfig;
  if (options.host) config.host = options.host;
  const agent = new Agent(config);
  const shutdown = (signal: string) => {
    agent.log.info({ signal }, 'stopping');
    void agent.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await agent.start();
  } catch (error) {
    agent.log.fatal({ error: error instanceof Error ? error.message : String(error) }, 'agent could not start');
    process.exit(1);
  }
}

void main();
