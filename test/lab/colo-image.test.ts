/**
 * A COLO pair whose disk starts from an image (a qcow2 overlay on a content-addressed image
 * placed on both hosts): the guest finds the image's content on both sides, the secondary takes
 * over after the primary's QEMU dies with its state, and re-protection onto the lost host makes
 * a new overlay on that host's copy of the image. The replica's disk is filled by COLO's
 * drive-mirror (sync full): the overlay on the secondary holds the whole disk, still backed by
 * the image.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fence } from '../../provider/colo/colo-failover';
import { destroyPair, startProtectedPair } from '../../provider/colo/colo-pair';
import { reprotect } from '../../provider/colo/colo-reprotect';
import { resolveImageSource } from '../../provider/images/image-source';
import { IMAGE_DIR, placeImage, releaseImage } from '../../provider/images/image-store';
import { SshSession } from '../../provider/ssh/ssh-session';
import { waitForGuestReport } from '../../scripts/guest/guest';
import { LabDescription } from '../../scripts/lab/description';
import { labUp } from '../../scripts/lab/lab';
import { labAccelerator } from '../../scripts/lab/lab-accelerator';
import { connectToLabHost } from '../../scripts/lab/lab-ssh';
import { coloGuestSpec, crashAndFailover, readGuestReportThroughCheckpoints } from '../support/colo-guest';
import { vmTraces } from '../support/guest-vm';
import { makeCounterImage } from '../support/counter-image';
import { remoteHostOf } from '../support/remote-host';

jest.setTimeout(300_000);

const VM = { name: 'colo-image', ip: '10.89.0.91' };
const IMAGE_COUNTER = 5151;
const IMAGE_NAME = 'colo-image-base';

let lab: LabDescription;
let siteA: SshSession;
let siteB: SshSession;
let dir: string;
let sha256: string;

beforeAll(async () => {
  lab = await labUp();
  siteA = await connectToLabHost(lab, 'site-a', { defaultTimeoutMs: 60_000 });
  siteB = await connectToLabHost(lab, 'site-b', { defaultTimeoutMs: 60_000 });
  await destroyPair([siteA, siteB], VM.name, { removeDisks: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-colo-image-'));
  const made = await makeCounterImage(dir, { counter: IMAGE_COUNTER, sizeMiB: 16 });
  sha256 = made.sha256;
  const source = await resolveImageSource(made.file, sha256);
  for (const s of [siteA, siteB]) await placeImage(remoteHostOf(s), { name: IMAGE_NAME, sha256 }, source);
});

afterAll(async () => {
  const open = [siteA, siteB].filter((s) => s?.isOpen);
  await destroyPair(open, VM.name, { removeDisks: true }).catch((e) => console.error(e));
  for (const s of open) expect(await vmTraces(s, VM.name)).toEqual([]);
  for (const s of open) await releaseImage(remoteHostOf(s), IMAGE_NAME, sha256);
  await Promise.all(open.map((s) => s.close()));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The backing file of the VM's disk on a host, or null when there is no disk. */
async function backingOf(session: SshSession): Promise<string | null> {
  const result = await session.exec(`qemu-img info -U --output=json /var/lib/orbit/${VM.name}/disk0.qcow2`, { allowFailure: true });
  return result.code === 0 ? ((JSON.parse(result.stdout) as { 'backing-filename'?: string })['backing-filename'] ?? 'none') : null;
}

test('a pair on a disk from an image: both sides start from it, a failover keeps the state, re-protection makes a new overlay', async () => {
  const accelerator = (await labAccelerator(lab)).accelerator;
  const spec = {
    ...coloGuestSpec(lab, { ...VM, accelerator }),
    disks: [{ path: `/var/lib/orbit/${VM.name}/disk0.qcow2`, format: 'qcow2' as const, sizeMiB: 32, backingImage: `${IMAGE_DIR}/${sha256}` }],
  };
  await startProtectedPair(siteA, siteB, spec);
  const first = await waitForGuestReport(VM.ip, 7000, 120_000);
  expect(first.prev).toBe(IMAGE_COUNTER);
  expect(await backingOf(siteA)).toBe(`${IMAGE_DIR}/${sha256}`);
  expect(await backingOf(siteB)).toBe(`${IMAGE_DIR}/${sha256}`);

  const m = await crashAndFailover(siteA, siteB, VM.name, VM.ip);
  expect(m.after.boot).toBe(first.boot);
  expect(m.after.counter).toBeGreaterThanOrEqual(m.before.counter);

  await fence(siteA, VM.name);
  await reprotect(siteB, siteA, VM.name);
  expect(await backingOf(siteA)).toBe(`${IMAGE_DIR}/${sha256}`);
  const { report } = await readGuestReportThroughCheckpoints(siteB, VM.name, VM.ip, 7000);
  expect(report.boot).toBe(first.boot);
  expect(report.counter).toBeGreaterThanOrEqual(m.after.counter);
  // The image itself never changed: every write went into the overlays.
  for (const s of [siteA, siteB]) expect((await s.exec(`sha256sum ${IMAGE_DIR}/${sha256} | cut -d' ' -f1`)).stdout.trim()).toBe(sha256);
});
