// Exponential backoff with full jitter, as client-go uses for reflectors: the delay doubles from `initialMs`
// up to `maxMs`, each wait is drawn from [delay, delay × (1 + jitter)], and a quiet period resets it.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  /** 0 = none; 1 = up to double the delay. */
  jitter?: number;
  /** After this long without a failure, the next failure starts from `initialMs` again. */
  resetAfterMs?: number;
  random?: () => number;
}

export class Backoff {
  private readonly options: Required<BackoffOptions>;
  private delay = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;

  constructor(options: BackoffOptions) {
    this.options = { factor: 2, jitter: 1, resetAfterMs: 2 * 60_000, random: Math.random, ...options };
  }

  /** The wait before the next attempt after a failure at `now`. */
  next(now: number): number {
    const { initialMs, maxMs, factor, jitter, resetAfterMs, random } = this.options;
    this.delay =
      this.delay === 0 || now - this.lastFailureAt > resetAfterMs
        ? initialMs
        : Math.min(maxMs, this.delay * factor);
    this.lastFailureAt = now;
    return Math.round(this.delay * (1 + jitter * random()));
  }

  reset(): void {
    this.delay = 0;
  }
}
