/**
 * Asks the test guest for its report again and again (TEST ONLY), to see from the outside
 * what a client sees during a migration: whether it keeps answering, how long it did not,
 * and whether its counter and boot id carried on.
 *
 * A new request starts every `intervalMs` whether or not earlier ones have answered (up to
 * `maxInFlight`): a request whose SYN is lost at the switch-over then hides nothing, and the
 * silence measured is the guest's, not TCP's retransmission timer's.
 *
 * Beside those short requests, one slow lane asks again and again with a long limit: a guest
 * that answers, however slowly (a COLO pair on a loaded machine answers at its checkpoints,
 * seconds apart), is seen answering. Slow is measured as silence, never mistaken for absent.
 */
import { GuestReport, readGuestReport } from '../../scripts/guest/guest';
import { pollUntil } from '../../provider/ssh/poll';

/**
 * How long a request to a guest behind a COLO pair may take before it counts as unanswered: the
 * pair answers at its checkpoints, seconds apart on a loaded machine. Fixed limits of 1-2 s tied
 * tests to the machine's speed.
 */
export const SLOW_ANSWER_LIMIT_MS = 15_000;

export interface GuestSample {
  /** When the request started (ms, Date.now()). */
  at: number;
  /** When the answer (or the failure) came. */
  doneAt: number;
  report?: GuestReport;
  error?: string;
}

export interface GuestPoller {
  /** Stops polling, waits for the requests in flight and returns every sample, by start time. */
  stop(): Promise<GuestSample[]>;
  /**
   * Resolves once the guest has answered (at least once since polling began), so a fault is
   * only injected into a guest seen serving; rejects after `timeoutMs`.
   */
  answering(timeoutMs?: number): Promise<void>;
  /**
   * Whether a request started at or after `since` has been answered, waiting up to `timeoutMs`
   * for one. Requests started earlier do not count: after a fault they may be stuck for their
   * whole time limit while the guest already answers new ones.
   */
  answeredSince(since: number, timeoutMs: number): Promise<boolean>;
}

export interface PollOptions {
  intervalMs?: number;
  /** Limit per request. */
  timeoutMs?: number;
  maxInFlight?: number;
  port?: number;
  /** Limit of the slow lane's requests. Default SLOW_ANSWER_LIMIT_MS. */
  slowLimitMs?: number;
}

export function pollGuest(ip: string, options: PollOptions = {}): GuestPoller {
  const intervalMs = options.intervalMs ?? 25;
  const maxInFlight = options.maxInFlight ?? 8;
  const samples: GuestSample[] = [];
  const inFlight = new Set<Promise<void>>();
  const probe = () => {
    if (inFlight.size >= maxInFlight) return;
    const at = Date.now();
    const request = readGuestReport(ip, options.port ?? 7000, options.timeoutMs ?? 1000).then(
      (report) => void samples.push({ at, doneAt: Date.now(), report }),
      (error: Error) => void samples.push({ at, doneAt: Date.now(), error: error.message }),
    );
    const tracked = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  probe();
  const timer = setInterval(probe, intervalMs);
  const stopping = new AbortController();
  const slowLane = (async () => {
    while (!stopping.signal.aborted) {
      const at = Date.now();
      await readGuestReport(ip, options.port ?? 7000, options.slowLimitMs ?? SLOW_ANSWER_LIMIT_MS, stopping.signal).then(
        (report) => void samples.push({ at, doneAt: Date.now(), report }),
        async (error: Error) => {
          // Ended by stop(): not the guest's failure.
          if (stopping.signal.aborted) return;
          samples.push({ at, doneAt: Date.now(), error: error.message });
          // A refused connection fails at once: do not spin.
          await new Promise((resolve) => setTimeout(resolve, intervalMs));
        },
      );
    }
  })();
  return {
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await Promise.all([...inFlight, slowLane]);
      return samples.sort((a, b) => a.at - b.at);
    },
    answeredSince(since: number, timeoutMs: number): Promise<boolean> {
      return pollUntil('an answer', () => samples.some((s) => s.report && s.at >= since) || undefined, { timeoutMs, everyMs: 25 }).catch(() => false);
    },
    async answering(timeoutMs = 30_000): Promise<void> {
      await pollUntil('an answer', () => samples.some((s) => s.report) || undefined, {
        timeoutMs,
        everyMs: 25,
        timeoutError: () => new Error(`The guest at ${ip} did not answer within ${timeoutMs} ms of polling`),
      });
    },
  };
}

/**
 * The longest time without an answer, as a client sees it: between two consecutive good
 * answers (by arrival), over the requests started from `from` to `to`.
 */
export function longestSilenceMs(samples: GuestSample[], from = 0, to = Infinity): number {
  const good = samples
    .filter((s) => s.report && s.at >= from && s.at <= to)
    .map((s) => s.doneAt)
    .sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < good.length; i++) longest = Math.max(longest, good[i] - good[i - 1]);
  return longest;
}

/**
 * Answers that contradict "the guest's counter never went back": a request sent after another
 * was answered that saw a lower counter. (Overlapping requests may answer in any order, so only
 * answers ordered in time are compared.) Empty when the guest's clock ran on.
 */
export function counterWentBack(samples: GuestSample[]): string[] {
  const answered = samples.filter((s) => s.report).sort((a, b) => a.doneAt - b.doneAt);
  const byStart = [...answered].sort((a, b) => a.at - b.at);
  const problems: string[] = [];
  let highest = -1;
  let next = 0;
  for (const sample of byStart) {
    while (next < answered.length && answered[next].doneAt < sample.at) highest = Math.max(highest, answered[next++].report!.counter);
    if (sample.report!.counter < highest) problems.push(`a request sent at ${sample.at} saw counter ${sample.report!.counter}, after an earlier answer had ${highest}`);
  }
  return problems;
}
