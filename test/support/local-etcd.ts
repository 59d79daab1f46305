/**
 * TEST ONLY: a real single-member etcd on 127.0.0.1 with random ports and a temporary data
 * directory, optionally with TLS and client-certificate authentication (certificates made
 * with the openssl CLI). Short raft timers (heartbeat 50 ms, election 500 ms) so etcd accepts
 * 1 s leases; the agent's defaults still use 2 s.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { freePort } from './ports';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { pollUntil } from '../../provider/ssh/poll';

export const ETCD = process.env.ORBIT_ETCD ?? 'etcd';

export interface TestCertificates {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** Signed by a different CA: must be refused. */
  strangerCertFile: string;
  strangerKeyFile: string;
}

export interface LocalEtcd {
  /** `http://127.0.0.1:<port>` or `https://...` */
  readonly endpoint: string;
  readonly pid: number;
  readonly certificates?: TestCertificates;
  /** SIGSTOP: etcd stops answering (a hung or partitioned etcd), connections stay open. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export function makeTestCertificates(dir: string): TestCertificates {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  const ca = (name: string) => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-days', '2', '-subj', `/CN=${name}`);
  };
  const leaf = (name: string, caName: string, ext: string) => {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`);
    fs.writeFileSync(file(`${name}.ext`), ext);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file(`${caName}.crt`),
      '-CAkey',
      file(`${caName}.key`),
      '-CAcreateserial',
      '-out',
      file(`${name}.crt`),
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
    );
  };
  ca('ca');
  ca('stranger-ca');
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    strangerCertFile: file('stranger.crt'),
    strangerKeyFile: file('stranger.key'),
  };
}

export async function startLocalEtcd(options: { tls?: boolean } = {}): Promise<LocalEtcd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-etcd-'));
  const certificates = options.tls ? makeTestCertificates(dir) : undefined;
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const scheme = certificates ? 'https' : 'http';
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'test',
    '--data-dir',
    path.join(dir, 'data'),
    '--listen-client-urls',
    endpoint,
    '--advertise-client-urls',
    endpoint,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `test=${peer}`,
    '--heartbeat-interval',
    '50',
    '--election-timeout',
    '500',
    '--logger',
    'zap',
    '--log-level',
    'error',
    ...(certificates ? ['--cert-file', certificates.serverCertFile, '--key-file', certificates.serverKeyFile, '--client-cert-auth', '--trusted-ca-file', certificates.caFile] : []),
  ];
  const child: ChildProcess = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8192)));
  child.once('error', (error) => (stderr += `\n${error.message}`));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(clientPort, child, () => stderr);
    await waitHealthy(endpoint, certificates, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    pid: child.pid!,
    certificates,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop,
  };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  await pollUntil(
    `${ETCD} to listen on 127.0.0.1:${port}`,
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${ETCD} exited before listening (is etcd-server installed?):\n${stderr()}`);
      const open = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
      return open || undefined;
    },
    { timeoutMs: 15_000, everyMs: 50, probeErrors: 'throw', timeoutError: () => new Error(`${ETCD} did not listen on 127.0.0.1:${port} within 15 s:\n${stderr()}`) },
  );
}

/** Until /health says a leader is elected (a listening etcd can still refuse leases and writes). */
async function waitHealthy(endpoint: string, certificates: TestCertificates | undefined, stderr: () => string): Promise<void> {
  const tls = certificates ? { ca: fs.readFileSync(certificates.caFile), cert: fs.readFileSync(certificates.clientCertFile), key: fs.readFileSync(certificates.clientKeyFile) } : {};
  await pollUntil(
    `${ETCD} at ${endpoint} to be healthy`,
    async () => {
      const healthy = await new Promise<boolean>((resolve) => {
        const get = certificates ? https.get : http.get;
        const request = get(`${endpoint}/health`, { ...tls, timeout: 1000 }, (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve(/"health":\s*"true"/.test(body)));
        });
        request.on('error', () => resolve(false));
        request.on('timeout', () => (request.destroy(), resolve(false)));
      });
      return healthy || undefined;
    },
    { timeoutMs: 15_000, everyMs: 50, timeoutError: () => new Error(`${ETCD} at ${endpoint} did not become healthy within 15 s:\n${stderr()}`) },
  );
}
