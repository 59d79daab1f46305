/**
 * TEST ONLY: a TCP forwarder on 127.0.0.1 in front of a lab host's sshd, that a test can cut
 * at the moment of its choosing: `cut()` resets every connection through it and refuses new
 * ones (like a link that went down), `restore()` forwards again on the same port. Point a
 * provider's host at `address:port` (with the host's key pinned) to cut SSH mid-apply.
 */
import * as net from 'net';

export interface CuttableLink {
  readonly address: string;
  readonly port: number;
  /** Connections made through the link so far. */
  readonly connections: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function openCuttableLink(target: { address: string; port: number }): Promise<CuttableLink> {
  const open = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(target.port, target.address);
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const stopListening = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  const port = await listen(0);
  return {
    address: '127.0.0.1',
    port,
    get connections() {
      return connections;
    },
    async cut() {
      const closed = stopListening();
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
      await closed;
    },
    async restore() {
      if (!server.listening) await listen(port);
    },
    async close() {
      for (const socket of open) socket.destroy();
      await stopListening();
    },
  };
}
