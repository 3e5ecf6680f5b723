// Small primitives for the watch iterators: a wake-up signal between a producer (commit notifier, gRPC
// stream) and the one consumer of an async generator, and a FIFO that does not copy on every shift.

export type WakeReason = "woken" | "aborted" | "timeout";

/** A level-triggered signal for one consumer: notify() before wait() is not lost. */
export class Wakeup {
  #pending = false;
  #resolve: ((reason: WakeReason) => void) | undefined;

  notify(): void {
    this.#pending = true;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.("woken");
  }

  /** Resolves when notified (or already was since the last wait), when `signal` aborts, or after `timeoutMs`. */
  wait(signal: AbortSignal, timeoutMs?: number): Promise<WakeReason> {
    if (signal.aborted) return Promise.resolve("aborted");
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve("woken");
    }
    return new Promise<WakeReason>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (reason: WakeReason): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#resolve = undefined;
        this.#pending = false;
        resolve(reason);
      };
      const onAbort = (): void => finish("aborted");
      signal.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(() => finish("timeout"), timeoutMs);
      this.#resolve = finish;
    });
  }
}

/** FIFO queue with amortised O(1) shift. */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
