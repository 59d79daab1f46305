import { generateKeyPairSync, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The lab cluster's failover-monitor keys, made once per lab in `<state dir>/monitor/` (0600):
 * the Ed25519 key the provider signs pair specs with (agents get only its public half), and
 * the heartbeat secret the agents share. A real cluster makes its own the same way
 * (`openssl genpkey -algorithm ed25519`, `openssl rand 32`) and keeps the signing key where
 * terraform runs, never on the hosts.
 */
export interface MonitorKeys {
  /** PKCS#8 PEM, Ed25519: the provider's monitor `signing_key_path`. */
  signingKeyPath: string;
  /** 32 random bytes: the provider's monitor `heartbeat_key_path`. */
  heartbeatKeyPath: string;
}

export function ensureMonitorKeys(stateDir: string): MonitorKeys {
  const dir = path.join(stateDir, 'monitor');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const signingKeyPath = path.join(dir, 'spec-signing.key');
  const heartbeatKeyPath = path.join(dir, 'heartbeat.key');
  if (!fs.existsSync(signingKeyPath)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    fs.writeFileSync(signingKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  if (!fs.existsSync(heartbeatKeyPath)) fs.writeFileSync(heartbeatKeyPath, randomBytes(32), { mode: 0o600 });
  return { signingKeyPath, heartbeatKeyPath };
}
