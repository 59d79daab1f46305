/**
 * The image store on a host: `/var/lib/orbit/images/<sha256>`, content-addressed and read-only,
 * with `by-name/<name>` links naming who placed it. An image arrives as `.<sha256>.partial`
 * (appended to, so an interrupted transfer resumes where it stopped), is checked on the host
 * (sha256sum, then `qemu-img info`: a format QEMU reads and no backing or data file of its own)
 * and only then renamed into place. A file that fails a check is deleted.
 *
 * Who uses an image is read from the disks themselves: every qcow2 file under
 * /var/lib/orbit whose header names the image as its backing file. Nothing to keep in sync.
 */
import * as fs from 'fs';
import { Transform } from 'stream';
import { OrbitError } from '../framework/errors';
import { RemoteHost } from '../config/host-connections';
import { Logger } from '../protocol/logger';
import { shellQuote } from '../ssh/remote-exec';
import { STATE_ROOT } from '../qemu/qemu-command-line';
import { IMAGE_STALL_LIMIT_MS, ImageSource } from './image-source';
import { StallGuard } from './stall-guard';

export const IMAGE_DIR = `${STATE_ROOT}/images`;
export const IMAGE_FORMATS = ['qcow2', 'raw'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** How often progress is logged while an image moves (download and transfer to hosts). */
export const PROGRESS_EVERY_MS = 5000;
/** A transfer runs as long as bytes move; this bounds only the whole call (a 50 GiB image at 20 MiB/s fits). */
const TRANSFER_LIMIT_MS = 24 * 3600_000;
/** sha256sum and qemu-img info of a placed file: bounded by the file's size, not by a guess. */
const CHECK_MS_PER_GIB = 60_000;
const BUSY = 75;

export function imagePath(sha256: string): string {
  return `${IMAGE_DIR}/${sha256}`;
}

export interface PlacedImage {
  format: ImageFormat;
  virtualSizeBytes: number;
  sizeBytes: number;
  /** false: the host already had it. */
  transferred: boolean;
}

/** Puts the image on the host unless it is there; links `by-name/<name>` to it. */
export async function placeImage(remote: RemoteHost, image: { name: string; sha256: string }, source: ImageSource, options: { logger?: Logger; signal?: AbortSignal } = {}): Promise<PlacedImage> {
  const { sha256 } = image;
  const dir = shellQuote(IMAGE_DIR);
  const probe = await remote.exec(
    `set -e\nmkdir -p ${dir}/by-name\ncd ${dir}\nif [ -f ${sha256} ]; then echo present; elif [ -f .${sha256}.partial ]; then echo partial $(stat -c %s .${sha256}.partial); else echo none; fi`,
    { signal: options.signal },
  );
  const [state, partialBytes] = probe.stdout.trim().split(' ');
  let transferred = false;
  if (state !== 'present') {
    const offset = state === 'partial' && Number(partialBytes) <= source.sizeBytes ? Number(partialBytes) : 0;
    await transfer(remote, sha256, source, offset, options);
    transferred = true;
  }
  const checked = await checkAndInstall(remote, sha256, source.sizeBytes, options.signal);
  await linkImageName(remote, image.name, sha256, options.signal);
  return { ...checked, transferred };
}

async function transfer(remote: RemoteHost, sha256: string, source: ImageSource, offset: number, options: { logger?: Logger; signal?: AbortSignal }): Promise<void> {
  const log = options.logger?.child({ image: sha256.slice(0, 12), host: remote.name });
  log?.info(offset > 0 ? 'image transfer resumes' : 'image transfer starts', { offsetBytes: offset, totalBytes: source.sizeBytes });
  const started = Date.now();
  let bytes = offset;
  let lastLog = started;
  const stall = new StallGuard(IMAGE_STALL_LIMIT_MS, options.signal);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      stall.touch();
      if (Date.now() - lastLog >= PROGRESS_EVERY_MS) {
        lastLog = Date.now();
        log?.info('image transfer progress', { bytes, totalBytes: source.sizeBytes, percent: Math.floor((100 * bytes) / Math.max(1, source.sizeBytes)) });
      }
      callback(null, chunk);
    },
  });
  const stdin = fs.createReadStream(source.file, { start: offset }).pipe(counter);
  // The lock keeps two applies (or two resources with the same image) from appending at once;
  // the size check makes sure the file is still as long as when we looked.
  const partial = `.${sha256}.partial`;
  const script = `set -e
cd ${shellQuote(IMAGE_DIR)}
exec 9> .${sha256}.lock
flock -n 9 || exit ${BUSY}
${offset === 0 ? `: > ${partial}` : `[ "$(stat -c %s ${partial})" -eq ${offset} ] || { echo "the partial file changed size" >&2; exit 1; }`}
cat >> ${partial}`;
  try {
    const result = await remote.exec(script, { stdin, signal: stall.signal, timeoutMs: TRANSFER_LIMIT_MS, allowFailure: true });
    if (result.code === BUSY) {
      throw new OrbitError(`Another transfer of image ${sha256} to host "${remote.name}" is running`, {
        attribute: 'hosts',
        value: remote.name,
        fix: 'wait for it to finish (another terraform apply, or another orbit_image with the same sha256), then apply again',
      });
    }
    if (result.code !== 0)
      throw hostError(
        remote,
        `receiving the image failed: ${result.stderr.trim() || `exit ${result.code}`}`,
        'check free space in /var/lib/orbit/images on the host (df -h), then apply again: the transfer resumes',
      );
  } catch (error) {
    if (stall.stalled) {
      throw hostError(
        remote,
        `no byte reached the host for ${IMAGE_STALL_LIMIT_MS / 1000} s (after ${bytes} of ${source.sizeBytes} bytes)`,
        'check the link to the host, then apply again: the transfer resumes where it stopped',
      );
    }
    throw error;
  } finally {
    stall.dispose();
  }
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  log?.info('image transfer done', { bytes: bytes - offset, seconds, mibPerSecond: Math.round(((bytes - offset) / 1048576 / seconds) * 10) / 10 });
}

/** Verifies the partial file and renames it into place (or, already placed, reads what it is). */
async function checkAndInstall(remote: RemoteHost, sha256: string, sizeBytes: number, signal?: AbortSignal): Promise<Omit<PlacedImage, 'transferred'>> {
  const partial = `.${sha256}.partial`;
  const script = `set -e
cd ${shellQuote(IMAGE_DIR)}
if [ ! -f ${sha256} ]; then
  sum=$(sha256sum ${partial} | cut -d' ' -f1)
  if [ "$sum" != ${sha256} ]; then rm -f ${partial}; echo "mismatch $sum"; exit 0; fi
  if ! info=$(qemu-img info --output=json ${partial} 2>&1); then rm -f ${partial}; echo unreadable; echo "$info"; exit 0; fi
  chmod 0444 ${partial}
  mv ${partial} ${sha256}
fi
echo info
qemu-img info --force-share --output=json ${sha256}`;
  const timeoutMs = 60_000 + Math.ceil(sizeBytes / 2 ** 30) * CHECK_MS_PER_GIB;
  const { stdout } = await remote.exec(script, { signal, timeoutMs });
  const lines = stdout.split('\n');
  if (lines[0].startsWith('mismatch ')) {
    throw new OrbitError(`The image that reached host "${remote.name}" does not have the declared sha256`, {
      attribute: 'sha256',
      value: sha256,
      detail: `Declared ${sha256}, the host computed ${lines[0].slice('mismatch '.length)}. The file on the host was deleted.`,
      fix: "apply again (the transfer starts over); if it happens again, the host's disk or the link corrupts data",
    });
  }
  if (lines[0] === 'unreadable') {
    throw new OrbitError(`QEMU cannot read the image ${sha256} on host "${remote.name}"`, {
      attribute: 'source',
      detail: `qemu-img info: ${lines.slice(1).join(' ').trim().slice(0, 800)}. The file on the host was deleted.`,
      fix: 'give a disk image (qcow2 or raw; convert others with qemu-img convert -O qcow2)',
    });
  }
  const info = JSON.parse(lines.slice(lines.indexOf('info') + 1).join('\n')) as {
    format?: string;
    'virtual-size'?: number;
    'actual-size'?: number;
    'backing-filename'?: string;
    'format-specific'?: { data?: { 'data-file'?: string } };
  };
  const problem = !IMAGE_FORMATS.includes(info.format as ImageFormat)
    ? `its format is ${info.format}; Orbit takes ${IMAGE_FORMATS.join(' or ')}`
    : info['backing-filename']
      ? `it has a backing file of its own (${info['backing-filename']}), which would let the image read any file on the host`
      : info['format-specific']?.data?.['data-file']
        ? `it has an external data file (${info['format-specific'].data['data-file']})`
        : undefined;
  if (problem) {
    await remote.exec(`rm -f ${shellQuote(imagePath(sha256))}`, { signal });
    throw new OrbitError(`The image ${sha256} cannot be used: ${problem}`, {
      attribute: 'source',
      detail: `The file on host "${remote.name}" was deleted.`,
      fix: 'convert it into a self-contained image: qemu-img convert -O qcow2 IN OUT, and give OUT with its new sha256',
    });
  }
  return { format: info.format as ImageFormat, virtualSizeBytes: info['virtual-size'] ?? 0, sizeBytes };
}

/** Points `by-name/<name>` at the image; refuses a name that holds other content. */
export async function linkImageName(remote: RemoteHost, name: string, sha256: string, signal?: AbortSignal): Promise<void> {
  const link = shellQuote(`${IMAGE_DIR}/by-name/${name}`);
  const { stdout } = await remote.exec(`target=$(readlink ${link} || true)\nif [ -n "$target" ] && [ "$target" != ../${sha256} ]; then echo "$target"; exit 0; fi\nln -sfn ../${sha256} ${link}`, {
    signal,
  });
  if (stdout.trim()) {
    throw new OrbitError(`Host "${remote.name}" already has an image named "${name}" with other content (${stdout.trim().replace('../', '')})`, {
      attribute: 'name',
      value: name,
      detail: 'Another orbit_image (perhaps in another configuration) placed it.',
      fix: 'choose another name, or destroy the other orbit_image first',
    });
  }
}

export interface ImageOnHost {
  present: boolean;
  /** by-name/<name> points at this image. */
  named: boolean;
}

export async function probeImage(remote: RemoteHost, name: string, sha256: string, signal?: AbortSignal): Promise<ImageOnHost> {
  const { stdout } = await remote.exec(
    `[ -f ${shellQuote(imagePath(sha256))} ] && echo present; [ "$(readlink ${shellQuote(`${IMAGE_DIR}/by-name/${name}`)} || true)" = ../${sha256} ] && echo named; true`,
    { signal },
  );
  const lines = stdout.split('\n');
  return { present: lines.includes('present'), named: lines.includes('named') };
}

/**
 * The disks on the host backed by the image, as "VM <name>" or "orbit_disk <name>" (from where
 * the disk lives), and each disk's path.
 */
export async function imageUsers(remote: RemoteHost, sha256: string, signal?: AbortSignal): Promise<string[]> {
  const image = imagePath(sha256);
  // The header check is a cheap filter; qemu-img confirms (a guest can write any text into data clusters).
  const script = `find ${shellQuote(STATE_ROOT)} -path ${shellQuote(IMAGE_DIR)} -prune -o -type f -name '*.qcow2' -print 2>/dev/null | while read -r f; do
  head -c 65536 "$f" | grep -qaF ${shellQuote(image)} || continue
  qemu-img info --force-share --output=json -f qcow2 "$f" 2>/dev/null | grep -qF ${shellQuote(`"backing-filename": "${image}"`)} && echo "$f"
done; true`;
  const { stdout } = await remote.exec(script, { signal, timeoutMs: 120_000 });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((file) => {
      const parts = file.slice(STATE_ROOT.length + 1).split('/');
      return parts[0] === 'disks' ? `orbit_disk ${parts[1].replace(/\.qcow2$/, '')} (${file})` : `VM ${parts[0]} (${file})`;
    });
}

/** Drops the name; deletes the file when no other name links it. Call only when imageUsers is empty. */
export async function releaseImage(remote: RemoteHost, name: string, sha256: string, signal?: AbortSignal): Promise<{ deleted: boolean }> {
  const dir = shellQuote(IMAGE_DIR);
  const { stdout } = await remote.exec(
    `cd ${dir} || exit 0
[ "$(readlink by-name/${shellQuote(name)} || true)" = ../${sha256} ] && rm -f by-name/${shellQuote(name)}
if [ -z "$(find by-name -maxdepth 1 -lname ../${sha256} 2>/dev/null)" ]; then rm -f ${sha256} .${sha256}.partial .${sha256}.lock; echo deleted; fi
true`,
    { signal },
  );
  return { deleted: stdout.includes('deleted') };
}

function hostError(remote: RemoteHost, what: string, fix: string): OrbitError {
  return new OrbitError(`Placing the image on host "${remote.name}" failed: ${what}`, { attribute: 'hosts', value: remote.name, fix });
}
