import { describe, expect, it } from "vitest";
import {
  containerResources,
  milliCpuToQuota,
  milliCpuToShares,
  oomScoreAdj,
  podMemoryLimit,
} from "../../../src/agent/pod-config/resources.ts";
import type { Container } from "../../../src/api/schema/core/container.ts";
import { container, pod } from "./fixtures.ts";

const GiB = 1024 ** 3;
const capacity = 8 * GiB;

function withResources(requests?: Record<string, string>, limits?: Record<string, string>): Container {
  return container("app", {
    resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
  });
}

describe("cpu math", () => {
  it.each([
    [0, 2],
    [1, 2],
    [2, 2],
    [100, 102],
    [250, 256],
    [1000, 1024],
    [1500, 1536],
    [300000, 262144],
  ])("milliCpuToShares(%i) = %i", (milli, shares) => {
    expect(milliCpuToShares(milli)).toBe(shares);
  });

  it.each([
    [0, 0],
    [1, 1000],
    [10, 1000],
    [100, 10000],
    [250, 25000],
    [1500, 150000],
  ])("milliCpuToQuota(%i) = %i", (milli, quota) => {
    expect(milliCpuToQuota(milli, 100000)).toBe(quota);
  });
});

describe("containerResources", () => {
  it.each([
    [
      "best effort",
      undefined,
      undefined,
      { cpuShares: 2, cpuQuota: 0, memoryLimitBytes: 0, oomScoreAdj: 1000 },
    ],
    [
      "requests only",
      { cpu: "250m", memory: "1Gi" },
      undefined,
      { cpuShares: 256, cpuQuota: 0, memoryLimitBytes: 0, oomScoreAdj: 875 },
    ],
    [
      "limit without request (request defaults to the limit)",
      undefined,
      { cpu: "500m" },
      { cpuShares: 512, cpuQuota: 50000, memoryLimitBytes: 0, oomScoreAdj: 999 },
    ],
    [
      "guaranteed, negative score not allowed",
      { cpu: "1", memory: "256Mi" },
      { cpu: "1", memory: "256Mi" },
      { cpuShares: 1024, cpuQuota: 100000, memoryLimitBytes: 256 * 1024 * 1024, oomScoreAdj: 0 },
    ],
    [
      "burstable with a tiny memory request",
      { cpu: "0.1", memory: "1" },
      { cpu: "2", memory: "1Gi" },
      { cpuShares: 102, cpuQuota: 200000, memoryLimitBytes: GiB, oomScoreAdj: 999 },
    ],
    [
      "burstable asking for all the memory",
      { memory: "8Gi" },
      { memory: "16Gi" },
      { cpuShares: 2, cpuQuota: 0, memoryLimitBytes: 16 * GiB, oomScoreAdj: 3 },
    ],
  ])("%s", (_name, requests, limits, expected) => {
    const c = withResources(requests, limits);
    expect(containerResources(pod({ spec: { containers: [c] } }), c, capacity, false)).toEqual({
      cpuPeriod: 100000,
      ...expected,
    });
  });

  it("gives guaranteed pods -997 only when negative scores are allowed", () => {
    const c = withResources({ cpu: "1", memory: "1Gi" }, { cpu: "1", memory: "1Gi" });
    const p = pod({ spec: { containers: [c] } });
    expect(oomScoreAdj(p, c, capacity, true)).toBe(-997);
    expect(oomScoreAdj(p, c, capacity, false)).toBe(0);
  });

  it("treats system-node-critical static pods as guaranteed whatever their resources", () => {
    const c = withResources();
    const p = pod({
      metadata: { annotations: { "kubernetes.io/config.source": "file" } },
      spec: { containers: [c], priorityClassName: "system-node-critical" },
    });
    expect(oomScoreAdj(p, c, capacity, true)).toBe(-997);
    const apiPod = pod({ spec: { containers: [c], priorityClassName: "system-node-critical", priority: 0 } });
    expect(oomScoreAdj(apiPod, c, capacity, true)).toBe(1000);
  });

  it("keeps a sidecar's score no higher than the smallest regular container's", () => {
    const app = withResources({ memory: "4Gi" });
    const sidecar = container("proxy", {
      restartPolicy: "Always",
      resources: { requests: { memory: "64Mi" } },
    });
    const p = pod({ spec: { containers: [app], initContainers: [sidecar] } });
    expect(oomScoreAdj(p, app, capacity, false)).toBe(500);
    expect(oomScoreAdj(p, sidecar, capacity, false)).toBe(500);
  });

  it("names a bad quantity", () => {
    const c = withResources({ cpu: "lots" });
    expect(() => containerResources(pod({ spec: { containers: [c] } }), c, capacity, false)).toThrow(
      'resources: cpu "lots" is not a quantity',
    );
  });
});

describe("podMemoryLimit", () => {
  it("sums app containers, takes the largest init container, and is undefined without every limit", () => {
    const a = withResources(undefined, { memory: "100Mi" });
    const b = container("b", { resources: { limits: { memory: "50Mi" } } });
    const init = container("init", { resources: { limits: { memory: "300Mi" } } });
    expect(podMemoryLimit(pod({ spec: { containers: [a, b] } }))).toBe(150 * 1024 * 1024);
    expect(podMemoryLimit(pod({ spec: { containers: [a, b], initContainers: [init] } }))).toBe(
      300 * 1024 * 1024,
    );
    expect(podMemoryLimit(pod({ spec: { containers: [a, withResources()] } }))).toBeUndefined();
  });
});
