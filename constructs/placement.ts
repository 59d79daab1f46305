/**
 * Where the two halves of a HighlyAvailableVm may run relative to each other: the failure
 * domain they must not share.
 *
 *   new HighlyAvailableVm(stack, 'db', { placement: Placement.separateSites(), ... })
 */

/** A kind of failure domain. */
export enum FailureDomain {
  /** One host: its power supply, kernel, QEMU. */
  HOST = 'host',
  /** One site: a building, a room, a rack with its own power and network. */
  SITE = 'site',
}

export class Placement {
  /** Primary and secondary on different hosts (they may share a site). */
  public static separateHosts(): Placement {
    return new Placement(FailureDomain.HOST);
  }

  /**
   * Primary and secondary in different sites. Automatic failover across sites needs a witness
   * site (or crossSiteFailover: CrossSiteFailover.MANUAL).
   */
  public static separateSites(): Placement {
    return new Placement(FailureDomain.SITE);
  }

  private constructor(
    /** The failure domain the two halves must not share. */
    public readonly separation: FailureDomain,
  ) {}
}
