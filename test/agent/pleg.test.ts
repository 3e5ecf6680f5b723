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

  it("diffs pods and containers that come and go in the same relist, previous ones first", async () => {
    const state = {
      sandboxes: [sandbox("s1", "u1", "ready"), sandbox("s2", "u2", "ready")],
      containers: [container("c1", "u1", "running"), container("c2", "u2", "running")],
    };
    const events: PodLifecycleEvent[] = [];
    const pleg = new Pleg({
      runtime: listingRuntime(state),
      clock: new ManualClock(),
      onEvents: (e) => events.push(...e),
    });
    await pleg.relist();
    events.length = 0;

    // u1 is gone, u2's container was replaced, u3 is new.
    state.sandboxes = [sandbox("s2", "u2", "ready"), sandbox("s3", "u3", "ready")];
    state.containers = [container("c2b", "u2", "created"), container("c3", "u3", "running")];
    await pleg.relist();
    expect(events.map((e) => `${e.podUid}/${e.containerId}:${e.type}`)).toEqual([
      "u1/s1:ContainerDied",
      "u1/s1:ContainerRemoved",
      "u1/c1:ContainerDied",
      "u1/c1:ContainerRemoved",
      "u2/c2:ContainerDied",
      "u2/c2:ContainerRemoved",
      "u2/c2b:ContainerChanged",
      "u3/s3:ContainerStarted",
      "u3/c3:ContainerStarted",
    ]);
    expect(pleg.podStatus("u1")).toBeUndefined();
    expect(pleg.podStatus("u2")?.containers.map((c) => c.id)).toEqual(["c2b"]);
    expect(pleg.podStatus("u3")?.containers.map((c) => c.id)).toEqual(["c3"]);
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

/** listingRuntime that counts its calls. */
function countingRuntime(state: { sandboxes: PodSandbox[]; containers: Container[] }) {
  const inner = listingRuntime(state);
  const calls = { count: 0 };
  const runtime = new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.count++;
        return value.apply(target, args);
      };
    },
  });
  return { runtime, calls };
}

describe("Pleg.statusForSync (the pod cache a sync starts from)", () => {
  const newPleg = (state: { sandboxes: PodSandbox[]; containers: Container[] }) => {
    const { runtime, calls } = countingRuntime(state);
    const pleg = new Pleg({ runtime, clock: new ManualClock(), onEvents: () => undefined });
    return { pleg, calls };
  };

  it("reads the runtime unless the last sync of the pod settled the cache, once per settle", async () => {
    const state = {
      sandboxes: [sandbox("s1", "u1", "ready")],
      containers: [container("c1", "u1", "running")],
    };
    const { pleg, calls } = newPleg(state);
    await pleg.relist();
    calls.count = 0;
    expect((await pleg.statusForSync("u1"))?.containers.map((c) => c.id)).toEqual(["c1"]);
    expect(calls.count).toBeGreaterThan(0);

    pleg.settle("u1");
    calls.count = 0;
    expect((await pleg.statusForSync("u1"))?.containers.map((c) => c.id)).toEqual(["c1"]);
    expect(calls.count).toBe(0);
    // The settle was used up: that sync may have changed the pod.
    await pleg.statusForSync("u1");
    expect(calls.count).toBeGreaterThan(0);
  });

  it("a fresh read clears the settle (the pod is being changed)", async () => {
    const state = { sandboxes: [sandbox("s1", "u1", "ready")], containers: [] as Container[] };
    const { pleg, calls } = newPleg(state);
    pleg.settle("u1");
    await pleg.refresh("u1");
    calls.count = 0;
    await pleg.statusForSync("u1");
    expect(calls.count).toBeGreaterThan(0);
  });

  it("starts a newly announced pod from nothing after a relist, but only if no relist or read saw it", async () => {
    const state = { sandboxes: [sandbox("s1", "u1", "ready")], containers: [] as Container[] };
    const { pleg, calls } = newPleg(state);
    // Before the first relist the runtime may hold a restarted agent's pods: read.
    expect(await pleg.statusForSync("u2", true)).toBeUndefined();
    expect(calls.count).toBeGreaterThan(0);
    await pleg.relist();
    calls.count = 0;
    expect(await pleg.statusForSync("u3", true)).toBeUndefined();
    expect(calls.count).toBe(0);
    // u1 has a sandbox (an agent restart adopting it): read even though a source calls it new.
    expect((await pleg.statusForSync("u1", true))?.sandboxes.map((s) => s.id)).toEqual(["s1"]);
    expect(calls.count).toBeGreaterThan(0);
  });

  it("an older relist read that finishes last does not replace a newer read of the pod", async () => {
    const state = { sandboxes: [sandbox("s1", "u1", "ready")], containers: [] as Container[] };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inner = listingRuntime(state);
    let holdStatus = true;
    const runtime = {
      ...inner,
      listPodSandboxes: inner.listPodSandboxes,
      listContainers: inner.listContainers,
      containerStatus: inner.containerStatus,
      podSandboxStatus: async (id: string) => {
        if (holdStatus) {
          holdStatus = false;
          await gate;
        }
        return inner.podSandboxStatus(id);
      },
    } as Runtime;
    const pleg = new Pleg({ runtime, clock: new ManualClock(), onEvents: () => undefined });
    // The relist lists (sandbox only) and waits in its status read…
    const relist = pleg.relist();
    await new Promise((resolve) => setImmediate(resolve));
    // …meanwhile a sync starts a container and reads the pod again.
    state.containers.push(container("c1", "u1", "running"));
    expect((await pleg.refresh("u1"))?.containers.map((c) => c.id)).toEqual(["c1"]);
    release();
    await relist;
    expect(pleg.podStatus("u1")?.containers.map((c) => c.id)).toEqual(["c1"]);
  });

  it("does not read again a changed pod whose cached status already shows what the relist found", async () => {
    const state = {
      sandboxes: [sandbox("s1", "u1", "ready")],
      containers: [container("c1", "u1", "running")],
    };
    const events: PodLifecycleEvent[] = [];
    const { runtime, calls } = countingRuntime(state);
    const pleg = new Pleg({ runtime, clock: new ManualClock(), onEvents: (e) => events.push(...e) });
    await pleg.refresh("u1"); // a sync read the pod after starting it
    calls.count = 0;
    await pleg.relist();
    expect(calls.count).toBe(2); // the two lists only
    expect(events.map((e) => `${e.containerId}:${e.type}`)).toEqual([
      "s1:ContainerStarted",
      "c1:ContainerStarted",
    ]);
    state.containers[0] = container("c1", "u1", "exited");
    calls.count = 0;
    await pleg.relist();
    expect(calls.count).toBe(4); // and the pod's statuses, now that it differs
    expect(pleg.podStatus("u1")?.containers[0]?.state).toBe("exited");
  });
});
