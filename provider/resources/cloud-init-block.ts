/**
 * The `cloud_init` block of `orbit_vm`: a NoCloud seed (provider/qemu/cloud-init-seed.ts) built
 * on the VM's host and attached as its CD-ROM. An edit rewrites the seed in place with a new
 * instance id (the running guest sees new media; cloud-init applies it at its next boot): never
 * a new VM. Adding or removing the block is a planned restart (a drive is added or removed).
 */
import { t } from '../protocol/cty-type';
import { block, computed, optional, required } from '../framework/schema-builder';
import { OrbitError } from '../framework/errors';
import { CloudInitSeed, seedInstanceId, seedPath, setsInstanceId } from '../qemu/cloud-init-seed';

export const cloudInitBlock = block({
  description:
    'cloud-init configuration for the guest (NoCloud): a "cidata" ISO built on the host with cloud-localds (package cloud-image-utils) and attached as a CD-ROM. An edit rewrites it in place with a new instance id, which cloud-init in the guest applies at its next boot; the VM is not replaced.',
  attributes: {
    user_data: required(t.string, {
      sensitive: true,
      description:
        'user-data: a cloud-config document ("#cloud-config" first) or a script. Sensitive: hidden in plans and never logged; it is kept in the terraform state (encrypt your state backend) and on the host in a mode-0600 ISO that destroy removes.',
    }),
    meta_data: optional(t.string, {
      description: 'Extra meta-data (YAML), e.g. "local-hostname: web-1". Default: local-hostname set to the VM name. instance-id is Orbit\'s (derived from the content) and may not be set here.',
    }),
    network_config: optional(t.string, {
      description: "Network configuration, version 1 or 2 YAML (e.g. a static address). Default: none, so the image's own default applies (usually DHCP on the first NIC).",
    }),
    instance_id: computed(t.string, { description: 'The instance id in the seed: "<vm>-<12 hex of the SHA-256 of the content>"; a new one after every edit.' }),
  },
});

export interface CloudInitConfig {
  user_data: string;
  meta_data: string | null;
  network_config: string | null;
}

export function seedFrom(config: CloudInitConfig): CloudInitSeed {
  return {
    userData: config.user_data,
    ...(config.meta_data !== null ? { metaData: config.meta_data } : {}),
    ...(config.network_config !== null ? { networkConfig: config.network_config } : {}),
  };
}

/** The instance id the seed will carry; refuses meta-data that sets its own. */
export function plannedInstanceId(vm: string, config: CloudInitConfig): string {
  if (setsInstanceId(config.meta_data)) {
    throw new OrbitError('cloud_init.meta_data sets instance-id', {
      attribute: ['cloud_init', 0, 'meta_data'],
      detail: 'Orbit derives the instance id from the seed, so that every edit gives a new one and cloud-init in the guest applies it.',
      fix: 'remove the instance-id line from meta_data',
    });
  }
  return seedInstanceId(vm, seedFrom(config));
}

/** A resource with a `cloud_init` block, as the plan carries it (any part may be unknown). */
interface PlannedCloudInit {
  cloud_init?: Array<({ [K in keyof CloudInitConfig]?: CloudInitConfig[K] | undefined } & { instance_id?: string | null | undefined }) | undefined>;
}

/** Sets the planned instance id when the seed's content is known at plan time: an edit shows as a new id. */
export function planInstanceId(name: unknown, config: PlannedCloudInit, planned: PlannedCloudInit): void {
  const given = config.cloud_init?.[0];
  const seed = planned.cloud_init?.[0];
  if (seed && given && typeof name === 'string' && given.user_data !== undefined && given.meta_data !== undefined && given.network_config !== undefined) {
    seed.instance_id = plannedInstanceId(name, { user_data: given.user_data, meta_data: given.meta_data, network_config: given.network_config });
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
