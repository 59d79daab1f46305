/**
 * The agent's etcd client: TLS with a client certificate (production), a deadline on every
 * unary call, and no hidden retries.
 *
 * etcd3's defaults retry each call three times and put a circuit breaker (open 5 s after three
 * failures) in front of every endpoint. For the active role that is wrong: a renewal must fail
 * within its own deadline so the holder can count misses and fence in time, and after an etcd
 * outage the standby must be able to take the role at its next tick, not 5 s later. The role's
 * own loop (one attempt per heartbeat interval, on a random endpoint) is the retry policy, so
 * both etcd3 policies are replaced by pass-through ones.
 */
import { Etcd3, IOptions } from 'etcd3';

export interface EtcdTls {
  /** PEM of the CA that signed the etcd servers' certificates. */
  readonly ca: Buffer;
  /** PEM client certificate and its key, where etcd runs with --client-cert-auth (it should). */
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface EtcdConnectionOptions {
  /** `https://10.0.0.1:2379`, ... (`http://` only without tls, for tests). */
  readonly endpoints: readonly string[];
  readonly tls?: EtcdTls;
  /** Deadline of unary calls that do not set their own. Default 1000 ms. */
  readonly callTimeoutMs?: number;
  /** Limit for connecting. Default 2000 ms. */
  readonly dialTimeoutMs?: number;
}

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;

/** A cockatiel-compatible policy that runs the call once, as is (etcd3 only calls execute). */
function passThrough(): Policy {
  const noEvent = () => ({ dispose: () => undefined });
  return {
    onSuccess: noEvent,
    onFailure: noEvent,
    execute: async (fn: (context: { signal: AbortSignal }) => unknown) => fn({ signal: new AbortController().signal }),
  } as unknown as Policy;
}

export function connectEtcd(options: EtcdConnectionOptions): Etcd3 {
  if (options.endpoints.length === 0) throw new Error("connectEtcd: no etcd endpoints given. Fix: pass the cluster's client URLs, e.g. https://10.0.0.1:2379");
  const callTimeoutMs = options.callTimeoutMs ?? 1000;
  for (const endpoint of options.endpoints) {
    const secure = endpoint.startsWith('https://');
    if (!secure && !endpoint.startsWith('http://')) throw new Error(`connectEtcd: endpoint ${JSON.stringify(endpoint)} must start with https:// (or http:// without TLS)`);
    if (secure !== Boolean(options.tls)) {
      throw new Error(
        `connectEtcd: endpoint ${endpoint} ${secure ? 'uses https but no TLS files were given' : 'uses http but TLS files were given'}. Fix: use https:// endpoints with the CA, client certificate and key`,
      );
    }
  }
  return new Etcd3({
    hosts: [...options.endpoints],
    dialTimeout: options.dialTimeoutMs ?? 2000,
    ...(options.tls ? { credentials: { rootCertificate: options.tls.ca, ...(options.tls.cert && options.tls.key ? { certChain: options.tls.cert, privateKey: options.tls.key } : {}) } } : {}),
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: { global: passThrough(), host: () => passThrough() },
    // Fail fast instead of queueing calls behind a reconnect; the role's loop retries.
    grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 },
  });
}
