import { describe, expect, it } from "vitest";
import type { PodRuntimeStatus } from "../../src/agent/pleg.ts";
import { generatePodStatus, qosClass } from "../../src/agent/pod-status.ts";
import type { Container } from "../../src/api/schema/core/container.ts";
import type { Pod } from "../../src/api/schema/core/pod-types.ts";
import type { ContainerStatus, PodSandboxStatus } from "../../src/runtime/types.ts";

const NOW = Date.parse("2026-11-22T10:00:00Z");

function pod(
  containers: Partial<Container>[],
  extra: Partial<NonNullable<Pod["spec"]>> = {},
  status?: Pod["status"],
): Pod {
  return {
    metadata: { name: "web", namespace: "ns", uid: "u1" },
    spec: { containers: containers as Container[], restartPolicy: "Always", ...extra },
    ...(status ? { status } : {}),
  } as Pod;
}

const sandbox: PodSandboxStatus = {
  id: "sb",
  metadata: { name: "web", namespace: "ns", uid: "u1", attempt: 0 },
  state: "ready",
  createdAt: NOW - 5000,
  labels: {},
  annotations: {},
  ip: "10.89.0.7",
  additionalIps: [],
  hostNetwork: false,
};

function c(
  name: string,
  state: ContainerStatus["state"],
  extra: Partial<ContainerStatus> = {},
): ContainerStatus {
  return {
    id: `${name}-${extra.metadata?.attempt ?? 0}`,
    podSandboxId: "sb",
    metadata: { name, attempt: 0 },
    image: "busybox",
    imageRef: "sha256:abc",
    state,
    createdAt: NOW - 4000,
    labels: {},
    annotations: {},
    startedAt: NOW - 3000,
    finishedAt: state === "exited" ? NOW - 1000 : 0,
    exitCode: 0,
    reason: "",
    message: "",
    logPath: "",
    ...extra,
  };
}

function runtime(containers: ContainerStatus[]): PodRuntimeStatus {
  return { uid: "u1", name: "web", namespace: "ns", sandboxes: [sandbox], containers, observedAt: NOW };
}

const base = { runtimeName: "containerd", hostIPs: ["192.0.2.2"], now: NOW };
const cond = (status: ReturnType<typeof generatePodStatus>, type: string) =>
  status.conditions?.find((x) => x.type === type);

describe("generatePodStatus", () => {
  it("a fresh pod with nothing in the runtime is Pending with ContainerCreating", () => {
    const status = generatePodStatus({
      ...base,
      pod: pod([{ name: "app", image: "busybox" }]),
      runtime: undefined,
    });
    expect(status.phase).toBe("Pending");
    expect(status.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: "ContainerCreating" } });
    expect(cond(status, "Ready")).toMatchObject({
      status: "False",
      reason: "ContainersNotReady",
      message: "containers with unready status: [app]",
    });
    expect(cond(status, "PodReadyToStartContainers")?.status).toBe("False");
    expect(status.podIP).toBeUndefined();
    expect(status.qosClass).toBe("BestEffort");
  });

  it("a running pod is Running and Ready with IPs, containerID scheme and start time", () => {
    const status = generatePodStatus({
      ...base,
      pod: pod([{ name: "app", image: "busybox" }]),
      runtime: runtime([c("app", "running")]),
    });
    expect(status.phase).toBe("Running");
    expect(status.podIP).toBe("10.89.0.7");
    expect(status.podIPs).toEqual([{ ip: "10.89.0.7" }]);
    expect(status.hostIP).toBe("192.0.2.2");
    expect(status.containerStatuses?.[0]).toMatchObject({
      name: "app",
      ready: true,
      started: true,
      restartCount: 0,
      imageID: "sha256:abc",
      containerID: "containerd://app-0",
      state: { running: { startedAt: "2026-11-22T09:59:57Z" } },
    });
    expect(cond(status, "Ready")?.status).toBe("True");
    expect(cond(status, "ContainersReady")?.status).toBe("True");
    expect(status.startTime).toBe("2026-11-22T10:00:00Z");
  });

  it("a container with a readiness probe is not ready until the probe says so", () => {
    const p = pod([
      { name: "app", image: "busybox", readinessProbe: { tcpSocket: { port: 80 } } } as Partial<Container>,
    ]);
    const notYet = generatePodStatus({ ...base, pod: p, runtime: runtime([c("app", "running")]) });
    expect(notYet.containerStatuses?.[0]?.ready).toBe(false);
    const ready = generatePodStatus({
      ...base,
      pod: p,
      runtime: runtime([c("app", "running")]),
      readiness: new Map([["app", true]]),
    });
    expect(ready.containerStatuses?.[0]?.ready).toBe(true);
  });

  it("CrashLoopBackOff: waiting with the back-off message, the last death in lastState, restartCount from attempts", () => {
    const dead = c("app", "exited", {
      id: "app-2",
      metadata: { name: "app", attempt: 2 },
      exitCode: 1,
      reason: "Error",
    });
    const status = generatePodStatus({
      ...base,
      pod: pod([{ name: "app", image: "busybox" }]),
      runtime: runtime([dead]),
      waiting: new Map([
        [
          "app",
          {
            reason: "CrashLoopBackOff",
            message: "back-off 20s restarting failed container=app pod=web_ns(u1)",
          },
        ],
      ]),
    });
    expect(status.phase).toBe("Running");
    expect(status.containerStatuses?.[0]).toMatchObject({
      restartCount: 2,
      state: { waiting: { reason: "CrashLoopBackOff" } },
      lastState: { terminated: { exitCode: 1, reason: "Error", containerID: "containerd://app-2" } },
    });
  });

  it.each<[string, string, number, string]>([
    ["Never", "exited 0", 0, "Succeeded"],
    ["Never", "exited 1", 1, "Failed"],
    ["OnFailure", "exited 0", 0, "Succeeded"],
    ["Always", "exited 0", 0, "Running"],
  ])("restartPolicy %s, container %s → %s", (policy, _label, exitCode, phase) => {
    const status = generatePodStatus({
      ...base,
      pod: pod([{ name: "app", image: "busybox" }], { restartPolicy: policy as "Never" }),
      runtime: runtime([c("app", "exited", { exitCode })]),
    });
    expect(status.phase).toBe(phase);
    expect(status.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode,
      reason: exitCode === 0 ? "Completed" : "Error",
    });
    if (phase === "Succeeded" || phase === "Failed")
      expect(cond(status, "Ready")?.reason).toBe("PodCompleted");
  });

  it("init containers: Pending with PodInitializing until they all succeeded", () => {
    const p = pod([{ name: "app", image: "busybox" }], {
      initContainers: [{ name: "init", image: "busybox" } as Container],
    });
    const running = generatePodStatus({ ...base, pod: p, runtime: runtime([c("init", "running")]) });
    expect(running.phase).toBe("Pending");
    expect(running.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: "PodInitializing" } });
    expect(cond(running, "Initialized")).toMatchObject({
      status: "False",
      reason: "ContainersNotInitialized",
      message: "containers with incomplete status: [init]",
    });
    const done = generatePodStatus({
      ...base,
      pod: p,
      runtime: runtime([c("init", "exited"), c("app", "running")]),
    });
    expect(done.phase).toBe("Running");
    expect(cond(done, "Initialized")?.status).toBe("True");
    expect(done.initContainerStatuses?.[0]?.state?.terminated?.reason).toBe("Completed");
  });

  it("an init container that failed under restartPolicy Never fails the pod", () => {
    const p = pod([{ name: "app", image: "busybox" }], {
      restartPolicy: "Never",
      initContainers: [{ name: "init", image: "busybox" } as Container],
    });
    const status = generatePodStatus({
      ...base,
      pod: p,
      runtime: runtime([c("init", "exited", { exitCode: 3 })]),
    });
    expect(status.phase).toBe("Failed");
  });

  it("keeps lastTransitionTime while a condition holds, and PodScheduled from the scheduler", () => {
    const earlier = "2026-11-22T09:00:00Z";
    const p = pod(
      [{ name: "app", image: "busybox" }],
      {},
      {
        startTime: earlier,
        conditions: [
          { type: "Ready", status: "True", lastTransitionTime: earlier },
          { type: "PodScheduled", status: "True", lastTransitionTime: "2026-11-22T08:00:00Z" },
        ],
      },
    );
    const status = generatePodStatus({ ...base, pod: p, runtime: runtime([c("app", "running")]) });
    expect(cond(status, "Ready")?.lastTransitionTime).toBe(earlier);
    expect(cond(status, "PodScheduled")?.lastTransitionTime).toBe("2026-11-22T08:00:00Z");
    expect(status.startTime).toBe(earlier);
  });
});

describe("qosClass", () => {
  const res = (requests?: Record<string, string>, limits?: Record<string, string>) =>
    pod([
      {
        name: "a",
        image: "x",
        resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
      },
    ]);
  it.each([
    ["BestEffort", res()],
    ["Guaranteed", res({ cpu: "100m", memory: "64Mi" }, { cpu: "0.1", memory: "64Mi" })],
    ["Guaranteed", res(undefined, { cpu: "1", memory: "1Gi" })],
    ["Burstable", res({ cpu: "100m" })],
    ["Burstable", res({ cpu: "100m", memory: "64Mi" }, { cpu: "200m", memory: "64Mi" })],
  ])("%s", (expected, p) => {
    expect(qosClass(p)).toBe(expected);
  });
});
