/**
 * Pinned SSH host keys: OpenSSH known_hosts content (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT")
 * and keys pinned one by one (`ssh-ed25519 AAAA...` or `SHA256:...`). `HostKeyPolicy` decides
 * whether the key a host presents is trusted; unknown or changed keys are refused, never
 * learned.
 *
 * known_hosts is read strictly: a line we cannot parse is an error naming the line, because
 * silently skipping it could mean silently not pinning a host. `@cert-authority` lines are
 * parsed but not trusted (host certificates are not supported; pin the host key instead).
 * A key marked `@revoked` is refused for every host, whatever the line's host pattern says.
 */
import { createHash, createHmac, timingSafeEqual } from 'crypto';
import { HostAddress, HostKeyMismatchError, HostKeyProblem } from './host-errors';

export interface PublicKey {
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ... (the type inside the blob). */
  readonly type: string;
  /** The SSH wire-format key blob (what known_hosts holds in base64). */
  readonly blob: Buffer;
  /** `SHA256:` + unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

export class KnownHostsFormatError extends Error {
  constructor(
    readonly source: string,
    readonly lineNumber: number | undefined,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${source}${lineNumber !== undefined ? ` line ${lineNumber}` : ''}: ${problem}\nFix: ${fix}`);
    this.name = 'KnownHostsFormatError';
  }
}

export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type a wire-format blob starts with (uint32 length + name); undefined if malformed. */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  const type = blob.subarray(4, 4 + length).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

/** Parses `<type> <base64>`; the type must match the one inside the blob. Returns the problem as a string. */
export function parsePublicKey(type: string, base64: string): PublicKey | string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return 'the key is not base64';
  const blob = Buffer.from(base64, 'base64');
  const embedded = blobKeyType(blob);
  if (embedded === undefined) return 'the key data is truncated or damaged';
  if (embedded !== type) return `the key data is for "${embedded}", but the line says "${type}"`;
  return { type, blob, fingerprint: sha256Fingerprint(blob) };
}

type Marker = 'revoked' | 'cert-authority';

export interface KnownHostsEntry {
  readonly lineNumber: number;
  readonly marker?: Marker;
  /** The host field as written: patterns or a hashed `|1|salt|hash`. */
  readonly hosts: string;
  readonly key: PublicKey;
}

export class KnownHosts {
  private constructor(
    readonly source: string,
    readonly entries: readonly KnownHostsEntry[],
  ) {}

  /** `source` names the content in messages (a file path, or `inline`). */
  static parse(content: string, source = 'known_hosts'): KnownHosts {
    const entries: KnownHostsEntry[] = [];
    content.split('\n').forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      entries.push(parseLine(line, index + 1, source));
    });
    return new KnownHosts(source, entries);
  }

  /** The trusted keys for `address:port` (host names are compared the way ssh does: `[addr]:port` unless port 22). */
  keysFor(address: string, port: number): PublicKey[] {
    const name = hostLookupName(address, port);
    return this.entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name)).map((e) => e.key);
  }

  /** Lines that would match this host but are certificate authorities (not supported). */
  certAuthoritiesFor(address: string, port: number): number {
    const name = hostLookupName(address, port);
    return this.entries.filter((e) => e.marker === 'cert-authority' && hostFieldMatches(e.hosts, name)).length;
  }

  /** Every key marked @revoked, for any host. */
  revokedKeys(): PublicKey[] {
    return this.entries.filter((e) => e.marker === 'revoked').map((e) => e.key);
  }
}

function parseLine(line: string, lineNumber: number, source: string): KnownHostsEntry {
  const fields = line.split(/\s+/);
  let marker: Marker | undefined;
  if (fields[0].startsWith('@')) {
    const name = fields.shift()!.slice(1);
    if (name !== 'revoked' && name !== 'cert-authority') {
      throw new KnownHostsFormatError(source, lineNumber, `unknown marker "@${name}"`, 'use @revoked or @cert-authority, or remove the marker');
    }
    marker = name;
  }
  const [hosts, type, base64] = fields;
  if (!hosts || !type || !base64) {
    throw new KnownHostsFormatError(
      source,
      lineNumber,
      'expected "<hosts> <key type> <base64 key> [comment]"',
      'write each line like `10.0.0.11 ssh-ed25519 AAAAC3Nza...` (e.g. from `ssh-keyscan`), or remove it',
    );
  }
  if (hosts.startsWith('|') && !/^\|1\|[A-Za-z0-9+/]+={0,2}\|[A-Za-z0-9+/]+={0,2}$/.test(hosts)) {
    throw new KnownHostsFormatError(source, lineNumber, 'the hashed host name is not `|1|<salt>|<hash>`', 'regenerate the line with ssh-keyscan -H, or write the host name in plain text');
  }
  const key = parsePublicKey(type, base64);
  if (typeof key === 'string') {
    throw new KnownHostsFormatError(source, lineNumber, key, "copy the key again from the host's /etc/ssh/ssh_host_*_key.pub");
  }
  return { lineNumber, marker, hosts, key };
}

function hostLookupName(address: string, port: number): string {
  return (port === 22 ? address : `[${address}]:${port}`).toLowerCase();
}

function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    const expected = Buffer.from(hash, 'base64');
    const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  let matched = false;
  for (const pattern of field.toLowerCase().split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcardMatches(pattern.slice(1), name)) return false;
    } else if (wildcardMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** ssh's `*` (any run) and `?` (one character) wildcards; everything else is literal. */
function wildcardMatches(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}

/** A single pinned key: a full public key, or only its SHA256 fingerprint. */
export type PinnedKey = { readonly kind: 'key'; readonly key: PublicKey } | { readonly kind: 'fingerprint'; readonly fingerprint: string };

/** Parses `ssh-ed25519 AAAA... [comment]` or `SHA256:<43 base64 chars>`. */
export function parsePinnedKey(text: string, where = 'pinned host key'): PinnedKey {
  const value = text.trim();
  const fingerprint = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(value);
  if (fingerprint) return { kind: 'fingerprint', fingerprint: `SHA256:${fingerprint[1]}` };
  if (/^MD5:/i.test(value) || /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(value)) {
    throw new KnownHostsFormatError(where, undefined, 'MD5 fingerprints are not accepted', 'use the SHA256 fingerprint: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host');
  }
  const [type, base64] = value.split(/\s+/);
  const key = type && base64 ? parsePublicKey(type, base64) : 'it is neither "<key type> <base64 key>" nor a "SHA256:..." fingerprint';
  if (typeof key === 'string') {
    throw new KnownHostsFormatError(where, undefined, key, "use the whole line of the host's /etc/ssh/ssh_host_ed25519_key.pub, or the SHA256: fingerprint `ssh-keygen -lf` prints for it");
  }
  return { kind: 'key', key };
}

export interface HostKeyTrust {
  /** OpenSSH known_hosts content (not a path: the caller reads files). */
  readonly knownHosts?: string | KnownHosts;
  /** Names the known_hosts content in messages, e.g. its path. Default `known_hosts`. */
  readonly knownHostsSource?: string;
  /** Keys pinned for this host: `ssh-ed25519 AAAA...` or `SHA256:...`. */
  readonly pinned?: readonly string[];
}

/** Host key algorithms ssh2 can negotiate for each key type we may pin. */
const ALGORITHMS_FOR_KEY_TYPE: Record<string, readonly string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** Which host keys one host may present. Use `verifier()` as ssh2's `hostVerifier`. */
export class HostKeyPolicy {
  private constructor(
    readonly host: HostAddress,
    private readonly keys: readonly PublicKey[],
    private readonly fingerprints: readonly string[],
    private readonly revoked: readonly PublicKey[],
    private readonly trustSource: string,
    private readonly certAuthorities: number,
  ) {}

  static forHost(host: HostAddress, trust: HostKeyTrust): HostKeyPolicy {
    const sources: string[] = [];
    const keys: PublicKey[] = [];
    const fingerprints: string[] = [];
    let revoked: PublicKey[] = [];
    let certAuthorities = 0;
    if (trust.knownHosts !== undefined) {
      const known = typeof trust.knownHosts === 'string' ? KnownHosts.parse(trust.knownHosts, trust.knownHostsSource) : trust.knownHosts;
      keys.push(...known.keysFor(host.address, host.port));
      revoked = known.revokedKeys();
      certAuthorities = known.certAuthoritiesFor(host.address, host.port);
      const name = trust.knownHostsSource ?? known.source;
      sources.push(name === 'known_hosts' ? 'known_hosts' : `known_hosts ${name}`);
    }
    (trust.pinned ?? []).forEach((text, index) => {
      const pin = parsePinnedKey(text, `pinned host key #${index + 1} of host ${host.name}`);
      if (pin.kind === 'key') keys.push(pin.key);
      else fingerprints.push(pin.fingerprint);
    });
    if (trust.pinned && trust.pinned.length > 0) sources.push('the pinned host key');
    return new HostKeyPolicy(host, keys, fingerprints, revoked, sources.join(' and ') || 'no trusted keys', certAuthorities);
  }

  /** Fingerprints this host may present. */
  get expectedFingerprints(): string[] {
    return [...new Set([...this.keys.map((k) => k.fingerprint), ...this.fingerprints])];
  }

  /**
   * The host key algorithms to offer, so that the server presents the key type we pinned
   * (otherwise a host with ed25519 and rsa keys, pinned by its rsa key, would look changed).
   * Undefined when a bare fingerprint is pinned: its type is unknown, so offer them all.
   */
  hostKeyAlgorithms(): string[] | undefined {
    if (this.fingerprints.length > 0 || this.keys.length === 0) return undefined;
    const algorithms = [...new Set(this.keys.flatMap((k) => ALGORITHMS_FOR_KEY_TYPE[k.type] ?? []))];
    return algorithms.length > 0 ? algorithms : undefined;
  }

  /** Undefined when `blob` (the wire-format key the host presented) is trusted, else the refusal. */
  check(blob: Buffer): HostKeyMismatchError | undefined {
    const seen = { fingerprint: sha256Fingerprint(blob), type: blobKeyType(blob) ?? 'unknown-type' };
    const refuse = (problem: HostKeyProblem) => new HostKeyMismatchError(this.host, problem, seen, this.expectedFingerprints, this.describeTrust());
    if (this.revoked.some((k) => k.blob.equals(blob))) return refuse('revoked');
    if (this.keys.some((k) => k.blob.equals(blob)) || this.fingerprints.includes(seen.fingerprint)) return undefined;
    return refuse(this.expectedFingerprints.length === 0 ? 'unknown' : 'changed');
  }

  /** An ssh2 `hostVerifier` (no `hostHash`: it gets the raw blob). Refusals are handed to `onRefused`. */
  verifier(onRefused: (error: HostKeyMismatchError) => void): (key: Buffer) => boolean {
    return (key) => {
      const refusal = this.check(key);
      if (refusal) onRefused(refusal);
      return refusal === undefined;
    };
  }

  private describeTrust(): string {
    return this.certAuthorities > 0 ? `${this.trustSource}; its @cert-authority lines are not used, host certificates are not supported` : this.trustSource;
  }
}
