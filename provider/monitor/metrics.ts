/**
 * The agent's Prometheus metrics, served at http://<management address>:<port>/metrics (never
 * on all interfaces: the metrics name VMs and hosts). prom-client with a registry of its own.
 */
import * as http from 'http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What an agent says about a pair from its side. */
export type ProtectionView = 'protected' | 'degraded' | 're-protecting' | 'standby' | 'fenced' | 'down' | 'starting';
export const PROTECTION_VIEWS: readonly ProtectionView[] = ['protected', 'degraded', 're-protecting', 'standby', 'fenced', 'down', 'starting'];

export class AgentMetrics {
  readonly registry = new Registry();
  readonly protection: Gauge<'vm' | 'state'>;
  readonly roleHeld: Gauge<'vm'>;
  readonly peerAlive: Gauge<'vm' | 'peer'>;
  readonly failovers: Counter<'vm' | 'as'>;
  readonly fences: Counter<'vm' | 'reason'>;
  readonly reprotections: Counter<'vm' | 'result'>;
  readonly leaseRenewSeconds: Histogram<'vm'>;
  readonly checkpoints: Counter<'vm'>;
  readonly checkpointPauseSeconds: Histogram<'vm'>;
  readonly failoverCallSeconds: Histogram<'vm'>;
  readonly heartbeatsRejected: Gauge<'reason'>;
  private server?: http.Server;

  constructor(host: string, release: string) {
    const registers = [this.registry];
    new Gauge({ name: 'orbit_agent_info', help: 'The agent: its host and release (always 1).', labelNames: ['host', 'release'], registers }).set({ host, release }, 1);
    this.protection = new Gauge({ name: 'orbit_pair_protection_state', help: "The pair's protection as this host's agent sees it (1 for the current state).", labelNames: ['vm', 'state'], registers });
    this.roleHeld = new Gauge({ name: 'orbit_pair_role_held', help: 'Whether this host holds the active role of the pair in etcd.', labelNames: ['vm'], registers });
    this.peerAlive = new Gauge({ name: 'orbit_pair_peer_alive', help: "Whether the pair's COLO peer's agent is heard (heartbeats).", labelNames: ['vm', 'peer'], registers });
    this.failovers = new Counter({ name: 'orbit_failovers_total', help: 'Failovers carried out on this host (as: the role this side had).', labelNames: ['vm', 'as'], registers });
    this.fences = new Counter({ name: 'orbit_fences_total', help: "This host's guest stopped for good by its agent.", labelNames: ['vm', 'reason'], registers });
    this.reprotections = new Counter({ name: 'orbit_reprotections_total', help: 'Re-protections started by this agent, by result.', labelNames: ['vm', 'result'], registers });
    this.leaseRenewSeconds = new Histogram({
      name: 'orbit_lease_renew_seconds',
      help: "Latency of the active role's lease renewals in etcd.",
      labelNames: ['vm'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1],
      registers,
    });
    this.checkpoints = new Counter({ name: 'orbit_colo_checkpoints_total', help: 'COLO checkpoints of the primary on this host.', labelNames: ['vm'], registers });
    this.checkpointPauseSeconds = new Histogram({
      name: 'orbit_colo_checkpoint_pause_seconds',
      help: 'How long the guest was paused for each COLO checkpoint.',
      labelNames: ['vm'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    this.failoverCallSeconds = new Histogram({
      name: 'orbit_failover_call_seconds',
      help: 'Duration of the local failover call (QMP sequence included).',
      labelNames: ['vm'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.heartbeatsRejected = new Gauge({ name: 'orbit_heartbeats_rejected', help: 'Heartbeat datagrams refused since the agent started, by reason.', labelNames: ['reason'], registers });
  }

  setProtection(vm: string, view: ProtectionView): void {
    for (const state of PROTECTION_VIEWS) this.protection.set({ vm, state }, state === view ? 1 : 0);
  }

  /** Drops every series of the pair (it is no longer watched here). */
  async forgetPair(vm: string): Promise<void> {
    const metrics = [
      this.protection,
      this.roleHeld,
      this.peerAlive,
      this.failovers,
      this.fences,
      this.reprotections,
      this.leaseRenewSeconds,
      this.checkpoints,
      this.checkpointPauseSeconds,
      this.failoverCallSeconds,
    ] as Array<Gauge<string>>;
    for (const metric of metrics) {
      const { values } = await metric.get();
      const done = new Set<string>();
      for (const value of values) {
        if (value.labels.vm !== vm) continue;
        const { le: _bucket, ...labels } = value.labels as Record<string, string>;
        const key = JSON.stringify(labels);
        if (done.has(key)) continue;
        done.add(key);
        metric.remove(labels);
      }
    }
  }

  /** Serves GET /metrics on address:port; resolves once listening. */
  async listen(address: string, port: number): Promise<void> {
    const server = http.createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new Error(`Metrics cannot listen on ${address}:${port}: ${error.message}. Fix: free the port or set another metrics_port in the provider's monitor block`, { cause: error })),
      );
      server.listen(port, address, () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
