/** Two real heartbeat endpoints on 127.0.0.1 (UDP). Interval 50 ms x 3 misses. */
import { randomBytes } from 'crypto';
import * as dgram from 'dgram';
import { decodeHeartbeat, encodeHeartbeat, GuestState, HeartbeatEndpoint, HeartbeatOptions, PeerEvent } from './heartbeat';
import { freePort } from '../../test/support/ports';
import { setTimeout as sleep } from 'timers/promises';

jest.setTimeout(20_000);

const key = randomBytes(32);
const intervalMs = 50;
const misses = 3;
const waitFor = async (check: () => boolean, limitMs: number) => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await sleep(2);
  }
};

interface Side {
  endpoint: HeartbeatEndpoint;
  lost: Array<PeerEvent & { at: number }>;
  back: PeerEvent[];
  state: GuestState;
}

describe('peer heartbeats over UDP', () => {
  const sides: Side[] = [];
  afterEach(async () => {
    await Promise.all(sides.splice(0).map((s) => s.endpoint.stop()));
  });

  async function pair(): Promise<[Side, Side, number, number]> {
    const [portA, portB] = [await freePort(), await freePort()];
    const make = async (self: string, port: number, peer: string, peerPort: number, overrides: Partial<HeartbeatOptions> = {}) => {
      const side: Side = { lost: [], back: [], state: 'colo-primary' } as unknown as Side;
      side.endpoint = await HeartbeatEndpoint.start({
        self,
        bind: { address: '127.0.0.1', port },
        key,
        intervalMs,
        misses,
        peers: [{ pair: 'db', host: peer, address: '127.0.0.1', port: peerPort }],
        localState: () => side.state,
        onPeerLost: (e) => side.lost.push({ ...e, at: Date.now() }),
        onPeerBack: (e) => side.back.push(e),
        ...overrides,
      });
      sides.push(side);
      return side;
    };
    const a = await make('host-a', portA, 'host-b', portB);
    const b = await make('host-b', portB, 'host-a', portA);
    b.state = 'colo-secondary';
    return [a, b, portA, portB];
  }

  it("peers hear each other and see each other's guest state", async () => {
    const [a, b] = await pair();
    await sleep(intervalMs * 3);
    expect(a.endpoint.peerStatus('db', 'host-b')).toMatchObject({ alive: true, state: 'colo-secondary' });
    a.state = 'dead';
    await waitFor(() => b.endpoint.peerStatus('db', 'host-a').state === 'dead', intervalMs * 3);
    expect(a.lost).toEqual([]);
    expect(b.lost).toEqual([]);
    expect(b.endpoint.stats.rejected).toEqual({ badMac: 0, malformed: 0, unknownPeer: 0, replayed: 0, stale: 0 });
  });

  it('a stopped peer is declared lost within interval x misses (+ slack), and back when it returns', async () => {
    const [a, b, portA] = await pair();
    await sleep(intervalMs * 4);
    const stoppedAt = Date.now();
    await a.endpoint.stop();
    await waitFor(() => b.lost.length > 0, intervalMs * misses + 500);
    const detectedMs = b.lost[0].at - stoppedAt;
    console.log(`peer loss detected ${detectedMs} ms after it stopped (interval ${intervalMs} ms x ${misses})`);
    expect(detectedMs).toBeGreaterThanOrEqual(intervalMs * misses - intervalMs - 5);
    expect(detectedMs).toBeLessThanOrEqual(intervalMs * misses + 60);
    expect(b.lost[0]).toMatchObject({ peer: { host: 'host-a' }, state: 'colo-primary' });
    expect(b.endpoint.peerStatus('db', 'host-a').alive).toBe(false);

    // The peer's agent restarts (new boot id, sequence from 1): accepted, "back".
    const again = await HeartbeatEndpoint.start({
      self: 'host-a',
      bind: { address: '127.0.0.1', port: portA },
      key,
      intervalMs,
      misses,
      peers: [{ pair: 'db', host: 'host-b', address: '127.0.0.1', port: b.endpoint.port }],
      localState: () => 'serving-alone',
      onPeerLost: () => undefined,
      onPeerBack: () => undefined,
    });
    sides.push({ endpoint: again, lost: [], back: [], state: 'serving-alone' });
    await waitFor(() => b.back.length > 0, intervalMs * 4);
    expect(b.back[0]).toMatchObject({ peer: { host: 'host-a' }, state: 'serving-alone' });
    expect(b.lost).toHaveLength(1);
  });

  it('ignores tampered, foreign-key, replayed, stale and unknown-sender datagrams: the peer is still lost', async () => {
    const [a, b] = await pair();
    await sleep(intervalMs * 2);
    await a.endpoint.stop();
    const forger = dgram.createSocket('udp4');
    const send = (datagram: Buffer) => new Promise<void>((resolve) => forger.send(datagram, b.endpoint.port, '127.0.0.1', () => resolve()));
    const good = encodeHeartbeat({ pair: 'db', from: 'host-a', boot: 'x1', seq: 1_000_000, sentAt: Date.now(), state: 'colo-primary' }, key);
    const tampered = Buffer.from(good);
    tampered[tampered.length - 5] ^= 1;
    try {
      const deadline = Date.now() + intervalMs * misses + 200;
      while (Date.now() < deadline) {
        await send(tampered);
        await send(encodeHeartbeat({ pair: 'db', from: 'host-a', boot: 'x2', seq: 1, sentAt: Date.now(), state: 'colo-primary' }, randomBytes(32)));
        await send(encodeHeartbeat({ pair: 'db', from: 'host-a', boot: 'x3', seq: 1, sentAt: Date.now() - 3_600_000, state: 'colo-primary' }, key));
        await send(encodeHeartbeat({ pair: 'db', from: 'host-z', boot: 'x4', seq: 1, sentAt: Date.now(), state: 'colo-primary' }, key));
        await send(Buffer.from('hello'));
        await send(good); // the first copy is a valid datagram (accepted once), every later copy a replay
        await sleep(intervalMs / 2);
      }
      await waitFor(() => b.lost.length > 0, 500);
    } finally {
      forger.close();
    }
    const r = b.endpoint.stats.rejected;
    expect(r.badMac).toBeGreaterThan(2);
    expect(r.stale).toBeGreaterThan(0);
    expect(r.unknownPeer).toBeGreaterThan(0);
    expect(r.malformed).toBeGreaterThan(0);
    expect(r.replayed).toBeGreaterThan(0);
    expect(b.lost).toHaveLength(1);
  });

  it('encodes the MAC over the exact bytes and refuses a wrong key', () => {
    const datagram = encodeHeartbeat({ pair: 'db', from: 'a', boot: 'b', seq: 1, sentAt: 5, state: 'dead' }, key);
    expect(decodeHeartbeat(datagram, key)).toEqual({ pair: 'db', from: 'a', boot: 'b', seq: 1, sentAt: 5, state: 'dead' });
    expect(decodeHeartbeat(datagram, randomBytes(32))).toBe('bad-mac');
    expect(datagram.length).toBeLessThan(200);
  });

  it('refuses a short key, naming the fix', async () => {
    await expect(
      HeartbeatEndpoint.start({
        self: 'a',
        bind: { address: '127.0.0.1', port: 0 },
        key: Buffer.alloc(8),
        intervalMs,
        misses,
        peers: [],
        localState: () => 'dead',
        onPeerLost: () => undefined,
        onPeerBack: () => undefined,
      }),
    ).rejects.toThrow('Heartbeat key of a is 8 bytes; it must be at least 32. Fix: generate one with `openssl rand 32 > heartbeat.key`');
  });
});
