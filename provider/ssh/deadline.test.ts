import { withDeadline } from './deadline';
import { setTimeout as sleep } from 'timers/promises';

it('resolves with the work when it is in time', async () => {
  await expect(withDeadline({ timeoutMs: 1000, onTimeout: () => new Error('late') }, async () => 42)).resolves.toBe(42);
});

it('on timeout aborts the work, waits for its cleanup, then rejects with the timeout error built at that moment', async () => {
  let cleaned = false;
  const result = withDeadline({ timeoutMs: 20, onTimeout: () => new Error(`late, cleaned=${cleaned}`) }, (signal) => {
    return new Promise((_, reject) => {
      signal.addEventListener('abort', () => sleep(30).then(() => ((cleaned = true), reject(new Error('work stopped')))));
    });
  });
  await expect(result).rejects.toThrow('late, cleaned=true');
});

it('does not wait longer than the grace period for a stuck cleanup', async () => {
  const started = Date.now();
  const result = withDeadline({ timeoutMs: 10, onTimeout: () => new Error('late'), cleanupGraceMs: 30 }, () => new Promise(() => undefined));
  await expect(result).rejects.toThrow('late');
  expect(Date.now() - started).toBeLessThan(500);
});

it('rejects with the cancel source error when its signal aborts, or is already aborted', async () => {
  const controller = new AbortController();
  const result = withDeadline(
    { timeoutMs: 1000, onTimeout: () => new Error('late'), cancel: [{ signal: controller.signal, error: (r) => new Error(`cancelled: ${r}`) }] },
    (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
  );
  controller.abort('user');
  await expect(result).rejects.toThrow('cancelled: user');
  let ran = false;
  const already = withDeadline({ timeoutMs: 1000, onTimeout: () => new Error('late'), cancel: [{ signal: controller.signal, error: () => new Error('was aborted') }] }, async () => {
    ran = true;
  });
  await expect(already).rejects.toThrow('was aborted');
  expect(ran).toBe(false);
});

it('insists on a real timeout', async () => {
  await expect(withDeadline({ timeoutMs: 0, onTimeout: () => new Error() }, async () => 1)).rejects.toThrow(/positive number/);
  await expect(withDeadline({ timeoutMs: Infinity, onTimeout: () => new Error() }, async () => 1)).rejects.toThrow(/every remote call needs a limit/);
});
