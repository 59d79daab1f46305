import { execFile } from 'child_process';
import { pollUntil } from '../../provider/ssh/poll';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Resolve with the exit code instead of throwing on failure. */
  allowFailure?: boolean;
  input?: string;
}

/** Runs a local command with a timeout; failures throw with the command line and its stderr. */
export function run(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeout = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      if (err && (err as { killed?: boolean }).killed) {
        reject(new Error(`\`${[command, ...args].join(' ')}\` did not finish within ${timeout} ms`));
        return;
      }
      if (err && !opts.allowFailure) {
        const detail = stderr.trim() || stdout.trim() || err.message;
        reject(new Error(`\`${[command, ...args].join(' ')}\` failed (exit ${code}): ${detail}`));
        return;
      }
      resolve({ stdout, stderr, code });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** `ip` in the root namespace, or inside `netns` when given. */
export function ip(args: string[], netns?: string, opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', netns ? ['-n', netns, ...args] : args, opts);
}

export async function commandExists(command: string): Promise<boolean> {
  const r = await run('sh', ['-c', `command -v ${command}`], { allowFailure: true });
  return r.code === 0;
}

/** Polls `check` until it returns a value other than undefined, or throws `what` after `timeoutMs` (pollUntil). */
export function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 100): Promise<T> {
  return pollUntil(what, check, { timeoutMs, everyMs: intervalMs });
}
