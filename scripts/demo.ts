import { readGuestReport, waitForGuestReport } from './guest/guest';
import { labUp } from './lab/lab';
import { labAccelerator } from './lab/lab-accelerator';
import { removeLabGuest, startLabGuest } from './lab/lab-guest';
import { connectToLabHost, labHost } from './lab/lab-ssh';

/**
 * The main job, as far as Orbit goes today: the lab comes up, the test guest boots on a lab
 * host, and it answers over the VM network, from another host and from this machine.
 * (The deploy of an FT pair and a watched failover join this once the COLO issues land.)
 */

const step = (text: string) => console.log(`\n==> ${text}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  step('Bringing the lab up (hosts as network namespaces, each with its own sshd; one etcd)');
  let t = Date.now();
  const lab = await labUp();
  for (const h of lab.hosts) console.log(`    ${h.name.padEnd(8)} site ${h.site.padEnd(8)} ssh root@${h.address} (pinned ${h.hostKey.slice(0, 30)}...)`);
  console.log(`    etcd ${lab.etcd.endpoints.join(', ')}; description: ${lab.descriptionPath} (${Date.now() - t} ms)`);

  step('Choosing the accelerator by really booting a guest (KVM if it boots, else TCG)');
  const accel = await labAccelerator(lab);
  console.log(`    ${accel.accelerator.toUpperCase()}${accel.kvm.ok ? '' : ` (KVM: ${accel.kvm.reason})`}`);

  const host = labHost(lab, lab.hosts[0].name);
  const other = lab.hosts[1];
  const ip = lab.network.guestAddresses[0];
  step(`Booting the test guest on ${host.name} at ${ip}`);
  const session = await connectToLabHost(lab, host.name);
  t = Date.now();
  const guest = await startLabGuest(session, host, { name: 'demo', ip, accel: accel.accelerator });
  const first = await waitForGuestReport(ip, 7000, 60_000);
  console.log(`    QEMU pid ${guest.pid} on ${host.name}; first answer after ${Date.now() - t} ms: ${JSON.stringify(first)}`);

  step(`Asking the guest from ${other.name} over the VM network`);
  const remote = await connectToLabHost(lab, other.name);
  const { stdout } = await remote.exec(`timeout 5 bash -c 'exec 3<>/dev/tcp/${ip}/7000; cat <&3'`);
  console.log(`    ${stdout.trim()}`);

  step('Watching the counter for 3 seconds (it advances every 100 ms and is written to the guest disk)');
  for (let i = 0; i < 3; i++) {
    await sleep(1000);
    const r = await readGuestReport(ip, 7000, 5000);
    console.log(`    counter=${r.counter} disk=${r.disk} uptime=${r.uptimeS}s boot=${r.boot}`);
  }

  step('Cleaning up the guest (the lab stays up; `npm run lab -- down` removes it)');
  await removeLabGuest(session, guest);
  await Promise.all([session.close(), remote.close()]);
  console.log('\nDone.');
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
