/**
 * Image placement (what orbit_image does on apply) side by side with a plain `scp` of the same
 * file, to the three lab hosts at once, ROUNDS of each, alternating. Orbit's figure includes
 * what scp does not do: the sha256 of the source before sending and on every host after, and
 * `qemu-img info`. The file is incompressible (random), ORBIT_BENCH_IMAGE_MIB (default 256) MiB,
 * raw; every round checks that each host holds the same bytes. Removes what it placed.
 */
import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { resolveImageSource, sha256OfFile } from '../provider/images/image-source';
import { IMAGE_DIR, placeImage, releaseImage } from '../provider/images/image-store';
import { createLogger } from '../provider/protocol/logger';
import { labUp } from '../scripts/lab/lab';
import { connectToLabHost } from '../scripts/lab/lab-ssh';
import { remoteHostOf } from '../test/support/remote-host';
import { BenchResult, median } from './bench-result';

const ROUNDS = Number(process.env.ORBIT_BENCH_ROUNDS ?? 2);
const IMAGE_MIB = Number(process.env.ORBIT_BENCH_IMAGE_MIB ?? 256);
const HOSTS = ['site-a', 'site-b', 'witness'];
const NAME = 'bench-image';
const SCP_TARGET = '/var/lib/orbit/bench-scp.img';
const execFileAsync = promisify(execFile);

export async function run(): Promise<BenchResult[]> {
  const lab = await labUp();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-image-bench-'));
  const file = path.join(dir, 'image.raw');
  const out = fs.openSync(file, 'w');
  for (let i = 0; i < IMAGE_MIB; i++) fs.writeSync(out, randomBytes(1024 * 1024));
  fs.closeSync(out);
  const sha256 = await sha256OfFile(file);
  const sessions = await Promise.all(HOSTS.map((h) => connectToLabHost(lab, h, { defaultTimeoutMs: 600_000 })));
  const remotes = sessions.map(remoteHostOf);
  const orbitMs: number[] = [];
  const scpMs: number[] = [];
  try {
    const clean = () => Promise.all(remotes.map(async (r) => (await releaseImage(r, NAME, sha256), await r.exec(`rm -f ${SCP_TARGET}`))));
    await clean();
    console.error(`image bench: ${IMAGE_MIB} MiB to ${HOSTS.join(', ')}, ${ROUNDS} rounds each of orbit_image's placement and scp`);
    for (let i = 0; i < ROUNDS; i++) {
      let started = Date.now();
      const source = await resolveImageSource(file, sha256);
      const placed = await Promise.all(remotes.map((r) => placeImage(r, { name: NAME, sha256 }, source, { logger: createLogger({ level: 'off' }) })));
      if (!placed.every((p) => p.transferred)) throw new Error('the image was already on a host: the round measured nothing');
      orbitMs.push(Date.now() - started);

      started = Date.now();
      await Promise.all(
        lab.hosts
          .filter((h) => HOSTS.includes(h.name))
          .map((h) =>
            execFileAsync('scp', [
              '-q',
              '-i',
              h.privateKeyPath,
              '-o',
              `UserKnownHostsFile=${lab.knownHostsPath}`,
              '-o',
              'StrictHostKeyChecking=yes',
              '-P',
              String(h.sshPort),
              file,
              `${h.sshUser}@${h.address}:${SCP_TARGET}`,
            ]),
          ),
      );
      scpMs.push(Date.now() - started);
      console.error(`  round ${i + 1}: orbit ${orbitMs[i]} ms, scp ${scpMs[i]} ms`);
      const sums = await Promise.all(remotes.map(async (r) => (await r.exec(`sha256sum ${IMAGE_DIR}/${sha256} ${SCP_TARGET} | cut -d' ' -f1 | sort -u`)).stdout.trim()));
      if (sums.some((s) => s !== sha256)) throw new Error(`a host holds other bytes than the image: ${JSON.stringify(sums)}`);
      await clean();
    }
  } finally {
    await Promise.all(remotes.map((r) => releaseImage(r, NAME, sha256).catch(() => undefined)));
    await Promise.all(sessions.map((s) => s.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const throughput = (ms: number) => (IMAGE_MIB * HOSTS.length) / (ms / 1000);
  return [
    {
      name: `orbit_image placement, ${IMAGE_MIB} MiB to ${HOSTS.length} hosts (median)`,
      value: median(orbitMs),
      unit: 'ms',
      note: `${throughput(median(orbitMs)).toFixed(0)} MiB/s in all; sha256 before and on each host included`,
    },
    { name: `scp of the same file to the same hosts (median)`, value: median(scpMs), unit: 'ms', note: `${throughput(median(scpMs)).toFixed(0)} MiB/s in all; no verification` },
    { name: 'ratio orbit_image / scp', value: median(orbitMs) / median(scpMs), unit: 'x', note: 'same run, same file, same hosts' },
  ];
}
