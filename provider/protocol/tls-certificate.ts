/**
 * The server half of go-plugin's AutoMTLS: terraform puts its own client certificate in
 * PLUGIN_CLIENT_CERT and trusts whatever certificate the plugin prints in the handshake.
 * The certificate must name `localhost` as a subject alternative name (Go ignores the CN).
 *
 * Loading `selfsigned` and generating a key costs ~100 ms, and terraform starts several
 * provider processes per command, so the certificate is cached for a day in
 * $XDG_CACHE_HOME/orbit (or ~/.cache/orbit), readable by the user only. The cached key only
 * guards a private unix socket that terraform reaches through a 0700 directory, and
 * terraform pins the certificate through the handshake line, so reuse across processes adds
 * no exposure beyond the user's own files. ORBIT_PROVIDER_TLS_CACHE=off disables the cache.
 */
import { createPrivateKey, X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
  /** The certificate's DER as base64 without `=` padding: go-plugin decodes it with RawStdEncoding. */
  handshakeField: string;
}

const VALIDITY_MS = 7 * 24 * 3600_000;
/** A cached certificate is reused while it has at least this long to live. */
const REUSE_MARGIN_MS = 6 * 24 * 3600_000;

export async function serverCertificate(env: NodeJS.ProcessEnv = process.env): Promise<ServerCertificate> {
  if (env.ORBIT_PROVIDER_TLS_CACHE === 'off') return generateServerCertificate();
  const file = cacheFile(env);
  const cached = readCached(file);
  if (cached) return cached;
  const fresh = await generateServerCertificate();
  writeCached(file, fresh);
  return fresh;
}

export async function generateServerCertificate(now = new Date()): Promise<ServerCertificate> {
  // loaded on demand: it is the slowest module of the provider to load
  const { generate } = await import('selfsigned');
  const generated = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + VALIDITY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] },
    ],
  });
  return { certPem: generated.cert, keyPem: generated.private, handshakeField: derBase64WithoutPadding(generated.cert) };
}

export function derBase64WithoutPadding(certPem: string): string {
  const body = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64').toString('base64').replace(/=+$/, '');
}

function cacheFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'orbit', 'provider-tls.json');
}

function readCached(file: string): ServerCertificate | undefined {
  try {
    const stat = fs.statSync(file);
    if ((stat.mode & 0o077) !== 0 || stat.uid !== process.getuid?.()) return undefined;
    const { certPem, keyPem } = JSON.parse(fs.readFileSync(file, 'utf8')) as { certPem: string; keyPem: string };
    const certificate = new X509Certificate(certPem);
    const remaining = new Date(certificate.validTo).getTime() - Date.now();
    if (remaining < VALIDITY_MS - REUSE_MARGIN_MS || certificate.subjectAltName !== 'DNS:localhost') return undefined;
    if (!certificate.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    return { certPem, keyPem, handshakeField: derBase64WithoutPadding(certPem) };
  } catch {
    return undefined;
  }
}

function writeCached(file: string, certificate: ServerCertificate): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify({ certPem: certificate.certPem, keyPem: certificate.keyPem }), { mode: 0o600 });
    fs.renameSync(temporary, file);
  } catch {
    // a read-only home is fine: the next process generates its own certificate
  }
}
