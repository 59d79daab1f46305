import { StallGuard } from './stall-guard';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('aborts when no chunk came for the limit, and says it stalled', () => {
  const guard = new StallGuard(1000);
  jest.advanceTimersByTime(999);
  expect(guard.signal.aborted).toBe(false);
  jest.advanceTimersByTime(1);
  expect(guard.signal.aborted).toBe(true);
  expect(guard.stalled).toBe(true);
});

test('every touch re-arms the limit: a slow stream that keeps moving is never given up', () => {
  const guard = new StallGuard(1000);
  for (let i = 0; i < 10; i++) {
    jest.advanceTimersByTime(900);
    guard.touch();
  }
  expect(guard.signal.aborted).toBe(false);
  guard.dispose();
  jest.advanceTimersByTime(5000);
  expect(guard.signal.aborted).toBe(false);
});

test("the caller's abort ends it too, without counting as a stall", () => {
  const outer = new AbortController();
  const guard = new StallGuard(1000, outer.signal);
  outer.abort();
  expect(guard.signal.aborted).toBe(true);
  expect(guard.stalled).toBe(false);
  guard.dispose();
});
