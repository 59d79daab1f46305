/** Runs the real terraform binary in a throw-away directory (TEST ONLY). */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const TERRAFORM = process.env.ORBIT_TERRAFORM ?? '/usr/local/bin/terraform';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertions that do not care where terraform wrote. */
  output: string;
}

export interface WorkspaceOptions {
  /** TF_REATTACH_PROVIDERS value (a provider served by the test process). */
  reattach?: string;
  /** Content of the terraform CLI config; an empty one by default. */
  cliConfig?: string;
  env?: Record<string, string>;
}

const NO_COLOR_COMMANDS = new Set(['init', 'validate', 'plan', 'apply', 'destroy', 'import', 'refresh', 'show']);

export class Workspace {
  static create(options: WorkspaceOptions = {}): Workspace {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-tf-'));
    fs.writeFileSync(path.join(dir, 'cli.tfrc'), options.cliConfig ?? '');
    return new Workspace(dir, options);
  }

  private constructor(
    readonly dir: string,
    private readonly options: WorkspaceOptions,
  ) {}

  write(file: string, content: string): void {
    fs.writeFileSync(path.join(this.dir, file), content);
  }

  get statePath(): string {
    return path.join(this.dir, 'terraform.tfstate');
  }

  state(): { resources: Array<{ type: string; name: string; instances: Array<{ schema_version: number; attributes: Record<string, unknown> }> }> } {
    return JSON.parse(fs.readFileSync(this.statePath, 'utf8'));
  }

  /** Runs terraform; never rejects on a non-zero exit (assert on `code`). */
  run(args: string[], options: { env?: Record<string, string>; onSpawn?: (pid: number) => void; timeoutMs?: number } = {}): Promise<RunResult> {
    const finalArgs = NO_COLOR_COMMANDS.has(args[0]) ? [args[0], '-no-color', ...args.slice(1)] : args;
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      CHECKPOINT_DISABLE: '1',
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      TF_CLI_CONFIG_FILE: path.join(this.dir, 'cli.tfrc'),
      // the provider caches its TLS certificate under XDG_CACHE_HOME; keep tests out of the real home
      XDG_CACHE_HOME: path.join(this.dir, '.cache'),
      ...(this.options.reattach ? { TF_REATTACH_PROVIDERS: this.options.reattach } : {}),
      ...this.options.env,
      ...options.env,
    };
    delete env.TF_LOG;
    if (options.env?.TF_LOG) env.TF_LOG = options.env.TF_LOG;
    return new Promise((resolve, reject) => {
      const child = spawn(TERRAFORM, finalArgs, { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
      child.on('error', reject);
      child.on('spawn', () => options.onSpawn?.(child.pid!));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr, output: `${stdout}\n${stderr}` });
      });
    });
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export const requiredProviders = `terraform {
  required_providers {
    orbit = { source = "orbit/orbit", version = "0.1.0" }
  }
}
`;
