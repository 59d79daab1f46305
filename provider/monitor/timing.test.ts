import * as constructTiming from '../../constructs/failover-timing';
import { assertSafeTiming, DEFAULT_TIMING, describeTiming, fencedWithinMs, leaseTtlSeconds, safetyMarginMs, TimingError, timingProblems, worstCaseRecoveryMs } from './timing';

describe('failover timing (runtime)', () => {
  it('accepts the defaults: 200 x 3 + 800 = 1400 < 2000, worst case 2700 ms', () => {
    expect(timingProblems(DEFAULT_TIMING)).toEqual([]);
    expect(fencedWithinMs(DEFAULT_TIMING)).toBe(1400);
    expect(safetyMarginMs(DEFAULT_TIMING)).toBe(600);
    expect(worstCaseRecoveryMs(DEFAULT_TIMING)).toBe(2700);
    expect(leaseTtlSeconds(DEFAULT_TIMING)).toBe(2);
    expect(describeTiming(DEFAULT_TIMING)).toBe('heartbeat 200 ms x 3 + fencing 800 ms = 1400 ms < lease 2000 ms (margin 600 ms); worst-case recovery 2700 ms');
  });

  it('agrees with the construct side: same defaults, same invariant, same worst case', () => {
    expect(DEFAULT_TIMING).toEqual(constructTiming.FAILOVER_TIMING_DEFAULTS);
    const samples = [
      DEFAULT_TIMING,
      { heartbeatIntervalMs: 500, heartbeatMisses: 4, fencingDeadlineMs: 1000, leaseTtlMs: 3000 },
      { heartbeatIntervalMs: 100, heartbeatMisses: 5, fencingDeadlineMs: 400, leaseTtlMs: 4000 },
    ];
    for (const t of samples) {
      expect(timingProblems(t).some((p) => p.includes('must be < leaseTtlMs'))).toBe(!constructTiming.timingIsSafe(t));
      expect(fencedWithinMs(t)).toBe(constructTiming.fencedWithinMs(t));
      expect(worstCaseRecoveryMs(t)).toBe(constructTiming.worstCaseRecoveryMs(t));
    }
  });

  it('rejects a budget where a side could still serve when its lease expires, naming values and fixes', () => {
    const t = { heartbeatIntervalMs: 500, heartbeatMisses: 3, fencingDeadlineMs: 800, leaseTtlMs: 2000 };
    expect(() => assertSafeTiming(t, 'VM db')).toThrow(TimingError);
    expect(() => assertSafeTiming(t, 'VM db')).toThrow(
      'Failover timing of VM db is invalid:\n- heartbeatIntervalMs x heartbeatMisses + fencingDeadlineMs must be < leaseTtlMs, got 500 x 3 + 800 = 2300 >= 2000: ' +
        'a side that loses etcd could still serve when its lease expires and the other side takes over (two active guests). ' +
        'Fix: raise leaseTtlMs to 3000, or lower fencingDeadlineMs to at most 499, or lower heartbeatIntervalMs or heartbeatMisses',
    );
  });

  it('rejects equality (the lease must outlive fencing, not tie with it)', () => {
    expect(timingProblems({ heartbeatIntervalMs: 400, heartbeatMisses: 3, fencingDeadlineMs: 800, leaseTtlMs: 2000 })).toHaveLength(1);
  });

  it('rejects leases etcd cannot grant as asked: fractions of a second, below the minimum', () => {
    expect(timingProblems({ ...DEFAULT_TIMING, leaseTtlMs: 2500 })).toEqual(['leaseTtlMs must be whole seconds (etcd leases are), got 2500: use 3000']);
    expect(timingProblems({ heartbeatIntervalMs: 100, heartbeatMisses: 3, fencingDeadlineMs: 300, leaseTtlMs: 1000 })).toEqual([
      'leaseTtlMs must be at least 2000 (etcd raises shorter leases to 1.5 election timeouts, 2 s by default), got 1000',
    ]);
  });

  it('rejects non-numbers and out-of-range values, all at once', () => {
    const problems = timingProblems({ heartbeatIntervalMs: 0, heartbeatMisses: 1.5, fencingDeadlineMs: '800' as unknown as number, leaseTtlMs: 2000 });
    expect(problems).toEqual([
      'heartbeatIntervalMs must be a whole number from 10 to 60000, got 0',
      'heartbeatMisses must be a whole number from 1 to 100, got 1.5',
      'fencingDeadlineMs must be a whole number from 1 to 600000, got "800"',
    ]);
  });
});
