// Unit tests of the agent's metrics: kubelet's names and labels in the exposition, the runtime decorator's
// counting, the pod worker/pod start hooks, and the probe counters' clean-up.
import { describe, expect, it } from "vitest";
import { instrumentRuntime } from "../../../src/agent/instrumented-runtime.ts";
import { AgentMetrics, podIsRunning, podWorkerOperation } from "../../../src/agent/metrics.ts";
import type { PodRuntimeStatus } from "../../../src/agent/pleg.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { RuntimeError } from "../../../src/runtime/errors.ts";
import type { Runtime } from "../../../src/runtime/types.ts";

function runtimeStatus(running: string[], sandboxReady = true): PodRuntimeStatus {
  return {
    uid: "u1",
    name: "p",
    namespace: "ns",
    observedAt: 0,
    sandboxes: [{ state: sandboxReady ? "ready" : "notready" } as PodRuntimeStatus["sandboxes"][number]],
    containers: running.map(
      (name) =>
        ({ metadata: { name, attempt: 0 }, state: "running" }) as PodRuntimeStatus["containers"][number],
    ),
  };
}

const pod = (containers: string[]): Pod =>
  ({
    metadata: { name: "p", namespace: "ns", uid: "u1" },
    spec: { containers: containers.map((name) => ({ name })) },
  }) as Pod;

describe("agent metrics", () => {
  it("exposes kubelet's names, with the running pods and containers read from the runtime at scrape time", async () => {
    let pods: PodRuntimeStatus[] = [];
    const metrics = new AgentMetrics({ nodeName: "n1", runtimePods: () => pods, processMetrics: false });
    pods = [runtimeStatus(["a", "b"]), runtimeStatus([], false)];
    metrics.observePlegRelist(0.01);
    metrics.observePodWorker("create", 0.2);
    metrics.observePodStart(1.5);
    metrics.runtimeOperation("list_containers", 0.001, false);
    metrics.runtimeOperation("exec_sync", 0.5, true);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kubelet_node_name{node="n1"} 1');
    expect(text).toMatch(/^kubelet_running_pods 1$/m);
    expect(text).toMatch(/^kubelet_running_containers\{container_state="running"\} 2$/m);
    expect(text).toMatch(/^kubelet_running_containers\{container_state="exited"\} 0$/m);
    expect(text).toMatch(/^kubelet_pleg_relist_duration_seconds_count 1$/m);
    expect(text).toMatch(/^kubelet_pod_worker_duration_seconds_count\{operation_type="create"\} 1$/m);
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_bucket\{le="2"\} 1$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_total\{operation_type="exec_sync"\} 1$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_errors_total\{operation_type="exec_sync"\} 1$/m);
    expect(text).not.toMatch(/kubelet_runtime_operations_errors_total\{operation_type="list_containers"\}/);
    expect(text).not.toContain("prober_probe_total");
  });

  it("counts probes per result on the probe registry and forgets a removed pod's series", async () => {
    const metrics = new AgentMetrics({ nodeName: "n1", processMetrics: false });
    const p = pod(["web"]);
    const event = (outcome: "success" | "failure" | "unknown") => ({
      podUid: "u1",
      container: "web",
      type: "readiness" as const,
      result: { outcome },
    });
    metrics.observeProbe(event("success"), p);
    metrics.observeProbe(event("success"), p);
    metrics.observeProbe(event("failure"), p);
    const text = await metrics.probeRegistry.metrics();
    expect(text).toContain(
      'prober_probe_total{probe_type="Readiness",result="successful",container="web",pod="p",namespace="ns",pod_uid="u1"} 2',
    );
    expect(text).toContain('result="failed"');
    metrics.forgetPod("u1");
    expect(await metrics.probeRegistry.metrics()).not.toContain('pod_uid="u1"');
  });

  it("times pod syncs and observes the start of a pod once, from its first sync to running", async () => {
    const metrics = new AgentMetrics({ nodeName: "n1", processMetrics: false });
    let clock = 0;
    let state: "pending" | "running" | "gone" = "pending";
    const sync = metrics.instrumentPodSync<Pod>(
      async () => {
        clock += 500;
      },
      () => state,
      () => clock,
    );
    const signal = new AbortController().signal;
    await sync("u1", pod([]), ["add"], signal);
    state = "running";
    await sync("u1", pod([]), ["pleg"], signal);
    await sync("u1", pod([]), ["update"], signal);
    state = "gone";
    await sync("u1", pod([]), ["remove"], signal);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_count 1$/m);
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_sum 1$/m);
    for (const op of ["create", "sync", "update", "kill"]) {
      expect(text).toMatch(
        new RegExp(`^kubelet_pod_worker_duration_seconds_count\\{operation_type="${op}"\\} 1$`, "m"),
      );
    }
  });

  it.each([
    [true, false, ["add"], "create"],
    [false, true, ["remove"], "kill"],
    [false, false, ["update", "pleg"], "update"],
    [false, false, ["pleg"], "sync"],
  ] as const)("first=%s gone=%s reasons=%j is a %s", (first, gone, reasons, op) => {
    expect(podWorkerOperation(first, gone, reasons)).toBe(op);
  });

  it("says a pod runs when its sandbox is ready and every spec container has a running instance", () => {
    expect(podIsRunning(pod(["a", "b"]), runtimeStatus(["a", "b"]))).toBe(true);
    expect(podIsRunning(pod(["a", "b"]), runtimeStatus(["a"]))).toBe(false);
    expect(podIsRunning(pod(["a"]), runtimeStatus(["a"], false))).toBe(false);
    expect(podIsRunning(pod(["a"]), undefined)).toBe(false);
  });
});

describe("instrumented runtime", () => {
  it("counts and times every call under kubelet's operation names and passes results and errors through", async () => {
    const recorded: Array<[string, boolean]> = [];
    const failure = new RuntimeError("RUNTIME_NOT_FOUND", "no such container");
    const inner = {
      name: "cri",
      endpoint: "unix:///x.sock",
      listContainers: async () => [],
      containerStatus: async () => {
        throw failure;
      },
      close: async () => undefined,
    } as unknown as Runtime;
    const runtime = instrumentRuntime(inner, {
      runtimeOperation: (op, seconds, failed) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        recorded.push([op, failed]);
      },
    });
    expect(runtime.name).toBe("cri");
    expect(runtime.endpoint).toBe("unix:///x.sock");
    expect(await runtime.listContainers()).toEqual([]);
    await expect(runtime.containerStatus("c1")).rejects.toBe(failure);
    expect(recorded).toEqual([
      ["list_containers", false],
      ["container_status", true],
    ]);
  });
});
