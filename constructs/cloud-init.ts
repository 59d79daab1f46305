/**
 * What cloud-init in a VM's guest is told at boot (orbit_vm's cloud_init block): either the
 * documents as they are, or the few things most VMs need (hostname, SSH keys, a static address)
 * from which Orbit writes them.
 *
 *   new Vm(stack, 'web', { ..., cloudInit: CloudInit.basic({ hostname: 'web-1', sshAuthorizedKeys: [key], address: { cidr: '10.0.0.21/24', gateway: '10.0.0.1' } }) });
 *   new Vm(stack, 'db', { ..., cloudInit: CloudInit.documents({ userData: fs.readFileSync('db.yaml', 'utf8') }) });
 */
import { Construct } from 'constructs';
import { OrbitValidationError } from './errors';
import { isKnown } from './validation';

export interface CloudInitDocuments {
  /** user-data: a cloud-config document ("#cloud-config" first) or a script. Sensitive in terraform's plans. */
  readonly userData: string;
  /**
   * Extra meta-data (YAML). Orbit writes instance-id itself.
   * @default - local-hostname set to the VM name
   */
  readonly metaData?: string;
  /**
   * Network configuration (version 1 or 2 YAML).
   * @default - none: the image's own default (usually DHCP on the first NIC)
   */
  readonly networkConfig?: string;
}

export interface StaticAddress {
  /** The guest's address with its prefix length, e.g. "10.0.0.21/24". */
  readonly cidr: string;
  /**
   * The default gateway.
   * @default - no default route
   */
  readonly gateway?: string;
  /**
   * DNS servers.
   * @default - none
   */
  readonly nameservers?: string[];
}

export interface BasicCloudInitProps {
  /**
   * The guest's hostname.
   * @default - the VM name
   */
  readonly hostname?: string;
  /** Public keys (OpenSSH format) that may log in as the image's default user. */
  readonly sshAuthorizedKeys?: string[];
  /**
   * A static address on the first NIC.
   * @default - DHCP, as the image does
   */
  readonly address?: StaticAddress;
  /**
   * Debian packages to install at first boot (needs a package mirror reachable from the guest).
   * @default - none
   */
  readonly packages?: string[];
}

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

export class CloudInit {
  /** The documents as they are. */
  static documents(documents: CloudInitDocuments): CloudInit {
    return new CloudInit(documents, undefined);
  }

  /** Hostname, SSH keys, a static address and packages, written as cloud-config and network-config version 2. */
  static basic(props: BasicCloudInitProps): CloudInit {
    return new CloudInit(undefined, props);
  }

  private constructor(
    private readonly given: CloudInitDocuments | undefined,
    private readonly basicProps: BasicCloudInitProps | undefined,
  ) {}

  /**
   * The documents for the VM named `vmName` whose first NIC has `firstNicMac` (a static address is
   * matched to the NIC by MAC: interface names differ between images); `scope` names the
   * construct in validation errors.
   */
  render(scope: Construct, vmName: string, firstNicMac: string | undefined): CloudInitDocuments {
    if (this.given) return this.given;
    const props = this.basicProps ?? {};
    const hostname = props.hostname ?? vmName;
    const lines = ['#cloud-config', `hostname: ${JSON.stringify(hostname)}`];
    const keys = props.sshAuthorizedKeys ?? [];
    keys.forEach((key, i) => {
      if (isKnown(key) && !/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+/.test(key)) {
        throw new OrbitValidationError(scope, {
          what: `cloudInit sshAuthorizedKeys[${i}] is not an OpenSSH public key`,
          prop: `cloudInit.sshAuthorizedKeys[${i}]`,
          value: key.slice(0, 40),
          allowed: 'a line as in ~/.ssh/id_ed25519.pub: "ssh-ed25519 AAAA... comment"',
          fix: 'give the public key, never the private one',
        });
      }
    });
    if (keys.length > 0) lines.push('ssh_authorized_keys:', ...keys.map((k) => `  - ${JSON.stringify(k)}`));
    if (props.packages?.length) lines.push('packages:', ...props.packages.map((p) => `  - ${JSON.stringify(p)}`));
    const documents: { userData: string; metaData: string; networkConfig?: string } = { userData: `${lines.join('\n')}\n`, metaData: `local-hostname: ${JSON.stringify(hostname)}\n` };
    const address = props.address;
    if (address) {
      if (firstNicMac === undefined) {
        throw new OrbitValidationError(scope, { what: 'cloudInit address is given, but the VM has no NIC', prop: 'cloudInit.address', fix: 'add a network to the VM, or leave the address out' });
      }
      if (isKnown(address.cidr) && !CIDR.test(address.cidr)) {
        throw new OrbitValidationError(scope, {
          what: 'cloudInit address.cidr is not an IPv4 address with a prefix',
          prop: 'cloudInit.address.cidr',
          value: address.cidr,
          allowed: 'e.g. "10.0.0.21/24"',
          fix: 'add the prefix length',
        });
      }
      for (const [prop, ip] of [['gateway', address.gateway], ...(address.nameservers ?? []).map((n, i) => [`nameservers[${i}]`, n])] as Array<[string, string | undefined]>) {
        if (ip !== undefined && isKnown(ip) && !IPV4.test(ip)) {
          throw new OrbitValidationError(scope, {
            what: `cloudInit address.${prop} is not an IPv4 address`,
            prop: `cloudInit.address.${prop}`,
            value: ip,
            allowed: 'e.g. "10.0.0.1"',
            fix: 'give the address without a prefix',
          });
        }
      }
      const net = ['version: 2', 'ethernets:', '  primary:', '    match:', `      macaddress: "${firstNicMac}"`, '    addresses:', `      - ${address.cidr}`];
      if (address.gateway) net.push('    routes:', '      - to: default', `        via: ${address.gateway}`);
      if (address.nameservers?.length) net.push('    nameservers:', '      addresses:', ...address.nameservers.map((n) => `        - ${n}`));
      documents.networkConfig = `${net.join('\n')}\n`;
    }
    return documents;
  }
}
