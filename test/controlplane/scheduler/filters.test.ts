// Table tests of the scheduler's pure parts: requests, filters, scores, host selection and the
// FailedScheduling message.
import { describe, expect, it } from "vitest";
import type { Node } from "../../../src/api/schema/core/node-types.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { type FilterFailure, runFilters } from "../../../src/controlplane/scheduler/filters.ts";
import { fitErrorMessage } from "../../../src/controlplane/scheduler/fit-error.ts";
import { matchesRequiredNodeAffinity } from "../../../src/controlplane/scheduler/node-affinity.ts";
import { NodeInfo, podEntry } from "../../../src/controlplane/scheduler/node-info.ts";
import { podRequests } from "../../../src/controlplane/scheduler/resources.ts";
import {
  balancedAllocationScore,
  leastAllocatedScore,
  normalize,
  scoreNodes,
  selectHost,
} from "../../../src/controlplane/scheduler/scores.ts";
import { effectiveTaints, toleratesTaint } from "../../../src/controlplane/scheduler/taints.ts";

interface NodeOptions {
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  cpu?: string;
  memory?: string;
  pods?: string;
  ready?: string;
  unschedulable?: boolean;
}

function node(name: string, extra: NodeOptions = {}): Node {
  const alloc = { cpu: extra.cpu ?? "4", memory: extra.memory ?? "8Gi", pods: extra.pods ?? "110" };
  return {
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...extra.labels } },
    spec: { taints: extra.taints, unschedulable: extra.unschedulable },
    status: {
      allocatable: alloc,
      capacity: alloc,
      conditions: [{ type: "Ready", status: extra.ready ?? "True" }],
    },
  } as Node;
}

function pod(spec: Partial<NonNullable<Pod["spec"]>> = {}, owner?: string): Pod {
  return {
    metadata: {
      name: "p",
      namespace: "ns",
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: owner, controller: true },
            ],
          }
        : {}),
    },
    spec: { containers: [{ name: "c", image: "i" }], ...spec },
  } as Pod;
}

const requests = (cpu?: string, memory?: string) => ({
  containers: [
    {
      name: "c",
      image: "i",
      resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } },
    },
  ],
});

function info(n: Node, bound: Pod[] = []): NodeInfo {
  const i = new NodeInfo(n);
  for (const [k, p] of bound.entries()) i.addPod(`ns/b${k}`, podEntry(p));
  return i;
}

function filter(p: Pod, n: NodeInfo): FilterFailure | undefined {
  return runFilters(p, podEntry(p), n);
}

describe("pod requests", () => {
  it.each([
    [
      "sum of containers",
      {
        containers: [
          { name: "a", image: "i", resources: { requests: { cpu: "100m" } } },
          { name: "b", image: "i", resources: { requests: { cpu: "0.2", memory: "1Mi" } } },
        ],
      },
      { cpu: 300, memory: 1048576 },
    ],
    [
      "the largest init container wins when bigger",
      {
        containers: [{ name: "a", image: "i", resources: { requests: { cpu: "100m" } } }],
        initContainers: [{ name: "i", image: "i", resources: { requests: { cpu: "500m" } } }],
      },
      { cpu: 500 },
    ],
    [
      "sidecars add to the app containers and to later init steps",
      {
        containers: [{ name: "a", image: "i", resources: { requests: { cpu: "100m" } } }],
        initContainers: [
          { name: "side", image: "i", restartPolicy: "Always", resources: { requests: { cpu: "200m" } } },
          { name: "init", image: "i", resources: { requests: { cpu: "250m" } } },
        ],
      },
      { cpu: 450 },
    ],
    [
      "overhead is added",
      {
        containers: [{ name: "a", image: "i", resources: { requests: { cpu: "1" } } }],
        overhead: { cpu: "250m" },
      },
      { cpu: 1250 },
    ],
  ])("%s", (_name, spec, want) => {
    expect(podRequests(pod(spec as Partial<NonNullable<Pod["spec"]>>))).toEqual(want);
  });

  it("counts containers without requests as 100m/200Mi for scoring only", () => {
    expect(podRequests(pod())).toEqual({});
    expect(podRequests(pod(), true)).toEqual({ cpu: 100, memory: 200 * 1024 * 1024 });
  });
});

describe("taints and tolerations", () => {
  it.each([
    [{ key: "k", operator: "Equal", value: "v" }, { key: "k", value: "v", effect: "NoSchedule" }, true],
    [{ key: "k", value: "v" }, { key: "k", value: "w", effect: "NoSchedule" }, false],
    [{ key: "k", operator: "Exists" }, { key: "k", value: "w", effect: "NoExecute" }, true],
    [{ operator: "Exists" }, { key: "anything", effect: "NoSchedule" }, true],
    [{ key: "k", operator: "Exists", effect: "NoExecute" }, { key: "k", effect: "NoSchedule" }, false],
    [{ key: "k", operator: "Exists", effect: "NoSchedule" }, { key: "k", effect: "NoSchedule" }, true],
  ])("toleration %j vs taint %j → %s", (t, taint, want) => {
    expect(toleratesTaint(t, taint)).toBe(want);
  });

  it("implies not-ready/unreachable NoSchedule taints from conditions the lifecycle controller has not written yet", () => {
    expect(effectiveTaints(node("n", { ready: "False" }))).toEqual([
      { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" },
    ]);
    expect(effectiveTaints(node("n", { ready: "Unknown" }))).toEqual([
      { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
    ]);
    expect(
      effectiveTaints(node("n", { ready: "True", taints: [{ key: "a", effect: "NoExecute" }] })),
    ).toEqual([{ key: "a", effect: "NoExecute" }]);
  });
});

describe("node affinity", () => {
  const n = node("n1", { labels: { zone: "a", gen: "5" } });
  it.each([
    ["nodeSelector match", { nodeSelector: { zone: "a" } }, true],
    ["nodeSelector mismatch", { nodeSelector: { zone: "b" } }, false],
    ["In", { affinity: req([{ key: "zone", operator: "In", values: ["a", "b"] }]) }, true],
    ["NotIn", { affinity: req([{ key: "zone", operator: "NotIn", values: ["a"] }]) }, false],
    ["Exists", { affinity: req([{ key: "gen", operator: "Exists" }]) }, true],
    ["DoesNotExist", { affinity: req([{ key: "gpu", operator: "DoesNotExist" }]) }, true],
    ["Gt", { affinity: req([{ key: "gen", operator: "Gt", values: ["4"] }]) }, true],
    ["Lt", { affinity: req([{ key: "gen", operator: "Lt", values: ["4"] }]) }, false],
    [
      "matchFields metadata.name",
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] },
              ],
            },
          },
        },
      },
      true,
    ],
    [
      "terms are ORed",
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: "zone", operator: "In", values: ["z"] }] },
                { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
              ],
            },
          },
        },
      },
      true,
    ],
    [
      "an empty term matches nothing",
      {
        affinity: {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } },
        },
      },
      false,
    ],
  ])("%s", (_name, spec, want) => {
    expect(matchesRequiredNodeAffinity(pod(spec as Partial<NonNullable<Pod["spec"]>>), n)).toBe(want);
  });

  function req(matchExpressions: unknown[]) {
    return {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] },
      },
    };
  }
});

describe("filters", () => {
  it.each([
    ["fits", pod(requests("1", "1Gi")), info(node("n")), undefined],
    ["cordoned", pod(), info(node("n", { unschedulable: true })), ["node(s) were unschedulable"]],
    [
      "cordoned but tolerating it",
      pod({
        tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
      }),
      info(node("n", { unschedulable: true })),
      undefined,
    ],
    [
      "untolerated taint",
      pod(),
      info(node("n", { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] })),
      ["node(s) had untolerated taint {dedicated: gpu}"],
    ],
    [
      "untolerated NoExecute taint without value",
      pod(),
      info(node("n", { taints: [{ key: "x", effect: "NoExecute" }] })),
      ["node(s) had untolerated taint {x: }"],
    ],
    [
      "PreferNoSchedule does not filter",
      pod(),
      info(node("n", { taints: [{ key: "x", effect: "PreferNoSchedule" }] })),
      undefined,
    ],
    [
      "not ready",
      pod(),
      info(node("n", { ready: "False" })),
      ["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"],
    ],
    [
      "selector",
      pod({ nodeSelector: { disk: "ssd" } }),
      info(node("n")),
      ["node(s) didn't match Pod's node affinity/selector"],
    ],
    [
      "cpu and memory",
      pod(requests("5", "9Gi")),
      info(node("n")),
      ["Insufficient cpu", "Insufficient memory"],
    ],
    ["bound pods count", pod(requests("2")), info(node("n"), [pod(requests("3"))]), ["Insufficient cpu"]],
    ["pod count", pod(), info(node("n", { pods: "1" }), [pod()]), ["Too many pods"]],
    [
      "host port conflict",
      pod({
        containers: [
          { name: "c", image: "i", ports: [{ containerPort: 80, hostPort: 8080, protocol: "TCP" }] },
        ],
      }),
      info(node("n"), [
        pod({
          containers: [
            {
              name: "c",
              image: "i",
              ports: [{ containerPort: 80, hostPort: 8080, protocol: "TCP", hostIP: "10.0.0.1" }],
            },
          ],
        }),
      ]),
      ["node(s) didn't have free ports for the requested pod ports"],
    ],
    [
      "same host port, other protocol",
      pod({
        containers: [
          { name: "c", image: "i", ports: [{ containerPort: 80, hostPort: 8080, protocol: "UDP" }] },
        ],
      }),
      info(node("n"), [
        pod({
          containers: [
            { name: "c", image: "i", ports: [{ containerPort: 80, hostPort: 8080, protocol: "TCP" }] },
          ],
        }),
      ]),
      undefined,
    ],
  ] as Array<[string, Pod, NodeInfo, string[] | undefined]>)("%s", (_name, p, n, want) => {
    expect(filter(p, n)?.reasons).toEqual(want);
  });
});

describe("FailedScheduling message", () => {
  const f = (reasons: string[], unresolvable: boolean): FilterFailure => ({
    plugin: "x",
    reasons,
    unresolvable,
  });
  it("is upstream's shape: sorted histogram, then the preemption summary", () => {
    expect(
      fitErrorMessage(3, [
        f(["Insufficient cpu"], false),
        f(["node(s) had untolerated taint {dedicated: gpu}"], true),
        f(["node(s) had untolerated taint {dedicated: gpu}"], true),
      ]),
    ).toBe(
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    );
  });
  it("counts every reason of a node (cpu and memory)", () => {
    expect(fitErrorMessage(1, [f(["Insufficient cpu", "Insufficient memory"], false)])).toBe(
      "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });
  it("names preemptionPolicy=Never and the no-nodes case", () => {
    expect(fitErrorMessage(1, [f(["node(s) were unschedulable"], true)], "Never")).toBe(
      "0/1 nodes are available: 1 node(s) were unschedulable. preemption: not eligible due to preemptionPolicy=Never.",
    );
    expect(fitErrorMessage(0, [])).toBe("no nodes available to schedule pods");
  });
});

describe("scores", () => {
  it("least allocated prefers the emptier node; balanced prefers even cpu/memory use", () => {
    const p = podEntry(pod(requests("1", "1Gi")));
    const empty = info(node("a"));
    const busy = info(node("b"), [pod(requests("2", "2Gi"))]);
    expect(leastAllocatedScore(p, empty)).toBeGreaterThan(leastAllocatedScore(p, busy));
    const skewed = info(node("c"), [pod(requests("3", "100Mi"))]);
    expect(balancedAllocationScore(p, empty)).toBeGreaterThan(balancedAllocationScore(p, skewed));
  });

  it("spreads pods of one controller and avoids PreferNoSchedule taints", () => {
    const owner = "uid-1";
    const p = pod(requests("100m", "10Mi"), owner);
    const withSibling = info(node("a"), [pod(requests("100m", "10Mi"), owner)]);
    const without = info(node("b"), [pod(requests("100m", "10Mi"), "other")]);
    const [sa, sb] = scoreNodes(p, podEntry(p), [withSibling, without]);
    expect(sb).toBeGreaterThan(sa as number);
    const tainted = info(node("c", { taints: [{ key: "x", effect: "PreferNoSchedule" }] }));
    const clean = info(node("d"));
    const [sc, sd] = scoreNodes(pod(), podEntry(pod()), [tainted, clean]);
    expect(sd).toBeGreaterThan(sc as number);
  });

  it("normalizes and breaks ties at random", () => {
    expect(normalize([0, 2, 4], false)).toEqual([0, 50, 100]);
    expect(normalize([0, 2, 4], true)).toEqual([100, 50, 0]);
    expect(normalize([0, 0], true)).toEqual([100, 100]);
    expect(selectHost([1, 5, 3], () => 0.99)).toBe(1);
    const picks = new Set([0.1, 0.4, 0.6, 0.9].map((r) => selectHost([5, 5], () => r)));
    expect(picks).toEqual(new Set([0, 1]));
  });
});
