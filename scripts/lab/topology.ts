/** The lab's address plan and host list. Everything lives on this machine. */

export interface HostSpec {
  name: string;
  site: string;
}

export const MGMT_PREFIX = '10.88.0';
export const VM_PREFIX = '10.89.0';
export const MGMT_BRIDGE = 'orbit-mgmt';
export const VM_BRIDGE = 'orbit-vm';
export const NETNS_PREFIX = 'orbit-';
export const ETCD_NETNS = 'orbit-etcd';
export const ETCD_ADDRESS = `${MGMT_PREFIX}.2`;
export const ETCD_CLIENT_PORT = 2379;
/** The bridge inside every host that VM taps join. */
export const HOST_VM_BRIDGE = 'vmbr0';

export const DEFAULT_HOSTS: HostSpec[] = [
  { name: 'site-a', site: 'a' },
  { name: 'site-b', site: 'b' },
  { name: 'witness', site: 'witness' },
];

const NAME = /^[a-z][a-z0-9-]{0,11}$/;
const MAX_HOSTS = 40;

/**
 * Parses `name:site,name:site` (from `--hosts` or ORBIT_LAB_HOSTS).
 * Host names become interface names (`om-<name>`), hence the 12-character limit.
 */
export function parseHostSpecs(text: string | undefined): HostSpec[] {
  if (!text) return DEFAULT_HOSTS;
  const specs = text.split(',').map((item) => {
    const [name, site, extra] = item.trim().split(':');
    if (!name || !site || extra !== undefined || !NAME.test(name) || !NAME.test(site)) {
      throw new Error(`Invalid lab host "${item}": expected name:site with lower-case letters, digits and dashes, at most 12 characters each ` + `(for example "site-a:a,site-b:b,witness:witness").`);
    }
    return { name, site };
  });
  const names = new Set(specs.map((s) => s.name));
  if (names.size !== specs.length) throw new Error(`Invalid lab hosts "${text}": host names must be unique.`);
  if (specs.length > MAX_HOSTS) throw new Error(`Invalid lab hosts: ${specs.length} hosts, at most ${MAX_HOSTS} are supported.`);
  if (names.has('etcd')) throw new Error('Invalid lab hosts: "etcd" is reserved for the lab\'s etcd namespace; pick another name.');
  return specs;
}

export const hostAddress = (index: number) => `${MGMT_PREFIX}.${11 + index}`;
export const hostVmAddress = (index: number) => `${VM_PREFIX}.${11 + index}`;
export const hostNetns = (name: string) => `${NETNS_PREFIX}${name}`;
export const mgmtVethRootSide = (name: string) => `om-${name}`;
export const vmVethRootSide = (name: string) => `ov-${name}`;
/** Guest addresses handed out by tests and stacks: 10.89.0.50 and up. */
export const guestAddresses = (count = 50) => Array.from({ length: count }, (_, i) => `${VM_PREFIX}.${50 + i}`);
