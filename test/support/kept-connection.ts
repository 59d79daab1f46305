/**
 * A client that does not forgive (TEST ONLY): one TCP connection to the guest's redis-server,
 * kept for the whole test, over which it sends `INCR` one at a time and records every
 * acknowledgement. It never reconnects and never resends: a failover that closes the
 * connection, loses an acknowledged increment or applies one twice shows as a broken run.
 *
 * Raw RESP over `net` on purpose: redis client libraries reconnect and retry by design, which
 * would hide exactly what this client is here to see.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';

export interface Acknowledgement {
  /** When the INCR was written and when its reply arrived (ms since epoch). */
  readonly sentAt: number;
  readonly ackAt: number;
  readonly value: number;
}

export interface KeptConnectionRun {
  readonly acks: readonly Acknowledgement[];
  /** Why the run broke (connection closed or reset, an unexpected reply), if it did. */
  readonly broken?: string;
}

export interface KeptConnectionClient {
  /** Resolves once `count` more increments were acknowledged (rejects if the run broke). */
  acknowledged(count: number, timeoutMs: number): Promise<void>;
  /** Stops after the increment in flight; the connection is closed. */
  stop(): Promise<KeptConnectionRun>;
  readonly acks: readonly Acknowledgement[];
  readonly broken: string | undefined;
}

/**
 * Connects to redis at ip:port and starts incrementing `key` (which must not exist yet),
 * pausing `pauseMs` between an acknowledgement and the next INCR.
 */
export async function keepIncrementing(ip: string, port: number, key: string, pauseMs = 20): Promise<KeptConnectionClient> {
  const socket = net.connect({ host: ip, port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const acks: Acknowledgement[] = [];
  let broken: string | undefined;
  let stopping = false;
  let sentAt = 0;
  let buffered = '';
  let waiters: Array<{ until: number; resolve: () => void; reject: (e: Error) => void }> = [];
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));

  const settleWaiters = () => {
    waiters = waiters.filter((w) => {
      if (broken) w.reject(new Error(`the kept connection broke after ${acks.length} acknowledged increments: ${broken}`));
      else if (acks.length >= w.until) w.resolve();
      else return true;
      return false;
    });
  };
  const breakRun = (why: string) => {
    if (broken || stopping) return;
    broken = why;
    settleWaiters();
    socket.destroy();
    finished();
  };
  const send = () => {
    if (stopping || broken) return finished();
    sentAt = Date.now();
    socket.write(`INCR ${key}\r\n`);
  };

  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const value = line.startsWith(':') ? Number(line.slice(1)) : NaN;
      const expected = acks.length + 1;
      if (value !== expected)
        return breakRun(
          `reply ${JSON.stringify(line)} to INCR number ${expected} (expected :${expected}: ${value > expected ? 'an increment applied twice or by someone else' : 'an acknowledged increment lost'})`,
        );
      acks.push({ sentAt, ackAt: Date.now(), value });
      settleWaiters();
      setTimeout(send, pauseMs);
    }
  });
  socket.on('error', (e) => breakRun(`connection error: ${e.message}`));
  socket.on('close', () => breakRun('the server closed the connection'));
  send();

  return {
    get acks() {
      return acks;
    },
    get broken() {
      return broken;
    },
    acknowledged(count, timeoutMs) {
      const until = acks.length + count;
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${count} acknowledged increments within ${timeoutMs} ms (${acks.length} so far, last ${acks.length ? Date.now() - acks[acks.length - 1].ackAt : '-'} ms ago)`)),
          timeoutMs,
        );
        waiters.push({ until, resolve: () => (clearTimeout(timer), resolve()), reject: (e) => (clearTimeout(timer), reject(e)) });
        settleWaiters();
      });
    },
    async stop() {
      stopping = true;
      await Promise.race([done, sleep(5000)]);
      socket.end();
      socket.destroy();
      return { acks: [...acks], ...(broken ? { broken } : {}) };
    },
  };
}

/** Longest time between consecutive acknowledgements from `from` to `to` (ms since epoch). */
export function longestGapMs(acks: readonly Acknowledgement[], from: number, to: number): number {
  let previous = from;
  let longest = 0;
  for (const ack of acks) {
    if (ack.ackAt < from || ack.ackAt > to) continue;
    longest = Math.max(longest, ack.ackAt - previous);
    previous = ack.ackAt;
  }
  return Math.max(longest, to - previous);
}

/**
 * Segments this machine's TCP stack (the client's network namespace) dropped because their
 * timestamp went backwards (PAWS, RFC 7323): the evidence when a kept connection stalls while
 * fresh connections to the same guest work.
 */
export function pawsRejectedSegments(): number {
  const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const header = lines.find((l) => l.startsWith('TcpExt:'))?.split(/\s+/) ?? [];
  const values = lines.filter((l) => l.startsWith('TcpExt:'))[1]?.split(/\s+/) ?? [];
  const at = header.indexOf('PAWSEstab');
  return at > 0 ? Number(values[at]) : NaN;
}

/**
 * Records the connection's packets on this machine (tcpdump, absolute sequence numbers) and,
 * on `evidence`, returns the last of them with the kernel's view of the socket (`ss -tin`):
 * what a stalled connection needs to tell whose numbers went wrong.
 */
export function recordConnection(ip: string, port: number): { evidence(): Promise<string>; stop(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-kept-capture-'));
  const file = path.join(dir, 'capture.pcap');
  const capture = spawn('tcpdump', ['-i', 'any', '-nn', '-U', '-s', '128', '-w', file, 'host', ip, 'and', 'tcp', 'port', String(port)], { stdio: 'ignore' });
  capture.on('error', () => undefined);
  const run = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { encoding: 'utf8', timeout: 10_000 });
    } catch (error) {
      return `(${command} failed: ${(error as Error).message.split('\n')[0]})`;
    }
  };
  return {
    async evidence() {
      await sleep(200);
      const packets = run('tcpdump', ['-r', file, '-nn', '-tt', '-S']).trim().split('\n');
      const socket = run('ss', ['-tino', 'dst', `${ip}:${port}`]).trim();
      return `client socket (ss -tino):\n${socket}\nlast packets of ${packets.length} since the kill (tcpdump -S):\n${packets.slice(-40).join('\n')}`;
    },
    stop() {
      capture.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
