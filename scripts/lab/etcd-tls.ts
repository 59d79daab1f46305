import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The lab etcd's certificates: a CA of the lab's own, a server certificate for etcd's address,
 * and one client certificate per user (each lab host's agent, and `provider` for terraform and
 * tests). etcd requires a client certificate signed by that CA (`--client-cert-auth`), so a
 * client without one is refused at the TLS handshake. Made once per lab with the openssl CLI
 * (EC P-256 keys, mode 0600), in `<state dir>/etcd/tls/`.
 */

export interface EtcdClientCertificate {
  certPath: string;
  keyPath: string;
}

export interface EtcdTls {
  caPath: string;
  server: EtcdClientCertificate;
  /** By client name: every host's name, and `provider`. */
  clients: Record<string, EtcdClientCertificate>;
}

const DAYS = '3650';

export function ensureEtcdTls(stateDir: string, serverAddress: string, clientNames: string[]): EtcdTls {
  const dir = path.join(stateDir, 'etcd', 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const caKey = file('ca.key');
  const caPath = file('ca.crt');
  if (!fs.existsSync(caPath)) {
    newKey(caKey);
    openssl(['req', '-x509', '-new', '-key', caKey, '-sha256', '-days', DAYS, '-subj', '/CN=orbit-lab-etcd-ca', '-out', caPath]);
  }
  const issue = (name: string, extensions: string): EtcdClientCertificate => {
    const keyPath = file(`${name}.key`);
    const certPath = file(`${name}.crt`);
    if (fs.existsSync(certPath)) return { certPath, keyPath };
    newKey(keyPath);
    const csr = file(`${name}.csr`);
    const ext = file(`${name}.ext`);
    openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${name}`, '-out', csr]);
    fs.writeFileSync(ext, extensions);
    openssl(['x509', '-req', '-in', csr, '-CA', caPath, '-CAkey', caKey, '-CAcreateserial', '-sha256', '-days', DAYS, '-extfile', ext, '-out', certPath]);
    fs.rmSync(csr);
    fs.rmSync(ext);
    return { certPath, keyPath };
  };
  const server = issue('server', `subjectAltName=IP:${serverAddress},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`);
  const clients = Object.fromEntries(clientNames.map((name) => [name, issue(`client-${name}`, 'extendedKeyUsage=clientAuth\n')]));
  return { caPath, server, clients };
}

function newKey(keyPath: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  fs.chmodSync(keyPath, 0o600);
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed while making the lab etcd's certificates: ${stderr || (error as Error).message}. Is openssl installed (Debian package openssl)?`);
  }
}
