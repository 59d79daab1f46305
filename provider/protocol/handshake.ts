/**
 * The go-plugin handshake (hashicorp/go-plugin 1.6, as terraform 1.11 uses it): terraform
 * starts the provider with a magic cookie in the environment and reads one line from its
 * stdout: `CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT`.
 */
export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
/** go-plugin's own protocol version. */
export const CORE_PROTOCOL_VERSION = 1;
/** The terraform plugin protocol major version Orbit speaks (tfplugin6). */
export const APP_PROTOCOL_VERSION = 6;

export type HandshakeCheck = { ok: true } | { ok: false; message: string };

/** Decides whether terraform started this process; if not, says what to do instead. */
export function checkHandshakeEnvironment(env: NodeJS.ProcessEnv): HandshakeCheck {
  if (env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    return {
      ok: false,
      message: [
        'This is the Orbit terraform provider (terraform-provider-orbit). Terraform starts it; it is not run by hand.',
        '  To use it:   npm run provider:install, then export the TF_CLI_CONFIG_FILE line it prints and run terraform.',
        '  To debug it: run it with --debug; it prints a TF_REATTACH_PROVIDERS value for terraform to connect to it.',
      ].join('\n'),
    };
  }
  const offered = (env.PLUGIN_PROTOCOL_VERSIONS ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (offered.length > 0 && !offered.includes(String(APP_PROTOCOL_VERSION))) {
    return {
      ok: false,
      message:
        `terraform offers plugin protocol versions ${offered.join(', ')}, but the Orbit provider speaks version ` + `${APP_PROTOCOL_VERSION}. Use terraform 1.0 or newer (Orbit is tested with 1.11).`,
    };
  }
  return { ok: true };
}

export interface HandshakeEndpoint {
  network: 'unix' | 'tcp';
  address: string;
  /** The server certificate's DER, base64 without padding; empty when serving without TLS. */
  certificate: string;
}

export function handshakeLine(endpoint: HandshakeEndpoint): string {
  return `${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|${endpoint.network}|${endpoint.address}|grpc|${endpoint.certificate}\n`;
}
