/**
 * `resource "orbit_disk"`: a disk image (qcow2 or raw) in DISK_DIR on one host, made and
 * inspected with qemu-img over SSH.
 *
 * Growing is in place (`qemu-img resize`); shrinking is refused at plan time, because it would
 * cut off whatever the guest keeps at the end of the disk. Host, name and format are fixed: a
 * change of any is refused (it would be a new, empty disk and the old one deleted); only
 * destroy deletes a disk. Create never overwrites a file it
 * did not make (the existing one can be imported instead). Read reports the disk as it is on
 * the host, so an out-of-band resize shows up as drift and a deleted file as "will be created".
 *
 * qemu-img always gets the format (`-f`): probing the format of a raw image is unsafe, because
 * a guest can write a qcow2 header (with a backing file of its choosing) into its own disk.
 */
import { t } from '../protocol/cty-type';
import { OrbitError } from '../framework/errors';
import { ModelOf, resolvePlanned } from '../framework/model';
import { computed, optional, required, schema } from '../framework/schema-builder';
import { between, integer, lengthBetween, matches, oneOf } from '../framework/validators';
import { RemoteHost } from '../config/host-connections';
import { shellQuote } from '../ssh/remote-exec';
import { defineResource } from '../config/provider-context';

export const DISK_DIR = '/var/lib/orbit/disks';
const FORMATS = ['qcow2', 'raw'] as const;
const MIB = 1024 * 1024;
const MAX_SIZE_MIB = 16 * 1024 * 1024;
/** The create script's exit status when the file is already there (EEXIST). */
const EXISTS = 17;

const FIXED = 'A change is refused: it would be a new, empty disk (to start over: terraform taint).';

export const diskSchema = schema({
  description: 'A disk image on a host, in /var/lib/orbit/disks/<name>.<format>.',
  attributes: {
    id: computed(t.string, { useStateForUnknown: true, description: '`<host>/<name>`; also the import id.' }),
    host: required(t.string, { description: `The host the disk lives on (a name from the provider's hosts blocks). ${FIXED}` }),
    name: required(t.string, {
      description: `File name of the disk without extension: lowercase letters, digits and "-", starting with a letter or digit. ${FIXED}`,
      validators: [matches(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and "-", starting with a letter or digit', 'db-data'), lengthBetween(1, 64)],
    }),
    size_mib: required(t.number, {
      description: 'Virtual size in MiB. Growing it resizes the disk in place; shrinking is refused at plan time, because it would cut off data.',
      validators: [integer(), between(1, MAX_SIZE_MIB)],
    }),
    format: optional(t.string, {
      default: 'qcow2',
      description: `Image format: "qcow2" (default, allocated as written) or "raw". ${FIXED}`,
      validators: [oneOf<string>(FORMATS)],
    }),
    path: computed(t.string, { useStateForUnknown: true, description: 'Where the image is on the host.' }),
    actual_size_bytes: computed(t.number, { description: "Space the image takes on the host's filesystem." }),
  },
});

export type Disk = ModelOf<typeof diskSchema.block>;

export interface DiskResourceOptions {
  /** Where disks live on hosts. Default DISK_DIR. */
  directory?: string;
}

interface ImageInfo {
  'virtual-size': number;
  'actual-size'?: number;
  format: string;
}

export function defineDiskResource(options: DiskResourceOptions = {}) {
  const directory = options.directory ?? DISK_DIR;
  const diskPath = (name: string, format: string) => `${directory}/${name}.${format}`;

  const stateFrom = (where: { host: string; name: string; format: string }, info: ImageInfo): Disk => ({
    id: `${where.host}/${where.name}`,
    host: where.host,
    name: where.name,
    format: where.format,
    size_mib: Math.ceil(info['virtual-size'] / MIB),
    path: diskPath(where.name, where.format),
    actual_size_bytes: info['actual-size'] ?? null,
  });

  return defineResource({
    typeName: 'orbit_disk',
    schema: diskSchema,

    async modifyPlan({ planned, prior, provider, signal }) {
      const { host, name, format } = planned;
      if (host === undefined || name === undefined || format === undefined || format === null) return;
      planned.id = `${host}/${name}`;
      planned.path = diskPath(name, format);

      if (prior !== null) checkSameDisk(prior, { host, name, format });
      if (prior !== null && planned.size_mib !== undefined && planned.size_mib < prior.size_mib) {
        throw shrinkError(prior, planned.size_mib);
      }
      if (prior === null) {
        // Reaching the host now means a bad host (unreachable, wrong key, no qemu-img) fails the plan, before anything is built.
        const remote = provider.remote(host, { attribute: ['host'], signal });
        const check = await remote.exec('command -v qemu-img >/dev/null 2>&1', { allowFailure: true, timeoutMs: 20_000 });
        if (check.code !== 0) throw missingQemuImg(host);
      }
    },

    async create({ config, provider, signal }) {
      const remote = provider.remote(config.host, { attribute: ['host'], signal });
      const format = config.format ?? 'qcow2';
      const file = diskPath(config.name, format);
      const dir = shellQuote(directory);
      // The image is made under a temporary name and hard-linked into place: ln fails if the
      // name exists, so a disk that appeared meanwhile is never overwritten.
      const script = `set -e
mkdir -p ${dir}
if [ -e ${shellQuote(file)} ]; then exit ${EXISTS}; fi
tmp=${dir}/.${config.name}.${format}.orbit-$$.tmp
trap 'rm -f "$tmp"' EXIT
qemu-img create -q -f ${format} "$tmp" ${config.size_mib}M >&2
ln "$tmp" ${shellQuote(file)} 2>/dev/null || exit ${EXISTS}
${infoCommand(file, format)}`;
      const result = await remote.exec(script, { allowFailure: true });
      if (result.code === EXISTS) throw existsError(config.host, config.name, file);
      if (result.code !== 0) throw qemuImgError('create', remote, file, result.stderr);
      return stateFrom({ host: config.host, name: config.name, format }, parseInfo(result.stdout, remote, file));
    },

    async read({ state, provider, signal }) {
      const remote = provider.remote(state.host, { attribute: ['host'], signal });
      const format = state.format ?? 'qcow2';
      const file = diskPath(state.name, format);
      const result = await remote.exec(`if [ ! -e ${shellQuote(file)} ]; then echo absent; exit 0; fi\n${infoCommand(file, format)}`, { allowFailure: true });
      if (result.code !== 0) throw qemuImgError('info', remote, file, result.stderr);
      if (result.stdout.trim() === 'absent') return null;
      return stateFrom({ host: state.host, name: state.name, format }, parseInfo(result.stdout, remote, file));
    },

    async update({ prior, planned, config, provider, signal }) {
      const remote = provider.remote(config.host, { attribute: ['host'], signal });
      const format = config.format ?? 'qcow2';
      const file = diskPath(config.name, format);
      checkSameDisk(prior, { host: config.host, name: config.name, format });
      if (config.size_mib < prior.size_mib) throw shrinkError(prior, config.size_mib);
      const resize = config.size_mib > prior.size_mib ? `qemu-img resize -q -f ${format} ${shellQuote(file)} ${config.size_mib}M >&2\n` : '';
      const result = await remote.exec(`set -e\n[ -e ${shellQuote(file)} ] || exit ${EXISTS}\n${resize}${infoCommand(file, format)}`, { allowFailure: true });
      if (result.code === EXISTS) {
        throw new OrbitError(`The disk ${file} disappeared from host "${config.host}"`, {
          attribute: 'host',
          value: config.host,
          fix: 'run terraform plan again: it will plan to create the disk',
        });
      }
      if (result.code !== 0) throw qemuImgError('resize', remote, file, result.stderr);
      return resolvePlanned(planned, stateFrom({ host: config.host, name: config.name, format }, parseInfo(result.stdout, remote, file)));
    },

    async delete({ state, provider, signal }) {
      const remote = provider.remote(state.host, { attribute: ['host'], signal });
      await remote.exec(`rm -f ${shellQuote(diskPath(state.name, state.format ?? 'qcow2'))}`);
    },

    async importState({ id, provider, signal }) {
      const match = /^([^/]+)\/([^/]+)$/.exec(id);
      const name = match?.[2];
      if (!match || !name || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
        throw new OrbitError(`Invalid orbit_disk import id "${id}"`, {
          value: id,
          allowed: '<host>/<name>, e.g. "site-a/db-data" for /var/lib/orbit/disks/db-data.qcow2 on host site-a',
          fix: 'pass the host name and the disk name without extension, separated by "/"',
        });
      }
      const host = match[1];
      const remote = provider.remote(host, { signal });
      const candidates = FORMATS.map((format) => ({ format, file: diskPath(name, format) }));
      const { stdout } = await remote.exec(candidates.map((c) => `[ -e ${shellQuote(c.file)} ] && echo ${c.format}`).join('\n') + '\ntrue');
      const found = candidates.filter((c) => stdout.split('\n').includes(c.format));
      if (found.length !== 1) {
        throw new OrbitError(found.length === 0 ? `Host "${host}" has no disk "${name}"` : `Host "${host}" has disk "${name}" in both formats`, {
          value: id,
          detail: `Looked for ${candidates.map((c) => c.file).join(' and ')}.`,
          fix: found.length === 0 ? 'check the host and disk name (ls /var/lib/orbit/disks on the host)' : `remove the one you do not want from ${directory} on the host, then import again`,
        });
      }
      return { id, host, name, format: found[0].format, path: found[0].file };
    },
  });
}

export const diskResource = defineDiskResource();

/** `--force-share`: a running QEMU holds a lock on its disk, and reading the header must not need it. */
function infoCommand(file: string, format: string): string {
  return `qemu-img info --force-share --output=json -f ${format} ${shellQuote(file)}`;
}

function parseInfo(stdout: string, remote: RemoteHost, file: string): ImageInfo {
  let info: Partial<ImageInfo> | undefined;
  try {
    info = JSON.parse(stdout.slice(stdout.indexOf('{'))) as Partial<ImageInfo>;
  } catch {
    info = undefined;
  }
  if (typeof info?.['virtual-size'] !== 'number') {
    throw new OrbitError(`qemu-img info printed no size for ${file} on host "${remote.name}"`, {
      attribute: 'host',
      value: remote.name,
      detail: `Output: ${stdout.slice(0, 500) || '(none)'}`,
      fix: 'check the QEMU tools on the host (qemu-img --version; Debian package qemu-utils)',
    });
  }
  return info as ImageInfo;
}

function shrinkError(prior: Disk, wanted: number): OrbitError {
  return new OrbitError(`size_mib cannot shrink from ${prior.size_mib} to ${wanted}`, {
    attribute: 'size_mib',
    value: wanted,
    allowed: `${prior.size_mib} or more (disks only grow in place)`,
    detail: `The disk ${prior.path} on host "${prior.host}" is ${prior.size_mib} MiB; shrinking it would cut off the data at its end.`,
    // Not `apply -replace`: terraform plans the in-place change first and stops at this error.
    // A tainted object is planned as a new one, which may have any size.
    fix:
      `keep size_mib at ${prior.size_mib} or more; or, to re-create the disk empty at ${wanted} MiB (its data is lost), ` +
      "mark it for replacement and apply: terraform taint ADDRESS && terraform apply, with ADDRESS this resource's address (e.g. orbit_disk.data)",
  });
}

/** Host, name and format name the image: changing any would mean a new, empty disk. */
function checkSameDisk(prior: Disk, wanted: { host: string; name: string; format: string }): void {
  const changed = (['host', 'name', 'format'] as const).filter((attribute) => wanted[attribute] !== (prior[attribute] ?? 'qcow2'));
  if (changed.length === 0) return;
  throw new OrbitError(`orbit_disk "${prior.name}" cannot change its ${changed.join(' and ')}: ${changed.map((a) => `${prior[a]} -> ${wanted[a]}`).join(', ')}`, {
    attribute: changed[0],
    value: wanted[changed[0]],
    allowed: `${prior[changed[0]]} (fixed for the disk's life)`,
    detail: `It would be a new, empty disk, and ${prior.path} on host "${prior.host}" would be deleted with its data; Orbit never deletes a disk on a change.`,
    fix: `keep ${changed.map((a) => `${a} = "${prior[a]}"`).join(', ')}; to start over with an empty disk (the data is lost), mark it for replacement and apply: terraform taint ADDRESS && terraform apply`,
  });
}

function existsError(host: string, name: string, file: string): OrbitError {
  return new OrbitError(`A disk file already exists at ${file} on host "${host}"`, {
    attribute: 'name',
    value: name,
    detail: 'Orbit never overwrites a disk it did not create.',
    fix: `to manage that disk, import it: terraform import ADDRESS ${host}/${name} (or an import block with id = "${host}/${name}"); otherwise choose another name`,
  });
}

function missingQemuImg(host: string): OrbitError {
  return new OrbitError(`qemu-img is not installed on host "${host}"`, {
    attribute: 'host',
    value: host,
    fix: 'install the QEMU tools on the host (Debian: apt-get install qemu-utils)',
  });
}

function qemuImgError(operation: string, remote: RemoteHost, file: string, stderr: string): OrbitError {
  return new OrbitError(`qemu-img ${operation} of ${file} failed on host "${remote.name}"`, {
    attribute: 'host',
    value: remote.name,
    detail: stderr.trim().slice(-1500) || '(no error output)',
    fix: /lock/i.test(stderr) ? 'a running QEMU uses the disk; stop it first (or resize the disk through its VM)' : 'read the error above; to reproduce, run the qemu-img command on the host by hand',
  });
}
