/**
 * Direct peer heartbeats between the agents of a pair: small UDP datagrams, unicast, every
 * heartbeat interval, per pair. They carry the sender's local guest state, so the standby learns
 * in one interval that the primary's QEMU died (its agent is still alive and says so), and
 * detect a silent peer (host dead, link cut) after interval x misses, well before the lease
 * could expire. They never decide who is active: that is etcd's (active-role.ts).
 *
 * Datagram: "OHB1" | HMAC-SHA256(key, payload) (32 bytes) | payload (JSON: pair, from, boot,
 * seq, sentAt, state). HMAC, not a signature: both ends are agents of the same cluster holding
 * the same heartbeat key, every datagram is checked at 5+ per second per pair, and a host that
 * could forge a heartbeat could as well lie in its own. The key is a per-cluster secret given
 * to the agents at installation; it is not in the (readable) pair spec.
 *
 * Refused datagrams (counted in `stats`): bad MAC, unknown pair or sender, malformed, replayed
 * (sequence not above the last one of the same boot), or stale (sentAt further from our clock
 * than maxClockSkewMs: an old datagram of an earlier boot replayed).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import * as dgram from 'dgram';

/** What an agent reports about its own copy of the guest. */
export type GuestState = 'colo-primary' | 'colo-secondary' | 'serving-alone' | 'dead' | 'fenced' | 'unknown';
const GUEST_STATES: readonly GuestState[] = ['colo-primary', 'colo-secondary', 'serving-alone', 'dead', 'fenced', 'unknown'];

export interface HeartbeatPeer {
  readonly pair: string;
  /** The peer agent's host name (as in the pair spec). */
  readonly host: string;
  readonly address: string;
  readonly port: number;
  /** This pair's heartbeat timing (its spec's); default the endpoint's. */
  readonly intervalMs?: number;
  readonly misses?: number;
}

export interface PeerEvent {
  readonly peer: HeartbeatPeer;
  /** The guest state it last reported (`unknown` when never heard). */
  readonly state: GuestState;
  /** ms since the last valid datagram from it (or since start when never heard). */
  readonly silentForMs: number;
  /**
   * The generation of the pair record its state is about (grows with every failover and
   * re-protection; undefined: never reported). It tells a state that is news from one that
   * predates what this side knows (see decision.ts, rule 4).
   */
  readonly generation?: number;
}

export interface HeartbeatOptions {
  readonly self: string;
  readonly bind: { readonly address: string; readonly port: number };
  /** Per-cluster secret, at least 32 bytes. */
  readonly key: Buffer;
  /** Defaults for peers that do not give their own. */
  readonly intervalMs: number;
  readonly misses: number;
  readonly peers: readonly HeartbeatPeer[];
  /** This host's guest state for a pair, sent in every heartbeat. */
  readonly localState: (pair: string) => GuestState;
  /** The generation of this host's pair record for a pair, sent with the state. */
  readonly localGeneration?: (pair: string) => number | undefined;
  readonly onPeerLost: (event: PeerEvent) => void;
  readonly onPeerBack: (event: PeerEvent) => void;
  /** Every valid datagram (e.g. the peer's guest changed state). */
  readonly onPeerHeard?: (event: PeerEvent) => void;
  /** Default 30 s. */
  readonly maxClockSkewMs?: number;
}

export interface HeartbeatStats {
  sent: number;
  accepted: number;
  rejected: { badMac: number; malformed: number; unknownPeer: number; replayed: number; stale: number };
}

interface Payload {
  pair: string;
  from: string;
  boot: string;
  seq: number;
  sentAt: number;
  state: GuestState;
  generation?: number;
}

interface PeerTrack {
  peer: HeartbeatPeer;
  alive: boolean;
  state: GuestState;
  generation?: number;
  lastHeardAt: number;
  boot?: string;
  seq: number;
  lossTimer?: NodeJS.Timeout;
  sendTimer?: NodeJS.Timeout;
}

const MAGIC = Buffer.from('OHB1');
const MAC_BYTES = 32;
const MAX_DATAGRAM = 1024;

export class HeartbeatEndpoint {
  readonly stats: HeartbeatStats = { sent: 0, accepted: 0, rejected: { badMac: 0, malformed: 0, unknownPeer: 0, replayed: 0, stale: 0 } };
  private readonly boot = randomBytes(8).toString('hex');
  private seq = 0;
  private readonly tracks = new Map<string, PeerTrack>();
  private stopped = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: HeartbeatOptions,
  ) {}

  static async start(options: HeartbeatOptions): Promise<HeartbeatEndpoint> {
    if (options.key.length < 32) throw new Error(`Heartbeat key of ${options.self} is ${options.key.length} bytes; it must be at least 32. Fix: generate one with \`openssl rand 32 > heartbeat.key\``);
    if (!Number.isInteger(options.intervalMs) || options.intervalMs < 10) throw new RangeError(`Heartbeat intervalMs must be a whole number >= 10, got ${options.intervalMs}`);
    if (!Number.isInteger(options.misses) || options.misses < 1) throw new RangeError(`Heartbeat misses must be a whole number >= 1, got ${options.misses}`);
    const socket = dgram.createSocket(options.bind.address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error) =>
        reject(
          new Error(
            `Heartbeats of ${options.self} cannot listen on udp ${options.bind.address}:${options.bind.port}: ${error.message}. Fix: free the port or set another heartbeatPort in the pair spec`,
            { cause: error },
          ),
        ),
      );
      socket.bind(options.bind.port, options.bind.address, () => resolve());
    });
    const endpoint = new HeartbeatEndpoint(socket, options);
    socket.on('error', () => undefined); // send errors (unreachable peer) are what heartbeats detect
    socket.on('message', (message) => endpoint.receive(message));
    endpoint.setPeers(options.peers);
    return endpoint;
  }

  /** The bound UDP port (useful with port 0). */
  get port(): number {
    return this.socket.address().port;
  }

  /**
   * Replaces the peer list (spec changed); known peers keep their state, new ones start "alive"
   * (never heard) with a full grace period. Each peer is sent to on its own interval.
   */
  setPeers(peers: readonly HeartbeatPeer[]): void {
    const next = new Map<string, PeerTrack>();
    for (const peer of peers) {
      const id = trackId(peer.pair, peer.host);
      const known = this.tracks.get(id);
      const track = known ?? { peer, alive: true, state: 'unknown' as GuestState, lastHeardAt: Date.now(), seq: 0 };
      const retimed = known !== undefined && this.intervalOf(known.peer) !== this.intervalOf(peer);
      track.peer = peer;
      next.set(id, track);
      if (!known || retimed) {
        this.armLoss(track);
        clearInterval(track.sendTimer);
        track.sendTimer = setInterval(() => this.send(track), this.intervalOf(peer));
        this.send(track);
      }
    }
    for (const [id, track] of this.tracks) {
      if (next.has(id)) continue;
      clearTimeout(track.lossTimer);
      clearInterval(track.sendTimer);
    }
    this.tracks.clear();
    for (const [id, track] of next) this.tracks.set(id, track);
  }

  /** `heard`: a valid datagram came from it since it was added (false: its agent may not run yet). */
  peerStatus(pair: string, host: string): PeerEvent & { alive: boolean; heard: boolean } {
    const track = this.tracks.get(trackId(pair, host));
    if (!track) throw new Error(`No heartbeat peer ${host} for pair ${pair}`);
    return {
      peer: track.peer,
      state: track.state,
      ...(track.generation !== undefined ? { generation: track.generation } : {}),
      silentForMs: Date.now() - track.lastHeardAt,
      alive: track.alive,
      heard: track.boot !== undefined,
    };
  }

  hasPeer(pair: string, host: string): boolean {
    return this.tracks.has(trackId(pair, host));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const track of this.tracks.values()) {
      clearTimeout(track.lossTimer);
      clearInterval(track.sendTimer);
    }
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------

  private intervalOf(peer: HeartbeatPeer): number {
    return peer.intervalMs ?? this.options.intervalMs;
  }

  private send(track: PeerTrack): void {
    if (this.stopped) return;
    const { pair, address, port } = track.peer;
    const generation = this.options.localGeneration?.(pair);
    const payload: Payload = {
      pair,
      from: this.options.self,
      boot: this.boot,
      seq: ++this.seq,
      sentAt: Date.now(),
      state: this.options.localState(pair),
      ...(generation !== undefined ? { generation } : {}),
    };
    const datagram = encodeHeartbeat(payload, this.options.key);
    this.socket.send(datagram, port, address, () => undefined);
    this.stats.sent++;
  }

  private receive(message: Buffer): void {
    if (this.stopped) return;
    const decoded = decodeHeartbeat(message, this.options.key);
    if (decoded === 'bad-mac') return void this.stats.rejected.badMac++;
    if (decoded === 'malformed') return void this.stats.rejected.malformed++;
    const track = this.tracks.get(trackId(decoded.pair, decoded.from));
    if (!track) return void this.stats.rejected.unknownPeer++;
    const now = Date.now();
    if (Math.abs(now - decoded.sentAt) > (this.options.maxClockSkewMs ?? 30_000)) return void this.stats.rejected.stale++;
    if (track.boot === decoded.boot && decoded.seq <= track.seq) return void this.stats.rejected.replayed++;
    this.stats.accepted++;
    track.boot = decoded.boot;
    track.seq = decoded.seq;
    track.state = decoded.state;
    track.generation = decoded.generation;
    track.lastHeardAt = now;
    this.armLoss(track);
    const event = { peer: track.peer, state: track.state, silentForMs: 0 };
    if (!track.alive) {
      track.alive = true;
      this.options.onPeerBack(event);
    }
    this.options.onPeerHeard?.(event);
  }

  /** Lost exactly interval x misses after the last valid datagram. */
  private armLoss(track: PeerTrack): void {
    clearTimeout(track.lossTimer);
    track.lossTimer = setTimeout(
      () => {
        if (this.stopped || !track.alive) return;
        track.alive = false;
        this.options.onPeerLost({ peer: track.peer, state: track.state, silentForMs: Date.now() - track.lastHeardAt });
      },
      this.intervalOf(track.peer) * (track.peer.misses ?? this.options.misses),
    );
  }
}

function trackId(pair: string, host: string): string {
  return `${pair}\0${host}`;
}

export function encodeHeartbeat(payload: Payload, key: Buffer): Buffer {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  if (body.length + MAGIC.length + MAC_BYTES > MAX_DATAGRAM) throw new Error(`Heartbeat of pair ${payload.pair} is too large (${body.length} bytes)`);
  const mac = createHmac('sha256', key).update(body).digest();
  return Buffer.concat([MAGIC, mac, body]);
}

/** The payload, or why it was refused. The MAC is checked before the JSON is parsed. */
export function decodeHeartbeat(message: Buffer, key: Buffer): Payload | 'bad-mac' | 'malformed' {
  if (message.length <= MAGIC.length + MAC_BYTES || message.length > MAX_DATAGRAM || !message.subarray(0, MAGIC.length).equals(MAGIC)) return 'malformed';
  const mac = message.subarray(MAGIC.length, MAGIC.length + MAC_BYTES);
  const body = message.subarray(MAGIC.length + MAC_BYTES);
  if (!timingSafeEqual(mac, createHmac('sha256', key).update(body).digest())) return 'bad-mac';
  try {
    const p = JSON.parse(body.toString('utf8')) as Partial<Payload>;
    const valid =
      typeof p.pair === 'string' &&
      typeof p.from === 'string' &&
      typeof p.boot === 'string' &&
      Number.isSafeInteger(p.seq) &&
      Number.isFinite(p.sentAt) &&
      GUEST_STATES.includes(p.state as GuestState) &&
      (p.generation === undefined || (Number.isSafeInteger(p.generation) && p.generation >= 0));
    return valid ? (p as Payload) : 'malformed';
  } catch {
    return 'malformed';
  }
}
