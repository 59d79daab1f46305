/**
 * A site: a failure domain (a building, a room, a rack with its own power and network) holding
 * hosts. Placement can keep a pair's two halves in different sites. A witness site holds the
 * third vote that lets two sites fail over automatically (see HighlyAvailableVm
 * crossSiteFailover); it runs no VMs.
 */
import { Construct } from 'constructs';
import { Host, HostProps } from './host';
import type { Topology } from './topology';
import { checkPattern } from './validation';

export interface SiteProps {
  /**
   * The site's name, in messages and outputs.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Whether this site is the witness: a third location whose hosts (etcd, a tie-breaker) let
   * the two other sites tell "the other site is down" from "the link between us is down".
   * Automatic placement never puts VMs here, and a VM placed here explicitly is an error.
   * @default false
   */
  readonly witness?: boolean;
}

export class Site extends Construct {
  public readonly siteName: string;
  public readonly witness: boolean;
  public readonly topology: Topology;
  private readonly siteHosts: Host[] = [];

  constructor(topology: Topology, id: string, props: SiteProps = {}) {
    super(topology, id);
    this.topology = topology;
    this.siteName = props.name ?? id;
    checkPattern(this, 'name', this.siteName, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
      allowed: 'letters, digits, ".", "_" and "-", starting with a letter or digit',
      fix: 'pick a name like "a" or "dc-east"',
    });
    this.witness = props.witness ?? false;
    topology._registerSite(this);
  }

  /** Declares a host in this site. */
  public addHost(id: string, props: HostProps): Host {
    return new Host(this, id, props);
  }

  /** The hosts declared in this site, in declaration order. */
  public get hosts(): readonly Host[] {
    return [...this.siteHosts];
  }

  /** @internal called by Host */
  public _registerHost(host: Host): void {
    this.siteHosts.push(host);
  }
}
