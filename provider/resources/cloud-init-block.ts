/**
 * The `cloud_init` block of `orbit_vm`: a NoCloud seed (provider/qemu/cloud-init-seed.ts) built
 * on the VM's host and attached as its CD-ROM. An edit rewrites the seed in place with a new
 * instance id (the running guest sees new media; cloud-init applies it at its next boot): never
 * a new VM. Adding or removing the block is a planned restart (a drive is added or removed).
 */
import { t } from '../protocol/cty-type';
import { block, computed, optional, required } from '../framework/schema-builder';
import { OrbitError } from '../framework/errors';
import { CloudInitSeed, seedInstanceId, setsInstanceId } from '../qemu/cloud-init-seed';

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
