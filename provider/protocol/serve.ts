/**
 * Runs a provider as a terraform plugin process: checks that terraform started it,
 * serves TLS when terraform asks for it (AutoMTLS), prints the handshake line and stays up
 * until terraform calls Shutdown.
 */
import { checkHandshakeEnvironment } from './handshake';
import { createLogger, Logger } from './logger';
import { PluginServer } from './plugin-server';
import { ProviderHandlers } from './tfplugin6';
import { serverCertificate } from './tls-certificate';

export interface ServeOptions {
  /**
   * Debug mode: no magic cookie needed, plaintext, and instead of the handshake line a
   * TF_REATTACH_PROVIDERS value is printed for terraform to connect to this process.
   */
  debug?: boolean;
  providerAddress?: string;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

export async function serve(handlers: Partial<ProviderHandlers>, options: ServeOptions = {}): Promise<PluginServer | undefined> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger();
  if (!options.debug) {
    const check = checkHandshakeEnvironment(env);
    if (!check.ok) {
      process.stderr.write(`${check.message}\n`);
      process.exitCode = 1;
      return undefined;
    }
  }

  const clientCertPem = options.debug ? undefined : env.PLUGIN_CLIENT_CERT;
  const certificate = clientCertPem ? await serverCertificate(env) : undefined;
  const server = await PluginServer.start({
    handlers,
    logger,
    tls:
      clientCertPem && certificate
        ? {
            clientCertPem,
            serverCertPem: certificate.certPem,
            serverKeyPem: certificate.keyPem,
            handshakeField: certificate.handshakeField,
          }
        : undefined,
    onShutdown: () => process.exit(0),
  });

  process.on('exit', () => server.removeSocketDir());
  // Terraform stops a provider with StopProvider and Shutdown; an interrupt from the terminal
  // reaches the whole process group, and dying on it would abandon half-done work on hosts.
  const exit = () => void server.stop(500).then(() => process.exit(0));
  process.on('SIGINT', options.debug ? exit : () => logger.info('interrupt received; waiting for terraform to stop the provider'));
  process.on('SIGTERM', exit);

  if (options.debug) {
    const address = options.providerAddress ?? 'registry.terraform.io/orbit/orbit';
    const reattach = JSON.stringify({ [address]: server.reattachConfig() });
    process.stdout.write(`Orbit provider serving in debug mode. In another shell, run terraform with:\n\n` + `  export TF_REATTACH_PROVIDERS='${reattach}'\n\nStop with Ctrl-C.\n`);
  } else {
    process.stdout.write(server.handshakeLine());
  }
  logger.debug('provider serving', { protocol: 6, tls: certificate !== undefined });
  return server;
}
