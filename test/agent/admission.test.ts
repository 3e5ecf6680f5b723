import { describe, expect, it } from "vitest";
import { admitPod } from "../../src/agent/admission.ts";
import type { Pod } from "../../src/api/schema/core/pod-types.ts";

const node = {
  labels: { "kubernetes.io/hostname": "n1", disk: "ssd" },
  allocatable: { cpu: "1500m", memory: "1Gi", pods: "3" },
};

function pod(spec: Record<string, unknown>): Pod {
  return {
    metadata: { name: "p", uid: Math.random().toString() },
    spec: { containers: [{ name: "a", image: "x", ...spec }] },
  } as Pod;
}

describe("admitPod", () => {
  it("admits a pod that fits", () => {
    expect(admitPod(pod({ resources: { requests: { cpu: "500m" } } }), [], node)).toEqual({ admit: true });
  });

  it("rejects over-committed CPU with upstream's reason and message", () => {
    const running = [pod({ resources: { requests: { cpu: "1" } } })];
    expect(admitPod(pod({ resources: { requests: { cpu: "600m" } } }), running, node)).toEqual({
      admit: false,
      reason: "OutOfcpu",
      message: "Node didn't have enough resource: cpu, requested: 600, used: 1000, capacity: 1500",
    });
  });

  it("rejects memory and pod count", () => {
    expect(admitPod(pod({ resources: { requests: { memory: "2Gi" } } }), [], node)).toMatchObject({
      admit: false,
      reason: "OutOfmemory",
    });
    expect(admitPod(pod({}), [pod({}), pod({}), pod({})], node)).toMatchObject({
      admit: false,
      reason: "OutOfpods",
    });
  });

  it("checks nodeSelector and required node affinity", () => {
    const withSelector = pod({});
    (withSelector.spec as Record<string, unknown>).nodeSelector = { disk: "hdd" };
    expect(admitPod(withSelector, [], node)).toMatchObject({ admit: false, reason: "NodeAffinity" });
    const withAffinity = pod({});
    (withAffinity.spec as Record<string, unknown>).affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd", "nvme"] }] },
          ],
        },
      },
    };
    expect(admitPod(withAffinity, [], node)).toEqual({ admit: true });
  });

  it("rejects a host port already taken (wildcard address conflicts with a specific one)", () => {
    const taken = [pod({ ports: [{ containerPort: 80, hostPort: 8080, hostIP: "127.0.0.1" }] })];
    expect(admitPod(pod({ ports: [{ containerPort: 80, hostPort: 8080 }] }), taken, node)).toMatchObject({
      admit: false,
      reason: "HostPort",
    });
    expect(
      admitPod(pod({ ports: [{ containerPort: 80, hostPort: 8080, protocol: "UDP" }] }), taken, node),
    ).toEqual({ admit: true });
  });
});
