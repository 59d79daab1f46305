/**
 * Starts a provider executable the way terraform does (magic cookie, AutoMTLS client
 * certificate), reads its handshake line and connects a gRPC client. TEST and BENCH only.
 */
import { ChildProcess, spawn } from 'child_process';
import * as grpc from '@grpc/grpc-js';
import { generate } from 'selfsigned';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../provider/protocol/handshake';
import { loadClientConstructors } from '../../provider/protocol/proto-definitions';

export interface Handshake {
  core: string;
  app: string;
  network: string;
  address: string;
  protocol: string;
  certificate: string;
}

export function parseHandshake(line: string): Handshake {
  const [core, app, network, address, protocol, certificate] = line.trim().split('|');
  return { core, app, network, address, protocol, certificate };
}

export function certificateFieldToPem(field: string): string {
  const padded = field + '='.repeat((4 - (field.length % 4)) % 4);
  const body = Buffer.from(padded, 'base64')
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

export async function clientCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const generated = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] },
    ],
  });
  return { certPem: generated.cert, keyPem: generated.private };
}

export interface StartedPlugin {
  child: ChildProcess;
  handshake: Handshake;
  /** Milliseconds from spawn to the handshake line. */
  startMs: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Spawns `command` like terraform would and waits for the handshake line. Pass XDG_CACHE_HOME
 * in `env` to keep the provider's TLS certificate cache out of the real home directory.
 */
export async function startPlugin(command: string, args: string[], options: { clientCertPem?: string; env?: Record<string, string> } = {}): Promise<StartedPlugin> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, {
    env: {
      ...process.env,
      [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
      PLUGIN_PROTOCOL_VERSIONS: '5,6',
      PLUGIN_MIN_PORT: '10000',
      PLUGIN_MAX_PORT: '25000',
      ...(options.clientCertPem ? { PLUGIN_CLIENT_CERT: options.clientCertPem } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(stdout.slice(0, newline));
    });
    child.on('exit', (code) => reject(new Error(`provider exited with ${code} before the handshake: ${stderr}`)));
    setTimeout(() => reject(new Error(`no handshake within 30 s: ${stderr}`)), 30_000).unref();
  });
  const startMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { child, handshake: parseHandshake(line), startMs, stderr: () => stderr, exited };
}

/** A method of a client grpc-js made from a .proto at run time: its types are not known here. */
type GrpcMethod = (...args: any[]) => any;

export interface PluginClients {
  provider: grpc.Client & Record<string, GrpcMethod>;
  controller: grpc.Client & Record<string, GrpcMethod>;
  close(): void;
}

export function connect(handshake: Handshake, tls?: { certPem: string; keyPem: string }): PluginClients {
  const { Provider, GRPCController } = loadClientConstructors();
  const target = handshake.network === 'unix' ? `unix://${handshake.address}` : handshake.address;
  const credentials = tls
    ? grpc.credentials.createSsl(Buffer.from(certificateFieldToPem(handshake.certificate)), Buffer.from(tls.keyPem), Buffer.from(tls.certPem))
    : grpc.credentials.createInsecure();
  const options = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };
  const provider = new Provider(target, credentials, options) as unknown as PluginClients['provider'];
  const controller = new GRPCController(target, credentials, options) as unknown as PluginClients['controller'];
  return {
    provider,
    controller,
    close: () => {
      provider.close();
      controller.close();
    },
  };
}

/** Calls a unary method and resolves with its response. */
export function call<T = any>(client: PluginClients['provider'], method: string, request: object = {}, deadlineMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method](request, { deadline: Date.now() + deadlineMs }, (error: grpc.ServiceError | null, response: T) => (error ? reject(error) : resolve(response))),
  );
}
