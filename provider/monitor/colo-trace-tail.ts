/**
 * The agent's view of its QEMU's COLO stream, from the COLO trace log (colo-command-line.ts),
 * followed from where it last read (a truncated or replaced log, a new QEMU, is read from its
 * start):
 *
 * - checkpoints and their pauses, as they happen (for the metrics; colo-checkpoint-trace.ts
 *   reads the same lines);
 * - when the QEMU last RECEIVED a COLO message from its peer QEMU (`colo_receive_message`):
 *   proof that the peer QEMU was alive and replicating then, independent of the peer's agent.
 *   A peer whose agent restarts (its heartbeats pause for a second) but whose QEMU keeps
 *   answering checkpoints is not lost (decision.ts).
 */
import * as fs from 'fs';
import { checkpointPauses } from '../colo/colo-checkpoint-trace';

export interface NewCheckpoints {
  /** `Send 'checkpoint-request'` lines since the last read. */
  readonly checkpoints: number;
  /** Guest pauses of the checkpoints completed since the last read, in ms. */
  readonly pausesMs: number[];
}

const RECEIVE_LINE = /^\d+@(\d+)\.(\d{6}):colo_receive_message /gm;

const MAX_READ_BYTES = 4 * 1024 * 1024;

export class ColoTraceTail {
  /** Epoch ms (the host's clock, as QEMU logged it) of the last COLO message from the peer QEMU. */
  lastPeerMessageAt?: number;
  private offset = 0;
  private inode?: number;
  /** Text after the last completed pause: a checkpoint whose pause has not ended yet. */
  private carry = '';

  constructor(private readonly traceLog: string) {}

  read(): NewCheckpoints {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.traceLog);
    } catch {
      return { checkpoints: 0, pausesMs: [] };
    }
    if (stat.ino !== this.inode || stat.size < this.offset) {
      this.inode = stat.ino;
      this.offset = 0;
      this.carry = '';
      this.lastPeerMessageAt = undefined;
    }
    if (stat.size === this.offset) return { checkpoints: 0, pausesMs: [] };
    const start = Math.max(this.offset, stat.size - MAX_READ_BYTES);
    const buffer = Buffer.alloc(stat.size - start);
    const fd = fs.openSync(this.traceLog, 'r');
    try {
      fs.readSync(fd, buffer, 0, buffer.length, start);
    } finally {
      fs.closeSync(fd);
    }
    // Only whole lines: a line being written stays for the next read.
    const text = buffer.toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    this.offset = start + Buffer.byteLength(text.slice(0, end));
    const fresh = text.slice(0, end);
    const checkpoints = fresh.split("Send 'checkpoint-request'").length - 1;
    for (const m of fresh.matchAll(RECEIVE_LINE)) this.lastPeerMessageAt = Number(m[1]) * 1000 + Number(m[2]) / 1000;
    const all = this.carry + fresh;
    const { pauses } = checkpointPauses(all);
    const lastRun = all.lastIndexOf("Change 'stop' => 'run'");
    this.carry = lastRun >= 0 ? all.slice(all.indexOf('\n', lastRun) + 1) : all.slice(-64 * 1024);
    return { checkpoints, pausesMs: pauses.map((p) => p.ms) };
  }
}
