import { describe, expect, it } from "vitest";
import { defaultConfig, finishConfig } from "../../../src/agent/config.ts";
import type { MachineInfo } from "../../../src/agent/node/machine.ts";
import {
  capacityAndAllocatable,
  initialNode,
  type NodeHealth,
  nodeStatus,
  nodeStatusChanged,
} from "../../../src/agent/node/node-status.ts";

const machine: MachineInfo = {
  hostname: "vm",
  machineID: "m1",
  systemUUID: "s1",
  bootID: "b1",
  kernelVersion: "6.18.44",
  osImage: "Debian GNU/Linux 12 (bookworm)",
  operatingSystem: "linux",
  architecture: "amd64",
  cpuCores: 2,
  memoryBytes: 24 * 2 ** 30,
  ephemeralStorageBytes: 100 * 2 ** 30,
  internalIPs: ["192.0.2.2"],
};

const healthy: NodeHealth = {
  runtimeReady: true,
  runtimeMessage: "",
  runtimeVersion: "containerd://1.6.20",
  networkReady: true,
  networkMessage: "",
  pleg: { ok: true, message: "" },
};

const config = finishConfig({
  ...defaultConfig(),
  nodeName: "worker-1",
  systemReserved: { cpu: "500m", memory: "1Gi" },
});

describe("node object and status", () => {
  it("registers with upstream's labels, podCIDR and taints", () => {
    const node = initialNode(
      { ...config, podCIDR: "10.244.1.0/24", registerWithTaints: [{ key: "k", effect: "NoSchedule" }] },
      machine,
    );
    expect(node.metadata?.labels).toMatchObject({
      "kubernetes.io/hostname": "worker-1",
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
    });
    expect(node.spec).toEqual({
      podCIDR: "10.244.1.0/24",
      podCIDRs: ["10.244.1.0/24"],
      taints: [{ key: "k", effect: "NoSchedule" }],
    });
  });

  it("reports capacity and allocatable minus reserved and the hard eviction threshold", () => {
    const { capacity, allocatable } = capacityAndAllocatable(config, machine);
    expect(capacity).toMatchObject({ cpu: "2", memory: `${24 * 1024 * 1024}Ki`, pods: "110" });
    expect(allocatable.cpu).toBe("1500m");
    expect(allocatable.memory).toBe(`${(24 * 1024 - 1024 - 100) * 1024}Ki`);
  });

  it("is Ready with upstream's reasons when healthy, NotReady naming the runtime when it is down", () => {
    const ok = nodeStatus({
      config,
      machine,
      health: healthy,
      kubeletVersion: "v1.32.0",
      previous: undefined,
      now: 0,
    });
    const byType = Object.fromEntries((ok.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({
      status: "True",
      reason: "KubeletReady",
      message: "kubelet is posting ready status",
    });
    expect(byType.MemoryPressure).toMatchObject({ status: "False", reason: "KubeletHasSufficientMemory" });
    expect(byType.DiskPressure).toMatchObject({ status: "False", reason: "KubeletHasNoDiskPressure" });
    expect(byType.PIDPressure).toMatchObject({ status: "False", reason: "KubeletHasSufficientPID" });
    expect(ok.nodeInfo).toMatchObject({
      containerRuntimeVersion: "containerd://1.6.20",
      kubeletVersion: "v1.32.0",
      bootID: "b1",
    });
    expect(ok.addresses).toEqual([
      { type: "InternalIP", address: "192.0.2.2" },
      { type: "Hostname", address: "vm" },
    ]);
    expect(ok.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });

    const down = nodeStatus({
      config,
      machine,
      health: {
        ...healthy,
        runtimeReady: false,
        runtimeMessage: "connect ENOENT /run/containerd/containerd.sock",
      },
      kubeletVersion: "v1.32.0",
      previous: ok,
      now: 60_000,
    });
    const ready = down.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({
      status: "False",
      reason: "KubeletNotReady",
      message: "container runtime is down: connect ENOENT /run/containerd/containerd.sock",
      lastTransitionTime: "1970-01-01T00:01:00Z",
    });
    expect(down.conditions?.find((c) => c.type === "MemoryPressure")?.lastTransitionTime).toBe(
      "1970-01-01T00:00:00Z",
    );
  });

  it("reports DiskPressure under the nodefs threshold", () => {
    const status = nodeStatus({
      config,
      machine,
      health: { ...healthy, nodefsAvailableBytes: 1, nodefsCapacityBytes: 100 * 2 ** 30 },
      kubeletVersion: "v1.32.0",
      previous: undefined,
      now: 0,
    });
    expect(status.conditions?.find((c) => c.type === "DiskPressure")).toMatchObject({
      status: "True",
      reason: "KubeletHasDiskPressure",
    });
    expect(status.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("counts a status as changed only when more than heartbeats moved", () => {
    const a = nodeStatus({
      config,
      machine,
      health: healthy,
      kubeletVersion: "v1.32.0",
      previous: undefined,
      now: 0,
    });
    const b = nodeStatus({
      config,
      machine,
      health: healthy,
      kubeletVersion: "v1.32.0",
      previous: a,
      now: 10_000,
    });
    expect(nodeStatusChanged(a, b)).toBe(false);
    const c = nodeStatus({
      config,
      machine,
      health: { ...healthy, pleg: { ok: false, message: "PLEG is not healthy" } },
      kubeletVersion: "v1.32.0",
      previous: b,
      now: 20_000,
    });
    expect(nodeStatusChanged(b, c)).toBe(true);
  });
});
