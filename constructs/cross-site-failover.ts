/**
 * What happens when the two halves of a pair are in different sites and one site goes silent.
 * Two sites alone cannot tell "the other site is down" from "the link is down", so automatic
 * failover across sites needs a third vote: a witness site (Patroni's multi-DC guidance,
 * Proxmox's QDevice). The crossSiteWitness policy enforces it.
 */
export enum CrossSiteFailover {
  /** The monitor fails over on its own. Needs a witness site in the topology. */
  AUTOMATIC = 'automatic',
  /**
   * Failover to the other site waits for an operator who has made sure the lost site is down
   * (a reviewed change); no witness needed. Failover between hosts of one site stays automatic.
   */
  MANUAL = 'manual',
}
