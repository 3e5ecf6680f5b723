// Time as a dependency: logic that waits or measures takes a Clock, so tests can drive it.

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/**
 * setTimeout's limit (2^31-1 ms, about 24.8 days): Node fires a longer timer after 1 ms instead (with a
 * TimeoutOverflowWarning), so a wait of months (a certificate renewed at 80% of a year) is chained from
 * timers of at most this length.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** setTimeout for any delay; returns the cancel function. */
function longTimeout(ms: number, fn: () => void, unref: boolean): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = (remaining: number) => {
    const step = Math.min(Math.max(remaining, 0), MAX_TIMER_MS);
    timer = setTimeout(() => (remaining > step ? arm(remaining - step) : fn()), step);
    if (unref) timer.unref?.();
  };
  arm(ms);
  return () => clearTimeout(timer);
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        cancel();
        reject(signal?.reason);
      };
      const cancel = longTimeout(
        ms,
        () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        false,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
  setTimer: (ms, fn) => longTimeout(ms, fn, true),
};
