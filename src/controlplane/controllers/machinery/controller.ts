// The loop every controller runs: workers take keys from a WorkQueue and call sync(key). A sync that
// throws is retried with per-key exponential backoff (never a hot loop); one that returns a delay is
// re-checked after it; a successful one resets the key's backoff. Counters feed logs and metrics.
import type { Logger } from "pino";
import { isConflict } from "../../../api/client/errors.ts";
import type { Clock } from "../../../util/clock.ts";
import { WorkQueue } from "./workqueue.ts";

export interface SyncResult {
  /** Check the key again after this long (e.g. a deadline or minReadySeconds). */
  requeueAfterMs?: number;
}

export interface ControllerStats {
  syncs: number;
  errors: number;
  /** Keys currently waiting. */
  depth: number;
}

export interface ControllerLoopOptions {
  name: string;
  log: Logger;
  clock?: Clock;
  workers?: number;
  sync(key: string): Promise<SyncResult | undefined>;
}

export class ControllerLoop {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly options: ControllerLoopOptions;
  private readonly log: Logger;
  private readonly counters = { syncs: 0, errors: 0 };

  constructor(options: ControllerLoopOptions) {
    this.options = options;
    this.name = options.name;
    this.log = options.log;
    this.queue = new WorkQueue({ clock: options.clock });
  }

  get stats(): ControllerStats {
    return { ...this.counters, depth: this.queue.length };
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  /** Runs the workers until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = () => this.queue.shutDown();
    signal.addEventListener("abort", stop, { once: true });
    const workers = Array.from({ length: this.options.workers ?? 2 }, () => this.worker(signal));
    await Promise.all(workers);
    signal.removeEventListener("abort", stop);
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get(signal);
      if (key === undefined) return;
      try {
        this.counters.syncs++;
        const result = await this.options.sync(key);
        this.queue.forget(key);
        if (result?.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        if (signal.aborted) return;
        this.counters.errors++;
        const retries = this.queue.numRequeues(key);
        // Conflicts are routine (a newer version is on its way through the informer): no warning.
        const level = isConflict(error) ? "debug" : retries >= 5 ? "warn" : "info";
        this.log[level](
          { controller: this.name, key, retries, err: (error as Error).message },
          "sync failed; will retry",
        );
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}
