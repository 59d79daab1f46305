/**
 * The `cloud_init` block of `orbit_vm` and `orbit_ft_vm`: a NoCloud seed
 * (provider/qemu/cloud-init-seed.ts) built on the VM's host and attached as its CD-ROM. An edit
 * rewrites the seed in place with a new instance id (the running guest sees new media;
 * cloud-init applies it at its next boot): never a new VM. Adding or removing the block is a
 * planned restart (a drive is added or removed).
 *
 * user-data comes either as `user_data` (sensitive, kept in the state) or as `user_data_wo`
 * (write-only, terraform >= 1.11: never in the plan or the state; the provider sees it only while
 * it applies), whose edits are announced by `user_data_wo_version`, the only part of it
 * terraform can compare.
 */
import { t } from '../protocol/cty-type';
import { block, computed, optional } from '../framework/schema-builder';
import { between, integer } from '../framework/validators';
import { OrbitError } from '../framework/errors';
import { CloudInitSeed, seedInstanceId, seedPath, setsInstanceId, writeSeed } from '../qemu/cloud-init-seed';
import { SshSession } from '../ssh/ssh-session';

export const cloudInitBlock = block({
  description:
    'cloud-init configuration for the guest (NoCloud): a "cidata" ISO built on the host with cloud-localds (package cloud-image-utils) and attached as a CD-ROM. An edit rewrites it in place with a new instance id, which cloud-init in the guest applies at its next boot; the VM is not replaced.',
  attributes: {
    user_data: optional(t.string, {
      sensitive: true,
      description:
        'user-data: a cloud-config document ("#cloud-config" first) or a script. Sensitive: hidden in plans and never logged; it is kept in the terraform state (encrypt your state backend) and on the host in a mode-0600 ISO that destroy removes. For secrets that must not be in the state, give user_data_wo instead. Exactly one of the two.',
    }),
    user_data_wo: optional(t.string, {
      sensitive: true,
      writeOnly: true,
      description:
        'user-data as a write-only value (terraform >= 1.11, e.g. from an ephemeral resource): never stored in the plan or the state, only on the host in the mode-0600 ISO. Terraform cannot see its edits: change user_data_wo_version to apply a new one. Exactly one of user_data and user_data_wo.',
    }),
    user_data_wo_version: optional(t.number, {
      description: 'Required with user_data_wo: any whole number, changed whenever user_data_wo changes (the seed is rebuilt with a new instance id when it does).',
      validators: [integer(), between(0, Number.MAX_SAFE_INTEGER)],
    }),
    meta_data: optional(t.string, {
      description: 'Extra meta-data (YAML), e.g. "local-hostname: web-1". Default: local-hostname set to the VM name. instance-id is Orbit\'s (derived from the content) and may not be set here.',
    }),
    network_config: optional(t.string, {
      description: "Network configuration, version 1 or 2 YAML (e.g. a static address). Default: none, so the image's own default applies (usually DHCP on the first NIC).",
    }),
    instance_id: computed(t.string, {
      description: 'The instance id in the seed: "<vm>-<12 hex of the SHA-256 of the content>" (with user_data_wo, of the version instead of the user-data); a new one after every edit.',
    }),
  },
});

export interface CloudInitConfig {
  user_data: string | null;
  /** Only in a configuration, while planning or applying: write-only values are never in a state. */
  user_data_wo?: string | null;
  user_data_wo_version?: number | null;
  meta_data: string | null;
  network_config: string | null;
}

/**
 * Exactly one of user_data and user_data_wo, and a version with (only with) user_data_wo. Values
 * unknown at validation (from other resources) are checked once known.
 */
export function validateCloudInit(blocks: Array<{ [K in keyof CloudInitConfig]?: CloudInitConfig[K] | undefined } | undefined> | undefined): void {
  const config = blocks?.[0];
  if (!config) return;
  const plain = config.user_data;
  const writeOnly = config.user_data_wo;
  const version = config.user_data_wo_version;
  if (plain === undefined || writeOnly === undefined || version === undefined) return;
  const attribute = (name: string) => ['cloud_init', 0, name];
  if (plain !== null && writeOnly !== null) {
    throw new OrbitError('cloud_init has both user_data and user_data_wo', {
      attribute: attribute('user_data_wo'),
      allowed: 'exactly one of user_data (kept in the state) and user_data_wo (write-only, never in the state)',
      fix: 'remove one of them',
    });
  }
  if (plain === null && writeOnly === null) {
    throw new OrbitError('cloud_init has no user-data', {
      attribute: attribute('user_data'),
      allowed: 'exactly one of user_data and user_data_wo',
      fix: 'set user_data = "#cloud-config\\n..." (or user_data_wo with user_data_wo_version for a secret that must not be in the state)',
    });
  }
  if (writeOnly !== null && version === null) {
    throw new OrbitError('cloud_init.user_data_wo needs user_data_wo_version', {
      attribute: attribute('user_data_wo_version'),
      detail: 'Terraform keeps no trace of a write-only value, so it cannot tell an edit from no change: the version is what it compares.',
      fix: 'add user_data_wo_version = 1, and increase it whenever user_data_wo changes',
    });
  }
  if (writeOnly === null && version !== null) {
    throw new OrbitError('cloud_init.user_data_wo_version is set without user_data_wo', {
      attribute: attribute('user_data_wo_version'),
      value: version,
      fix: 'remove user_data_wo_version (edits of user_data are seen without it), or give the user-data as user_data_wo',
    });
  }
}

/**
 * The seed of a configuration (while applying: user_data_wo is only there then), with the
 * instance id the plan showed.
 */
export function seedFrom(vm: string, config: CloudInitConfig): CloudInitSeed {
  const userData = config.user_data ?? config.user_data_wo;
  if (userData === null || userData === undefined) {
    throw new OrbitError('cloud_init has no user-data to build the seed from', {
      attribute: ['cloud_init', 0, 'user_data'],
      detail: 'A write-only user_data_wo is given to the provider only while terraform applies a change to this resource.',
      fix: 'increase user_data_wo_version so that the next apply rebuilds the seed with the current value',
    });
  }
  return { ...documents(config, userData), instanceId: plannedInstanceId(vm, config) };
}

/** Writes the seed of the resource's cloud_init block on the host (while applying). */
export function writeConfiguredSeed(session: SshSession, config: { name: string; cloud_init: CloudInitConfig[] }): Promise<{ path: string; instanceId: string }> {
  return writeSeed(session, config.name, seedFrom(config.name, config.cloud_init[0]));
}

function documents(config: CloudInitConfig, userData: string): CloudInitSeed {
  return {
    userData,
    ...(config.meta_data !== null ? { metaData: config.meta_data } : {}),
    ...(config.network_config !== null ? { networkConfig: config.network_config } : {}),
  };
}

/**
 * The instance id the seed will carry, known at plan time: from the content, or with a
 * write-only user-data (never seen at plan time) from its version. Refuses meta-data that sets
 * its own.
 */
export function plannedInstanceId(vm: string, config: CloudInitConfig): string {
  if (setsInstanceId(config.meta_data)) {
    throw new OrbitError('cloud_init.meta_data sets instance-id', {
      attribute: ['cloud_init', 0, 'meta_data'],
      detail: 'Orbit derives the instance id from the seed, so that every edit gives a new one and cloud-init in the guest applies it.',
      fix: 'remove the instance-id line from meta_data',
    });
  }
  const writeOnlyVersion = config.user_data === null ? config.user_data_wo_version : undefined;
  const userData = writeOnlyVersion !== null && writeOnlyVersion !== undefined ? `(write-only user_data_wo, version ${writeOnlyVersion})` : (config.user_data ?? '');
  return seedInstanceId(vm, documents(config, userData));
}

/** A resource with a `cloud_init` block, as the plan carries it (any part may be unknown). */
interface PlannedCloudInit {
  cloud_init?: Array<({ [K in keyof CloudInitConfig]?: CloudInitConfig[K] | undefined } & { instance_id?: string | null | undefined }) | undefined>;
}

/** Sets the planned instance id when the seed's content is known at plan time: an edit shows as a new id. */
export function planInstanceId(name: unknown, config: PlannedCloudInit, planned: PlannedCloudInit): void {
  const given = config.cloud_init?.[0];
  const seed = planned.cloud_init?.[0];
  if (seed && given && typeof name === 'string' && given.user_data !== undefined && given.user_data_wo_version !== undefined && given.meta_data !== undefined && given.network_config !== undefined) {
    seed.instance_id = plannedInstanceId(name, { user_data: given.user_data, user_data_wo_version: given.user_data_wo_version, meta_data: given.meta_data, network_config: given.network_config });
  }
}

/** Adding or removing the block adds or removes a drive: a restart. Undefined when neither. */
export function cloudInitRestartReason(prior: { cloud_init: unknown[] }, planned: { cloud_init?: unknown[] }): string | undefined {
  const seeded = (planned.cloud_init?.length ?? 0) > 0;
  if (seeded === prior.cloud_init.length > 0) return undefined;
  return seeded ? 'cloud_init added (a CD-ROM drive with its seed)' : 'cloud_init removed (its CD-ROM drive goes)';
}

/** The seed's path when the VM has a cloud_init block. */
export function cdromOf(config: { name: string; cloud_init: unknown[] }): string | undefined {
  return config.cloud_init.length > 0 ? seedPath(config.name) : undefined;
}

/** The instance id the applied block carries (null without one). */
export function instanceIdOf(config: { name: string; cloud_init: CloudInitConfig[] }): string | null {
  return config.cloud_init.length > 0 ? plannedInstanceId(config.name, config.cloud_init[0]) : null;
}
