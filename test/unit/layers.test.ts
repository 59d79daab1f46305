/**
 * The provider's layers (README, Layout): each may import only from itself and the layers before
 * it, and no shipped source imports the lab, the scripts or the tests.
 *   protocol → framework → ssh → qemu → colo → monitor → config → images → resources → provider → constructs
 */
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '../..');
const LAYERS = ['protocol', 'framework', 'ssh', 'qemu', 'colo', 'monitor', 'config', 'images', 'resources', 'provider', 'constructs'] as const;
type Layer = (typeof LAYERS)[number];

/** The layer of a repository path, or undefined outside the shipped sources (scripts/, test/, stacks/, ...). */
function layerOf(file: string): Layer | undefined {
  const [top, folder] = file.split('/');
  if (top === 'constructs') return 'constructs';
  if (top !== 'provider') return undefined;
  // The generated cdktf bindings exist for the constructs; the operator CLI and the entry points are the provider itself.
  if (folder === 'bindings') return 'constructs';
  return (LAYERS as readonly string[]).includes(folder) && file.split('/').length > 2 ? (folder as Layer) : 'provider';
}

const IMPORT =
  /^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]|^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|\brequire\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

/** Every import in `sources` (repository path → text) that goes against the layers. */
export function layerViolations(sources: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of sources) {
    const from = layerOf(file);
    if (!from) continue;
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? match[4];
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const to = layerOf(target);
      if (!to) problems.push(`${file} imports ${target}: shipped code (${from}) must not depend on ${target.split('/')[0]}/`);
      else if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) problems.push(`${file} imports ${target}: ${from} comes before ${to} (${LAYERS.join(' → ')})`);
    }
  }
  return problems;
}

function shippedSources(): Map<string, string> {
  const sources = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
      const file = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.endsWith('.d.ts')) sources.set(file, fs.readFileSync(path.join(REPO, file), 'utf8'));
    }
  };
  walk('provider');
  walk('constructs');
  return sources;
}

describe('layers', () => {
  test('every shipped source imports only from its own layer and the ones before it', () => {
    const sources = shippedSources();
    expect(sources.size).toBeGreaterThan(100);
    expect(layerViolations(sources)).toEqual([]);
  });

  test('the check finds imports against the layers, of the lab, and dynamic ones', () => {
    const sources = new Map([
      ['provider/ssh/ssh-session.ts', "import { x } from '../colo/colo-pair';\nimport type { Y } from '../framework/errors';"],
      ['provider/framework/resource.ts', "export { z } from '../config/provider-context';"],
      ['provider/resources/host-data-source.ts', "import { guestArtifacts } from '../../scripts/guest/guest';"],
      ['provider/qemu/vm-live.ts', "const m = require('../monitor/agent');\nconst n = await import('../ssh/deadline');"],
      ['constructs/vm.ts', "import { VmConfig } from '../provider/bindings/vm';\nimport { t } from '../provider/monitor/timing';"],
    ]);
    expect(layerViolations(sources)).toEqual([
      'provider/ssh/ssh-session.ts imports provider/colo/colo-pair: ssh comes before colo (protocol → framework → ssh → qemu → colo → monitor → config → images → resources → provider → constructs)',
      'provider/framework/resource.ts imports provider/config/provider-context: framework comes before config (protocol → framework → ssh → qemu → colo → monitor → config → images → resources → provider → constructs)',
      'provider/resources/host-data-source.ts imports scripts/guest/guest: shipped code (resources) must not depend on scripts/',
      'provider/qemu/vm-live.ts imports provider/monitor/agent: qemu comes before monitor (protocol → framework → ssh → qemu → colo → monitor → config → images → resources → provider → constructs)',
    ]);
  });
});
