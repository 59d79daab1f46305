/**
 * Whether a COLO primary's replication path to its secondary is broken, by the kernel's own
 * evidence rather than by how long a checkpoint took: a slow, loaded host makes checkpoints
 * slow, but its TCP stack still acknowledges what arrives. The path is broken when
 *   - there is no established connection to the secondary's migration port (QEMU closed it,
 *     or the kernel gave up), or
 *   - a replication connection (migration stream or NBD) holds data the secondary has not
 *     acknowledged through BROKEN_AFTER_BACKOFFS consecutive retransmission timeouts: TCP's
 *     timeouts adapt to the measured round trip, so this means "nothing arrives", not "slow".
 * Read with `ss -tin` (iproute2), asynchronously, within its own deadline.
 */
import { execFile } from 'child_process';
import { coloPorts } from '../colo/colo-command-line';

/** Consecutive retransmission timeouts (exponential backoff) with unacknowledged data that make a path broken. */
export const BROKEN_AFTER_BACKOFFS = 3;
const SS_TIMEOUT_MS = 2000;

export interface ReplicationConnection {
  readonly peer: string;
  readonly port: number;
  /** Bytes sent and not acknowledged. */
  readonly unacked: number;
  /** Consecutive retransmission timeouts (0 when the last transmission was acknowledged). */
  readonly backoff: number;
}

/** The established connections in `ss -tin` output, with the fields this judgement needs. */
export function parseSsConnections(output: string): ReplicationConnection[] {
  const connections: ReplicationConnection[] = [];
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i].trim().split(/\s+/);
    // "Recv-Q Send-Q Local:Port Peer:Port" (the state column is absent with a state filter)
    const peerField = fields.length >= 4 && /^\d+$/.test(fields[0]) ? fields[3] : undefined;
    const match = peerField ? /^(.*):(\d+)$/.exec(peerField) : null;
    if (!match) continue;
    const details = lines[i + 1] && /^\s/.test(lines[i + 1]) ? lines[i + 1] : '';
    const number = (name: string) => Number(new RegExp(`\\b${name}:(\\d+)`).exec(details)?.[1] ?? 0);
    connections.push({ peer: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]), unacked: number('unacked'), backoff: number('backoff') });
  }
  return connections;
}

/** The judgement on parsed connections: a sentence when broken, undefined when not. */
export function judgeReplicationPath(connections: readonly ReplicationConnection[], ports: { migration: number; nbd: number }): string | undefined {
  const replication = connections.filter((c) => c.port === ports.migration || c.port === ports.nbd);
  if (!replication.some((c) => c.port === ports.migration)) return `no established connection to the secondary's migration port ${ports.migration}`;
  const stuck = replication.find((c) => c.unacked > 0 && c.backoff >= BROKEN_AFTER_BACKOFFS);
  if (stuck) return `${stuck.unacked} byte(s) to ${stuck.peer}:${stuck.port} unacknowledged through ${stuck.backoff} retransmission timeouts`;
  return undefined;
}

/** Looks at this host's connections for the VM's COLO replication (run on the primary's host). */
export async function probeReplicationPath(vm: string): Promise<string | undefined> {
  const ports = coloPorts(vm);
  const output = await new Promise<string>((resolve, reject) => {
    execFile('ss', ['-tin', 'state', 'established', `( dport = :${ports.migration} or dport = :${ports.nbd} )`], { timeout: SS_TIMEOUT_MS }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
  return judgeReplicationPath(parseSsConnections(output), ports);
}
