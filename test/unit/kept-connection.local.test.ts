import * as net from 'net';
import { keepIncrementing, longestGapMs } from '../support/kept-connection';

/** A stand-in for redis on loopback whose replies to the n-th INCR are `reply(n)`; undefined closes the connection. */
async function fakeRedis(reply: (n: number) => string | undefined): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let n = 0;
    socket.on('data', (data) => {
      for (const line of data.toString().split('\r\n').filter(Boolean)) {
        expect(line).toMatch(/^INCR /);
        const answer = reply(++n);
        if (answer === undefined) socket.destroy();
        else socket.write(answer);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe('the client that does not forgive', () => {
  it('counts acknowledged increments over one connection', async () => {
    const redis = await fakeRedis((n) => `:${n}\r\n`);
    const client = await keepIncrementing('127.0.0.1', redis.port, 'k', 1);
    await client.acknowledged(20, 5000);
    const run = await client.stop();
    await redis.close();
    expect(run.broken).toBeUndefined();
    expect(run.acks.map((a) => a.value)).toEqual(run.acks.map((_, i) => i + 1));
  });

  it.each([
    ['an increment applied twice', (n: number) => `:${n < 5 ? n : n + 1}\r\n`, /reply ":6" to INCR number 5 .*applied twice/],
    ['an acknowledged increment lost', (n: number) => `:${n < 5 ? n : n - 1}\r\n`, /reply ":4" to INCR number 5 .*increment lost/],
    ['an error reply', (n: number) => (n < 5 ? `:${n}\r\n` : '-READONLY\r\n'), /reply "-READONLY" to INCR number 5/],
    ['a closed connection', (n: number) => (n < 5 ? `:${n}\r\n` : undefined), /the server closed the connection|connection error/],
  ])('breaks the run on %s, naming it', async (_what, reply, message) => {
    const redis = await fakeRedis(reply);
    const client = await keepIncrementing('127.0.0.1', redis.port, 'k', 1);
    await expect(client.acknowledged(10, 5000)).rejects.toThrow(/the kept connection broke after 4 acknowledged increments/);
    const run = await client.stop();
    await redis.close();
    expect(run.broken).toMatch(message);
    expect(run.acks).toHaveLength(4);
  });

  it('the longest gap includes the time before the first and after the last acknowledgement', () => {
    const acks = [100, 150, 400, 420].map((ackAt, i) => ({ sentAt: ackAt - 10, ackAt, value: i + 1 }));
    expect(longestGapMs(acks, 0, 500)).toBe(250);
    expect(longestGapMs(acks, 0, 1000)).toBe(580);
    expect(longestGapMs([], 0, 70)).toBe(70);
  });
});
