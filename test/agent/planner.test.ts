import { describe, expect, it } from "vitest";
import { computePodActions, containerSpecHash, type PlannedPod } from "../../src/agent/planner.ts";
import type { PodRuntimeStatus } from "../../src/agent/pleg.ts";
import type { Container } from "../../src/api/schema/core/container.ts";
import { type ContainerStatus, type PodSandboxStatus, RuntimeLabels } from "../../src/runtime/types.ts";

const app: Container = { name: "app", image: "busybox" } as Container;
const side: Container = { name: "side", image: "busybox" } as Container;
const init1: Container = { name: "init1", image: "busybox" } as Container;
const init2: Container = { name: "init2", image: "busybox" } as Container;

function pod(spec: Partial<NonNullable<PlannedPod["spec"]>>, deleting = false): PlannedPod {
  return {
    metadata: { uid: "u1", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { containers: [app], restartPolicy: "Always", ...spec },
  };
}

function sandbox(state: "ready" | "notready", attempt = 0, ip = "10.0.0.5"): PodSandboxStatus {
  return {
    id: `sb${attempt}`,
    metadata: { name: "p", namespace: "ns", uid: "u1", attempt },
    state,
    createdAt: attempt + 1,
    labels: {},
    annotations: {},
    ip,
    additionalIps: [],
    hostNetwork: false,
  };
}

function container(
  spec: Container,
  state: ContainerStatus["state"],
  exitCode = 0,
  attempt = 0,
  hash = containerSpecHash(spec),
): ContainerStatus {
  return {
    id: `${spec.name}-${attempt}`,
    podSandboxId: "sb0",
    metadata: { name: spec.name, attempt },
    image: "busybox",
    imageRef: "sha256:1",
    state,
    createdAt: 10 + attempt,
    labels: { [RuntimeLabels.specHash]: hash },
    annotations: {},
    startedAt: 1,
    finishedAt: state === "exited" ? 2 : 0,
    exitCode,
    reason: "",
    message: "",
    logPath: "",
  };
}

function runtime(sandboxes: PodSandboxStatus[], containers: ContainerStatus[]): PodRuntimeStatus {
  return { uid: "u1", name: "p", namespace: "ns", sandboxes, containers, observedAt: 0 };
}

/** A compact rendering of a plan for table assertions. */
function summary(input: Parameters<typeof computePodActions>[0]): string {
  const a = computePodActions(input);
  const parts: string[] = [];
  if (a.killPod) parts.push("killPod");
  if (a.createSandbox) parts.push(`createSandbox#${a.attempt}`);
  if (a.nextInitContainer !== undefined)
    parts.push(`init:${input.pod.spec?.initContainers?.[a.nextInitContainer]?.name}`);
  for (const i of a.containersToStart) parts.push(`start:${input.pod.spec?.containers?.[i]?.name}`);
  for (const k of a.containersToKill) parts.push(`kill:${k.name}(${k.reason})`);
  return parts.join(" ") || "nothing";
}

describe("computePodActions", () => {
  it.each<[string, Parameters<typeof computePodActions>[0], string]>([
    [
      "new pod: sandbox then every container",
      { pod: pod({ containers: [app, side] }), runtime: undefined },
      "createSandbox#0 start:app start:side",
    ],
    [
      "new pod with init containers: the first init container only",
      { pod: pod({ initContainers: [init1, init2] }), runtime: undefined },
      "createSandbox#0 init:init1",
    ],
    [
      "all running: nothing to do",
      { pod: pod({}), runtime: runtime([sandbox("ready")], [container(app, "running")]) },
      "nothing",
    ],
    [
      "sandbox died: kill and recreate with the next attempt",
      { pod: pod({}), runtime: runtime([sandbox("notready")], [container(app, "exited", 137)]) },
      "killPod createSandbox#1 start:app",
    ],
    [
      "sandbox without IP is recreated",
      { pod: pod({}), runtime: runtime([sandbox("ready", 0, "")], [container(app, "running")]) },
      "killPod createSandbox#1 start:app",
    ],
    [
      "Always: exited 0 restarts",
      { pod: pod({}), runtime: runtime([sandbox("ready")], [container(app, "exited", 0)]) },
      "start:app",
    ],
    [
      "OnFailure: exited 1 restarts",
      {
        pod: pod({ restartPolicy: "OnFailure" }),
        runtime: runtime([sandbox("ready")], [container(app, "exited", 1)]),
      },
      "start:app",
    ],
    [
      "OnFailure: exited 0 is done, the pod is finished",
      {
        pod: pod({ restartPolicy: "OnFailure" }),
        runtime: runtime([sandbox("ready")], [container(app, "exited", 0)]),
      },
      "killPod",
    ],
    [
      "Never: exited 1 stays dead",
      {
        pod: pod({ restartPolicy: "Never" }),
        runtime: runtime([sandbox("ready")], [container(app, "exited", 1)]),
      },
      "killPod",
    ],
    [
      "Never: a dead sandbox of a pod that ran is not recreated",
      {
        pod: pod({ restartPolicy: "Never" }),
        runtime: runtime([sandbox("notready")], [container(app, "exited", 0)]),
      },
      "killPod",
    ],
    [
      "one of two exited under Always: only it restarts",
      {
        pod: pod({ containers: [app, side] }),
        runtime: runtime([sandbox("ready")], [container(app, "running"), container(side, "exited", 2)]),
      },
      "start:side",
    ],
    [
      "spec changed: kill and start again",
      { pod: pod({}), runtime: runtime([sandbox("ready")], [container(app, "running", 0, 0, "oldhash")]) },
      "start:app kill:app(SpecChanged)",
    ],
    [
      "liveness failed: kill and start again",
      {
        pod: pod({}),
        runtime: runtime([sandbox("ready")], [container(app, "running")]),
        unhealthy: new Map([["app", "Container app failed liveness probe, will be restarted"]]),
      },
      "start:app kill:app(Unhealthy)",
    ],
    [
      "a running container no longer in the spec is killed",
      {
        pod: pod({}),
        runtime: runtime([sandbox("ready")], [container(app, "running"), container(side, "running")]),
      },
      "kill:side(NotInSpec)",
    ],
    [
      "init1 done, init2 next",
      {
        pod: pod({ initContainers: [init1, init2] }),
        runtime: runtime([sandbox("ready")], [container(init1, "exited", 0)]),
      },
      "init:init2",
    ],
    [
      "init still running: wait",
      {
        pod: pod({ initContainers: [init1, init2] }),
        runtime: runtime([sandbox("ready")], [container(init1, "running")]),
      },
      "nothing",
    ],
    [
      "init failed under Always: retry it",
      {
        pod: pod({ initContainers: [init1] }),
        runtime: runtime([sandbox("ready")], [container(init1, "exited", 1)]),
      },
      "init:init1",
    ],
    [
      "init failed under Never: the pod fails",
      {
        pod: pod({ initContainers: [init1], restartPolicy: "Never" }),
        runtime: runtime([sandbox("ready")], [container(init1, "exited", 1)]),
      },
      "killPod",
    ],
    [
      "inits done: app containers start",
      {
        pod: pod({ initContainers: [init1, init2] }),
        runtime: runtime([sandbox("ready")], [container(init1, "exited", 0), container(init2, "exited", 0)]),
      },
      "start:app",
    ],
    [
      "deleting: kill everything",
      { pod: pod({}, true), runtime: runtime([sandbox("ready")], [container(app, "running")]) },
      "killPod",
    ],
    [
      "newest attempt decides",
      {
        pod: pod({}),
        runtime: runtime(
          [sandbox("ready")],
          [container(app, "exited", 1, 0), container(app, "running", 0, 1)],
        ),
      },
      "nothing",
    ],
  ])("%s", (_name, input, expected) => {
    expect(summary(input)).toBe(expected);
  });

  it("hashes only the container spec, independent of key order", () => {
    const a = { name: "app", image: "busybox", env: [{ name: "A", value: "1" }] } as Container;
    const b = { env: [{ value: "1", name: "A" }], image: "busybox", name: "app" } as Container;
    expect(containerSpecHash(a)).toBe(containerSpecHash(b));
    expect(containerSpecHash(a)).not.toBe(containerSpecHash({ ...a, image: "busybox:2" }));
  });
});
