// Caps V8's young generation at runtime (see capYoungGeneration for why the agent does this at all).
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/**
 * The --semi-space-growth-factor that keeps the young generation within `capBytes`: 2 (V8's doubling) while
 * one more doubling stays within the cap, 1 (no growth) from then on.
 */
export function growthFactor(newSpaceBytes: number, capBytes: number): 1 | 2 {
  return newSpaceBytes * 2 <= capBytes ? 2 : 1;
}

/** What capping needs from V8, injectable for tests. */
export interface YoungGenerationHooks {
  /** Bytes the young generation (both semi-spaces) has now. */
  newSpaceBytes(): number;
  setGrowthFactor(factor: 1 | 2): void;
  /** Calls `listener` after every garbage collection; returns the unsubscribe. */
  afterEachGc(listener: () => void): () => void;
}

export const v8YoungGenerationHooks: YoungGenerationHooks = {
  newSpaceBytes: () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0,
  setGrowthFactor: (factor) => setFlagsFromString(`--semi-space-growth-factor=${factor}`),
  afterEachGc(listener) {
    const observer = new PerformanceObserver(listener);
    observer.observe({ entryTypes: ["gc"] });
    return () => observer.disconnect();
  },
};

/**
 * Lets the young generation grow to `capBytes` and no further; returns the stop function.
 *
 * V8 grows the young generation only at the end of a scavenge, and reads the growth factor at each growth.
 * The factor is therefore set again after every collection: checked once a second instead, a burst of
 * allocation (a pod burst, a large relist) let V8 double several times between two checks, to 32 MiB
 * and more, past a 16 MiB cap.
 */
export function capYoungGeneration(
  capBytes: number,
  hooks: YoungGenerationHooks = v8YoungGenerationHooks,
): () => void {
  let factor = 0;
  const check = () => {
    const next = growthFactor(hooks.newSpaceBytes(), capBytes);
    if (next === factor) return;
    factor = next;
    hooks.setGrowthFactor(next);
  };
  check();
  return hooks.afterEachGc(check);
}
