/**
 * Lab benchmarks: how long the lab takes to come up (cold and when already up) and down, and
 * how long the test guest takes to boot on a lab host to its first TCP answer, with the
 * accelerator the machine really supports. Tears the lab down and leaves it down.
 */
import { waitForGuestReport } from '../scripts/guest/guest';
import { labDown, labUp } from '../scripts/lab/lab';
import { labAccelerator } from '../scripts/lab/lab-accelerator';
import { removeLabGuest, startLabGuest } from '../scripts/lab/lab-guest';
import { connectToLabHost } from '../scripts/lab/lab-ssh';
import { BenchResult, median } from './bench-result';

const CYCLES = 3;
const BOOTS = 3;

export async function run(): Promise<BenchResult[]> {
  const up: number[] = [];
  const warm: number[] = [];
  const down: number[] = [];
  await labDown();
  for (let i = 0; i < CYCLES; i++) {
    let t = Date.now();
    await labUp();
    up.push(Date.now() - t);
    t = Date.now();
    await labUp();
    warm.push(Date.now() - t);
    t = Date.now();
    await labDown();
    down.push(Date.now() - t);
  }
  const lab = await labUp();
  const accel = await labAccelerator(lab);
  const host = lab.hosts[0];
  const session = await connectToLabHost(lab, host.name);
  const boots: number[] = [];
  try {
    for (let i = 0; i < BOOTS; i++) {
      const t = Date.now();
      const guest = await startLabGuest(session, host, { name: 'bench', ip: lab.network.guestAddresses[0], accel: accel.accelerator });
      await waitForGuestReport(guest.ip, 7000, 60_000);
      boots.push(Date.now() - t);
      await removeLabGuest(session, guest);
    }
  } finally {
    await session.close();
    await labDown();
  }
  return [
    { name: 'lab up (3 hosts + etcd, cold)', value: median(up), unit: 'ms', note: `median of ${CYCLES}` },
    { name: 'lab up (already up, idempotent)', value: median(warm), unit: 'ms', note: `median of ${CYCLES}` },
    { name: 'lab down (verified clean)', value: median(down), unit: 'ms', note: `median of ${CYCLES}` },
    { name: `guest boot to first TCP answer (${accel.accelerator})`, value: median(boots), unit: 'ms', note: `median of ${BOOTS}, over SSH on a lab host` },
    { name: 'accelerator probe (real boot)', value: accel.probeMs, unit: 'ms', note: accel.kvm.ok ? 'kvm boots' : `kvm: ${accel.kvm.reason}` },
  ];
}
