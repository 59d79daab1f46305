import { execFile } from 'child_process';

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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, or throws `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}
