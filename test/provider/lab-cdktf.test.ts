/**
 * A tiny TypeScript cdktf app using the generated bindings (provider/bindings) against a lab
 * host: `cdktf synth`, `cdktf deploy --auto-approve` (the disk is on the host afterwards, the
 * VM runs and its guest answers) and `cdktf destroy --auto-approve` (both are gone), offline,
 * through the installed provider.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { guestArtifacts, guestKernelArgs, readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { labGuestMac } from '../../scripts/lab/lab-guest';
import { runCdktf } from '../support/cdktf';
import { LabTerraform, REPO, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { setTimeout as sleep } from 'timers/promises';

jest.setTimeout(240_000);

const HOST = 'site-a';
const GUEST_IP = '10.89.0.77';

describe('cdktf with the generated bindings', () => {
  let lab: LabTerraform;
  let app: string;
  const name = uniqueName('cdktf-disk');
  const vmName = uniqueName('cdktf-vm');

  const cdktf = (args: string[]) => runCdktf(app, args, { ...lab.env, XDG_CACHE_HOME: path.join(app, '.cache') });
  const ok = async (args: string[]) => {
    const result = await cdktf(args);
    if (result.code !== 0) throw new Error(`cdktf ${args.join(' ')} failed (${result.code}):\n${result.output}`);
    return result;
  };
  const diskOnHost = async () => (await lab.ssh(HOST, `qemu-img info -U --output=json -f qcow2 /var/lib/orbit/disks/${name}.qcow2`)).code === 0;

  beforeAll(async () => {
    lab = await setUpLabTerraform();
    const host = lab.lab.hosts.find((h) => h.name === HOST)!;
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-cdktf-app-'));
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(app, 'node_modules'));
    fs.writeFileSync(
      path.join(app, 'cdktf.json'),
      JSON.stringify({ language: 'typescript', app: `${path.join(REPO, 'node_modules/.bin/ts-node')} --transpile-only main.ts`, terraformProviders: [], sendCrashReports: 'false' }),
    );
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', target: 'ES2022', strict: true, esModuleInterop: true, skipLibCheck: true } }));
    const bindings = path.join(REPO, 'provider/bindings/providers/orbit');
    fs.writeFileSync(
      path.join(app, 'main.ts'),
      `import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { OrbitProvider } from ${JSON.stringify(`${bindings}/provider`)};
import { Disk } from ${JSON.stringify(`${bindings}/disk`)};
import { Vm } from ${JSON.stringify(`${bindings}/vm`)};

class DiskStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new OrbitProvider(this, 'orbit', {
      hosts: [{ name: ${JSON.stringify(host.name)}, address: ${JSON.stringify(host.address)}, privateKeyPath: ${JSON.stringify(host.privateKeyPath)}, knownHosts: ${JSON.stringify(lab.lab.knownHostsPath)} }],
    });
    const disk = new Disk(this, 'data', { host: ${JSON.stringify(host.name)}, name: ${JSON.stringify(name)}, sizeMib: 16 });
    new TerraformOutput(this, 'path', { value: disk.path });
    const vm = new Vm(this, 'web', {
      host: ${JSON.stringify(host.name)},
      name: ${JSON.stringify(vmName)},
      memoryMib: 128,
      kernelPath: ${JSON.stringify(guestArtifacts().kernelPath)},
      initrdPath: ${JSON.stringify(guestArtifacts().initrdPath)},
      kernelCmdline: ${JSON.stringify(guestKernelArgs({ ip: `${GUEST_IP}/24` }))},
      stopTimeoutMs: 0,
      network: [{ bridge: 'vmbr0', mac: ${JSON.stringify(labGuestMac(GUEST_IP))} }],
    });
    new TerraformOutput(this, 'vm_status', { value: vm.status });
  }
}

const app = new App();
new DiskStack(app, 'disks');
app.synth();
`,
    );
  });

  afterAll(async () => {
    await lab?.ssh(HOST, `rm -f /var/lib/orbit/disks/${name}.qcow2; pkill -9 -f '^[^ ]+ -name guest=${vmName},'; true`);
    if (app) fs.rmSync(app, { recursive: true, force: true });
    lab?.cleanup();
  });

  test('synth, deploy and destroy a stack with an orbit_disk and an orbit_vm', async () => {
    await ok(['synth']);
    const synthesized = JSON.parse(fs.readFileSync(path.join(app, 'cdktf.out/stacks/disks/cdk.tf.json'), 'utf8'));
    expect(synthesized.resource.orbit_disk.data).toMatchObject({ host: HOST, name, size_mib: 16 });
    expect(synthesized.terraform.required_providers.orbit.source).toBe('registry.terraform.io/orbit/orbit');

    const deploy = await ok(['deploy', '--auto-approve']);
    expect(deploy.output).toContain(`path = "/var/lib/orbit/disks/${name}.qcow2"`);
    expect(await diskOnHost()).toBe(true);
    expect(deploy.output).toContain('vm_status = "running"');
    const first = await waitForGuestReport(GUEST_IP, 7000, 90_000);
    await sleep(1000);
    expect((await readGuestReport(GUEST_IP, 7000, 5000)).counter).toBeGreaterThan(first.counter);

    await ok(['destroy', '--auto-approve']);
    expect(await diskOnHost()).toBe(false);
    await expect(readGuestReport(GUEST_IP, 7000, 2000)).rejects.toThrow();
    const leftovers = await lab.ssh(HOST, `pgrep --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${vmName},'; ls -d /var/lib/orbit/${vmName} /run/orbit/${vmName} 2>/dev/null; true`);
    expect(leftovers.stdout.trim()).toBe('');
  });
});
