// Table tests of the controllers' pure planning: ReplicaSet deletion order and status, Deployment
// arithmetic and conditions, DaemonSet node eligibility and rolling plan, Job decisions, EndpointSlice
// layout, node lifecycle conditions/taints/tolerations, pod CIDRs and the DefaultTolerationSeconds plugin.
import { describe, expect, it } from "vitest";
import type { DaemonSet, Deployment, ReplicaSet } from "../../../src/api/schema/apps/types.ts";
import type { Job } from "../../../src/api/schema/batch/types.ts";
import type { Node } from "../../../src/api/schema/core/node-types.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { Service } from "../../../src/api/schema/core/service-types.ts";
import {
  daemonTemplate,
  nodeShouldRunDaemonPod,
  planRollingUpdate,
} from "../../../src/controlplane/controllers/daemonset/planner.ts";
import {
  equalIgnoreHash,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  proportionalScale,
  replicaSetsToClean,
  rolloutStatus,
} from "../../../src/controlplane/controllers/deployment/util.ts";
import {
  type DesiredGroup,
  findPort,
  planSlices,
  type SliceEndpoint,
} from "../../../src/controlplane/controllers/endpoints/planner.ts";
import { parseControllerOptions } from "../../../src/controlplane/controllers/flags.ts";
import {
  failureBackoffMs,
  failureReason,
  wantedActive,
} from "../../../src/controlplane/controllers/job/planner.ts";
import { expiresInMs } from "../../../src/controlplane/controllers/job/ttl.ts";
import { scaledValue } from "../../../src/controlplane/controllers/machinery/util.ts";
import { CidrSet } from "../../../src/controlplane/controllers/nodeipam/cidr-set.ts";
import { defaultTolerationSeconds } from "../../../src/controlplane/controllers/nodelifecycle/default-tolerations.ts";
import {
  evictionTime,
  markUnknown,
  reconcileTaints,
  tolerationMs,
} from "../../../src/controlplane/controllers/nodelifecycle/planner.ts";
import {
  calculateReplicaStatus,
  podsToDelete,
} from "../../../src/controlplane/controllers/replicaset/planner.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

function pod(
  name: string,
  o: {
    node?: string;
    phase?: string;
    ready?: boolean;
    readySince?: number;
    created?: number;
    restarts?: number;
    cost?: string;
  } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: "ns",
      uid: name,
      creationTimestamp: iso(o.created ?? T0),
      ...(o.cost ? { annotations: { "controller.kubernetes.io/pod-deletion-cost": o.cost } } : {}),
    },
    spec: { containers: [{ name: "c", image: "i" }], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? "Running",
      conditions: [
        {
          type: "Ready",
          status: o.ready === false ? "False" : "True",
          lastTransitionTime: iso(o.readySince ?? T0),
        },
      ],
      containerStatuses: [
        { name: "c", image: "i", imageID: "", ready: o.ready !== false, restartCount: o.restarts ?? 0 },
      ],
    },
  } as Pod;
}

describe("ReplicaSet planning", () => {
  it("deletes unscheduled, then pending, then not-ready, then cheaper, doubled-up, newer pods first", () => {
    const pods = [
      pod("old-ready", { node: "a", created: T0 }),
      pod("new-ready", { node: "b", created: T0 + 5000 }),
      pod("not-ready", { node: "a", ready: false }),
      pod("unscheduled", { phase: "Pending", ready: false }),
      pod("pending", { node: "b", phase: "Pending", ready: false }),
    ];
    expect(podsToDelete(pods, pods, 4).map((p) => p.metadata?.name)).toEqual([
      "unscheduled",
      "pending",
      "not-ready",
      "new-ready",
    ]);
    const costed = [pod("a", { node: "x", cost: "10" }), pod("b", { node: "y", cost: "-5" })];
    expect(podsToDelete(costed, costed, 1).map((p) => p.metadata?.name)).toEqual(["b"]);
    const doubled = [
      pod("alone", { node: "x" }),
      pod("pair-1", { node: "y" }),
      pod("pair-2", { node: "y", created: T0 - 1000 }),
    ];
    expect(podsToDelete(doubled, doubled, 1).map((p) => p.metadata?.name)).toEqual(["pair-1"]);
    const restarts = [pod("calm", { node: "x" }), pod("crashy", { node: "y", restarts: 4 })];
    expect(podsToDelete(restarts, restarts, 1).map((p) => p.metadata?.name)).toEqual(["crashy"]);
  });

  it("computes status and the ReplicaFailure condition", () => {
    const pods = [
      pod("a", { readySince: T0 }),
      pod("b", { readySince: T0 + 9000 }),
      pod("c", { ready: false }),
    ];
    pods[0] = { ...(pods[0] as Pod), metadata: { ...pods[0]?.metadata, labels: { app: "x" } } };
    const s = calculateReplicaStatus({
      current: undefined,
      pods,
      templateLabels: { app: "x" },
      minReadySeconds: 5,
      now: T0 + 10_000,
      nowText: iso(T0 + 10_000),
    });
    expect(s).toEqual({ replicas: 3, fullyLabeledReplicas: 1, readyReplicas: 2, availableReplicas: 1 });
    const failed = calculateReplicaStatus({
      current: s,
      pods,
      templateLabels: {},
      minReadySeconds: 0,
      now: T0,
      nowText: iso(T0),
      manageError: { kind: "create", message: "quota" },
    });
    expect(failed.conditions).toEqual([
      {
        type: "ReplicaFailure",
        status: "True",
        lastTransitionTime: iso(T0),
        reason: "FailedCreate",
        message: "quota",
      },
    ]);
    expect(
      calculateReplicaStatus({
        current: failed,
        pods,
        templateLabels: {},
        minReadySeconds: 0,
        now: T0,
        nowText: iso(T0),
      }).conditions,
    ).toBeUndefined();
  });
});

function deployment(
  replicas: number,
  strategy: Record<string, unknown> = {},
  extra: Partial<Deployment> = {},
): Deployment {
  return {
    metadata: { name: "d", namespace: "ns", uid: "d-uid", generation: 2 },
    spec: {
      replicas,
      selector: { matchLabels: { app: "d" } },
      template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "v2" }] } },
      strategy: { type: "RollingUpdate", ...strategy },
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
    },
    status: {},
    ...extra,
  } as Deployment;
}

function rs(
  name: string,
  replicas: number,
  o: {
    available?: number;
    revision?: number;
    created?: number;
    maxReplicas?: number;
    statusReplicas?: number;
  } = {},
): ReplicaSet {
  return {
    metadata: {
      name,
      uid: name,
      generation: 1,
      creationTimestamp: iso(o.created ?? T0),
      annotations: {
        "deployment.kubernetes.io/revision": String(o.revision ?? 1),
        ...(o.maxReplicas !== undefined
          ? { "deployment.kubernetes.io/max-replicas": String(o.maxReplicas) }
          : {}),
      },
    },
    spec: { replicas, selector: { matchLabels: { app: "d" } } },
    status: {
      replicas: o.statusReplicas ?? replicas,
      availableReplicas: o.available ?? replicas,
      readyReplicas: o.available ?? replicas,
      observedGeneration: 1,
    },
  } as ReplicaSet;
}

describe("Deployment arithmetic", () => {
  it.each([
    [10, {}, 3, 2],
    [10, { maxSurge: 0, maxUnavailable: 0 }, 0, 1],
    [4, { maxSurge: "50%", maxUnavailable: "50%" }, 2, 2],
    [3, { maxSurge: 1, maxUnavailable: 0 }, 1, 0],
    [1, {}, 1, 0],
  ])("replicas %i, rollingUpdate %j → surge %i, unavailable %i", (replicas, ru, surge, unavailable) => {
    const d = deployment(replicas, { rollingUpdate: ru });
    expect(maxSurge(d)).toBe(surge);
    expect(maxUnavailable(d)).toBe(unavailable);
  });

  it("sizes the new ReplicaSet within maxSurge", () => {
    const d = deployment(3, { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const old = rs("old", 3);
    const fresh = rs("new", 0);
    expect(newRSNewReplicas(d, [old, fresh], fresh)).toBe(1);
    expect(newRSNewReplicas(d, [rs("old", 2), rs("new", 1)], rs("new", 1))).toBe(2);
    expect(newRSNewReplicas(deployment(3, { type: "Recreate" }), [old, fresh], fresh)).toBe(3);
  });

  it("scales proportionally mid-rollout", () => {
    // 10 → 15 (maxSurge 3) with active ReplicaSets of 6 and 5 annotated max-replicas 13: each grows by
    // round(size × 18 / 13) − size = 2, and the leftover 3 goes to the largest, as upstream.
    const d = deployment(15, { rollingUpdate: { maxSurge: 3, maxUnavailable: 0 } });
    const sizes = proportionalScale(d, [
      rs("old", 6, { maxReplicas: 13, created: T0 }),
      rs("new", 5, { maxReplicas: 13, created: T0 + 1000 }),
    ]);
    expect(Object.fromEntries(sizes)).toEqual({ old: 11, new: 7 });
    // Shrinking 15 → 5 (maxSurge 2) from 9 and 8 annotated 18: each to round(size × 7 / 18).
    const down = proportionalScale(deployment(5, { rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } }), [
      rs("old", 9, { maxReplicas: 18, created: T0 }),
      rs("new", 8, { maxReplicas: 18, created: T0 + 1000 }),
    ]);
    expect((down.get("old") ?? 0) + (down.get("new") ?? 0)).toBe(7);
  });

  it("templates compare without the pod-template-hash label", () => {
    const a = {
      metadata: { labels: { app: "d", "pod-template-hash": "abc" } },
      spec: { containers: [{ name: "c", image: "v1" }] },
    };
    const b = { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "v1" }] } };
    expect(equalIgnoreHash(a, b)).toBe(true);
    expect(equalIgnoreHash(a, { ...b, spec: { containers: [{ name: "c", image: "v2" }] } })).toBe(false);
  });

  it("reports Progressing with upstream reasons", () => {
    const now = T0 + 1000;
    const d = deployment(2);
    const complete = rolloutStatus(d, [rs("new", 2)], rs("new", 2), now, iso(now));
    expect(complete.conditions?.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ["Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."],
      ["Progressing", "True", "NewReplicaSetAvailable", 'ReplicaSet "new" has successfully progressed.'],
    ]);
    const stuck = deployment(2, {}, {
      status: {
        replicas: 2,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        conditions: [
          {
            type: "Progressing",
            status: "True",
            reason: "ReplicaSetUpdated",
            lastUpdateTime: iso(T0),
            lastTransitionTime: iso(T0),
          },
        ],
      },
    } as Partial<Deployment>);
    stuck.spec = { ...(stuck.spec as NonNullable<Deployment["spec"]>), progressDeadlineSeconds: 5 };
    const later = T0 + 10_000;
    const timedOut = rolloutStatus(
      stuck,
      [rs("old", 1), rs("new", 1, { available: 0, statusReplicas: 1 })],
      rs("new", 1, { available: 0 }),
      later,
      iso(later),
    );
    expect(timedOut.conditions?.find((c) => c.type === "Progressing")).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: 'ReplicaSet "new" has timed out progressing.',
    });
  });

  it("cleans up only scaled-down old ReplicaSets beyond revisionHistoryLimit, oldest revision first", () => {
    const d = deployment(1, {}, {});
    d.spec = { ...(d.spec as NonNullable<Deployment["spec"]>), revisionHistoryLimit: 1 };
    const old = [rs("r1", 0, { revision: 1 }), rs("r2", 0, { revision: 2 }), rs("r3", 1, { revision: 3 })];
    expect(replicaSetsToClean(d, old).map((r) => r.metadata?.name)).toEqual(["r1", "r2"]);
    d.spec = { ...d.spec, revisionHistoryLimit: 0 } as Deployment["spec"];
    expect(replicaSetsToClean(d, old).map((r) => r.metadata?.name)).toEqual(["r1", "r2"]);
  });

  it("scales int-or-percent values like upstream", () => {
    expect(scaledValue("25%", 10, true, 0)).toBe(3);
    expect(scaledValue("25%", 10, false, 0)).toBe(2);
    expect(scaledValue(undefined, 10, true, "50%")).toBe(5);
    expect(() => scaledValue("abc", 10, true, 0)).toThrow(/not a percentage/);
  });
});

describe("DaemonSet planning", () => {
  const ds = {
    metadata: { name: "ds", generation: 3 },
    spec: {
      selector: { matchLabels: { app: "ds" } },
      template: {
        metadata: { labels: { app: "ds" } },
        spec: { containers: [{ name: "c", image: "i" }], nodeSelector: { role: "edge" } },
      },
    },
  } as DaemonSet;
  const template = daemonTemplate(ds, "h1");
  const node = (taints?: Array<{ key: string; effect: string }>, labels = { role: "edge" }) =>
    ({ metadata: { name: "n", labels }, spec: { taints } }) as Node;

  it("adds upstream's daemon tolerations and revision labels", () => {
    expect(template.metadata?.labels).toEqual({
      app: "ds",
      "controller-revision-hash": "h1",
      "pod-template-generation": "3",
    });
    expect(template.spec?.tolerations?.map((t) => `${t.key}:${t.effect}`)).toEqual([
      "node.kubernetes.io/not-ready:NoExecute",
      "node.kubernetes.io/unreachable:NoExecute",
      "node.kubernetes.io/disk-pressure:NoSchedule",
      "node.kubernetes.io/memory-pressure:NoSchedule",
      "node.kubernetes.io/pid-pressure:NoSchedule",
      "node.kubernetes.io/unschedulable:NoSchedule",
    ]);
  });

  it.each([
    ["plain eligible node", node(undefined), true, true],
    ["selector mismatch", node(undefined, { role: "core" }), false, false],
    [
      "NoSchedule taint: no new pod, existing one stays",
      node([{ key: "x", effect: "NoSchedule" }]),
      false,
      true,
    ],
    ["NoExecute taint: evicted", node([{ key: "x", effect: "NoExecute" }]), false, false],
    [
      "unreachable is tolerated",
      node([{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }]),
      true,
      true,
    ],
  ])("%s", (_name, n, shouldRun, shouldContinueRunning) => {
    expect(nodeShouldRunDaemonPod(template, n)).toEqual({ shouldRun, shouldContinueRunning });
  });

  it("rolls within maxUnavailable, replacing unavailable old pods for free", () => {
    const mk = (name: string, hash: string, ready = true) => {
      const p = pod(name, { ready });
      p.metadata = { ...p.metadata, labels: { "controller-revision-hash": hash } };
      return p;
    };
    const plan = planRollingUpdate({
      nodes: [
        { name: "a", pods: [mk("a-old", "h0")] },
        { name: "b", pods: [mk("b-old", "h0")] },
        { name: "c", pods: [mk("c-old", "h0", false)] },
        { name: "d", pods: [mk("d-new", "h1")] },
      ],
      hash: "h1",
      maxUnavailable: 1,
      maxSurge: 0,
      minReadySeconds: 0,
      now: T0,
    });
    expect(plan.deletePods.map((p) => p.metadata?.name)).toEqual(["c-old", "a-old"]);
    const surge = planRollingUpdate({
      nodes: [
        { name: "a", pods: [mk("a-old", "h0")] },
        { name: "b", pods: [mk("b-old", "h0"), mk("b-new", "h1")] },
      ],
      hash: "h1",
      maxUnavailable: 0,
      maxSurge: 1,
      minReadySeconds: 0,
      now: T0,
    });
    expect(surge).toEqual({
      deletePods: [expect.objectContaining({ metadata: expect.objectContaining({ name: "b-old" }) })],
      surgeNodes: [],
    });
  });
});

describe("Job planning", () => {
  const job = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
    ({
      metadata: { name: "j" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [] } }, ...spec },
      status,
    }) as unknown as Job;

  it.each([
    [{ completions: 5, parallelism: 2 }, 0, 0, 2],
    [{ completions: 5, parallelism: 2 }, 4, 0, 1],
    [{ completions: 5, parallelism: 2 }, 5, 0, 0],
    [{ parallelism: 3 }, 0, 0, 3],
    [{ parallelism: 3 }, 1, 2, 2],
  ])("spec %j with %i succeeded and %i active wants %i", (spec, succeeded, active, want) => {
    expect(wantedActive(job(spec), succeeded, active)).toBe(want);
  });

  it("fails past backoffLimit (restarts count for OnFailure) and activeDeadlineSeconds", () => {
    expect(failureReason(job({ backoffLimit: 1 }), 2, [], T0)?.reason).toBe("BackoffLimitExceeded");
    expect(failureReason(job({ backoffLimit: 1 }), 1, [], T0)).toBeUndefined();
    const onFailure = job({
      backoffLimit: 2,
      template: { spec: { restartPolicy: "OnFailure", containers: [] } },
    });
    expect(failureReason(onFailure, 0, [pod("p", { restarts: 3 })], T0)?.reason).toBe("BackoffLimitExceeded");
    expect(
      failureReason(job({ activeDeadlineSeconds: 5 }, { startTime: iso(T0) }), 0, [], T0 + 5000)?.reason,
    ).toBe("DeadlineExceeded");
  });

  it("backs off replacements after failures (10 s doubling) and expires finished jobs after their TTL", () => {
    const failed = pod("f", { phase: "Failed", created: T0 });
    expect(failureBackoffMs([failed], T0 + 4000)).toBe(6000);
    expect(failureBackoffMs([failed, pod("g", { phase: "Failed", created: T0 })], T0 + 4000)).toBe(16_000);
    const done = job(
      { ttlSecondsAfterFinished: 30 },
      { conditions: [{ type: "Complete", status: "True", lastTransitionTime: iso(T0) }] },
    );
    expect(expiresInMs(done, T0 + 10_000)).toBe(20_000);
    expect(expiresInMs(job({ ttlSecondsAfterFinished: 30 }), T0)).toBeUndefined();
  });
});

describe("EndpointSlice layout", () => {
  const ep = (i: number): SliceEndpoint => ({
    addresses: [`10.0.${i >> 8}.${i & 255}`],
    conditions: { ready: true, serving: true, terminating: false },
    targetRef: { kind: "Pod", namespace: "ns", name: `p${i}`, uid: `u${i}` },
  });
  const group = (n: number): DesiredGroup => ({
    key: '[{"name":"","port":80,"protocol":"TCP"}]',
    ports: [{ name: "", port: 80, protocol: "TCP" }],
    endpoints: Array.from({ length: n }, (_, i) => ep(i)),
  });

  it("puts at most 100 endpoints in a slice", () => {
    const plan = planSlices([group(250)], []);
    expect(plan.create.map((c) => c.endpoints.length)).toEqual([100, 100, 50]);
  });

  it("keeps endpoints where they are, fills free room first and removes emptied slices", () => {
    const g = group(3);
    const plan = planSlices(
      [g],
      [
        { name: "s1", portsKey: g.key, endpoints: [ep(0), ep(7)] },
        { name: "s2", portsKey: g.key, endpoints: [ep(8)] },
      ],
    );
    expect(plan.update).toEqual([{ name: "s1", group: g, endpoints: [ep(0), ep(1), ep(2)] }]);
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual(["s2"]);
  });

  it("keeps one empty placeholder slice for a service without endpoints", () => {
    expect(planSlices([], [])).toEqual({
      update: [],
      create: [{ group: { key: "[]", ports: [], endpoints: [] }, endpoints: [] }],
      delete: [],
    });
    expect(planSlices([], [{ name: "s", portsKey: "[]", endpoints: [] }])).toEqual({
      update: [],
      create: [],
      delete: [],
    });
  });

  it("resolves target ports: numbers as is, names per pod and protocol", () => {
    const p = {
      spec: {
        containers: [
          {
            name: "c",
            image: "i",
            ports: [
              { name: "http", containerPort: 8080, protocol: "TCP" },
              { name: "dns", containerPort: 53, protocol: "UDP" },
            ],
          },
        ],
      },
    } as Pod;
    expect(findPort(p, { port: 80, targetPort: 9000 })).toBe(9000);
    expect(findPort(p, { port: 80, targetPort: "http" })).toBe(8080);
    expect(findPort(p, { port: 53, targetPort: "dns", protocol: "UDP" })).toBe(53);
    expect(findPort(p, { port: 53, targetPort: "dns" })).toBeUndefined();
    expect(
      findPort(p, { port: 80 } as Service["spec"] extends infer S
        ? S extends { ports?: Array<infer P> }
          ? P
          : never
        : never),
    ).toBe(80);
  });
});

describe("node lifecycle", () => {
  const readyNode = {
    metadata: { name: "n", creationTimestamp: iso(T0) },
    spec: {},
    status: {
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          lastHeartbeatTime: iso(T0),
          lastTransitionTime: iso(T0),
        },
      ],
    },
  } as Node;

  it("marks a silent node Unknown like upstream", () => {
    const conditions = markUnknown(readyNode, iso(T0 + 60_000));
    expect(conditions?.find((c) => c.type === "Ready")).toEqual({
      type: "Ready",
      status: "Unknown",
      reason: "NodeStatusUnknown",
      message: "Kubelet stopped posting node status.",
      lastHeartbeatTime: iso(T0),
      lastTransitionTime: iso(T0 + 60_000),
    });
    expect(conditions?.find((c) => c.type === "MemoryPressure")).toMatchObject({
      status: "Unknown",
      reason: "NodeStatusNeverUpdated",
    });
  });

  it("keeps condition taints in step, leaving other taints alone", () => {
    const unknown = {
      ...readyNode,
      spec: { taints: [{ key: "mine", effect: "NoSchedule" }] },
      status: { conditions: [{ type: "Ready", status: "Unknown" }] },
    } as Node;
    expect(reconcileTaints(unknown, iso(T0))).toEqual([
      { key: "mine", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: iso(T0) },
    ]);
    const healed = {
      ...readyNode,
      spec: {
        taints: [
          { key: "mine", effect: "NoSchedule" },
          { key: "node.kubernetes.io/unreachable", effect: "NoExecute" },
        ],
      },
    } as Node;
    expect(reconcileTaints(healed, iso(T0))).toEqual([{ key: "mine", effect: "NoSchedule" }]);
    expect(reconcileTaints(readyNode, iso(T0))).toBeUndefined();
  });

  it("computes how long a pod tolerates NoExecute taints", () => {
    const taints = [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: iso(T0) }];
    expect(tolerationMs(taints, [])).toBe(0);
    expect(
      tolerationMs(taints, [
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
      ]),
    ).toBe(-1);
    expect(
      tolerationMs(taints, [
        {
          key: "node.kubernetes.io/unreachable",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
      ]),
    ).toBe(300_000);
    expect(evictionTime(taints, [{ operator: "Exists", tolerationSeconds: 30 }], T0 + 5000)).toBe(
      T0 + 30_000,
    );
  });

  it("hands out /24 pod CIDRs once each and validates the mask", () => {
    const set = new CidrSet("10.244.0.0/22", 24);
    expect(set.occupy("10.244.1.0/24")).toBe(true);
    expect([set.allocateNext(), set.allocateNext(), set.allocateNext(), set.allocateNext()]).toEqual([
      "10.244.0.0/24",
      "10.244.2.0/24",
      "10.244.3.0/24",
      undefined,
    ]);
    set.release("10.244.2.0/24");
    expect(set.allocateNext()).toBe("10.244.2.0/24");
    expect(() => new CidrSet("10.244.0.0/16", 8)).toThrow(/between \/16 and \/30/);
  });

  it("adds the default not-ready/unreachable tolerations to new pods that lack them", () => {
    const plugin = defaultTolerationSeconds({ unreachableSeconds: 5 });
    const object = { spec: { tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists" }] } };
    plugin.admit?.({
      operation: "CREATE",
      subresource: "",
      resource: { group: "", plural: "pods" },
      object,
    } as never);
    expect(object.spec.tolerations).toEqual([
      { key: "node.kubernetes.io/not-ready", operator: "Exists" },
      {
        key: "node.kubernetes.io/unreachable",
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: 5,
      },
    ]);
  });

  it("validates the controller flags, naming the flag", () => {
    expect(parseControllerOptions({})).toMatchObject({
      nodeLifecycle: { gracePeriodMs: 50_000, monitorPeriodMs: 5000 },
      nodeCidrMaskSize: 24,
    });
    expect(() => parseControllerOptions({ nodeMonitorGracePeriod: "soon" })).toThrow(
      /--node-monitor-grace-period "soon"/,
    );
    expect(() => parseControllerOptions({ leaderElect: "maybe" })).toThrow(/--leader-elect/);
    expect(() => parseControllerOptions({ nodeCidrMaskSize: "33" })).toThrow(/--node-cidr-mask-size/);
  });
});
