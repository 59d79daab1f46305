/**
 * The watchdog deadline of a serving guest: /run/orbit/<vm>/serving-deadline holds the epoch ms
 * by which this host's guest must have stopped unless the agent's role is confirmed again.
 *
 * The agent rewrites it on every confirmed acquisition and renewal:
 *
 *     deadline = moment the confirmed request was sent + heartbeat interval x misses + fencing deadline
 *
 * which is the latest moment the agent itself would have fenced the guest after losing the role,
 * and by the timing invariant earlier than the lease can expire (sent + lease TTL). The agent's
 * supervisor (supervisor.ts) checks it every 50 ms and fences a serving guest whose deadline
 * has passed: an agent that died, hangs or restarts without etcd cannot leave a guest serving
 * after its lease is gone (Patroni backs its leader key with a watchdog for the same reason).
 *
 * On tmpfs (/run/orbit): a host reboot clears it along with the guest.
 */
import * as fs from 'fs';
import * as path from 'path';
import { RUN_ROOT, vmPaths } from '../qemu/qemu-command-line';

export const DEADLINE_FILE = 'serving-deadline';
/** Holds the pair generation at which etcd records that this host's guest runs alone. */
export const ONLY_COPY_FILE = 'runs-alone';

export function deadlinePath(vm: string): string {
  return path.join(vmPaths(vm).runDir, DEADLINE_FILE);
}

/** Writes the deadline atomically; false when the VM has no run directory (no guest here). */
export function writeServingDeadline(vm: string, deadlineMs: number): boolean {
  const file = deadlinePath(vm);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, `${Math.floor(deadlineMs)}\n`);
    fs.renameSync(temp, file);
    return true;
  } catch {
    fs.rmSync(temp, { force: true });
    return false;
  }
}

export function removeServingDeadline(vm: string): void {
  fs.rmSync(deadlinePath(vm), { force: true });
}

/** Every deadline on this host: VM name -> epoch ms (unreadable files are skipped). */
export function readServingDeadlines(runRoot = RUN_ROOT): Map<string, number> {
  const deadlines = new Map<string, number>();
  let entries: string[];
  try {
    entries = fs.readdirSync(runRoot);
  } catch {
    return deadlines;
  }
  for (const vm of entries) {
    try {
      const value = Number(fs.readFileSync(path.join(runRoot, vm, DEADLINE_FILE), 'utf8').trim());
      if (Number.isFinite(value) && value > 0) deadlines.set(vm, value);
    } catch {
      // no deadline for this VM
    }
  }
  return deadlines;
}

/**
 * Notes that etcd records this host's guest as running alone from `generation` on. The
 * watchdog never fences the only copy by that record (decision.ts, isOnlyCopy: the guest runs
 * alone at that generation, or is the secondary being promoted to it): no replica anywhere can
 * be promoted then, so a kill would protect nothing. A re-protection raises the pair record's
 * generation, which ends the exemption.
 */
export function writeOnlyCopyMarker(vm: string, generation: number): void {
  const file = path.join(vmPaths(vm).runDir, ONLY_COPY_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, `${generation}\n`);
    fs.renameSync(temp, file);
  } catch {
    fs.rmSync(temp, { force: true });
  }
}

/** The generation of the only-copy marker, if any. */
export function readOnlyCopyMarker(vm: string, runRoot = RUN_ROOT): number | undefined {
  try {
    const value = Number(fs.readFileSync(path.join(runRoot, vm, ONLY_COPY_FILE), 'utf8').trim());
    return Number.isSafeInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
