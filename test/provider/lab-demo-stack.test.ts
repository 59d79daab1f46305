/**
 * The demo stack (stacks/demo: a HighlyAvailableVm built from the constructs) through `cdktf
 * deploy` and `cdktf destroy` on the lab, the way `npm run demo` runs it: the pair is protected
 * and watched by the failover monitor's agents, the guest answers, the outputs say where it
 * runs, and destroy leaves nothing on any host (no QEMU, no files, no agent). The synthesized
 * output goes to a temporary directory: this test's provider install is temporary too, and
 * its lock file must not end up in stacks/demo for the demo to trip over.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { runCdktf } from '../support/cdktf';
import { LabTerraform, REPO, setUpLabTerraform } from '../support/lab-terraform';
import { setTimeout as sleep } from 'timers/promises';
import { SLOW_ANSWER_LIMIT_MS } from '../support/guest-poller';

jest.setTimeout(600_000);

const STACK = path.join(REPO, 'stacks/demo');
const VM = 'demo-web';
const IP = '10.89.0.60';

describe('the demo stack on the lab', () => {
  let lab: LabTerraform;
  let outdir: string;
  const cdktf = (args: string[]) => runCdktf(STACK, [...args, '--output', outdir], { ...lab.env, CDKTF_HOME: path.join(REPO, '.cache/cdktf-home') });
  const ok = async (args: string[]) => {
    const result = await cdktf(args);
    if (result.code !== 0) throw new Error(`cdktf ${args.join(' ')} failed (${result.code}):\n${result.output}`);
    return result;
  };

  beforeAll(async () => {
    lab = await setUpLabTerraform();
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-demo-out-'));
  });

  afterAll(async () => {
    await cdktf(['destroy', '--auto-approve']).catch(() => undefined);
    for (const host of ['site-a', 'site-b', 'witness']) await lab?.ssh(host, `pkill -9 -f '^[^ ]+ -name guest=${VM},'; sleep 0.3; rm -rf /run/orbit/${VM} /var/lib/orbit/${VM}; true`);
    lab?.cleanup();
    if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
  });

  test('cdktf deploy builds the protected pair; destroy removes it everywhere', async () => {
    const deploy = await ok(['deploy', '--auto-approve']);
    expect(deploy.output).toContain('protection = "protected"');
    expect(deploy.output).toContain('active_host = "site-a"');
    expect(deploy.output).toContain('web_worst_case_recovery_ms');
    const synthesized = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks/demo/cdk.tf.json'), 'utf8'));
    expect(Object.keys(synthesized.resource.orbit_ft_vm)).toEqual(['web']);
    expect(synthesized.resource.orbit_ft_vm.web.failover).toBe('automatic');
    const status = await lab.ssh('site-a', 'cat /run/orbit/agent/status.json');
    expect(JSON.parse(status.stdout).pairs[VM]).toMatchObject({ role: 'held', protection: 'protected' });
    const first = await waitForGuestReport(IP, 7000, 120_000);
    await sleep(1000);
    expect((await readGuestReport(IP, 7000, SLOW_ANSWER_LIMIT_MS)).counter).toBeGreaterThan(first.counter);

    await ok(['destroy', '--auto-approve']);
    for (const host of ['site-a', 'site-b', 'witness']) {
      const left = await lab.ssh(host, `pgrep --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${VM},'; ls -d /run/orbit/${VM} /var/lib/orbit/${VM} /var/lib/orbit/agent 2>/dev/null; true`);
      expect(left.stdout.trim()).toBe('');
    }
  });
});
