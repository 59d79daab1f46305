/**
 * This host's copy of a pair's guest, as the agent and its watchdog see it: from the pair
 * record (colo.json) and the QEMU pid file, read from the local filesystem (no QMP, no shell:
 * a look costs microseconds, so the agent can look every tick). Agents run in the host's own
 * mount namespace: /var/lib/orbit and /run/orbit are the host's.
 */
import * as fs from 'fs';
import { coloPaths } from '../colo/colo-command-line';
import { ColoPairRecord } from '../colo/colo-pair-record';
import { vmPaths } from '../qemu/qemu-command-line';
import { GuestState } from './heartbeat';
import { runningPidFromFile } from './running-process';

export interface LocalGuest {
  readonly state: GuestState;
  /** The pair record, when readable. */
  readonly record?: ColoPairRecord;
  /** The COLO peer this host's copy works with now (its secondary, or its primary); none when alone. */
  readonly peer?: string;
  /** A start or re-protection is under way on this host (or died half-way). */
  readonly pending?: ColoPairRecord['pending'];
  /** The running QEMU's pid (none when no QEMU of the VM runs). */
  readonly pid?: number;
}

/**
 * The state this host reports and decides on:
 *   - a record saying `fenced`: fenced, whatever runs;
 *   - no running QEMU of the VM: dead;
 *   - a pair being started (pending `starting`), or a secondary being built by a re-protection:
 *     `unknown` (not ready: nobody may judge or promote it yet);
 *   - else the record's role: primary, secondary, solo (`serving-alone`, also while it is being
 *     re-protected: it serves all along).
 */
export function readLocalGuest(vm: string): LocalGuest {
  const record = readRecord(vm);
  const pending = record?.pending;
  const pid = runningQemuPid(vm);
  const base = { ...(record ? { record } : {}), ...(pending ? { pending } : {}), ...(pid !== undefined ? { pid } : {}) };
  if (record?.role === 'fenced') return { state: 'fenced', ...base };
  if (pid === undefined) return { state: 'dead', ...base };
  if (!record) return { state: 'unknown', pid }; // a QEMU without a pair record: not ours to judge
  if (pending === 'starting') return { state: 'unknown', ...base };
  switch (record.role) {
    case 'primary':
      return { state: 'colo-primary', ...base, ...(record.secondary ? { peer: record.secondary.name } : {}) };
    case 'secondary':
      if (pending === 'reprotecting') return { state: 'unknown', ...base };
      return { state: 'colo-secondary', ...base, peer: record.primary.name };
    case 'solo':
      return { state: 'serving-alone', ...base };
  }
}

function readRecord(vm: string): ColoPairRecord | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(coloPaths(vm).pairFile, 'utf8')) as ColoPairRecord;
    return parsed && parsed.vm === vm && typeof parsed.role === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the VM's running QEMU (a reused pid or a zombie does not count). */
export function runningQemuPid(vm: string): number | undefined {
  return runningPidFromFile(vmPaths(vm).pidFile, (argv) => argv.some((arg) => arg.includes(`guest=${vm},`)));
}

/**
 * SIGKILL to the VM's QEMU at once, without a shell: the first, time-critical step of fencing
 * (the fence primitive then makes sure it is gone and records it). The pid it killed, if any.
 */
export function sigkillLocalQemu(vm: string): number | undefined {
  const pid = runningQemuPid(vm);
  if (pid === undefined) return undefined;
  try {
    process.kill(pid, 'SIGKILL');
    return pid;
  } catch {
    return undefined;
  }
}
