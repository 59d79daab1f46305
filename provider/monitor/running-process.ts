/**
 * Whether a pid still runs a given program, from /proc alone (no shell, microseconds): its
 * command line must match. A reused pid does not match, and neither does a zombie (an exited
 * child that PID 1 has not reaped yet, which can take seconds; its command line is empty).
 */
import * as fs from 'fs';

/** `pid` when it runs a program whose arguments satisfy `matches`, else undefined. */
export function runningPid(pid: number | undefined, matches: (argv: string[]) => boolean): number | undefined {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return undefined;
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  if (cmdline === '') return undefined;
  return matches(cmdline.replace(/\0$/, '').split('\0')) ? pid : undefined;
}

/** The pid written in `pidFile` (a number on its first line), when it runs and matches. */
export function runningPidFromFile(pidFile: string, matches: (argv: string[]) => boolean): number | undefined {
  try {
    return runningPid(Number(fs.readFileSync(pidFile, 'utf8').trim()), matches);
  } catch {
    return undefined;
  }
}

/** Any program: only alive and not a zombie. */
export const anyProgram = (): boolean => true;

/**
 * Whether any thread of `pid` is still alive. Unlike runningPid, a process in the middle of
 * exiting (its command line already gone) still counts: it may hold ports its successor must
 * bind. Its main thread alone is no proof: a multi-threaded process (Node's) shows its leader
 * as a zombie while its other threads still exit, and its files and sockets close only with
 * the last of them.
 */
export function processHoldsResources(pid: number): boolean {
  let threads: string[];
  try {
    threads = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return threads.some((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false; // gone meanwhile
    }
  });
}
