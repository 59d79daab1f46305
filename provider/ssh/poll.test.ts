import { pollUntil } from './poll';

describe('pollUntil', () => {
  test('returns the first value the probe gives, asking again in between', async () => {
    let calls = 0;
    const value = await pollUntil('the third call', () => (++calls === 3 ? 'done' : undefined), { timeoutMs: 5000, everyMs: 5 });
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  test('a probe that throws is "not yet"; the deadline names what, how long and the last error', async () => {
    const failing = pollUntil(
      'the port to open',
      () => {
        throw new Error('ECONNREFUSED');
      },
      { timeoutMs: 50, everyMs: 10 },
    );
    await expect(failing).rejects.toThrow(/^the port to open did not happen within \d+ ms \(last error: ECONNREFUSED\)$/);
  });

  test('a deadline in the past still asks once', async () => {
    await expect(pollUntil('x', () => 1, { deadline: Date.now() - 1000 })).resolves.toBe(1);
  });

  test('an abort stops the waiting', async () => {
    const abort = new AbortController();
    const waiting = pollUntil('never', () => undefined, { timeoutMs: 10_000, everyMs: 1000, signal: abort.signal });
    abort.abort();
    await expect(waiting).rejects.toThrow();
  });

  test("a driver's probe error ends the waiting at once; its own timeout error carries what the probes saw", async () => {
    let calls = 0;
    const failing = pollUntil(
      'x',
      () => {
        calls++;
        throw new Error('QMP: migration failed');
      },
      { timeoutMs: 5000, everyMs: 10, probeErrors: 'throw' },
    );
    await expect(failing).rejects.toThrow('QMP: migration failed');
    expect(calls).toBe(1);
    let seen = '';
    const late = pollUntil('y', () => void (seen = 'status active'), { timeoutMs: 30, everyMs: 10, timeoutError: () => new Error(`still ${seen}`) });
    await expect(late).rejects.toThrow('still status active');
  });
});
