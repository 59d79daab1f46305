/**
 * A COLO pair's runtime spec as the provider writes it to etcd and the agents read it: the key
 * layout, the spec, its validation, and its signature.
 *
 * Keys (all under one versioned prefix, so a future layout can live beside this one):
 *
 *   /orbit/v1/pairs/<vm>/spec            signed spec (this file), written by the provider on apply
 *   /orbit/v1/pairs/<vm>/active          the "active" role: holder + lease id, attached to the holder's lease (active-role.ts)
 *   /orbit/v1/pairs/<vm>/last-holder     the host that acquired the role last (no lease: it outlives the holding)
 *   /orbit/v1/pairs/<vm>/events/<when>   failover events, one key each (<when> = zero-padded ms epoch + host: sorts by time)
 *
 * Signature: Ed25519, per cluster. The provider holds the private key; agents get only the
 * public key. HMAC-SHA256 would need the same secret on every host, so any one compromised
 * host could forge specs for every pair (e.g. move a VM's "spare" to itself); with Ed25519 a
 * host's key material lets it verify, never sign. Ed25519 is in Node's crypto, deterministic, and
 * its 64-byte signatures are cheap to check on every watch event.
 *
 * What is signed: the exact UTF-8 bytes of the spec's JSON (`payload`), stored next to the
 * signature, so no canonical-JSON rules are needed: agents verify the bytes, then parse them.
 * The VM name inside the payload must match the key it was read from (a spec copied to another
 * pair's key is refused), and `generation` lets an agent refuse an older spec replayed over a
 * newer one.
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'crypto';
import { assertVmName } from '../qemu/qemu-process';
import { FailoverTiming, timingProblems } from './timing';

export const KEY_PREFIX = '/orbit/v1/pairs/';

export const pairKeys = (vm: string) => {
  assertVmName(vm);
  const base = `${KEY_PREFIX}${vm}`;
  return {
    spec: `${base}/spec`,
    active: `${base}/active`,
    lastHolder: `${base}/last-holder`,
    /** Who runs the guest alone, since which pair generation (active-role.ts, RunsAlone). */
    runsAlone: `${base}/runs-alone`,
    /** Everything of the pair (spec, role, events): what destroy removes. */
    prefix: `${base}/`,
    eventsPrefix: `${base}/events/`,
    /** Sorts by time: 13-digit ms epoch, then the host that wrote it. */
    event: (atMs: number, host: string) => `${base}/events/${String(Math.floor(atMs)).padStart(13, '0')}-${host}`,
  };
};

/** The VM a key under KEY_PREFIX belongs to, or undefined. */
export function vmOfKey(key: string): string | undefined {
  const match = /^\/orbit\/v1\/pairs\/([a-z][a-z0-9-]{0,39})\//.exec(key);
  return match?.[1];
}

/** A host as the agents need it. */
export interface PairHost {
  /** The host's name in the provider config (also its agent's identity). */
  readonly name: string;
  /** Where the provider (and a re-protecting agent) reaches its sshd. */
  readonly sshAddress: string;
  readonly sshPort: number;
  /** The user a re-protecting agent logs in as. */
  readonly sshUser: string;
  /**
   * The host's pinned SSH keys (`ssh-ed25519 AAAA...` or `SHA256:...`), from the provider's
   * configuration: a re-protecting agent trusts exactly these (the spec is signed).
   */
  readonly hostKeys: readonly string[];
  /** The address COLO replication uses (colo.md: default the SSH address). */
  readonly replicationAddress: string;
  /** Where its agent listens for peer heartbeats (UDP). */
  readonly heartbeatAddress: string;
  readonly heartbeatPort: number;
}

export interface PairRuntimeSpec {
  readonly version: 1;
  readonly vm: string;
  /** Bumped by the provider on every change; agents ignore a spec older than one they have seen. */
  readonly generation: number;
  /** The pair as applied: [primary, secondary]. Runtime failovers change who is active, not this list. */
  readonly hosts: readonly [PairHost, PairHost];
  /** Hosts re-protection may use, in order of preference. */
  readonly spareHosts: readonly PairHost[];
  readonly timing: FailoverTiming;
}

/** What is stored at pairKeys(vm).spec. */
export interface SignedPairSpec {
  readonly payload: string;
  /** Base64 Ed25519 signature of the payload's UTF-8 bytes. */
  readonly signature: string;
  /** Which cluster key signed it (keyId of the public key), so a rotated key gives a clear error. */
  readonly keyId: string;
}

/** A spec that is malformed, unsafe, or not signed by the cluster key. */
export class PairSpecError extends Error {
  constructor(
    readonly where: string,
    readonly problems: string[],
    readonly fix: string,
  ) {
    super(`Runtime spec ${where} is refused:\n- ${problems.join('\n- ')}\nFix: ${fix}`);
    this.name = 'PairSpecError';
  }
}

const SPEC_FIX = 'the provider writes this spec on apply: run apply again (it rewrites it); never edit it in etcd by hand';

/** Every problem at once (empty: valid). `input` is anything parsed from JSON. */
export function pairSpecProblems(input: unknown): string[] {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return ['the spec must be a JSON object'];
  const spec = input as Record<string, unknown>;
  if (spec.version !== 1) problems.push(`version must be 1, got ${JSON.stringify(spec.version)}`);
  try {
    assertVmName(spec.vm as string);
  } catch (error) {
    problems.push(`vm: ${(error as Error).message}`);
  }
  if (!Number.isSafeInteger(spec.generation) || (spec.generation as number) < 1) problems.push(`generation must be a whole number >= 1, got ${JSON.stringify(spec.generation)}`);

  const hosts = Array.isArray(spec.hosts) ? spec.hosts : undefined;
  if (!hosts || hosts.length !== 2) problems.push(`hosts must list exactly 2 hosts (primary, secondary), got ${hosts ? hosts.length : JSON.stringify(spec.hosts)}`);
  const spares = Array.isArray(spec.spareHosts) ? spec.spareHosts : undefined;
  if (!spares) problems.push(`spareHosts must be a list (possibly empty), got ${JSON.stringify(spec.spareHosts)}`);
  const all = [...(hosts ?? []).map((h, i) => [`hosts[${i}]`, h] as const), ...(spares ?? []).map((h, i) => [`spareHosts[${i}]`, h] as const)];
  const seen = new Map<string, string>();
  for (const [where, host] of all) {
    problems.push(...hostProblems(where, host));
    const name = (host as { name?: unknown })?.name;
    if (typeof name === 'string') {
      if (seen.has(name)) problems.push(`${where}.name ${JSON.stringify(name)} is already ${seen.get(name)}: the pair's two hosts and its spares must all be different hosts`);
      else seen.set(name, where);
    }
  }

  if (typeof spec.timing !== 'object' || spec.timing === null) problems.push('timing is missing');
  else problems.push(...timingProblems(spec.timing as FailoverTiming).map((p) => `timing.${p}`));
  return problems;
}

function hostProblems(where: string, input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return [`${where} must be an object, got ${JSON.stringify(input)}`];
  const host = input as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of ['name', 'sshAddress', 'sshUser', 'replicationAddress', 'heartbeatAddress'] as const) {
    const value = host[field];
    if (typeof value !== 'string' || value.trim() === '' || /\s/.test(value)) problems.push(`${where}.${field} must be a non-empty string without spaces, got ${JSON.stringify(value)}`);
  }
  for (const field of ['sshPort', 'heartbeatPort'] as const) {
    const value = host[field];
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) problems.push(`${where}.${field} must be a port 1-65535, got ${JSON.stringify(value)}`);
  }
  const keys = host.hostKeys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string' && /^(SHA256:[A-Za-z0-9+/]{43}|[a-z0-9-]+ [A-Za-z0-9+/]+={0,3})$/.test(k))) {
    problems.push(`${where}.hostKeys must list the host's pinned SSH keys ("ssh-ed25519 AAAA..." or "SHA256:..."), got ${JSON.stringify(keys)}`);
  }
  return problems;
}

export function validatePairSpec(input: unknown, where = 'given'): PairRuntimeSpec {
  const problems = pairSpecProblems(input);
  if (problems.length > 0) throw new PairSpecError(where, problems, SPEC_FIX);
  return input as PairRuntimeSpec;
}

// ---------------------------------------------------------------------------------------------
// Keys and signatures

/** Short id of a public key: first 16 hex digits of the SHA-256 of its DER (SPKI) form. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Loads the cluster's signing key (PEM, PKCS#8) for the provider; refuses anything but Ed25519. */
export function loadSigningKey(pem: string | Buffer): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`The cluster signing key must be an Ed25519 private key, got ${key.asymmetricKeyType ?? 'unknown'}. Fix: generate one with \`openssl genpkey -algorithm ed25519\``);
  return key;
}

/** Loads the cluster's verification key (PEM, SPKI) for the agents. */
export function loadVerifyKey(pem: string | Buffer): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`The cluster verification key must be an Ed25519 public key, got ${key.asymmetricKeyType ?? 'unknown'}. Fix: derive it from the signing key with \`openssl pkey -pubout\``);
  return key;
}

/** Validates and signs (provider side). */
export function signPairSpec(spec: PairRuntimeSpec, signingKey: KeyObject): SignedPairSpec {
  validatePairSpec(spec, `of VM ${spec.vm}`);
  const payload = JSON.stringify(spec);
  const signature = sign(null, Buffer.from(payload, 'utf8'), signingKey).toString('base64');
  return { payload, signature, keyId: keyIdOf(createPublicKey(signingKey)) };
}

export interface VerifyOptions {
  /** The etcd key it was read from: the VM in the payload must match it. */
  key: string;
  /** Refuse specs older than this generation (the newest one this agent has seen). */
  minGeneration?: number;
}

/**
 * Agent side: the stored value (bytes or text from etcd) to a verified, valid spec, or a
 * PairSpecError saying why not. Nothing in an unverified payload is trusted, not even to parse.
 */
export function verifyPairSpec(stored: Buffer | string, verifyKey: KeyObject, options: VerifyOptions): PairRuntimeSpec {
  const where = `at ${options.key}`;
  let envelope: Partial<SignedPairSpec>;
  try {
    envelope = JSON.parse(stored.toString()) as Partial<SignedPairSpec>;
  } catch {
    throw new PairSpecError(where, ['the value is not JSON'], SPEC_FIX);
  }
  if (typeof envelope?.payload !== 'string' || typeof envelope.signature !== 'string') throw new PairSpecError(where, ['the value has no payload and signature'], SPEC_FIX);
  const expectedKeyId = keyIdOf(verifyKey);
  if (envelope.keyId !== expectedKeyId) {
    throw new PairSpecError(
      where,
      [`it was signed by key ${JSON.stringify(envelope.keyId)}, this agent trusts key ${expectedKeyId}`],
      "give the agents the public key matching the provider's signing key (after a key rotation: update the agents first, then apply)",
    );
  }
  const signature = Buffer.from(envelope.signature, 'base64');
  if (signature.length !== 64 || !verify(null, Buffer.from(envelope.payload, 'utf8'), verifyKey, signature)) {
    throw new PairSpecError(where, ['its signature does not match its content (changed after signing, or signed by another key)'], SPEC_FIX);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(envelope.payload);
  } catch {
    throw new PairSpecError(where, ['its (correctly signed) payload is not JSON'], SPEC_FIX);
  }
  const spec = validatePairSpec(parsed, where);
  const keyVm = vmOfKey(options.key);
  if (options.key !== pairKeys(spec.vm).spec) {
    throw new PairSpecError(where, [`it is the spec of VM ${spec.vm} but was read from the key of ${keyVm ? `VM ${keyVm}` : 'no VM'}`], SPEC_FIX);
  }
  if (options.minGeneration !== undefined && spec.generation < options.minGeneration) {
    throw new PairSpecError(where, [`its generation ${spec.generation} is older than generation ${options.minGeneration} already seen (an old spec written back)`], SPEC_FIX);
  }
  return spec;
}
