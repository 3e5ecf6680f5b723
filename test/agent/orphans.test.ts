import { describe, expect, it } from "vitest";
import { type OrphanInput, orphanedPods } from "../../src/agent/orphans.ts";

function input(overrides: Partial<OrphanInput>): OrphanInput {
  return {
    runtimeUids: [],
    podDirUids: [],
    inSources: () => false,
    admitted: () => false,
    syncing: () => false,
    running: () => false,
    ...overrides,
  };
}

describe("orphanedPods", () => {
  it("removes what the runtime or the pods directory holds for pods no source has", () => {
    const actions = orphanedPods(
      input({
        runtimeUids: ["gone", "wanted"],
        podDirUids: ["dir-only", "wanted"],
        inSources: (u) => u === "wanted",
        admitted: (u) => u === "wanted",
        running: () => true,
      }),
    );
    expect([...actions]).toEqual([
      ["gone", "remove"],
      ["dir-only", "remove"],
    ]);
  });

  it("stops running pods a source has but no worker owns (rejected at admission, terminal at start-up)", () => {
    // The case the agent chaos test found: pods of older ReplicaSets rejected with NodeAffinity after a
    // restart kept a ready sandbox and their containers.
    const actions = orphanedPods(
      input({
        runtimeUids: ["rejected-running", "rejected-dead", "admitted"],
        inSources: () => true,
        admitted: (u) => u === "admitted",
        running: (u) => u !== "rejected-dead",
      }),
    );
    expect([...actions]).toEqual([["rejected-running", "kill"]]);
  });

  it("leaves pods alone while a sync of theirs is in flight", () => {
    const actions = orphanedPods(
      input({
        runtimeUids: ["a", "b"],
        podDirUids: ["a"],
        syncing: (u) => u === "a",
        inSources: (u) => u === "b",
        running: () => true,
      }),
    );
    expect([...actions]).toEqual([["b", "kill"]]);
  });
});
