// The DaemonSet controller against a real control plane with kubectl: one pod per eligible node (node
// selector, taints, upstream's automatic tolerations), pods pinned through node affinity and bound by the
// scheduler, new nodes picked up, NoExecute taints evicting, and a rolling update within maxUnavailable.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaemonSet } from "../../../src/api/schema/apps/types.ts";
import type { Node } from "../../../src/api/schema/core/node-types.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import {
  createFakeNode,
  deleteNode,
  fakeKubelet,
  listPods,
  NODES,
  startCluster,
  type TestCluster,
  uniqueName,
  waitFor,
} from "./support.ts";

const DAEMONSETS = { group: "apps", version: "v1", resource: "daemonsets" } as const;

describe("DaemonSet controller", () => {
  let cluster: TestCluster;
  const tag = uniqueName("ds");
  const [plain, labelled, tainted, late] = ["a", "b", "c", "d"].map((s) => `${tag}-node-${s}`) as [
    string,
    string,
    string,
    string,
  ];
  const nodes = [plain, labelled, tainted, late];
  let ns: string;
  let kubelet: { stop(): Promise<void> } | undefined;

  const dsPods = async (name: string) =>
    (await listPods(cluster.api, ns, `app=${name}`)).filter((p) => !p.metadata?.deletionTimestamp);
  const byNode = (pods: Pod[]) => pods.map((p) => p.spec?.nodeName).sort();
  const getDs = (name: string) => cluster.api.get<DaemonSet>({ ...DAEMONSETS, namespace: ns, name });

  beforeAll(async () => {
    cluster = await startCluster();
    await createFakeNode(cluster.api, plain, { labels: { [`${tag}/disk`]: "hdd" } });
    await createFakeNode(cluster.api, labelled, { labels: { [`${tag}/disk`]: "ssd" } });
    await createFakeNode(cluster.api, tainted, {
      labels: { [`${tag}/disk`]: "ssd" },
      taints: [{ key: `${tag}/dedicated`, value: "db", effect: "NoSchedule" }],
    });
    ns = await cluster.namespace("ds");
    kubelet = fakeKubelet(cluster.api, ns, nodes);
  });

  afterAll(async () => {
    await kubelet?.stop();
    for (const n of nodes) if (cluster) await deleteNode(cluster.api, n);
    await cluster?.stop();
  });

  it("runs one pod per eligible node, follows new nodes and NoExecute taints, and rolls updates", async () => {
    const name = uniqueName("agent");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ${name}, namespace: ${ns} }
spec:
  selector: { matchLabels: { app: ${name} } }
  updateStrategy: { type: RollingUpdate, rollingUpdate: { maxUnavailable: 1 } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions: [ { key: "${tag}/disk", operator: Exists } ]
      containers: [ { name: main, image: deckhand.local/busybox:1.35 } ]
`,
    });
    // Every labelled node but the tainted one.
    let pods = await waitFor(
      async () => {
        const list = await dsPods(name);
        return list.length === 2 && list.every((p) => p.spec?.nodeName) ? list : undefined;
      },
      { what: "2 daemon pods bound", timeoutMs: 60_000 },
    );
    expect(byNode(pods)).toEqual([plain, labelled].sort());
    for (const p of pods) {
      const terms =
        p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
      expect(terms).toEqual([
        { matchFields: [{ key: "metadata.name", operator: "In", values: [p.spec?.nodeName] }] },
      ]);
      const tolerated = (p.spec?.tolerations ?? []).map((t) => `${t.key}:${t.effect}`);
      expect(tolerated).toEqual(
        expect.arrayContaining([
          "node.kubernetes.io/not-ready:NoExecute",
          "node.kubernetes.io/unreachable:NoExecute",
          "node.kubernetes.io/disk-pressure:NoSchedule",
          "node.kubernetes.io/memory-pressure:NoSchedule",
          "node.kubernetes.io/pid-pressure:NoSchedule",
          "node.kubernetes.io/unschedulable:NoSchedule",
        ]),
      );
      expect(p.metadata?.labels?.["controller-revision-hash"]).toBeTruthy();
    }
    await waitFor(
      async () => {
        const s = (await getDs(name)).status;
        return (
          s?.desiredNumberScheduled === 2 &&
          s.numberReady === 2 &&
          s.numberAvailable === 2 &&
          s.updatedNumberScheduled === 2
        );
      },
      { what: "status 2/2 ready", timeoutMs: 60_000 },
    );
    expect(await cluster.kubectl("get", "ds", name, "-n", ns)).toMatch(
      new RegExp(`${name}\\s+2\\s+2\\s+2\\s+2\\s+2`),
    );

    // A new eligible node gets a pod.
    await createFakeNode(cluster.api, late, { labels: { [`${tag}/disk`]: "nvme" } });
    pods = await waitFor(
      async () => {
        const list = await dsPods(name);
        return list.length === 3 && list.every((p) => p.spec?.nodeName) ? list : undefined;
      },
      { what: "a pod on the new node", timeoutMs: 60_000 },
    );
    expect(byNode(pods)).toEqual([plain, labelled, late].sort());

    // A NoExecute taint the pods do not tolerate evicts the pod from that node.
    const node = await cluster.api.get<Node>({ ...NODES, name: late });
    await cluster.api.update(
      { ...NODES, name: late },
      { ...node, spec: { ...node.spec, taints: [{ key: `${tag}/drain`, effect: "NoExecute" }] } },
    );
    pods = await waitFor(
      async () => {
        const list = await dsPods(name);
        return list.length === 2 ? list : undefined;
      },
      { what: "the pod on the NoExecute-tainted node gone", timeoutMs: 60_000 },
    );
    expect(byNode(pods)).toEqual([plain, labelled].sort());

    // Rolling update: never more than maxUnavailable (1) node without an available pod.
    const abort = new AbortController();
    let worst = 0;
    const watching = (async () => {
      while (!abort.signal.aborted) {
        const list = await dsPods(name);
        const availableNodes = new Set(
          list
            .filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
            .map((p) => p.spec?.nodeName),
        );
        worst = Math.max(worst, 2 - availableNodes.size);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await cluster.kubectl(
      "set",
      "image",
      `ds/${name}`,
      "main=127.0.0.1:5000/deckhand/busybox:1.35",
      "-n",
      ns,
    );
    const rollout = await cluster.cp.kubectl(["rollout", "status", `ds/${name}`, "-n", ns, "--timeout=90s"]);
    abort.abort();
    await watching;
    expect(rollout.stdout).toContain(`daemon set "${name}" successfully rolled out`);
    pods = await dsPods(name);
    expect(pods.map((p) => p.spec?.containers?.[0]?.image)).toEqual([
      "127.0.0.1:5000/deckhand/busybox:1.35",
      "127.0.0.1:5000/deckhand/busybox:1.35",
    ]);
    expect(worst).toBeLessThanOrEqual(1);
  });
});
