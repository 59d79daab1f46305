import { BROKEN_AFTER_BACKOFFS, judgeReplicationPath, parseSsConnections } from './replication-path';

const ports = { migration: 20004, nbd: 20005 };
const header = 'Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n';
const connection = (port: number, details: string) => `0      0          10.88.0.11:43506    10.88.0.12:${port}\n\t cubic wscale:7,7 rto:204 rtt:0.1/0.05 ${details} bytes_sent:100 lastsnd:10\n`;

describe('the replication path, by the kernel evidence', () => {
  it('parses ss -tin output (a real sample)', () => {
    const sample =
      header +
      '0      0          127.0.0.1:43506    127.0.0.1:23456\n\t bbr wscale:10,10 rto:204 rtt:0.121/0.186 mss:47616 cwnd:13 bytes_sent:100000 bytes_acked:100001 unacked:3 backoff:2 lastack:368\n';
    expect(parseSsConnections(sample)).toEqual([{ peer: '127.0.0.1', port: 23456, unacked: 3, backoff: 2 }]);
  });

  it('is healthy while the migration connection exists and what is sent gets acknowledged, however slowly', () => {
    expect(judgeReplicationPath(parseSsConnections(header + connection(20004, 'unacked:40') + connection(20005, '')), ports)).toBeUndefined();
    expect(judgeReplicationPath(parseSsConnections(header + connection(20004, `unacked:1 backoff:${BROKEN_AFTER_BACKOFFS - 1}`)), ports)).toBeUndefined();
    // A zero window (a slow reader) backs off without unacknowledged data: not broken.
    expect(judgeReplicationPath(parseSsConnections(header + connection(20004, 'backoff:6')), ports)).toBeUndefined();
  });

  it('is broken without a migration connection', () => {
    expect(judgeReplicationPath(parseSsConnections(header + connection(20005, '')), ports)).toMatch(/no established connection to the secondary's migration port 20004/);
    expect(judgeReplicationPath([], ports)).toMatch(/no established connection/);
  });

  it('is broken when data stays unacknowledged through repeated retransmission timeouts', () => {
    const out = header + connection(20004, '') + connection(20005, `unacked:7 backoff:${BROKEN_AFTER_BACKOFFS}`);
    expect(judgeReplicationPath(parseSsConnections(out), ports)).toBe(`7 byte(s) to 10.88.0.12:20005 unacknowledged through ${BROKEN_AFTER_BACKOFFS} retransmission timeouts`);
  });
});
