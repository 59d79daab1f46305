/**
 * The provider's side of the runtime specs in etcd: it publishes a pair's signed spec on apply,
 * removes everything of the pair on destroy, lists which pairs still need a host's agent, and
 * reads the failover events agents wrote (for the resource's Read and the operator CLI).
 */
import { CompareResult, CompareTarget, Etcd3 } from 'etcd3';
import { createPublicKey, KeyObject } from 'crypto';
import { KEY_PREFIX, pairKeys, PairRuntimeSpec, signPairSpec, vmOfKey } from './pair-spec';

/** A spec as the provider describes it; version and generation are the publisher's. */
export type PairSpecContent = Omit<PairRuntimeSpec, 'version' | 'generation'>;

export interface PublishResult {
  readonly generation: number;
  /** False when etcd already held this content (nothing was written). */
  readonly changed: boolean;
}

/** What an agent recorded (agent.ts recordEvent): kind, host, time, and details. */
export interface PairEvent {
  readonly key: string;
  readonly kind: 'failover' | 'fence' | 'reprotect' | 'reprotect-started' | 'reprotect-failed' | string;
  readonly host: string;
  readonly at: string;
  readonly [detail: string]: unknown;
}

/**
 * Writes the spec with the next generation, unless etcd holds the same content already. The
 * write is a transaction on the key's revision, so two publishers never both "win" with the
 * same generation (the loser retries on what the winner wrote).
 */
export async function publishPairSpec(etcd: Etcd3, signingKey: KeyObject, content: PairSpecContent): Promise<PublishResult> {
  const key = pairKeys(content.vm).spec;
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await etcd.get(key).exec();
    const kv = current.kvs[0];
    const previous = kv ? storedSpec(kv.value.toString()) : undefined;
    if (previous && sameContent(previous, content)) return { generation: previous.generation, changed: false };
    const generation = (previous?.generation ?? 0) + 1;
    const signed = signPairSpec({ version: 1, generation, ...content }, signingKey);
    const result = await etcd.kv.txn({
      compare: [
        kv
          ? { key: Buffer.from(key), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: kv.mod_revision }
          : { key: Buffer.from(key), target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 },
      ],
      success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(JSON.stringify(signed)) } }],
      failure: [],
    });
    if (result.succeeded) return { generation, changed: true };
  }
  throw new Error(`The runtime spec of VM ${content.vm} kept changing while it was being written (another apply at the same time?). Fix: run apply again`);
}

/** Removes the pair's spec, role, last holder and (unless `keepEvents`) events: agents stop watching it. */
export async function removePairFromEtcd(etcd: Etcd3, vm: string, options: { keepEvents?: boolean } = {}): Promise<boolean> {
  const keys = pairKeys(vm);
  const existed = (await etcd.get(keys.spec).exec()).kvs.length > 0;
  if (options.keepEvents) {
    // Unwatched for a while (a planned move), not gone: the history stays for the pair's next spec.
    for (const key of [keys.spec, keys.active, keys.lastHolder, keys.runsAlone]) await etcd.delete().key(key).exec();
  } else {
    await etcd.delete().prefix(keys.prefix).exec();
  }
  return existed;
}

/** VMs whose published spec names `host` (as one of the pair's hosts or a spare). */
export async function pairsNaming(etcd: Etcd3, host: string): Promise<string[]> {
  const all = await etcd.getAll().prefix(KEY_PREFIX).strings();
  const vms: string[] = [];
  for (const [key, value] of Object.entries(all)) {
    if (!key.endsWith('/spec')) continue;
    const spec = storedSpec(value);
    if (spec && [...spec.hosts, ...spec.spareHosts].some((h) => h.name === host)) vms.push(vmOfKey(key) ?? spec.vm);
  }
  return vms.sort();
}

/** The pair's events, oldest first. */
export async function readPairEvents(etcd: Etcd3, vm: string): Promise<PairEvent[]> {
  const all = await etcd.getAll().prefix(pairKeys(vm).eventsPrefix).strings();
  return Object.entries(all)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([key, value]) => {
      try {
        return [{ ...(JSON.parse(value) as Omit<PairEvent, 'key'>), key } as PairEvent];
      } catch {
        return [];
      }
    });
}

/** The public half of the signing key, as the agents get it (PEM, SPKI). */
export function verifyKeyPem(signingKey: KeyObject): string {
  return createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString();
}

function storedSpec(value: string): PairRuntimeSpec | undefined {
  try {
    const envelope = JSON.parse(value) as { payload?: string };
    return typeof envelope.payload === 'string' ? (JSON.parse(envelope.payload) as PairRuntimeSpec) : undefined;
  } catch {
    return undefined;
  }
}

function sameContent(spec: PairRuntimeSpec, content: PairSpecContent): boolean {
  const { version: _v, generation: _g, ...rest } = spec;
  return JSON.stringify(rest) === JSON.stringify({ vm: content.vm, hosts: content.hosts, spareHosts: content.spareHosts, timing: content.timing });
}
