import { spawn } from 'child_process';
import * as path from 'path';

const REPO = path.resolve(__dirname, '../..');

/**
 * Runs the repo's cdktf CLI in `app` the way a pipeline would (CI, no phone-home, its own
 * CDKTF_HOME), with `env` added; resolves with the exit code and all output.
 */
export function runCdktf(app: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.join(REPO, 'node_modules/.bin/cdktf'), args, {
      cwd: app,
      env: {
        ...process.env,
        CI: '1',
        CHECKPOINT_DISABLE: '1',
        DISABLE_VERSION_CHECK: '1',
        CDKTF_HOME: path.join(app, '.cdktf-home'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
  });
}
