import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkHandshakeEnvironment, handshakeLine, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from './handshake';
import { derBase64WithoutPadding, generateServerCertificate, serverCertificate } from './tls-certificate';

describe('go-plugin handshake', () => {
  test('without the magic cookie the provider explains what it is and how to use it', () => {
    const check = checkHandshakeEnvironment({});
    expect(check.ok).toBe(false);
    expect(!check.ok && check.message).toContain('Terraform starts it; it is not run by hand');
    expect(!check.ok && check.message).toContain('--debug');
  });

  test('protocol 6 must be among the versions terraform offers', () => {
    expect(checkHandshakeEnvironment({ [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '6,5' }).ok).toBe(true);
    const old = checkHandshakeEnvironment({ [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '4,5' });
    expect(!old.ok && old.message).toContain('offers plugin protocol versions 4, 5');
  });

  test('the handshake line', () => {
    expect(handshakeLine({ network: 'unix', address: '/tmp/x/provider.sock', certificate: 'MIIB' })).toBe('1|6|unix|/tmp/x/provider.sock|grpc|MIIB\n');
  });

  test('the server certificate: SAN localhost, and its DER in base64 without padding', async () => {
    const certificate = await generateServerCertificate();
    const x509 = new X509Certificate(certificate.certPem);
    expect(x509.subjectAltName).toBe('DNS:localhost');
    expect(x509.ca).toBe(true);
    expect(certificate.handshakeField).not.toMatch(/=/);
    expect(Buffer.from(certificate.handshakeField, 'base64')).toEqual(x509.raw);
    expect(derBase64WithoutPadding(certificate.certPem)).toBe(certificate.handshakeField);
  });

  test('the certificate is cached for the user only, and a cache others can read is not trusted', async () => {
    const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-tls-cache-'));
    try {
      const env = { XDG_CACHE_HOME: cacheHome };
      const first = await serverCertificate(env);
      const file = path.join(cacheHome, 'orbit', 'provider-tls.json');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect((await serverCertificate(env)).certPem).toBe(first.certPem);
      fs.chmodSync(file, 0o644);
      expect((await serverCertificate(env)).certPem).not.toBe(first.certPem);
      expect((await serverCertificate({ ...env, ORBIT_PROVIDER_TLS_CACHE: 'off' })).certPem).not.toBe(first.certPem);
    } finally {
      fs.rmSync(cacheHome, { recursive: true, force: true });
    }
  });
});
