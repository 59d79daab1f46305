/**
 * Testing.fullSynth validity: the example stacks synthesize to a cdktf.out that passes every
 * validation and policy, and `terraform validate` accepts it (Testing.toBeValidTerraform) with
 * the installed provider (`npm run provider:install`, which `npm test` runs first;
 * ORBIT_TF_CLI_CONFIG overrides its CLI config).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { TwoSitesStack } from '../stacks/two-sites/two-sites-stack';
import { HighlyAvailableVm } from './highly-available-vm';
import { Placement } from './placement';
import { twoSites } from './test-fixtures';
import { Vm } from './vm';

/** Something to boot from (a VM needs a disk or a kernel). */
const disks = [{ sizeMib: 16 }];

const REPO = path.resolve(__dirname, '..');
const CLI_CONFIG = process.env.ORBIT_TF_CLI_CONFIG ?? path.join(REPO, '.cache', 'terraform', 'orbit.tfrc');
/** Says what is missing instead of skipping: a validation that did not run is no validation. */
function requireTerraform(): void {
  if (!fs.existsSync(CLI_CONFIG)) throw new Error(`No installed provider (${CLI_CONFIG} is missing): run \`npm run provider:install\` first (npm test does).`);
  const dirs = (process.env.PATH ?? '').split(path.delimiter);
  const binary = process.env.TERRAFORM_BINARY_NAME ?? 'terraform';
  if (!dirs.some((dir) => fs.existsSync(path.join(dir, binary)))) throw new Error(`${binary} is not on PATH: install terraform 1.11 (see README).`);
}

function stackJson(outdir: string, stackName: string): any {
  return JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stackName, 'cdk.tf.json'), 'utf8'));
}

describe('Testing.fullSynth', () => {
  test('the two-sites example synthesizes, policies included', () => {
    const stack = new TwoSitesStack(Testing.app(), 'two-sites');
    const outdir = Testing.fullSynth(stack);
    const config = stackJson(outdir, 'two-sites');
    expect(Object.keys(config.resource.orbit_ft_vm).sort()).toEqual(['db', 'reports', 'web']);
    expect(Object.keys(config.resource.orbit_vm)).toEqual(['batch']);
    expect(config.output.db_worst_case_recovery_ms.value).toBe(2700);
    expect(config.output.reports_worst_case_recovery_ms.value).toMatch(/^manual/);
    const db = config.resource.orbit_ft_vm.db;
    expect(db.primary_host.split('-')[0]).not.toBe(db.secondary_host.split('-')[0]);
  });

  test('the two-sites example is stable across synths (snapshot)', () => {
    const stack = new TwoSitesStack(Testing.app(), 'two-sites');
    expect(Testing.synth(stack)).toMatchSnapshot();
  });

  test('terraform validate accepts the synthesized configuration', () => {
    requireTerraform();
    const { stack, a1, b1 } = twoSites();
    new HighlyAvailableVm(stack, 'web', { disks, network: { bridge: 'vmbr0' }, primaryHost: a1, secondaryHost: b1, placement: Placement.separateSites() });
    new Vm(stack, 'batch', { disks, networks: [{ bridge: 'vmbr0' }] });
    const outdir = Testing.fullSynth(stack);
    const saved = process.env.TF_CLI_CONFIG_FILE;
    process.env.TF_CLI_CONFIG_FILE = CLI_CONFIG;
    try {
      expect(Testing.toBeValidTerraform(outdir)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.TF_CLI_CONFIG_FILE;
      else process.env.TF_CLI_CONFIG_FILE = saved;
    }
  }, 120_000);
});

// Keeps `App` referenced for readers: stacks are normally created under `new App()`.
void App;
