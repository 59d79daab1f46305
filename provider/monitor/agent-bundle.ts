/**
 * The agent as the provider ships it to hosts: one JavaScript file with every dependency
 * bundled in (esbuild), plus the .proto files etcd3 loads at run time, so a host needs nothing
 * but Node.js (>= 20). Layout, also on the host under /var/lib/orbit/agent/releases/<release>/:
 *
 *   bin/orbit-agent.js     agent-main.ts and everything it imports
 *   proto/*.proto          etcd3's gRPC definitions (it reads `<its dir>/../proto/rpc.proto`)
 *
 * `release` is a hash of those files: the provider compares it with what a host runs to decide
 * whether to install or upgrade.
 *
 * Where the bundle comes from: `npm run provider:install` builds it next to the compiled
 * provider (<build>/agent-bundle); a provider run from the checkout (tests) builds it once per
 * process into .cache/agent-bundle; ORBIT_AGENT_BUNDLE points at a prebuilt one.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface AgentBundle {
  readonly dir: string;
  readonly release: string;
  /** Paths relative to `dir`, sorted. */
  readonly files: readonly string[];
}

export const AGENT_ENTRY = 'bin/orbit-agent.js';
const REPO = path.resolve(__dirname, '..', '..');

/** Bundles the agent into `outDir` (emptied first). Needs esbuild (a devDependency) and the checkout. */
export function buildAgentBundle(outDir: string): AgentBundle {
  // Loaded here only: an installed provider finds its bundle prebuilt and never needs esbuild.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(outDir, 'proto'), { recursive: true });
  esbuild.buildSync({
    entryPoints: [path.join(REPO, 'provider', 'monitor', 'agent-main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile: path.join(outDir, AGENT_ENTRY),
    // ssh2's optional native speed-ups: it loads them in try/catch and falls back to JavaScript.
    external: ['cpu-features', '*.node'],
    logLevel: 'error',
    legalComments: 'none',
  });
  const protoDir = path.join(path.dirname(require.resolve('etcd3/package.json')), 'proto');
  for (const file of fs.readdirSync(protoDir).filter((f) => f.endsWith('.proto'))) fs.copyFileSync(path.join(protoDir, file), path.join(outDir, 'proto', file));
  return describeAgentBundle(outDir);
}

export function describeAgentBundle(dir: string): AgentBundle {
  const files = [
    AGENT_ENTRY,
    ...fs
      .readdirSync(path.join(dir, 'proto'))
      .filter((f) => f.endsWith('.proto'))
      .map((f) => `proto/${f}`),
  ].sort();
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(fs.readFileSync(path.join(dir, file)))
      .update('\0');
  return { dir, release: hash.digest('hex').slice(0, 16), files };
}

let located: AgentBundle | undefined;

/** The bundle this provider installs (see the file comment for where it comes from). */
export function locateAgentBundle(): AgentBundle {
  if (located) return located;
  const fromEnv = process.env.ORBIT_AGENT_BUNDLE;
  const besideBuild = path.join(REPO, 'agent-bundle');
  if (fromEnv) located = describeAgentBundle(fromEnv);
  else if (fs.existsSync(path.join(besideBuild, AGENT_ENTRY))) located = describeAgentBundle(besideBuild);
  else located = buildAgentBundle(path.join(REPO, '.cache', 'agent-bundle', String(process.pid)));
  return located;
}
