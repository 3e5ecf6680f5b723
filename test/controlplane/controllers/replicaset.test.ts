// ReplicaSet and ReplicationController controllers against a real control plane (SQLite) with real kubectl.
// Nodes are API objects without agents, and a kubelet stand-in reports pods Running/Ready: the controllers
// only react to pod status, so that is an honest stand-in here (agents are exercised in the e2e tests).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReplicaSet } from "../../../src/api/schema/apps/types.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import {
  createFakeNode,
  deleteNode,
  eventsFor,
  fakeKubelet,
  listPods,
  PODS,
  startCluster,
  type TestCluster,
  uniqueName,
  waitFor,
} from "./support.ts";

describe("ReplicaSet and ReplicationController controllers", () => {
  let cluster: TestCluster;
  let dir: string;
  const nodes = [uniqueName("rs-node-a"), uniqueName("rs-node-b")];
  let kubelet: { stop(): Promise<void> } | undefined;
  let ns: string;

  const apply = async (name: string, yaml: string) => {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, yaml);
    return cluster.kubectl("apply", "-f", path);
  };
  const activePods = async (selector: string) =>
    (await listPods(cluster.api, ns, selector)).filter((p) => !p.metadata?.deletionTimestamp);

  beforeAll(async () => {
    cluster = await startCluster();
    dir = mkdtempSync(join(tmpdir(), "deckhand-rs-"));
    for (const n of nodes) await createFakeNode(cluster.api, n);
    ns = await cluster.namespace("rs");
    kubelet = fakeKubelet(cluster.api, ns, nodes);
  });

  afterAll(async () => {
    await kubelet?.stop();
    for (const n of nodes) if (cluster) await deleteNode(cluster.api, n);
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("creates, scales and replaces the pods of a ReplicaSet from YAML (matchExpressions)", async () => {
    const name = uniqueName("web");
    const out = await apply(
      name,
      `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  replicas: 3
  selector:
    matchLabels: { app: ${name} }
    matchExpressions:
    - { key: tier, operator: In, values: [frontend, web] }
  template:
    metadata:
      labels: { app: ${name}, tier: web }
    spec:
      containers:
      - name: main
        image: deckhand.local/busybox:1.35
`,
    );
    expect(out).toContain(`replicaset.apps/${name} created`);
    const selector = `app=${name}`;
    const pods = await waitFor(
      async () => {
        const list = await activePods(selector);
        return list.length === 3 && list.every((p) => p.spec?.nodeName) ? list : undefined;
      },
      { what: "3 bound pods", timeoutMs: 60_000 },
    );
    for (const p of pods) {
      expect(p.metadata?.name).toMatch(new RegExp(`^${name}-[a-z0-9]{5}$`));
      expect(p.metadata?.ownerReferences).toEqual([
        expect.objectContaining({
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name,
          controller: true,
          blockOwnerDeletion: true,
        }),
      ]);
      expect(nodes).toContain(p.spec?.nodeName);
    }
    // Spreading: with two empty equal nodes, both get pods.
    expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(2);
    await waitFor(
      async () => {
        const rs = await cluster.api.get<ReplicaSet>({
          group: "apps",
          version: "v1",
          resource: "replicasets",
          namespace: ns,
          name,
        });
        return rs.status?.readyReplicas === 3 &&
          rs.status?.availableReplicas === 3 &&
          rs.status?.fullyLabeledReplicas === 3
          ? rs
          : undefined;
      },
      { what: "status 3/3 ready", timeoutMs: 60_000 },
    );
    const table = await cluster.kubectl("get", "rs", name, "-n", ns);
    expect(table).toMatch(new RegExp(`${name}\\s+3\\s+3\\s+3`));

    await cluster.kubectl("scale", "rs", name, "-n", ns, "--replicas=5");
    await waitFor(async () => (await activePods(selector)).length === 5, {
      what: "5 pods",
      timeoutMs: 60_000,
    });
    await cluster.kubectl("scale", "rs", name, "-n", ns, "--replicas=2");
    await waitFor(async () => (await activePods(selector)).length === 2, {
      what: "2 pods",
      timeoutMs: 60_000,
    });

    const [victim] = await activePods(selector);
    await cluster.kubectl("delete", "pod", victim?.metadata?.name ?? "", "-n", ns, "--wait=false");
    await waitFor(
      async () => {
        const list = await activePods(selector);
        return list.length === 2 && !list.some((p) => p.metadata?.uid === victim?.metadata?.uid);
      },
      { what: "the deleted pod replaced", timeoutMs: 60_000 },
    );
    const events = await eventsFor(cluster.api, ns, name);
    expect(
      events.some((e) => e.reason === "SuccessfulCreate" && /^Created pod: /.test(e.message ?? "")),
    ).toBe(true);
    expect(
      events.some((e) => e.reason === "SuccessfulDelete" && /^Deleted pod: /.test(e.message ?? "")),
    ).toBe(true);
    expect(events.every((e) => e.source?.component === "replicaset-controller")).toBe(true);
  });

  it("adopts matching orphans and releases pods whose labels stop matching", async () => {
    const name = uniqueName("adopt");
    const orphan = await cluster.api.create<Pod>({ ...PODS, namespace: ns }, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `${name}-orphan`, labels: { app: name } },
      spec: { containers: [{ name: "main", image: "deckhand.local/busybox:1.35" }] },
    } as Pod);
    await apply(
      name,
      `apiVersion: apps/v1
kind: ReplicaSet
metadata: { name: ${name}, namespace: ${ns} }
spec:
  replicas: 2
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [ { name: main, image: deckhand.local/busybox:1.35 } ] }
`,
    );
    const adopted = await waitFor(
      async () => {
        const pod = await cluster.api.get<Pod>({ ...PODS, namespace: ns, name: orphan.metadata?.name });
        return pod.metadata?.ownerReferences?.some(
          (r) => r.kind === "ReplicaSet" && r.name === name && r.controller,
        )
          ? pod
          : undefined;
      },
      { what: "the orphan adopted", timeoutMs: 60_000 },
    );
    expect(adopted.metadata?.uid).toBe(orphan.metadata?.uid);
    // The orphan counts: only one pod is created.
    await waitFor(async () => (await activePods(`app=${name}`)).length === 2, {
      what: "2 pods",
      timeoutMs: 60_000,
    });

    await cluster.kubectl("label", "pod", `${name}-orphan`, "-n", ns, "app=released", "--overwrite");
    await waitFor(
      async () => {
        const pod = await cluster.api.get<Pod>({ ...PODS, namespace: ns, name: `${name}-orphan` });
        return (pod.metadata?.ownerReferences ?? []).length === 0;
      },
      { what: "the relabelled pod released", timeoutMs: 60_000 },
    );
    await waitFor(async () => (await activePods(`app=${name}`)).length === 2, {
      what: "a replacement",
      timeoutMs: 60_000,
    });
  });

  it("runs a ReplicationController from YAML", async () => {
    const name = uniqueName("rc");
    const out = await apply(
      name,
      `apiVersion: v1
kind: ReplicationController
metadata: { name: ${name}, namespace: ${ns} }
spec:
  replicas: 2
  selector: { app: ${name} }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [ { name: main, image: deckhand.local/busybox:1.35 } ] }
`,
    );
    expect(out).toContain(`replicationcontroller/${name} created`);
    await waitFor(
      async () => {
        const rc = JSON.parse(await cluster.kubectl("get", "rc", name, "-n", ns, "-o", "json"));
        return rc.status?.readyReplicas === 2 && rc.status?.replicas === 2;
      },
      { what: "RC 2/2 ready", timeoutMs: 60_000 },
    );
    const pods = await activePods(`app=${name}`);
    expect(pods.map((p) => p.metadata?.ownerReferences?.[0]?.kind)).toEqual([
      "ReplicationController",
      "ReplicationController",
    ]);
    const events = await eventsFor(cluster.api, ns, name);
    expect(
      events.some((e) => e.reason === "SuccessfulCreate" && e.source?.component === "replication-controller"),
    ).toBe(true);
    await cluster.kubectl("delete", "rc", name, "-n", ns);
    await waitFor(async () => (await activePods(`app=${name}`)).length === 0, {
      what: "pods garbage-collected",
      timeoutMs: 60_000,
    });
  });
});
