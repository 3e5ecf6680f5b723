// Node lifecycle, taint-based eviction, node IPAM and default service accounts against a real control plane
// started with short timeouts (--node-monitor-grace-period 3s, --default-unreachable-toleration-seconds 2).
// Nodes are API objects whose heartbeats (Lease renewals) the test sends or stops; a kubelet stand-in
// reports pods Running/Ready on the live node only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Node } from "../../../src/api/schema/core/node-types.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import {
  createFakeNode,
  deleteNode,
  eventsFor,
  fakeKubelet,
  listPods,
  NODES,
  PODS,
  renewNodeLease,
  startCluster,
  type TestCluster,
  uniqueName,
  waitFor,
} from "./support.ts";

describe("node lifecycle, taint eviction, node IPAM and service accounts", () => {
  let cluster: TestCluster;
  const alive = uniqueName("nl-alive");
  const doomed = uniqueName("nl-doomed");
  const kubeletNodes = [alive, doomed];
  const heartbeating = new Set([alive, doomed]);
  let ns: string;
  let kubelet: { stop(): Promise<void> } | undefined;
  let beating = true;
  let heartbeats: Promise<void> | undefined;

  beforeAll(async () => {
    cluster = await startCluster({
      args: [
        "--node-monitor-grace-period",
        "3s",
        "--node-monitor-period",
        "1s",
        "--default-unreachable-toleration-seconds",
        "2",
        "--cluster-cidr",
        "10.250.0.0/16",
      ],
    });
    for (const n of kubeletNodes) await createFakeNode(cluster.api, n);
    heartbeats = (async () => {
      while (beating) {
        for (const n of heartbeating) await renewNodeLease(cluster.api, n).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    ns = await cluster.namespace("nl");
    kubelet = fakeKubelet(cluster.api, ns, kubeletNodes);
  });

  afterAll(async () => {
    beating = false;
    await heartbeats;
    await kubelet?.stop();
    for (const n of [alive, doomed]) if (cluster) await deleteNode(cluster.api, n);
    await cluster?.stop();
  });

  it("gives every node its own pod CIDR from --cluster-cidr and every namespace a default ServiceAccount", async () => {
    const cidrs = await waitFor(
      async () => {
        const got = await Promise.all(
          [alive, doomed].map((n) => cluster.api.get<Node>({ ...NODES, name: n })),
        );
        const list = got.map((n) => n.spec?.podCIDR);
        return list.every(Boolean) ? list : undefined;
      },
      { what: "pod CIDRs on both nodes", timeoutMs: 30_000 },
    );
    for (const c of cidrs) expect(c).toMatch(/^10\.250\.\d{1,3}\.0\/24$/);
    expect(new Set(cidrs).size).toBe(2);
    const node = await cluster.api.get<Node>({ ...NODES, name: alive });
    expect(node.spec?.podCIDRs).toEqual([node.spec?.podCIDR]);
    await waitFor(
      async () => (await cluster.cp.fetch(`/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200,
      { what: "the default ServiceAccount", timeoutMs: 30_000 },
    );
  });

  it("marks a silent node Unknown, taints it unreachable and evicts its pods after their toleration", async () => {
    const name = uniqueName("web");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: apps/v1
kind: ReplicaSet
metadata: { name: ${name}, namespace: ${ns} }
spec:
  replicas: 2
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [ { name: main, image: deckhand.local/busybox:1.35 } ]
`,
    });
    const pods = await waitFor(
      async () => {
        const list = await listPods(cluster.api, ns, `app=${name}`);
        return list.length === 2 && list.every((p) => p.status?.phase === "Running") ? list : undefined;
      },
      { what: "2 running pods", timeoutMs: 60_000 },
    );
    // DefaultTolerationSeconds admission: 300 s by default, 2 s by flag here.
    const tolerations = pods[0]?.spec?.tolerations ?? [];
    expect(tolerations).toEqual(
      expect.arrayContaining([
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
        {
          key: "node.kubernetes.io/unreachable",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 2,
        },
      ]),
    );
    // Make sure one pod is on the doomed node (move it there if the scheduler spread them otherwise).
    let victim = pods.find((p) => p.spec?.nodeName === doomed);
    if (!victim) {
      await cluster.kubectl("cordon", alive);
      await cluster.kubectl("delete", "pod", pods[0]?.metadata?.name ?? "", "-n", ns, "--wait=false");
      victim = await waitFor(
        async () =>
          (await listPods(cluster.api, ns, `app=${name}`)).find(
            (p) => p.spec?.nodeName === doomed && p.status?.phase === "Running",
          ),
        { what: "a pod on the doomed node", timeoutMs: 60_000 },
      );
      await cluster.kubectl("uncordon", alive);
    }

    // The doomed node's agent dies: no more heartbeats, nobody confirms its pods' deletion.
    heartbeating.delete(doomed);
    kubeletNodes.splice(kubeletNodes.indexOf(doomed), 1);
    const node = await waitFor(
      async () => {
        const n = await cluster.api.get<Node>({ ...NODES, name: doomed });
        const ready = n.status?.conditions?.find((c) => c.type === "Ready");
        const unreachable = (n.spec?.taints ?? []).filter((t) => t.key === "node.kubernetes.io/unreachable");
        return ready?.status === "Unknown" && unreachable.length === 2 ? n : undefined;
      },
      { what: "the doomed node Unknown and tainted", timeoutMs: 60_000 },
    );
    expect(node.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "Unknown",
      reason: "NodeStatusUnknown",
      message: "Kubelet stopped posting node status.",
    });
    expect(
      (node.spec?.taints ?? [])
        .filter((t) => t.key === "node.kubernetes.io/unreachable")
        .map((t) => t.effect)
        .sort(),
    ).toEqual(["NoExecute", "NoSchedule"]);
    expect(await cluster.kubectl("get", "node", doomed)).toMatch(/NotReady/);

    // After the 2 s toleration the pod is evicted (Terminating: its node cannot confirm) and replaced.
    const evicted = await waitFor(
      async () => {
        const p = await cluster.api.get<Pod>({ ...PODS, namespace: ns, name: victim?.metadata?.name });
        return p.metadata?.deletionTimestamp ? p : undefined;
      },
      { what: "the pod on the dead node evicted", timeoutMs: 60_000 },
    );
    expect(evicted.status?.conditions?.find((c) => c.type === "DisruptionTarget")).toMatchObject({
      status: "True",
      reason: "DeletionByTaintManager",
    });
    expect(evicted.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
    const events = await eventsFor(cluster.api, ns, victim?.metadata?.name ?? "");
    expect(
      events.some(
        (e) => e.reason === "TaintManagerEviction" && e.source?.component === "taint-eviction-controller",
      ),
    ).toBe(true);
    await waitFor(
      async () => {
        const list = (await listPods(cluster.api, ns, `app=${name}`)).filter(
          (p) => !p.metadata?.deletionTimestamp,
        );
        return (
          list.length === 2 && list.every((p) => p.spec?.nodeName === alive && p.status?.phase === "Running")
        );
      },
      { what: "2 pods running on the live node", timeoutMs: 60_000 },
    );
    const nodeEvents = (await eventsFor(cluster.api, "default", doomed)).map((e) => e.reason);
    expect(nodeEvents).toEqual(expect.arrayContaining(["RegisteredNode", "NodeNotReady"]));
  });
});
