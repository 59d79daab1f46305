/**
 * The provider executable (dist/provider/main.js). Terraform starts it; `--debug` runs it by
 * hand for terraform to attach to (TF_REATTACH_PROVIDERS).
 */
import { ProviderServer } from './framework/provider-server';
import { createLogger } from './protocol/logger';
import { serve } from './protocol/serve';
import { orbitProvider } from './provider';

async function main(): Promise<void> {
  const logger = createLogger();
  await serve(new ProviderServer(orbitProvider, logger), { debug: process.argv.includes('--debug'), logger });
}

main().catch((error: unknown) => {
  process.stderr.write(`The Orbit provider failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
