/**
 * Checkpoint statistics of a COLO pair. QEMU 7.2 has none over QMP (`query-migrate` says only
 * `colo`), so both QEMUs write the COLO trace events to a log (`-D`, colo-command-line.ts) and
 * this reads it:
 *   checkpoints   `Send 'checkpoint-request'` lines of the primary
 *   pause         the primary's `Change 'run' => 'stop'` to the next `Change 'stop' => 'run'`
 * Lines look like `<tid>@<seconds>.<microseconds>:colo_send_message Send 'checkpoint-request' message`.
 */

export interface CheckpointStats {
  /** Checkpoints since this QEMU started (all pairings it was the primary of). */
  checkpoints: number;
  /** How long the guest was paused for the last complete checkpoint. */
  lastPauseMs?: number;
  /** When the last checkpoint began (ISO time, the host's clock). */
  lastCheckpointAt?: string;
  /** Median and maximum pause over the pauses in `lines`. */
  pauseMedianMs?: number;
  pauseMaxMs?: number;
}

const LINE = /^\d+@(\d+)\.(\d{6}):(colo_\w+) (.*)$/;

/** `lines`: the recent relevant trace lines (any order of events, oldest first); `checkpoints`: the total count. */
export function checkpointStats(lines: string, checkpoints: number): CheckpointStats {
  const { pauses, lastRequestAt } = checkpointPauses(lines);
  const stats: CheckpointStats = { checkpoints };
  if (lastRequestAt !== undefined) stats.lastCheckpointAt = new Date(lastRequestAt).toISOString();
  if (pauses.length > 0) {
    const sorted = pauses.map((p) => p.ms).sort((a, b) => a - b);
    stats.lastPauseMs = round(pauses[pauses.length - 1].ms);
    stats.pauseMedianMs = round(sorted[Math.floor(sorted.length / 2)]);
    stats.pauseMaxMs = round(sorted[sorted.length - 1]);
  }
  return stats;
}

/** Every checkpoint pause in `lines` (when it began, ms since the epoch, and how long it was), oldest first. */
export function checkpointPauses(lines: string): { pauses: Array<{ at: number; ms: number }>; lastRequestAt?: number } {
  const pauses: Array<{ at: number; ms: number }> = [];
  let stoppedAt: number | undefined;
  let lastRequestAt: number | undefined;
  // Only a stop right after the primary asked for a checkpoint is a checkpoint pause: a former
  // secondary's log also has the stops and starts of its secondary days.
  let requested = false;
  for (const line of lines.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const at = Number(m[1]) * 1000 + Number(m[2]) / 1000;
    const [event, text] = [m[3], m[4]];
    if (event === 'colo_send_message' && text.startsWith("Send 'checkpoint-request'")) {
      lastRequestAt = at;
      requested = true;
    }
    if (event !== 'colo_vm_state_change') continue;
    if (text === "Change 'run' => 'stop'") {
      stoppedAt = requested ? at : undefined;
      requested = false;
    } else if (text === "Change 'stop' => 'run'" && stoppedAt !== undefined) {
      pauses.push({ at: stoppedAt, ms: at - stoppedAt });
      stoppedAt = undefined;
    }
  }
  return { pauses, ...(lastRequestAt !== undefined ? { lastRequestAt } : {}) };
}

/** The shell command that prints the total count, a separator, then the recent lines checkpointStats reads. */
export function checkpointTraceCommand(traceLog: string, recentLines = 400): string {
  return [
    `f=${traceLog}`,
    `if [ -r "$f" ]; then grep -c "Send 'checkpoint-request'" "$f" || true; echo ---; grep -E "colo_vm_state_change|Send 'checkpoint-request'" "$f" | tail -n ${recentLines}; else echo none; fi`,
  ].join('\n');
}

export function parseCheckpointTraceOutput(stdout: string): CheckpointStats | undefined {
  if (stdout.trim() === 'none') return undefined;
  const [count, ...rest] = stdout.split('\n---\n');
  return checkpointStats(rest.join('\n'), Number(count.trim()) || 0);
}

const round = (ms: number) => Math.round(ms * 10) / 10;
