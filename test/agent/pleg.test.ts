import { describe, expect, it } from "vitest";
import { generateEvents, Pleg, type PlegState, type PodLifecycleEvent } from "../../src/agent/pleg.ts";
import { RuntimeError } from "../../src/runtime/errors.ts";
import { type Container, type PodSandbox, type Runtime, RuntimeLabels } from "../../src/runtime/types.ts";
import { ManualClock } from "../support/manual-clock.ts";

describe("generateEvents (upstream's table)", () => {
  it.each<[PlegState, PlegState, string[]]>([
    ["non-existent", "created", ["ContainerChanged"]],
    ["non-existent", "running", ["ContainerStarted"]],
    ["created", "running", ["ContainerStarted"]],
    ["running", "exited", ["ContainerDied"]],
    ["running", "non-existent", ["ContainerDied", "ContainerRemoved"]],
    ["exited", "non-existent", ["ContainerRemoved"]],
    ["running", "unknown", ["ContainerChanged"]],
    ["running", "running", []],
    ["exited", "exited", []],
  ])("%s → %s", (old, next, expected) => {
    expect(generateEvents("uid", "c1", old, next).map((e) => e.type)).toEqual(expected);
  });
});

/** Only the listing and status calls the PLEG makes; anything else would throw. */
function listingRuntime(state: { sandboxes: PodSandbox[]; containers: Container[] }): Runtime {
  return {
    listPodSandboxes: async () => state.sandboxes,
    listContainers: async () => state.containers,
    podSandboxStatus: async (id: string) => {
      const s = state.sandboxes.find((x) => x.id === id);
      if (!s) throw new RuntimeError("RUNTIME_NOT_FOUND", `sandbox ${id} not found`);
      return { ...s, ip: "10.0.0.2", additionalIps: [], hostNetwork: false };
    },
    containerStatus: async (id: string) => {
      const c = state.containers.find((x) => x.id === id);
      if (!c) throw new RuntimeError("RUNTIME_NOT_FOUND", `container ${id} not found`);
      return { ...c, startedAt: 1, finishedAt: 0, exitCode: 0, reason: "", message: "", logPath: "" };
    },
  } as unknown as Runtime;
}

const sandbox = (id: string, uid: string, state: "ready" | "notready"): PodSandbox => ({
  id,
  metadata: { name: "web", namespace: "ns", uid, attempt: 0 },
  state,
  createdAt: 1,
  labels: { [RuntimeLabels.managedBy]: "true" },
  annotations: {},
});

const container = (id: string, uid: string, state: Container["state"]): Container => ({
  id,
  podSandboxId: "s1",
  metadata: { name: "app", attempt: 0 },
  image: "busybox",
  imageRef: "sha256:1",
  state,
  createdAt: 2,
  labels: { [RuntimeLabels.podUid]: uid, [RuntimeLabels.managedBy]: "true" },
  annotations: {},
});

describe("Pleg.relist", () => {
  it("emits events only for changes and keeps a status cache of pods that changed", async () => {
    const state = {
      sandboxes: [sandbox("s1", "u1", "ready")],
      containers: [container("c1", "u1", "running")],
    };
    const events: PodLifecycleEvent[] = [];
    const pleg = new Pleg({
      runtime: listingRuntime(state),
      clock: new ManualClock(),
      onEvents: (e) => events.push(...e),
    });

    await pleg.relist();
    expect(events.map((e) => `${e.containerId}:${e.type}`)).toEqual([
      "s1:ContainerStarted",
      "c1:ContainerStarted",
    ]);
    expect(pleg.podStatus("u1")?.containers.map((c) => c.id)).toEqual(["c1"]);
    expect(pleg.podStatus("u1")?.sandboxes[0]?.ip).toBe("10.0.0.2");

    events.length = 0;
    await pleg.relist();
    expect(events).toEqual([]);

    state.containers = [container("c1", "u1", "exited")];
    await pleg.relist();
    expect(events.map((e) => `${e.containerId}:${e.type}`)).toEqual(["c1:ContainerDied"]);
    expect(pleg.podStatus("u1")?.containers[0]?.state).toBe("exited");

    events.length = 0;
    state.sandboxes = [];
    state.containers = [];
    await pleg.relist();
    expect(events.map((e) => `${e.containerId}:${e.type}`)).toEqual([
      "s1:ContainerDied",
      "s1:ContainerRemoved",
      "c1:ContainerRemoved",
    ]);
    expect(pleg.podStatus("u1")).toBeUndefined();
  });

  it("reports itself unhealthy when relists stop", async () => {
    const clock = new ManualClock();
    const pleg = new Pleg({
      runtime: listingRuntime({ sandboxes: [], containers: [] }),
      clock,
      onEvents: () => {},
    });
    expect(pleg.healthy().ok).toBe(false);
    await pleg.relist();
    expect(pleg.healthy()).toEqual({ ok: true, message: "" });
    await clock.advance(3 * 60_000 + 1000);
    expect(pleg.healthy().ok).toBe(false);
    expect(pleg.healthy().message).toContain("PLEG is not healthy: pleg was last seen active 181s ago");
  });
});
