import { describe, expect, it } from "vitest";
import { podStatusColumns } from "../../src/api/schema/core/pod-table.ts";
import type { Pod } from "../../src/api/schema/core/pod-types.ts";
import { humanDuration } from "../../src/api/schema/printing.ts";
import { def } from "./helpers.ts";

const NOW = new Date("2025-01-01T12:00:00Z");
const created = "2025-01-01T11:55:00Z";

function pod(
  status: Pod["status"],
  spec: Partial<NonNullable<Pod["spec"]>> = {},
  deletionTimestamp?: string,
): Pod {
  return {
    metadata: { name: "p", creationTimestamp: created, ...(deletionTimestamp ? { deletionTimestamp } : {}) },
    spec: { containers: [{ name: "a" }], ...spec },
    status,
  };
}

const running = { running: { startedAt: created } };
const cs = (state: object, extra: object = {}) => ({
  name: "a",
  image: "i",
  imageID: "",
  ready: false,
  restartCount: 0,
  state,
  ...extra,
});

describe("pod STATUS, READY and RESTARTS", () => {
  it.each([
    ["pending, not scheduled", pod({ phase: "Pending" }), "0/1", "Pending", "0"],
    [
      "container creating",
      pod({ phase: "Pending", containerStatuses: [cs({ waiting: { reason: "ContainerCreating" } })] }),
      "0/1",
      "ContainerCreating",
      "0",
    ],
    [
      "running and ready",
      pod({ phase: "Running", containerStatuses: [cs(running, { ready: true })] }),
      "1/1",
      "Running",
      "0",
    ],
    [
      "crash loop with restart age",
      pod({
        phase: "Running",
        containerStatuses: [
          cs(
            { waiting: { reason: "CrashLoopBackOff" } },
            {
              restartCount: 4,
              lastState: { terminated: { exitCode: 1, finishedAt: "2025-01-01T11:59:00Z" } },
            },
          ),
        ],
      }),
      "0/1",
      "CrashLoopBackOff",
      "4 (60s ago)",
    ],
    [
      "completed",
      pod({
        phase: "Succeeded",
        containerStatuses: [cs({ terminated: { exitCode: 0, reason: "Completed" } })],
      }),
      "0/1",
      "Completed",
      "0",
    ],
    [
      "error exit without reason",
      pod({ phase: "Failed", containerStatuses: [cs({ terminated: { exitCode: 2 } })] }),
      "0/1",
      "ExitCode:2",
      "0",
    ],
    [
      "signal",
      pod({ phase: "Failed", containerStatuses: [cs({ terminated: { exitCode: 137, signal: 9 } })] }),
      "0/1",
      "Signal:9",
      "0",
    ],
    [
      "terminating",
      pod(
        { phase: "Running", containerStatuses: [cs(running, { ready: true })] },
        {},
        "2025-01-01T11:59:30Z",
      ),
      "1/1",
      "Terminating",
      "0",
    ],
    [
      "node lost",
      pod({ phase: "Running", reason: "NodeLost" }, {}, "2025-01-01T11:59:30Z"),
      "0/1",
      "Unknown",
      "0",
    ],
    ["evicted", pod({ phase: "Failed", reason: "Evicted" }), "0/1", "Evicted", "0"],
    [
      "scheduling gated",
      pod({
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }],
      }),
      "0/1",
      "SchedulingGated",
      "0",
    ],
    [
      "init container running",
      pod(
        {
          phase: "Pending",
          initContainerStatuses: [cs(running)],
          containerStatuses: [cs({ waiting: { reason: "PodInitializing" } })],
        },
        { initContainers: [{ name: "a" }] },
      ),
      "0/1",
      "Init:0/1",
      "0",
    ],
    [
      "init container crash loop",
      pod(
        {
          phase: "Pending",
          initContainerStatuses: [cs({ waiting: { reason: "CrashLoopBackOff" } }, { restartCount: 2 })],
        },
        { initContainers: [{ name: "a" }] },
      ),
      "0/1",
      "Init:CrashLoopBackOff",
      "2",
    ],
    [
      "init container failed",
      pod(
        { phase: "Failed", initContainerStatuses: [cs({ terminated: { exitCode: 3 } })] },
        { initContainers: [{ name: "a" }] },
      ),
      "0/1",
      "Init:ExitCode:3",
      "0",
    ],
    [
      "completed but still running a container",
      pod(
        {
          phase: "Running",
          conditions: [{ type: "Ready", status: "False" }],
          containerStatuses: [
            cs(running, { name: "b", ready: true }),
            cs({ terminated: { exitCode: 0, reason: "Completed" } }),
          ],
        },
        { containers: [{ name: "b" }, { name: "a" }] },
      ),
      "1/2",
      "NotReady",
      "0",
    ],
    [
      "sidecar counted in READY",
      pod(
        {
          phase: "Running",
          initContainerStatuses: [cs(running, { name: "s", ready: true, started: true })],
          containerStatuses: [cs(running, { ready: true })],
        },
        { initContainers: [{ name: "s", restartPolicy: "Always" }] },
      ),
      "2/2",
      "Running",
      "0",
    ],
  ])("%s", (_name, p, ready, status, restarts) => {
    expect(podStatusColumns(p, NOW)).toEqual({ ready, status, restarts });
  });

  it("renders the full row with wide columns", () => {
    const p = pod(
      {
        phase: "Running",
        podIP: "10.1.0.4",
        podIPs: [{ ip: "10.1.0.4" }],
        containerStatuses: [cs(running, { ready: true })],
        conditions: [{ type: "www.example.com/gate", status: "True" }],
      },
      { nodeName: "node-1", readinessGates: [{ conditionType: "www.example.com/gate" }] },
    );
    expect(def("", "pods").table.row(p, NOW)).toEqual([
      "p",
      "1/1",
      "Running",
      "0",
      "5m",
      "10.1.0.4",
      "node-1",
      "<none>",
      "1/1",
    ]);
    expect(def("", "pods").table.columns.map((c) => [c.name, c.priority])).toEqual([
      ["Name", 0],
      ["Ready", 0],
      ["Status", 0],
      ["Restarts", 0],
      ["Age", 0],
      ["IP", 1],
      ["Node", 1],
      ["Nominated Node", 1],
      ["Readiness Gates", 1],
    ]);
  });
});

describe("other tables", () => {
  it("nodes", () => {
    const node = {
      metadata: {
        name: "n1",
        creationTimestamp: "2024-12-30T12:00:00Z",
        labels: { "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker" },
      },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        addresses: [
          { type: "InternalIP", address: "10.0.0.1" },
          { type: "Hostname", address: "n1" },
        ],
        nodeInfo: {
          kubeletVersion: "v1.32.0-deckhand",
          osImage: "Debian GNU/Linux 12 (bookworm)",
          kernelVersion: "6.1.0",
          containerRuntimeVersion: "containerd://1.6.20",
        },
      },
    };
    expect(def("", "nodes").table.row(node, NOW)).toEqual([
      "n1",
      "Ready,SchedulingDisabled",
      "control-plane,worker",
      "2d",
      "v1.32.0-deckhand",
      "10.0.0.1",
      "<none>",
      "Debian GNU/Linux 12 (bookworm)",
      "6.1.0",
      "containerd://1.6.20",
    ]);
    expect(
      def("", "nodes")
        .table.row({ metadata: { name: "n2" } }, NOW)
        .slice(0, 3),
    ).toEqual(["n2", "Unknown", "<none>"]);
  });

  it("services", () => {
    const svc = {
      metadata: { name: "web", creationTimestamp: created },
      spec: {
        type: "NodePort",
        clusterIPs: ["10.96.0.10"],
        ports: [
          { port: 80, nodePort: 30080, protocol: "TCP" },
          { port: 53, protocol: "UDP" },
        ],
        selector: { b: "2", a: "1" },
      },
    };
    expect(def("", "services").table.row(svc, NOW)).toEqual([
      "web",
      "NodePort",
      "10.96.0.10",
      "<none>",
      "80:30080/TCP,53/UDP",
      "5m",
      "a=1,b=2",
    ]);
    const lb = {
      metadata: { name: "lb" },
      spec: { type: "LoadBalancer", clusterIPs: ["10.96.0.11"], ports: [] },
    };
    expect(def("", "services").table.row(lb, NOW).slice(3, 5)).toEqual(["<pending>", "<none>"]);
    const ext = { metadata: { name: "ext" }, spec: { type: "ExternalName", externalName: "example.com" } };
    expect(def("", "services").table.row(ext, NOW).slice(2, 4)).toEqual(["<none>", "example.com"]);
  });

  it("deployments, replicasets, daemonsets, jobs", () => {
    const tpl = {
      spec: {
        containers: [
          { name: "a", image: "i1" },
          { name: "b", image: "i2" },
        ],
      },
    };
    const d = {
      metadata: { name: "d", creationTimestamp: created },
      spec: { replicas: 3, selector: { matchLabels: { app: "d" } }, template: tpl },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(def("apps", "deployments").table.row(d, NOW)).toEqual([
      "d",
      "2/3",
      3,
      2,
      "5m",
      "a,b",
      "i1,i2",
      "app=d",
    ]);
    const rs = {
      metadata: { name: "rs", creationTimestamp: created },
      spec: {
        replicas: 2,
        selector: { matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }] },
        template: tpl,
      },
      status: { replicas: 2, readyReplicas: 1 },
    };
    expect(def("apps", "replicasets").table.row(rs, NOW)).toEqual([
      "rs",
      2,
      2,
      1,
      "5m",
      "a,b",
      "i1,i2",
      "tier in (a,b)",
    ]);
    const ds = {
      metadata: { name: "ds", creationTimestamp: created },
      spec: {
        selector: { matchLabels: { app: "ds" } },
        template: { spec: { nodeSelector: { "kubernetes.io/os": "linux" }, containers: [] } },
      },
      status: {
        desiredNumberScheduled: 1,
        currentNumberScheduled: 1,
        numberReady: 1,
        updatedNumberScheduled: 1,
        numberAvailable: 1,
      },
    };
    expect(def("apps", "daemonsets").table.row(ds, NOW)).toEqual([
      "ds",
      1,
      1,
      1,
      1,
      1,
      "kubernetes.io/os=linux",
      "5m",
      "",
      "",
      "app=ds",
    ]);
    const job = {
      metadata: { name: "j", creationTimestamp: created },
      spec: {
        completions: 2,
        selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u" } },
        template: tpl,
      },
      status: {
        succeeded: 2,
        startTime: "2025-01-01T11:56:00Z",
        completionTime: "2025-01-01T11:56:42Z",
        conditions: [{ type: "Complete", status: "True" }],
      },
    };
    expect(def("batch", "jobs").table.row(job, NOW)).toEqual([
      "j",
      "Complete",
      "2/2",
      "42s",
      "5m",
      "a,b",
      "i1,i2",
      "batch.kubernetes.io/controller-uid=u",
    ]);
  });

  it("events, namespaces, configmaps, secrets, endpoints, endpointslices, leases, serviceaccounts", () => {
    const ev = {
      metadata: { name: "p.1" },
      involvedObject: { kind: "Pod", name: "p", fieldPath: "spec.containers{a}" },
      reason: "Pulled",
      message: "ok ",
      type: "Normal",
      source: { component: "kubelet", host: "n1" },
      firstTimestamp: "2025-01-01T11:50:00Z",
      lastTimestamp: "2025-01-01T11:59:00Z",
      count: 3,
    };
    expect(def("", "events").table.row(ev, NOW)).toEqual([
      "60s",
      "Normal",
      "Pulled",
      "pod/p",
      "spec.containers{a}",
      "kubelet, n1",
      "ok",
      "10m",
      3,
      "p.1",
    ]);
    expect(
      def("", "namespaces").table.row(
        { metadata: { name: "ns", creationTimestamp: created }, status: { phase: "Active" } },
        NOW,
      ),
    ).toEqual(["ns", "Active", "5m"]);
    expect(
      def("", "configmaps").table.row(
        { metadata: { name: "c" }, data: { a: "1" }, binaryData: { b: "" } },
        NOW,
      ),
    ).toEqual(["c", 2, "<unknown>"]);
    expect(
      def("", "secrets").table.row({ metadata: { name: "s" }, type: "Opaque", data: { a: "" } }, NOW),
    ).toEqual(["s", "Opaque", 1, "<unknown>"]);
    const ep = {
      metadata: { name: "e" },
      subsets: [
        {
          addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }, { ip: "10.0.0.3" }, { ip: "10.0.0.4" }],
          ports: [{ port: 80 }],
        },
      ],
    };
    expect(def("", "endpoints").table.row(ep, NOW)[1]).toBe(
      "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...",
    );
    expect(def("", "endpoints").table.row({ metadata: { name: "e" } }, NOW)[1]).toBe("<none>");
    const slice = {
      metadata: { name: "s" },
      addressType: "IPv4",
      ports: [{ port: 80 }],
      endpoints: [{ addresses: ["10.0.0.1"] }],
    };
    expect(def("discovery.k8s.io", "endpointslices").table.row(slice, NOW).slice(1, 4)).toEqual([
      "IPv4",
      "80",
      "10.0.0.1",
    ]);
    expect(
      def("discovery.k8s.io", "endpointslices")
        .table.row({ metadata: { name: "s" }, addressType: "IPv4", endpoints: [] }, NOW)
        .slice(2, 4),
    ).toEqual(["<unset>", "<unset>"]);
    expect(
      def("coordination.k8s.io", "leases").table.row(
        { metadata: { name: "n1" }, spec: { holderIdentity: "n1" } },
        NOW,
      ),
    ).toEqual(["n1", "n1", "<unknown>"]);
    expect(def("", "serviceaccounts").table.row({ metadata: { name: "default" } }, NOW)).toEqual([
      "default",
      0,
      "<unknown>",
    ]);
  });

  it("every table has as many cells as columns", () => {
    for (const d of [
      def("", "pods"),
      def("", "nodes"),
      def("", "services"),
      def("apps", "deployments"),
      def("", "events"),
    ]) {
      expect(d.table.row({ metadata: { name: "x" } } as never, NOW)).toHaveLength(d.table.columns.length);
    }
  });
});

describe("humanDuration", () => {
  it.each([
    [0, "0s"],
    [59_000, "59s"],
    [119_000, "119s"],
    [120_000, "2m"],
    [125_000, "2m5s"],
    [600_000, "10m"],
    [3 * 3600_000, "3h"],
    [3 * 3600_000 + 60_000, "3h1m"],
    [9 * 3600_000, "9h"],
    [50 * 3600_000, "2d2h"],
    [8 * 86400_000, "8d"],
    [800 * 86400_000, "2y70d"],
    [-500, "0s"],
    [-5000, "<invalid>"],
  ])("%d ms → %s", (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
