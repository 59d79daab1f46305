import { checkpointStats, parseCheckpointTraceOutput } from './colo-checkpoint-trace';

const primaryLog = [
  "1201@1764050000.000000:colo_vm_state_change Change 'stop' => 'run'", // COLO start
  "1201@1764050001.000000:colo_send_message Send 'checkpoint-request' message",
  "1201@1764050001.010000:colo_vm_state_change Change 'run' => 'stop'",
  "1201@1764050001.060000:colo_vm_state_change Change 'stop' => 'run'",
  "1201@1764050003.000000:colo_send_message Send 'checkpoint-request' message",
  "1201@1764050003.002000:colo_vm_state_change Change 'run' => 'stop'",
  "1201@1764050003.202500:colo_vm_state_change Change 'stop' => 'run'",
  "1201@1764050005.000000:colo_send_message Send 'checkpoint-request' message",
  "1201@1764050005.001000:colo_vm_state_change Change 'run' => 'stop'",
].join('\n');

test('pauses run from the stop after a checkpoint request to the next run; an unfinished one is not counted', () => {
  expect(checkpointStats(primaryLog, 3)).toEqual({
    checkpoints: 3,
    lastCheckpointAt: new Date(1764050005000).toISOString(),
    lastPauseMs: 200.5,
    pauseMedianMs: 200.5,
    pauseMaxMs: 200.5,
  });
});

test("a former secondary's stops and starts (no checkpoint request before them) are not pauses", () => {
  const secondaryDays = ["900@1764040000.000000:colo_vm_state_change Change 'run' => 'stop'", "900@1764040000.900000:colo_vm_state_change Change 'stop' => 'run'"].join('\n');
  expect(checkpointStats(secondaryDays, 0)).toEqual({ checkpoints: 0 });
});

test('the remote command output: count, separator, lines; "none" when there is no log', () => {
  expect(parseCheckpointTraceOutput('none\n')).toBeUndefined();
  expect(parseCheckpointTraceOutput('0\n---\n')).toEqual({ checkpoints: 0 });
  expect(parseCheckpointTraceOutput(`12\n---\n${primaryLog}\n`)?.checkpoints).toBe(12);
});
