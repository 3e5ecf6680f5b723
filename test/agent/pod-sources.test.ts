import { describe, expect, it } from "vitest";
import { PodSources, type PodUpdate } from "../../src/agent/pod-sources.ts";
import type { Pod } from "../../src/api/schema/core/pod-types.ts";

const pod = (uid: string, image = "busybox", extra: Partial<Pod> = {}): Pod =>
  ({
    metadata: { uid, name: `p-${uid}`, namespace: "ns", resourceVersion: "1" },
    spec: { containers: [{ name: "app", image }] },
    ...extra,
  }) as Pod;

function recording(sources: Array<"api" | "file">) {
  const config = new PodSources(sources);
  const seen: string[] = [];
  config.onUpdate((u: PodUpdate) => seen.push(`${u.op}:${u.source}:${u.pod.metadata?.uid}`));
  return { config, seen };
}

describe("PodSources", () => {
  it("diffs a source's full sets into adds, updates and removes", () => {
    const { config, seen } = recording(["api"]);
    config.replace("api", [pod("a"), pod("b")]);
    config.replace("api", [pod("a", "busybox:2"), pod("c")]);
    expect(seen).toEqual(["add:api:a", "add:api:b", "remove:api:b", "update:api:a", "add:api:c"]);
    expect(
      config
        .pods()
        .map((p) => p.metadata?.uid)
        .sort(),
    ).toEqual(["a", "c"]);
  });

  it("ignores status-only and resourceVersion-only changes", () => {
    const { config, seen } = recording(["api"]);
    config.replace("api", [pod("a")]);
    const changed = pod("a", "busybox", { status: { phase: "Running" } } as Partial<Pod>);
    changed.metadata = { ...changed.metadata, resourceVersion: "9" };
    config.apply("api", "upsert", changed);
    expect(seen).toEqual(["add:api:a"]);
    config.apply(
      "api",
      "upsert",
      pod("a", "busybox", {
        metadata: { uid: "a", name: "p-a", namespace: "ns", deletionTimestamp: "2026-01-01T00:00:00Z" },
      } as Partial<Pod>),
    );
    expect(seen).toEqual(["add:api:a", "update:api:a"]);
  });

  it("is ready only when every source delivered its first full set", () => {
    const { config } = recording(["api", "file"]);
    expect(config.allSourcesReady()).toBe(false);
    config.replace("file", []);
    expect(config.allSourcesReady()).toBe(false);
    config.replace("api", [pod("a")]);
    expect(config.allSourcesReady()).toBe(true);
    expect(config.sourceOf("a")).toBe("api");
  });
});
