// Reads a storage watch in tests: every read is bounded by a timeout that says what was awaited and what
// had arrived, and progress notifications are kept apart from changes.

import type { Storage, WatchEvent } from "../../../src/controlplane/storage/types.ts";

export type ChangeEvent = Exclude<WatchEvent, { type: "progress" }>;

export class WatchReader {
  readonly controller = new AbortController();
  readonly changes: ChangeEvent[] = [];
  readonly progress: number[] = [];
  readonly #iterator: AsyncIterator<WatchEvent>;
  #pending: Promise<IteratorResult<WatchEvent>> | undefined;
  #done = false;

  constructor(storage: Storage, prefix: string, afterRevision: number) {
    this.#iterator = storage.watch(prefix, afterRevision, this.controller.signal)[Symbol.asyncIterator]();
  }

  get done(): boolean {
    return this.#done;
  }

  /** The next item of any kind; rejects with what the watch threw, or after `timeoutMs` with context. */
  async next(what: string, timeoutMs = 20_000): Promise<WatchEvent | undefined> {
    this.#pending ??= this.#iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${what}; received ${this.changes.length} changes so far, last ${JSON.stringify(this.changes.at(-1))}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      const result = await Promise.race([this.#pending, timeout]);
      this.#pending = undefined;
      if (result.done) {
        this.#done = true;
        return undefined;
      }
      if (result.value.type === "progress") this.progress.push(result.value.revision);
      else this.changes.push(result.value);
      return result.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Reads until `count` changes have arrived in total (progress notifications are recorded, not counted),
   * within `timeoutMs` overall.
   */
  async changesUntil(count: number, what = `${count} changes`, timeoutMs = 30_000): Promise<ChangeEvent[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.changes.length < count) {
      const left = Math.max(1, deadline - performance.now());
      const item = await this.next(`${what} (${this.changes.length} of ${count} so far)`, left);
      if (item === undefined)
        throw new Error(`the watch ended after ${this.changes.length} changes, before ${what}`);
    }
    return this.changes;
  }

  stop(): void {
    this.controller.abort();
  }
}

/** Resolves with the error `promise` rejects with; fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}
