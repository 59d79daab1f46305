/**
 * What each host of a COLO pair remembers about it: /var/lib/orbit/<vm>/colo.json next to the
 * VM's spec.json. The provider and the operator CLI are short-lived processes and the monitor
 * agent restarts, so every primitive (inspect, failover, fence, re-protect) starts from these
 * records and from what the QEMUs say, never from memory.
 *
 * `generation` grows with every failover and re-protection: of two records that disagree,
 * the higher generation is the newer truth.
 */
import { coloPaths } from './colo-command-line';
import { describeHost, errorMessage, HostAddress, HostError, RemoteFileError } from '../ssh/host-errors';
import { vmPaths } from '../qemu/qemu-command-line';
import { SshSession } from '../ssh/ssh-session';

/**
 * This host's part:
 *   primary    runs the guest and sends checkpoints (or will, once the pair is up)
 *   secondary  holds the replica and receives checkpoints
 *   solo       failed over: runs the guest alone, unprotected, until re-protected
 *   fenced     its guest was stopped for good; only destroy (or re-protect onto it) follows
 */
export type ColoRole = 'primary' | 'secondary' | 'solo' | 'fenced';

/** A host of the pair: its name and the address replication traffic uses. */
export interface ColoHostRef {
  name: string;
  address: string;
}

export interface ColoPairRecord {
  version: 1;
  vm: string;
  role: ColoRole;
  /** How this host's QEMU was started: a former secondary keeps its filter-rewriter (re-protection inserts before it). */
  startedAs: 'primary' | 'secondary';
  /** The pair as this host last knew it (`secondary` absent when unprotected). */
  primary: ColoHostRef;
  secondary?: ColoHostRef;
  checkpointDelayMs: number;
  generation: number;
  /** An operation that was under way when the record was written; it stays if the operation died. */
  pending?: 'starting' | 'reprotecting';
  updatedAt: string;
}

export type ColoOperation =
  | 'Starting the COLO pair of'
  | 'Failover of'
  | 'Fencing'
  | 'Re-protecting'
  | 'Inspecting the COLO pair of'
  | 'Destroying the COLO pair of'
  | 'Moving a side of'
  | 'Rebuilding the COLO pair of'
  | 'Updating the cloud-init seed of';

/** A COLO primitive failed; the message says what, where, what state the pair is left in, and the fix. */
export class ColoError extends HostError {
  constructor(
    host: HostAddress,
    readonly vm: string,
    readonly operation: ColoOperation,
    summary: string,
    fix: string,
    options?: { cause?: unknown },
  ) {
    super(host, `${operation} VM ${vm} (at ${describeHost(host)}) failed: ${summary}`, fix, options);
  }
}

const RECORD_TIMEOUT_MS = 15_000;

export async function writePairRecord(session: SshSession, record: Omit<ColoPairRecord, 'version' | 'updatedAt'>): Promise<ColoPairRecord> {
  const full: ColoPairRecord = { version: 1, ...record, updatedAt: new Date().toISOString() };
  await session.exec(`mkdir -p ${vmPaths(record.vm).stateDir}`, { timeoutMs: RECORD_TIMEOUT_MS });
  await session.writeFile(coloPaths(record.vm).pairFile, JSON.stringify(full, null, 2) + '\n', { mode: 0o600, timeoutMs: RECORD_TIMEOUT_MS });
  return full;
}

/** The record on this host; undefined when there is none. A record that cannot be read is an error. */
export async function readPairRecord(session: SshSession, vm: string): Promise<ColoPairRecord | undefined> {
  const file = coloPaths(vm).pairFile;
  let text: string;
  try {
    text = (await session.readFile(file, { timeoutMs: RECORD_TIMEOUT_MS })).toString('utf8');
  } catch (error) {
    if (error instanceof RemoteFileError && error.code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: Partial<ColoPairRecord>;
  try {
    parsed = JSON.parse(text) as Partial<ColoPairRecord>;
  } catch (error) {
    throw new ColoError(
      session.host,
      vm,
      'Inspecting the COLO pair of',
      `${file} is not JSON (${errorMessage(error)})`,
      `remove ${file} if the VM is not a COLO pair on this host, or destroy the pair there`,
    );
  }
  const roles: ColoRole[] = ['primary', 'secondary', 'solo', 'fenced'];
  if (parsed.version !== 1 || parsed.vm !== vm || !roles.includes(parsed.role as ColoRole) || !parsed.primary || typeof parsed.generation !== 'number') {
    throw new ColoError(session.host, vm, 'Inspecting the COLO pair of', `${file} is not a version 1 pair record of VM ${vm}`, `remove ${file} if it is a leftover, or destroy the pair on this host`);
  }
  return parsed as ColoPairRecord;
}

export async function removePairRecord(session: SshSession, vm: string): Promise<void> {
  await session.exec(`rm -f ${coloPaths(vm).pairFile}`, { timeoutMs: RECORD_TIMEOUT_MS });
}
