import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  capYoungGeneration,
  growthFactor,
  limitOldGenerationGrowth,
  type YoungGenerationHooks,
} from "../../src/cli/heap-sizing.ts";
import { run } from "../support/run.ts";

const MiB = 1024 * 1024;

function fakeV8(initialBytes: number) {
  const state = { newSpace: initialBytes, factors: [] as number[] };
  const listeners = new Set<() => void>();
  const hooks: YoungGenerationHooks = {
    newSpaceBytes: () => state.newSpace,
    setGrowthFactor: (factor) => state.factors.push(factor),
    afterEachGc(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const gc = () => {
    for (const listener of listeners) listener();
  };
  return { state, hooks, gc };
}

describe("growthFactor", () => {
  it.each([
    [1 * MiB, 16 * MiB, 2],
    [8 * MiB, 16 * MiB, 2],
    [8 * MiB + 1, 16 * MiB, 1],
    [16 * MiB, 16 * MiB, 1],
    [32 * MiB, 16 * MiB, 1],
  ])("young generation %d bytes, cap %d: factor %d", (size, cap, factor) => {
    expect(growthFactor(size, cap)).toBe(factor);
  });
});

describe("capYoungGeneration", () => {
  it("sets the factor at once and again after every collection that changes it", () => {
    const v8 = fakeV8(2 * MiB);
    const stop = capYoungGeneration(16 * MiB, v8.hooks);
    expect(v8.state.factors).toEqual([2]);
    v8.state.newSpace = 8 * MiB;
    v8.gc();
    expect(v8.state.factors).toEqual([2]); // unchanged: not set again
    v8.state.newSpace = 16 * MiB; // grown to the cap in one scavenge: no further doubling from the next one
    v8.gc();
    expect(v8.state.factors).toEqual([2, 1]);
    v8.state.newSpace = 4 * MiB; // shrunk by a memory-reducing collection: may grow again
    v8.gc();
    expect(v8.state.factors).toEqual([2, 1, 2]);
    stop();
    v8.state.newSpace = 16 * MiB;
    v8.gc();
    expect(v8.state.factors).toEqual([2, 1, 2]);
  });

  it("keeps the real young generation within the cap through an allocation burst", async () => {
    // Objects that survive a few scavenges each, in quick succession: V8 doubles the young generation at
    // every scavenge it can (to 128 MiB here without the cap).
    const script = `
      import { getHeapSpaceStatistics } from "node:v8";
      import { capYoungGeneration } from ${JSON.stringify(join(import.meta.dirname, "../../src/cli/heap-sizing.ts"))};
      capYoungGeneration(${16 * MiB});
      let keep = [];
      for (let r = 0; r < 150; r++) {
        const a = [];
        for (let i = 0; i < 20000; i++) a.push({ i, s: "x" + i });
        keep.push(a);
        if (keep.length > 10) keep.shift();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      console.log(getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size);
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script]);
    expect(Number(stdout.trim())).toBeLessThanOrEqual(16 * MiB);
  });
});

describe("limitOldGenerationGrowth", () => {
  it("sets V8's heap growing factor, and refuses what is not a positive whole percentage", () => {
    const flags: string[] = [];
    limitOldGenerationGrowth(50, (f) => flags.push(f));
    expect(flags).toEqual(["--heap-growing-percent=50"]);
    for (const bad of [0, -10, 1.5, Number.NaN])
      expect(() => limitOldGenerationGrowth(bad, (f) => flags.push(f))).toThrow(RangeError);
    expect(flags).toHaveLength(1);
  });

  it("keeps the real old generation smaller while garbage gets promoted", async () => {
    // ~10 MiB live, and objects that survive two scavenges before they die: promoted garbage. Alone, V8's
    // own factor let the old generation reach ~65 MiB here and 1.5× ~30 MiB; both move with the machine's
    // load (concurrent marking), so the two run side by side.
    const script = (limit: boolean) => `
      import { getHeapSpaceStatistics } from "node:v8";
      import { limitOldGenerationGrowth } from ${JSON.stringify(join(import.meta.dirname, "../../src/cli/heap-sizing.ts"))};
      if (${limit}) limitOldGenerationGrowth(50);
      const live = [];
      for (let i = 0; i < 100000; i++) live.push({ i, s: "live" + i });
      const old = () => getHeapSpaceStatistics().find((s) => s.space_name === "old_space").space_size;
      let peak = 0;
      let keep = [];
      for (let r = 0; r < 300; r++) {
        const a = [];
        for (let i = 0; i < 5000; i++) a.push({ i, s: "x" + i, r });
        keep.push(a);
        if (keep.length > 40) keep.shift();
        peak = Math.max(peak, old());
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      console.log(peak, live.length);
    `;
    const peak = async (limit: boolean) => {
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script(limit)]);
      return Number(stdout.trim().split(" ")[0]);
    };
    const [limited, unlimited] = await Promise.all([peak(true), peak(false)]);
    expect(limited).toBeLessThan(unlimited * 0.8);
  });
});
