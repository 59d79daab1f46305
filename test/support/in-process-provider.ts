/**
 * Serves a provider definition from the test process itself, for terraform to attach to
 * through TF_REATTACH_PROVIDERS (debug mode). TEST ONLY.
 */
import { ProviderServer } from '../../provider/framework/provider-server';
import { AnyProvider } from '../../provider/framework/provider-definition';
import { createLogger, Logger } from '../../provider/protocol/logger';
import { PluginServer } from '../../provider/protocol/plugin-server';

export interface InProcessProvider {
  server: PluginServer;
  handlers: ProviderServer;
  /** The TF_REATTACH_PROVIDERS value. */
  reattach: string;
  /** What the provider logged (hclog JSON lines). */
  logLines: string[];
  stop(): Promise<void>;
}

export async function serveInProcess(definition: AnyProvider, logger?: Logger): Promise<InProcessProvider> {
  const logLines: string[] = [];
  const log = logger ?? createLogger({ level: 'trace', write: (line) => logLines.push(line) });
  const handlers = new ProviderServer(definition, log);
  const server = await PluginServer.start({ handlers, logger: log });
  return {
    server,
    handlers,
    reattach: JSON.stringify({ 'registry.terraform.io/orbit/orbit': server.reattachConfig() }),
    logLines,
    stop: () => server.stop(),
  };
}
