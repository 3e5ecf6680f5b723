// How far V8's heap may grow past what the agent uses, set at run time (the agent's command line is not
// ours: a systemd unit, an image, a test harness start it; these flags are read at every resize).
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

/**
 * Lets the old generation grow to `1 + percent/100` times what survived the last full collection before the
 * next one (--heap-growing-percent, read each time V8 sets the limit).
 *
 * V8 picks that factor itself, up to 4× when collections are fast next to the program (a small heap on a
 * big machine), and keeps the pages a collection frees in a pool, resident, until a memory-reducing
 * collection; those come from the memory reducer only once the process allocates little, and an agent
 * relisting 100 pods every second never does. With ~25 MiB live the old generation so reached 80–110 MiB
 * whenever pods came or went (--trace-gc), and the process kept that much: RssAnon with 100 idle pods on
 * CRI after the benchmark's pod bursts 87–131 MiB from run to run, 85–95 MiB with 1.5×. Go's kubelet lets
 * its heap reach 2× (GOGC=100).
 */
export function limitOldGenerationGrowth(
  percent: number,
  setFlags: (flags: string) => void = setFlagsFromString,
): void {
  if (!Number.isInteger(percent) || percent <= 0)
    throw new RangeError(`old generation growth must be a positive whole percentage, not ${percent}`);
  setFlags(`--heap-growing-percent=${percent}`);
}
