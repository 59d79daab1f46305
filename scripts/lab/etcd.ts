import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { waitFor } from './exec';
import { ETCD_ADDRESS, ETCD_CLIENT_PORT, ETCD_NETNS } from './topology';

/** The lab's single etcd member, in a namespace of its own so that faults can cut hosts off from it. */

export const etcdEndpoint = `http://${ETCD_ADDRESS}:${ETCD_CLIENT_PORT}`;

const pidFile = (stateDir: string) => path.join(stateDir, 'etcd', 'etcd.pid');

export function etcdHealthy(timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${etcdEndpoint}/health`, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function startEtcd(stateDir: string): Promise<void> {
  if (await etcdHealthy()) return;
  const dir = path.join(stateDir, 'etcd');
  fs.mkdirSync(dir, { recursive: true });
  const log = fs.openSync(path.join(dir, 'etcd.log'), 'a');
  const child = spawn(
    'ip',
    [
      'netns', 'exec', ETCD_NETNS, 'etcd',
      '--name', 'orbit-lab',
      '--data-dir', path.join(dir, 'data'),
      '--listen-client-urls', etcdEndpoint,
      '--advertise-client-urls', etcdEndpoint,
      '--listen-peer-urls', 'http://127.0.0.1:2380',
      '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
      '--initial-cluster', 'orbit-lab=http://127.0.0.1:2380',
      '--logger', 'zap',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  child.unref();
  // `ip netns exec` execs etcd in place, so the child's pid is etcd's.
  fs.writeFileSync(pidFile(stateDir), String(child.pid));
  await waitFor(`etcd to become healthy at ${etcdEndpoint} (log: ${dir}/etcd.log)`, 20_000, async () =>
    (await etcdHealthy()) ? true : undefined,
  );
}
