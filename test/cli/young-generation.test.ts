import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  capYoungGeneration,
  growthFactor,
  type YoungGenerationHooks,
} from "../../src/cli/young-generation.ts";
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
      import { capYoungGeneration } from ${JSON.stringify(join(import.meta.dirname, "../../src/cli/young-generation.ts"))};
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
