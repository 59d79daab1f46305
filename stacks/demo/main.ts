/**
 * The demo stack: one fault-tolerant VM (a COLO pair of the test guest) on the lab, primary on
 * site-a, replica on site-b. Hosts, their pinned keys and the lab's COLO-capable QEMU come from
 * the lab description (`npm run lab -- up` writes it). `npm run demo` deploys it.
 *
 * Written against the generated L1 bindings; the construct library (issue 7) will express the
 * same stack as one HighlyAvailableVm.
 */
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { FtVm } from '../../provider/bindings/providers/orbit/ft-vm';
import { OrbitProvider } from '../../provider/bindings/providers/orbit/provider';
import { guestArtifacts, guestKernelArgs } from '../../scripts/guest/guest';
import { readLabDescription } from '../../scripts/lab/description';
import { labGuestMac } from '../../scripts/lab/lab-guest';

export const DEMO_GUEST_IP = '10.89.0.60';

class DemoStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const lab = readLabDescription();
    if (!lab.qemuBinary) throw new Error('The lab has no COLO-capable QEMU: run `bash scripts/qemu-colo/build.sh`, then `npm run lab -- up`.');
    new OrbitProvider(this, 'orbit', {
      hosts: lab.hosts.map((h) => ({
        name: h.name,
        address: h.address,
        port: h.sshPort,
        user: h.sshUser,
        privateKeyPath: h.privateKeyPath,
        knownHosts: lab.knownHostsPath,
        qemuBinary: lab.qemuBinary,
      })),
    });
    const { kernelPath, initrdPath } = guestArtifacts();
    const web = new FtVm(this, 'web', {
      name: 'demo-web',
      primaryHost: 'site-a',
      secondaryHost: 'site-b',
      memoryMib: 128,
      checkpointDelayMs: 2000,
      kernelPath,
      initrdPath,
      kernelCmdline: guestKernelArgs({ ip: `${DEMO_GUEST_IP}/24` }),
      disk: [{ sizeMib: 16 }],
      network: { bridge: 'vmbr0', mac: labGuestMac(DEMO_GUEST_IP) },
    });
    new TerraformOutput(this, 'active_host', { value: web.activeHost });
    new TerraformOutput(this, 'standby_host', { value: web.standbyHost });
    new TerraformOutput(this, 'protection', { value: web.protection });
    new TerraformOutput(this, 'guest_address', { value: DEMO_GUEST_IP });
  }
}

const app = new App();
new DemoStack(app, 'demo');
app.synth();
