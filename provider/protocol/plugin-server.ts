/**
 * The gRPC server terraform talks to: tfplugin6.Provider plus go-plugin's controller
 * (Shutdown) and stdio services, on a unix socket in a private temporary directory.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { handshakeLine, HandshakeEndpoint, APP_PROTOCOL_VERSION } from './handshake';
import { Logger } from './logger';
import { loadServiceDefinitions } from './proto-definitions';
import { ProviderHandlers } from './tfplugin6';

export interface PluginServerOptions {
  handlers: Partial<ProviderHandlers>;
  logger: Logger;
  /** Serve TLS that requires this client certificate (go-plugin AutoMTLS); plaintext when absent. */
  tls?: { clientCertPem: string; serverCertPem: string; serverKeyPem: string; handshakeField: string };
  /** Called after terraform's Shutdown call has been answered and the server stopped. */
  onShutdown?: () => void;
}

/** The reattach description terraform reads from TF_REATTACH_PROVIDERS (debug mode). */
export interface ReattachConfig {
  Protocol: 'grpc';
  ProtocolVersion: number;
  Pid: number;
  Test: boolean;
  Addr: { Network: 'unix' | 'tcp'; String: string };
}

/** Unix socket paths are limited to 108 bytes; beyond that, fall back to loopback TCP. */
const MAX_SOCKET_PATH = 100;

export class PluginServer {
  static async start(options: PluginServerOptions): Promise<PluginServer> {
    const definitions = loadServiceDefinitions();
    const server = new grpc.Server({
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
    const instance = new PluginServer(server);
    server.addService(definitions.provider, providerImplementation(definitions.provider, options.handlers, options.logger));
    server.addService(definitions.controller, {
      Shutdown: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<object>) => {
        options.logger.debug('terraform asked the provider to shut down');
        callback(null, {});
        setImmediate(() => void instance.stop().then(() => options.onShutdown?.()));
      },
    });
    server.addService(definitions.stdio, {
      // Logs go to stderr directly, which go-plugin already forwards; nothing to stream.
      StreamStdio: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    });

    const credentials = options.tls
      ? grpc.ServerCredentials.createSsl(Buffer.from(options.tls.clientCertPem), [{ private_key: Buffer.from(options.tls.serverKeyPem), cert_chain: Buffer.from(options.tls.serverCertPem) }], true)
      : grpc.ServerCredentials.createInsecure();

    instance.socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-plugin-'));
    const socketPath = path.join(instance.socketDir, 'provider.sock');
    if (socketPath.length <= MAX_SOCKET_PATH) {
      await bind(server, `unix://${socketPath}`, credentials);
      instance.endpoint = { network: 'unix', address: socketPath, certificate: options.tls?.handshakeField ?? '' };
    } else {
      const port = await bind(server, '127.0.0.1:0', credentials);
      instance.endpoint = { network: 'tcp', address: `127.0.0.1:${port}`, certificate: options.tls?.handshakeField ?? '' };
    }
    return instance;
  }

  private socketDir: string | undefined;
  private endpoint!: HandshakeEndpoint;
  private stopping: Promise<void> | undefined;

  private constructor(private readonly server: grpc.Server) {}

  /** The line terraform waits for on stdout. */
  handshakeLine(): string {
    return handshakeLine(this.endpoint);
  }

  reattachConfig(): ReattachConfig {
    return {
      Protocol: 'grpc',
      ProtocolVersion: APP_PROTOCOL_VERSION,
      Pid: process.pid,
      Test: true,
      Addr: { Network: this.endpoint.network, String: this.endpoint.address },
    };
  }

  /** Stops accepting calls, lets running calls finish (briefly), and removes the socket directory. */
  stop(graceMs = 1000): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.server.forceShutdown(), graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        this.removeSocketDir();
        resolve();
      });
    });
    return this.stopping;
  }

  /** Synchronous cleanup for process exit paths. */
  removeSocketDir(): void {
    if (this.socketDir) {
      fs.rmSync(this.socketDir, { recursive: true, force: true });
      this.socketDir = undefined;
    }
  }
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port))));
}

/**
 * Wires each tfplugin6.Provider method to its handler. Methods without a handler answer
 * UNIMPLEMENTED (terraform reports "Unsupported plugin method"); a handler that throws
 * answers with an error diagnostic instead of a gRPC error, which terraform shows verbatim.
 */
function providerImplementation(service: grpc.ServiceDefinition, handlers: Partial<ProviderHandlers>, logger: Logger): grpc.UntypedServiceImplementation {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(service)) {
    implementation[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const handler = (handlers as Record<string, ((request: unknown) => Promise<unknown>) | undefined>)[method];
      if (!handler) {
        logger.debug('unimplemented RPC', { rpc: method });
        callback({ code: grpc.status.UNIMPLEMENTED, details: `the Orbit provider does not implement ${method}` });
        return;
      }
      const started = process.hrtime.bigint();
      const request = call.request as { type_name?: string };
      handler.call(handlers, call.request).then(
        (response) => {
          if (logger.enabled('debug')) {
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            logger.debug('RPC done', { rpc: method, type_name: request.type_name, duration_ms: Math.round(ms * 10) / 10 });
          }
          callback(null, response);
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          logger.error('RPC failed', { rpc: method, type_name: request.type_name, error: message });
          callback(null, failureResponse(method, message));
        },
      );
    };
  }
  return implementation;
}

function failureResponse(method: string, message: string): unknown {
  if (method === 'StopProvider') return { Error: message };
  if (method === 'CallFunction') return { error: { text: message } };
  return {
    diagnostics: [
      {
        severity: 'ERROR',
        summary: `Internal error in the Orbit provider (${method})`,
        detail: `${message}\n\nThis is a bug in the provider; the provider log (TF_LOG=debug) has details.`,
      },
    ],
  };
}
