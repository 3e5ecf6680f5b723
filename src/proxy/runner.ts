// kube-proxy's bounded-frequency runner: runs a function when asked, but at most once per minInterval
// (requests in between coalesce into one run), and at least once per maxInterval even when nobody asks.
// A failed run can ask for a retry after some time. Time comes from an injected Clock.
import type { Clock } from "../util/clock.ts";

export interface BoundedFrequencyRunnerOptions {
  minIntervalMs: number;
  maxIntervalMs: number;
  clock: Clock;
  run: () => Promise<void>;
  /** Told about a run that threw; the loop carries on. */
  onError?: (error: unknown) => void;
}

export class BoundedFrequencyRunner {
  private readonly options: BoundedFrequencyRunnerOptions;
  private lastStart: number | undefined;
  private pending = false;
  private retryAt: number | undefined;
  private wake: (() => void) | undefined;
  private runs = 0;

  constructor(options: BoundedFrequencyRunnerOptions) {
    if (!(options.minIntervalMs >= 0) || !(options.maxIntervalMs >= options.minIntervalMs)) {
      throw new Error(
        `BoundedFrequencyRunner: minIntervalMs (${options.minIntervalMs}) must be ≥ 0 and ≤ maxIntervalMs (${options.maxIntervalMs})`,
      );
    }
    this.options = options;
  }

  /** How many times the function has started. */
  get runCount(): number {
    return this.runs;
  }

  /** Asks for a run as soon as minInterval allows. */
  request(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Asks for a run after `ms` (earlier requests and the periodic run still apply). */
  retryAfter(ms: number): void {
    const at = this.options.clock.now() + ms;
    this.retryAt = this.retryAt === undefined ? at : Math.min(this.retryAt, at);
    this.wake?.();
  }

  /** When the next run will start, given what is pending. */
  private nextRunAt(now: number): number {
    const { minIntervalMs, maxIntervalMs } = this.options;
    if (this.lastStart === undefined) return now;
    const earliest = this.lastStart + minIntervalMs;
    let at = this.lastStart + maxIntervalMs;
    if (this.pending) at = Math.min(at, earliest);
    if (this.retryAt !== undefined) at = Math.min(at, Math.max(this.retryAt, earliest));
    return at;
  }

  /** Runs until `signal` aborts: the first run starts at once. */
  async loop(signal: AbortSignal): Promise<void> {
    const { clock } = this.options;
    while (!signal.aborted) {
      const now = clock.now();
      const at = this.nextRunAt(now);
      if (at <= now) {
        this.pending = false;
        this.retryAt = undefined;
        this.lastStart = now;
        this.runs++;
        try {
          await this.options.run();
        } catch (error) {
          this.options.onError?.(error);
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        let cancelTimer = () => {};
        const done = () => {
          cancelTimer();
          signal.removeEventListener("abort", done);
          this.wake = undefined;
          resolve();
        };
        cancelTimer = clock.setTimer(at - now, done);
        this.wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }
}
