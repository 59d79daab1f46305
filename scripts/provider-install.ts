/**
 * `npm run provider:install`: builds the Orbit provider and installs it for terraform and
 * cdktf, offline. Idempotent; prints the `export` lines to use it on stdout (everything else
 * on stderr), so `eval "$(npm run -s provider:install)"` sets up the shell.
 *
 * Layout, under <repo>/.cache/terraform (or --dir):
 *   provider/builds/<hash>/     the compiled provider (tsc output + .proto files) and the monitor agent's bundle
 *                               (agent-bundle/, what apply installs on hosts), one per distinct build
 *   provider/current            symlink to the build in use, switched atomically
 *   provider/node_modules       symlink to the repo's node_modules, so builds resolve their dependencies
 *   mirror/registry.terraform.io/orbit/orbit/<version>/linux_amd64/terraform-provider-orbit_v<version>
 *                               a tiny launcher: `exec node <dir>/provider/current/provider/main.js`
 *   orbit.tfrc                  terraform CLI config: filesystem mirror for registry.terraform.io/orbit/*
 *   env.sh                      the export lines, for scripts to source
 *
 * Lock files (the design choice). Terraform pins a provider in .terraform.lock.hcl by the
 * `h1:` hash of its package directory and refuses a package that no longer matches. The
 * package directory here holds only the launcher, whose bytes depend on nothing but the
 * install directory; rebuilds swap the code behind `provider/current` instead. So the hash is
 * stable: lock files written by `terraform init` / `cdktf deploy` stay valid across rebuilds,
 * and re-runs work without deleting locks. The trade-off: the lock pins the launcher, not the
 * provider's code, which is fine for a provider built from this checkout and not fit for
 * distributing builds (that would need versioned packages with the code inside).
 *
 * cdktf's first `deploy` in a fresh stack runs `terraform providers lock -platform=linux_amd64`,
 * which ignores the CLI config and asks registry.terraform.io. The second export line,
 * TF_CLI_ARGS_providers_lock=-fs-mirror=<mirror>, points that command at the mirror, so the
 * first deploy works offline too (`cdktf deploy --skip-provider-lock` is the alternative).
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { buildAgentBundle } from '../provider/monitor/agent-bundle';

const REPO = path.resolve(__dirname, '..');
const PROVIDER_HOST = 'registry.terraform.io';
const NAMESPACE = 'orbit';
const TYPE = 'orbit';
const PLATFORM = 'linux_amd64';

export interface InstallResult {
  version: string;
  buildHash: string;
  /** False when the build was identical to the installed one. */
  changed: boolean;
  launcherPath: string;
  mirrorDir: string;
  cliConfigPath: string;
  exports: string[];
}

export function installProvider(options: { dir?: string; log?: (line: string) => void } = {}): InstallResult {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = path.resolve(options.dir ?? path.join(REPO, '.cache', 'terraform'));
  const version = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const providerDir = path.join(dir, 'provider');
  const buildsDir = path.join(providerDir, 'builds');
  fs.mkdirSync(buildsDir, { recursive: true });

  const staging = fs.mkdtempSync(path.join(buildsDir, '.staging-'));
  let buildHash: string;
  let changed: boolean;
  try {
    compile(staging, log);
    copyProtoFiles(staging);
    const agent = buildAgentBundle(path.join(staging, 'agent-bundle'));
    log(`bundled the monitor agent (release ${agent.release})`);
    buildHash = hashDirectory(staging).slice(0, 16);
    const target = path.join(buildsDir, buildHash);
    changed = readLink(path.join(providerDir, 'current')) !== path.join('builds', buildHash);
    if (!fs.existsSync(target)) {
      fs.chmodSync(staging, 0o755); // mkdtemp makes it private; terraform may run as another user
      try {
        fs.renameSync(staging, target);
      } catch (error) {
        if (!fs.existsSync(target)) throw error; // else a concurrent install produced the same build
      }
    }
    fs.rmSync(staging, { recursive: true, force: true });
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }

  ensureSymlink(path.join(providerDir, 'node_modules'), path.join(REPO, 'node_modules'));
  const previous = readLink(path.join(providerDir, 'current'));
  ensureSymlink(path.join(providerDir, 'current'), path.join('builds', buildHash));
  removeOldBuilds(buildsDir, [buildHash, previous ? path.basename(previous) : '']);

  const mirrorDir = path.join(dir, 'mirror');
  const packageDir = path.join(mirrorDir, PROVIDER_HOST, NAMESPACE, TYPE, version, PLATFORM);
  fs.mkdirSync(packageDir, { recursive: true });
  for (const stale of fs.readdirSync(packageDir)) {
    if (stale !== `terraform-provider-${TYPE}_v${version}`) fs.rmSync(path.join(packageDir, stale), { recursive: true, force: true });
  }
  const launcherPath = path.join(packageDir, `terraform-provider-${TYPE}_v${version}`);
  writeIfChanged(launcherPath, launcher(path.join(providerDir, 'current', 'provider', 'main.js')), 0o755);

  const cliConfigPath = path.join(dir, 'orbit.tfrc');
  writeIfChanged(cliConfigPath, cliConfig(mirrorDir));
  const exports = [
    `export TF_CLI_CONFIG_FILE=${shellQuote(cliConfigPath)}`,
    // terraform splits TF_CLI_ARGS_* like a shell does, hence the inner quotes for paths with spaces
    `export TF_CLI_ARGS_providers_lock=${shellQuote(`-fs-mirror=${/\s/.test(mirrorDir) ? JSON.stringify(mirrorDir) : mirrorDir}`)}`,
  ];
  writeIfChanged(path.join(dir, 'env.sh'), `# Written by npm run provider:install\n${exports.join('\n')}\n`);

  log(`Orbit provider ${version} installed (build ${buildHash}${changed ? '' : ', unchanged'}): ${launcherPath}`);
  return { version, buildHash, changed, launcherPath, mirrorDir, cliConfigPath, exports };
}

function compile(outDir: string, log: (line: string) => void): void {
  // Only the provider's entry and what it imports: work in progress elsewhere in the repo must not block installing it.
  const tsconfigPath = path.join(outDir, '..', `.tsconfig-${process.pid}.json`);
  fs.writeFileSync(
    tsconfigPath,
    JSON.stringify({
      extends: path.join(REPO, 'tsconfig.json'),
      compilerOptions: {
        outDir,
        rootDir: REPO,
        sourceMap: false,
        noEmitOnError: true,
        typeRoots: [path.join(REPO, 'node_modules', '@types')],
        types: ['node'],
      },
      files: [path.join(REPO, 'provider', 'main.ts')],
      include: [],
    }),
  );
  try {
    const started = Date.now();
    const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfigPath], { cwd: REPO, encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`tsc failed; the provider was not installed:\n${result.stdout}${result.stderr}`);
    }
    log(`compiled the provider in ${Date.now() - started} ms`);
  } finally {
    fs.rmSync(tsconfigPath, { force: true });
  }
}

function copyProtoFiles(outDir: string): void {
  const from = path.join(REPO, 'provider', 'protocol', 'proto');
  const to = path.join(outDir, 'provider', 'protocol', 'proto');
  fs.mkdirSync(to, { recursive: true });
  for (const file of fs.readdirSync(from).filter((f) => f.endsWith('.proto'))) fs.copyFileSync(path.join(from, file), path.join(to, file));
}

function hashDirectory(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else
        hash
          .update(`${path.relative(root, full)}\0`)
          .update(fs.readFileSync(full))
          .update('\0');
    }
  };
  walk(root);
  return hash.digest('hex');
}

function readLink(link: string): string | undefined {
  try {
    return fs.readlinkSync(link);
  } catch {
    return undefined;
  }
}

/** Points `link` at `target`, replacing an existing link atomically (rename over it). */
function ensureSymlink(link: string, target: string): void {
  if (readLink(link) === target) return;
  const temporary = `${link}.${process.pid}.tmp`;
  fs.rmSync(temporary, { force: true });
  fs.symlinkSync(target, temporary);
  fs.renameSync(temporary, link);
}

/** Keeps the current build and the one before it (a terraform run may still be starting it). */
function removeOldBuilds(buildsDir: string, keep: string[]): void {
  for (const entry of fs.readdirSync(buildsDir)) {
    if (!keep.includes(entry) && !entry.startsWith('.')) fs.rmSync(path.join(buildsDir, entry), { recursive: true, force: true });
  }
}

function writeIfChanged(file: string, content: string, mode?: number): void {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (current !== content) {
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, content, mode !== undefined ? { mode } : undefined);
    fs.renameSync(temporary, file);
  }
  if (mode !== undefined) fs.chmodSync(file, mode);
}

function launcher(mainJs: string): string {
  return `#!/bin/sh
# The Orbit terraform provider, installed by \`npm run provider:install\`.
# This file stays the same across rebuilds so that terraform's lock-file hash of this
# directory stays valid; the code it starts is replaced by every install.
main=${shellQuote(mainJs)}
if [ ! -f "$main" ]; then
  echo "The Orbit provider build is missing ($main). Run: npm run provider:install" >&2
  exit 1
fi
exec node "$main" "$@"
`;
}

function cliConfig(mirrorDir: string): string {
  const pattern = `${PROVIDER_HOST}/${NAMESPACE}/*`;
  return `# Terraform CLI configuration written by \`npm run provider:install\`.
# Use it with: export TF_CLI_CONFIG_FILE=<this file>
provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(mirrorDir)}
    include = [${JSON.stringify(pattern)}]
  }
  direct {
    exclude = [${JSON.stringify(pattern)}]
  }
}
`;
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

if (require.main === module) {
  const program = new Command('provider:install')
    .description('Build the Orbit provider and install it into a terraform filesystem mirror (offline).')
    .option('--dir <dir>', 'install directory', path.join(REPO, '.cache', 'terraform'))
    .action((options: { dir: string }) => {
      const result = installProvider({ dir: options.dir });
      process.stderr.write('Use it in this shell with:\n');
      process.stdout.write(`${result.exports.join('\n')}\n`);
    });
  try {
    program.parse();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
