/**
 * The demo stack: one HighlyAvailableVm (a COLO pair of the test guest) on the lab, primary at
 * site a, replica at site b, the witness site as the third vote. Hosts, their pinned keys and
 * the lab's COLO-capable QEMU come from the lab description (`npm run lab -- up` writes it).
 * `npm run demo` deploys it.
 */
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Boot, HighlyAvailableVm, Placement } from '../../constructs';
import { guestArtifacts, guestKernelArgs } from '../../scripts/guest/guest';
import { readLabDescription } from '../../scripts/lab/description';
import { labGuestMac } from '../../scripts/lab/lab-guest';
import { labTopology } from '../../scripts/lab/lab-topology';

export const DEMO_GUEST_IP = '10.89.0.60';

class DemoStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const lab = readLabDescription();
    if (!lab.qemuBinary) throw new Error('The lab has no COLO-capable QEMU: run `bash scripts/qemu-colo/build.sh`, then `npm run lab -- up`.');
    const topology = labTopology(this, 'lab', lab);
    const { kernelPath, initrdPath } = guestArtifacts();
    const web = new HighlyAvailableVm(this, 'web', {
      name: 'demo-web',
      placement: Placement.separateSites(),
      primaryHost: topology.host('site-a'),
      secondaryHost: topology.host('site-b'),
      memoryMib: 128,
      boot: Boot.kernel({ kernelPath, initrdPath, cmdline: guestKernelArgs({ ip: `${DEMO_GUEST_IP}/24` }) }),
      disks: [{ sizeMib: 16 }],
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
