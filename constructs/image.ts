/**
 * A disk image placed on hosts (orbit_image), for VM disks to start from. Placed once per host,
 * content-addressed by its sha256 and verified on every host.
 *
 *   const debian = new Image(stack, 'debian', { source: 'images/debian-12.qcow2', sha256: '…', hosts: [a, b] });
 *   new Vm(stack, 'web', { host: a, disks: [{ image: debian, sizeMib: 8192 }], ... });
 */
import * as path from 'path';
import { Construct } from 'constructs';
import { Image as ImageResource } from '../provider/bindings/providers/orbit/image';
import { OrbitValidationError } from './errors';
import type { Host } from './host';
import { useStableLogicalId } from './logical-id';
import { Topology } from './topology';
import { checkPattern, isKnown } from './validation';

export interface ImageProps {
  /**
   * What the image is called on the hosts.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * The image file where cdktf runs, or an http(s) URL (downloaded once by the provider, then
   * streamed to every host). A relative path is resolved against the directory cdktf synth runs
   * in (terraform itself runs elsewhere, in cdktf.out).
   */
  readonly source: string;
  /** The image file's SHA-256, 64 lowercase hex digits (`sha256sum FILE`). A new sum is a new image. */
  readonly sha256: string;
  /** The hosts to place it on: every host a VM made from it may run on. */
  readonly hosts: Host[];
}

export class Image extends Construct {
  public readonly imageName: string;
  public readonly hosts: readonly Host[];
  /** The orbit_image resource (escape hatch). */
  public readonly resource: ImageResource;

  constructor(scope: Construct, id: string, props: ImageProps) {
    super(scope, id);
    const topology = Topology.of(this);
    this.imageName = props.name ?? id;
    checkPattern(this, 'name', this.imageName, /^[a-z0-9][a-z0-9._-]{0,63}$/, {
      allowed: '1-64 of lowercase letters, digits, ".", "_" and "-", starting with a letter or digit',
      fix: 'give a name such as "debian-12-genericcloud"',
    });
    checkPattern(this, 'sha256', props.sha256, /^[0-9a-f]{64}$/, { allowed: '64 lowercase hexadecimal digits', fix: "take it from sha256sum FILE (or the publisher's SHA256SUMS)" });
    if (props.hosts.length === 0) {
      throw new OrbitValidationError(this, { what: 'The image is placed on no host', prop: 'hosts', value: [], fix: 'list the hosts VMs made from it run on' });
    }
    const names = props.hosts.map((h) => h.hostName);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw new OrbitValidationError(this, { what: `Host "${twice}" is listed twice`, prop: 'hosts', value: names, fix: 'list each host once' });
    this.hosts = [...props.hosts];
    const source = isKnown(props.source) && !/^https?:\/\//i.test(props.source) ? path.resolve(props.source) : props.source;

    this.resource = new ImageResource(this, 'Resource', { name: this.imageName, source, sha256: props.sha256, hosts: names, provider: topology.provider });
    topology._registerAddress(`${this.resource.terraformResourceType}.${useStableLogicalId(this.resource)}`, this.resource);
    this.node.defaultChild = this.resource;
  }

  /** Where the image is on every host (a token): what a disk's `image` attribute takes. */
  public get path(): string {
    return this.resource.path;
  }

  /** Whether the image is placed on the host. */
  public isOn(host: Host): boolean {
    return this.hosts.some((h) => h.hostName === host.hostName);
  }
}
