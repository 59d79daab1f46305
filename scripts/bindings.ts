/**
 * `npm run bindings`: regenerates the cdktf bindings in provider/bindings from the provider's
 * own schema, the way `cdktf get` would, but offline and without a cdktf project:
 * provider:install, `terraform providers schema -json` through the filesystem mirror, then
 * @cdktf/provider-generator. The output is committed; test/provider/bindings-fresh.test.ts
 * fails when it no longer matches the provider.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installProvider } from './provider-install';

const REPO = path.resolve(__dirname, '..');
export const BINDINGS_DIR = path.join(REPO, 'provider', 'bindings');
const PROVIDER_ADDRESS = 'registry.terraform.io/orbit/orbit';
const TERRAFORM = process.env.ORBIT_TERRAFORM ?? 'terraform';

/** What `terraform providers schema -json` prints, plus the versions cdktf's generator wants. */
export interface ProviderSchemaJson {
  format_version: string;
  provider_schemas: Record<string, unknown>;
  provider_versions?: Record<string, string>;
}

/** Runs `terraform providers schema -json` for the orbit provider installed under `cliConfigPath`. */
export function providerSchemaJson(cliConfigPath: string, version: string): ProviderSchemaJson {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-bindings-'));
  const env = { ...process.env, TF_CLI_CONFIG_FILE: cliConfigPath, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0' };
  const terraform = (args: string[]) => {
    const result = spawnSync(TERRAFORM, args, { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (result.error) throw new Error(`Cannot run ${TERRAFORM}: ${result.error.message}. Install terraform 1.11 (or set ORBIT_TERRAFORM).`);
    if (result.status !== 0) throw new Error(`terraform ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
    return result.stdout;
  };
  try {
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ terraform: { required_providers: { orbit: { source: 'orbit/orbit', version } } }, provider: { orbit: {} } }));
    terraform(['init', '-input=false', '-no-color']);
    const schema = JSON.parse(terraform(['providers', 'schema', '-json'])) as ProviderSchemaJson;
    return { ...schema, provider_versions: { [PROVIDER_ADDRESS]: version } };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the bindings for `schema` into `outDir` (which must not exist yet or be empty). */
export async function generateBindings(schema: ProviderSchemaJson, outDir: string, cliConfigPath: string): Promise<void> {
  // @cdktf/commons runs `terraform version -json` when it loads: give it our CLI config, or
  // terraform complains about the missing default one.
  const saved = { TF_CLI_CONFIG_FILE: process.env.TF_CLI_CONFIG_FILE, CHECKPOINT_DISABLE: process.env.CHECKPOINT_DISABLE };
  Object.assign(process.env, { TF_CLI_CONFIG_FILE: cliConfigPath, CHECKPOINT_DISABLE: '1' });
  try {
    const generator = (await import('@cdktf/provider-generator')) as { generateProviderBindingsFromSchema(dir: string, schema: unknown): Promise<void> };
    await generator.generateProviderBindingsFromSchema(outDir, schema);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Install the provider (into `installDir`, default the repo's .cache/terraform), read its schema and generate the bindings into `outDir`. */
export async function regenerateBindings(outDir: string, options: { installDir?: string; log?: (line: string) => void } = {}): Promise<void> {
  const install = installProvider({ dir: options.installDir, log: options.log });
  await generateBindings(providerSchemaJson(install.cliConfigPath, install.version), outDir, install.cliConfigPath);
}

/** Every file under `dir` (relative paths, sorted). */
export function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else files.push(rel);
    }
  };
  if (fs.existsSync(dir)) walk('');
  return files.sort();
}

async function main(): Promise<void> {
  const staging = fs.mkdtempSync(path.join(path.dirname(BINDINGS_DIR), '.bindings-'));
  try {
    await regenerateBindings(staging);
    fs.rmSync(BINDINGS_DIR, { recursive: true, force: true });
    fs.renameSync(staging, BINDINGS_DIR);
    process.stderr.write(`Wrote ${listFiles(BINDINGS_DIR).length} files to ${path.relative(REPO, BINDINGS_DIR)}\n`);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
