import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { MONITOR_NICE } from '../../provider/monitor/supervisor';
import * as https from 'https';
import * as path from 'path';
import { DEFAULT_STATE_DIR } from './description';
import { EtcdTls } from './etcd-tls';
import { waitFor } from './exec';
import { ETCD_ADDRESS, ETCD_CLIENT_PORT, ETCD_NETNS } from './topology';
import { setTimeout as sleep } from 'timers/promises';

/**
 * The lab's single etcd member, in a namespace of its own so that faults can cut hosts off from
 * it. Clients speak TLS and must show a certificate of the lab's CA (etcd-tls.ts).
 */

export const etcdEndpoint = `https://${ETCD_ADDRESS}:${ETCD_CLIENT_PORT}`;

const pidFile = (stateDir: string) => path.join(stateDir, 'etcd', 'etcd.pid');
const tlsFile = (stateDir: string, name: string) => path.join(stateDir, 'etcd', 'tls', name);

/** Whether etcd answers /health over TLS, asked with the `provider` client certificate. */
export function etcdHealthy(stateDir = DEFAULT_STATE_DIR, timeoutMs = 1000): Promise<boolean> {
  let options: https.RequestOptions;
  try {
    options = {
      ca: fs.readFileSync(tlsFile(stateDir, 'ca.crt')),
      cert: fs.readFileSync(tlsFile(stateDir, 'client-provider.crt')),
      key: fs.readFileSync(tlsFile(stateDir, 'client-provider.key')),
      timeout: timeoutMs,
    };
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const req = https.get(`${etcdEndpoint}/health`, options, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function startEtcd(stateDir: string, tls: EtcdTls): Promise<void> {
  if (await etcdHealthy(stateDir)) return;
  const dir = path.join(stateDir, 'etcd');
  fs.mkdirSync(dir, { recursive: true });
  await stopStaleEtcd(stateDir);
  const log = fs.openSync(path.join(dir, 'etcd.log'), 'a');
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ETCD_NETNS,
      'etcd',
      '--name',
      'orbit-lab',
      '--data-dir',
      path.join(dir, 'data'),
      '--listen-client-urls',
      etcdEndpoint,
      '--advertise-client-urls',
      etcdEndpoint,
      '--listen-peer-urls',
      'http://127.0.0.1:2380',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:2380',
      '--initial-cluster',
      'orbit-lab=http://127.0.0.1:2380',
      '--cert-file',
      tls.server.certPath,
      '--key-file',
      tls.server.keyPath,
      '--client-cert-auth',
      '--trusted-ca-file',
      tls.caPath,
      '--logger',
      'zap',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  child.unref();
  // Like a production etcd on its own machine, the lab's must not queue behind the guests' busy
  // vCPUs on this 2-core machine: a lease renewal it answers late is a false failover.
  if (child.pid !== undefined) os.setPriority(child.pid, MONITOR_NICE);
  // `ip netns exec` execs etcd in place, so the child's pid is etcd's.
  fs.writeFileSync(pidFile(stateDir), String(child.pid));
  await waitFor(`etcd to become healthy at ${etcdEndpoint} (log: ${dir}/etcd.log)`, 20_000, async () => ((await etcdHealthy(stateDir)) ? true : undefined));
}

/** An etcd of this lab that runs but does not answer as it should (e.g. started without TLS by an older lab) is stopped. */
async function stopStaleEtcd(stateDir: string): Promise<void> {
  const file = pidFile(stateDir);
  if (!fs.existsSync(file)) return;
  const pid = Number(fs.readFileSync(file, 'utf8'));
  try {
    if (Number.isInteger(pid) && pid > 1 && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('etcd')) {
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 50 && fs.existsSync(`/proc/${pid}`); i++) await sleep(100);
    }
  } catch {
    // not running any more
  }
  fs.rmSync(file, { force: true });
}
