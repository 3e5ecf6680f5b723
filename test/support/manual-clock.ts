import type { Clock } from "../../src/util/clock.ts";

/** A Clock that only moves when the test says so. Sleeps and timers fire in time order on advance(). */
export class ManualClock implements Clock {
  private time = 0;
  private nextId = 0;
  private readonly pending = new Map<number, { at: number; fire: () => void }>();

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const cancel = this.setTimer(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      const onAbort = () => {
        cancel();
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  setTimer(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + ms, fire: fn });
    return () => this.pending.delete(id);
  }

  /** Number of sleeps/timers waiting. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Moves time forward, firing due timers in order and letting promise callbacks run in between. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await flushMicrotasks();
      const due = [...this.pending.entries()]
        .filter(([, t]) => t.at <= target)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.time = due[1].at;
      due[1].fire();
    }
    this.time = target;
    await flushMicrotasks();
  }
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
