/**
 * `resource "orbit_image"`: a disk image (qcow2 or raw) placed on hosts, once per host and
 * content-addressed (`/var/lib/orbit/images/<sha256>`), for VM disks to start from.
 *
 * The source is a file on the machine terraform runs on or an http(s) URL (downloaded once,
 * into a local cache, then streamed to every host at once). The declared sha256 is checked
 * before any host gets the bytes and again on each host before the file is put in place.
 * An interrupted transfer resumes at the next apply. Deleting the image from a host that still
 * has disks backed by it is refused, naming the VMs; nothing is removed then.
 */
import { t } from '../protocol/cty-type';
import { OrbitError } from '../framework/errors';
import { ModelOf, resolvePlanned } from '../framework/model';
import { computed, required, schema } from '../framework/schema-builder';
import { lengthBetween, matches } from '../framework/validators';
import { isHostUnreachable } from '../config/host-connections';
import { defineResource, ProviderContext } from '../config/provider-context';
import { Logger } from '../protocol/logger';
import { errorMessage } from '../ssh/host-errors';
import { isUrl, resolveImageSource, SHA256, statLocalSource } from '../images/image-source';
import { imagePath, imageUsers, linkImageName, PlacedImage, placeImage, probeImage, PROGRESS_EVERY_MS, releaseImage } from '../images/image-store';

const MIB = 1024 * 1024;
const NAME = /^[a-z0-9][a-z0-9._-]*$/;

export const imageSchema = schema({
  description: 'A disk image placed on hosts, content-addressed in /var/lib/orbit/images/<sha256>, for VM disks to start from.',
  attributes: {
    id: computed(t.string, { useStateForUnknown: true, description: 'The name.' }),
    name: required(t.string, {
      description: 'What the image is called (a link /var/lib/orbit/images/by-name/<name> on each host). A rename changes in place.',
      validators: [matches(NAME, 'lowercase letters, digits, ".", "_" and "-", starting with a letter or digit', 'debian-12-genericcloud'), lengthBetween(1, 64)],
    }),
    source: required(t.string, {
      description:
        "A file on the machine terraform runs on (absolute, or relative to terraform's working directory) or an http(s) URL. URLs are downloaded once into a local cache ($ORBIT_IMAGE_CACHE, else ~/.cache/orbit/images) and streamed to the hosts from there, so hosts need no route to the URL. A new source with the same sha256 changes nothing.",
    }),
    sha256: required(t.string, {
      description:
        'The SHA-256 of the image file, 64 lowercase hex digits (sha256sum prints it). Checked before any host gets the image and on every host after. A change is a new image (replacement).',
      validators: [matches(SHA256, '64 lowercase hexadecimal digits', 'sha256sum IMAGE | cut -d" " -f1')],
      requiresReplace: true,
    }),
    hosts: required(t.list(t.string), {
      description:
        "The hosts to place the image on (names from the provider's hosts blocks). Added hosts get it on the next apply; a removed host loses it, unless disks there are backed by it (refused).",
    }),
    format: computed(t.string, { useStateForUnknown: true, description: 'What `qemu-img info` found: "qcow2" or "raw" (others are refused: convert them with qemu-img convert).' }),
    virtual_size_mib: computed(t.number, { useStateForUnknown: true, description: 'The disk size the image holds, in MiB (rounded up); disks made from it are at least this big.' }),
    size_bytes: computed(t.number, { useStateForUnknown: true, description: "The image file's size." }),
    path: computed(t.string, { useStateForUnknown: true, description: "Where the image is on every host: /var/lib/orbit/images/<sha256>. Known after the image is placed (a disk's image names it)." }),
  },
});

export type Image = ModelOf<typeof imageSchema.block>;

export const imageResource = defineResource({
  typeName: 'orbit_image',
  schema: imageSchema,

  validate({ config }) {
    const hosts = config.hosts;
    if (!hosts) return;
    if (hosts.length === 0) throw new OrbitError('hosts is empty', { attribute: 'hosts', fix: 'name at least one host to place the image on' });
    hosts.forEach((host, i) => {
      if (host !== undefined && hosts.indexOf(host) !== i) throw new OrbitError(`Host "${host}" is listed twice`, { attribute: ['hosts', i], value: host, fix: 'list each host once' });
    });
  },

  modifyPlan({ planned, prior, config, provider }) {
    planned.id = planned.name;
    // path stays "known after apply" for a new image: a VM whose disk names it checks at plan time
    // that the image is on its hosts, which only holds once the image exists.
    (config.hosts ?? []).forEach((host, i) => host !== undefined && provider.host(host, ['hosts', i]));
    const adding = prior === null || (config.hosts ?? []).some((h) => h !== undefined && !prior.hosts.includes(h));
    // A local file that is not there fails the plan, not the apply halfway.
    if (adding && config.source !== undefined && !isUrl(config.source)) statLocalSource(config.source);
  },

  async create({ config, provider, signal, logger }) {
    const placed = await placeOnHosts(provider, config, config.hosts, signal, logger);
    return stateFrom(config, config.hosts, placed);
  },

  async read({ state, provider, signal, diagnostics }) {
    // One round trip per host, all at once: this runs on every plan. The order of hosts is kept.
    const kept = await Promise.all(
      state.hosts.map(async (host) => {
        try {
          const on = await probeImage(provider.remote(host, { attribute: ['hosts'], signal }), state.name, state.sha256, signal);
          return on.present && on.named;
        } catch (error) {
          if (!isHostUnreachable(error)) throw error;
          diagnostics.warning(`orbit_image "${state.name}": host "${host}" cannot be reached; the image is assumed still there`, errorMessage(error).split('\n')[0], ['hosts']);
          return true;
        }
      }),
    );
    const present = state.hosts.filter((_, i) => kept[i]);
    if (present.length === 0) return null;
    return { ...state, hosts: present };
  },

  async update({ prior, planned, config, provider, signal, logger }) {
    const added = config.hosts.filter((h) => !prior.hosts.includes(h));
    const removed = prior.hosts.filter((h) => !config.hosts.includes(h));
    await refuseIfUsed(provider, prior, removed, signal);
    const placed = await placeOnHosts(provider, config, added, signal, logger);
    if (config.name !== prior.name) {
      const kept = prior.hosts.filter((h) => config.hosts.includes(h));
      // The new name first, then the old one goes: the file always has a name that holds it.
      // The file is there (read checked it): only the link changes, nothing is read or sent.
      await Promise.all(kept.map((host) => linkImageName(provider.remote(host, { attribute: ['hosts'], signal }), config.name, config.sha256, signal)));
      for (const host of kept) await releaseImage(provider.remote(host, { attribute: ['hosts'], signal }), prior.name, prior.sha256, signal);
    }
    for (const host of removed) await releaseImage(provider.remote(host, { attribute: ['hosts'], signal }), prior.name, prior.sha256, signal);
    const known = placed[0] ?? { format: prior.format, virtualSizeBytes: (prior.virtual_size_mib ?? 0) * MIB, sizeBytes: prior.size_bytes ?? 0 };
    return resolvePlanned(planned, stateFrom(config, config.hosts, [known as PlacedImage]));
  },

  async delete({ state, provider, signal, logger }) {
    await refuseIfUsed(provider, state, state.hosts, signal);
    for (const host of state.hosts) {
      const { deleted } = await releaseImage(provider.remote(host, { attribute: ['hosts'], signal }), state.name, state.sha256, signal);
      logger.info(deleted ? 'image deleted' : 'image kept: another name still links it', { image: state.name, host });
    }
  },
});

async function placeOnHosts(provider: ProviderContext, image: Image, hosts: readonly string[], signal: AbortSignal, logger: Logger): Promise<PlacedImage[]> {
  if (hosts.length === 0) return [];
  const source = await resolveImageSource(image.source, image.sha256, {
    signal,
    onProgress: throttled(PROGRESS_EVERY_MS, (bytes, total) => logger.info('image download progress', { image: image.name, bytes, totalBytes: total })),
  });
  return Promise.all(hosts.map((host) => placeImage(provider.remote(host, { attribute: ['hosts'], signal }), image, source, { logger, signal })));
}

async function refuseIfUsed(provider: ProviderContext, image: Image, hosts: readonly string[], signal: AbortSignal): Promise<void> {
  const used = await Promise.all(hosts.map(async (host) => ({ host, users: await imageUsers(provider.remote(host, { attribute: ['hosts'], signal }), image.sha256, signal) })));
  const inUse = used.filter((u) => u.users.length > 0);
  if (inUse.length === 0) return;
  throw new OrbitError(`orbit_image "${image.name}" is still used: ${inUse.map((u) => `on host "${u.host}" by ${u.users.join(', ')}`).join('; ')}`, {
    attribute: 'hosts',
    detail: 'Their disks are overlays on the image: without it they cannot be read. Nothing was removed.',
    fix: 'destroy those VMs (or move them) first, or keep the image on these hosts',
  });
}

function stateFrom(config: Image, hosts: readonly string[], placed: readonly PlacedImage[]): Image {
  const first = placed[0];
  return {
    ...config,
    id: config.name,
    hosts: [...hosts],
    path: imagePath(config.sha256),
    format: first?.format ?? config.format,
    virtual_size_mib: first ? Math.ceil(first.virtualSizeBytes / MIB) : config.virtual_size_mib,
    size_bytes: first?.sizeBytes ?? config.size_bytes,
  };
}

function throttled<A extends unknown[]>(everyMs: number, fn: (...args: A) => void): (...args: A) => void {
  let last = 0;
  return (...args: A) => {
    if (Date.now() - last < everyMs) return;
    last = Date.now();
    fn(...args);
  };
}
