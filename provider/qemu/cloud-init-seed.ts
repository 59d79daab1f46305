/**
 * A NoCloud seed for cloud-init: an ISO 9660 image labelled "cidata" with user-data, meta-data
 * and, when given, network-config, built on the VM's host with Debian's cloud-localds (package
 * cloud-image-utils) and attached to the guest as a CD-ROM.
 *
 * The instance id is derived from the seed's content: an edit gives a new id, so cloud-init in
 * the guest runs its per-instance steps again on the next boot, on the same disks. user-data
 * often holds secrets (keys, passwords): the files are written with mode 0600, never logged,
 * and the plain-text copies are removed once the image is built.
 */
import { createHash } from 'crypto';
import { errorMessage, RemoteCommandError } from '../ssh/host-errors';
import { shellQuote } from '../ssh/remote-exec';
import { SshSession } from '../ssh/ssh-session';
import { vmPaths } from './qemu-command-line';
import { VmError } from './qemu-process';

export interface CloudInitSeed {
  /** cloud-config (starts with `#cloud-config`) or a script; may hold secrets. */
  userData: string;
  /** Extra meta-data (YAML), e.g. `local-hostname: web-1`; Orbit writes `instance-id` itself. */
  metaData?: string;
  /** Network configuration (version 1 or 2 YAML); without it the guest's image decides (usually DHCP). */
  networkConfig?: string;
  /** The instance id. Default: derived from the content (seedInstanceId). */
  instanceId?: string;
}

const SEED_TIMEOUT_MS = 60_000;

export function seedPath(vm: string): string {
  return `${vmPaths(vm).stateDir}/cidata.iso`;
}

/** `<vm>-<12 hex of the content's SHA-256>`: the same content always gives the same id. */
export function seedInstanceId(vm: string, seed: CloudInitSeed): string {
  const content = JSON.stringify([seed.userData, seed.metaData ?? '', seed.networkConfig ?? '']);
  return `${vm}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
}

/** Whether meta-data sets its own instance-id (refused: Orbit derives it from the content). */
export function setsInstanceId(metaData: string | undefined | null): boolean {
  return typeof metaData === 'string' && /^\s*instance-id\s*:/m.test(metaData);
}

/** meta-data as the guest gets it: the instance id first, then the user's lines (which may not set it). */
export function seedMetaData(vm: string, seed: CloudInitSeed): string {
  if (setsInstanceId(seed.metaData)) {
    throw new RangeError('meta_data sets instance-id: Orbit derives it from the seed (every edit gives a new one); remove the instance-id line');
  }
  return `instance-id: ${seed.instanceId ?? seedInstanceId(vm, seed)}\n${seed.metaData ?? `local-hostname: ${vm}\n`}`;
}

/**
 * Builds the seed image for `vm` on the host (replacing any earlier one atomically) and returns
 * where it is and its instance id.
 */
export async function writeSeed(session: SshSession, vm: string, seed: CloudInitSeed): Promise<{ path: string; instanceId: string }> {
  const target = seedPath(vm);
  const dir = `${target}.build`;
  const files: Array<[string, string]> = [
    ['user-data', seed.userData],
    ['meta-data', seedMetaData(vm, seed)],
  ];
  if (seed.networkConfig !== undefined) files.push(['network-config', seed.networkConfig]);
  try {
    await session.exec(`command -v cloud-localds >/dev/null || { echo "cloud-localds is not installed" >&2; exit 3; }\nrm -rf ${shellQuote(dir)}\nmkdir -p -m 0700 ${shellQuote(dir)}`, {
      timeoutMs: SEED_TIMEOUT_MS,
    });
    for (const [name, text] of files) await session.writeFile(`${dir}/${name}`, text, { mode: 0o600, timeoutMs: SEED_TIMEOUT_MS });
    const network = seed.networkConfig !== undefined ? `--network-config=${shellQuote(`${dir}/network-config`)} ` : '';
    await session.exec(
      [
        'set -e',
        `umask 077`,
        `cloud-localds ${network}${shellQuote(`${dir}/seed.iso`, `${dir}/user-data`, `${dir}/meta-data`)}`,
        `mv -f ${shellQuote(`${dir}/seed.iso`, target)}`,
        `rm -rf ${shellQuote(dir)}`,
      ].join('\n'),
      { timeoutMs: SEED_TIMEOUT_MS },
    );
  } catch (error) {
    await session.exec(`rm -rf ${shellQuote(dir)}`, { timeoutMs: SEED_TIMEOUT_MS }).catch(() => undefined);
    const missing = error instanceof RemoteCommandError && error.exitCode === 3;
    throw new VmError(
      session.host,
      vm,
      'Building the cloud-init seed of',
      missing ? 'cloud-localds is not installed on the host' : errorMessage(error).split('\n')[0],
      missing ? 'install it on the host: apt-get install cloud-image-utils' : 'check free space in /var/lib/orbit on the host, then apply again',
      { cause: error },
    );
  }
  return { path: target, instanceId: seed.instanceId ?? seedInstanceId(vm, seed) };
}
