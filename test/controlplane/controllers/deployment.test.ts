// The Deployment controller with real kubectl: create/scale, rolling update bounds (watched), `kubectl set
// image`, `rollout status|history|undo|pause|resume`, Recreate, revision history cleanup and the progress
// deadline. Fake nodes and a kubelet stand-in that reports pods Running/Ready (see support.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deployment, ReplicaSet } from "../../../src/api/schema/apps/types.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import {
  createFakeNode,
  deleteNode,
  eventsFor,
  fakeKubelet,
  listPods,
  startCluster,
  type TestCluster,
  uniqueName,
  waitFor,
} from "./support.ts";

const DEPLOYMENTS = { group: "apps", version: "v1", resource: "deployments" } as const;
const REPLICASETS = { group: "apps", version: "v1", resource: "replicasets" } as const;
const IMAGE_A = "deckhand.local/busybox:1.35";
const IMAGE_B = "127.0.0.1:5000/deckhand/busybox:1.35";

describe("Deployment controller", () => {
  let cluster: TestCluster;
  const nodes = [uniqueName("dep-node-a"), uniqueName("dep-node-b")];
  let ns: string;
  let kubelet: { stop(): Promise<void> } | undefined;
  /** Pods whose names match are kept Running but not Ready (a broken rollout). */
  const neverReady = new Set<string>();

  const getDeployment = (name: string) =>
    cluster.api.get<Deployment>({ ...DEPLOYMENTS, namespace: ns, name });
  const replicaSetsOf = async (name: string) =>
    (await cluster.api.list<ReplicaSet>({ ...REPLICASETS, namespace: ns })).items.filter((rs) =>
      rs.metadata?.ownerReferences?.some((r) => r.kind === "Deployment" && r.name === name),
    );
  const rolledOut = (name: string, replicas: number) =>
    waitFor(
      async () => {
        const d = await getDeployment(name);
        const s = d.status ?? {};
        return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
          s.updatedReplicas === replicas &&
          s.replicas === replicas &&
          s.availableReplicas === replicas
          ? d
          : undefined;
      },
      { what: `deployment ${name} rolled out with ${replicas} replicas`, timeoutMs: 90_000 },
    );

  /** `kubectl create deployment` as users type it (kubectl 1.32 sends the Deployment as protobuf). */
  const createDeployment = async (name: string, image: string, replicas: number) => {
    await cluster.kubectl(
      "create",
      "deployment",
      name,
      `--image=${image}`,
      `--replicas=${replicas}`,
      "-n",
      ns,
    );
  };

  beforeAll(async () => {
    cluster = await startCluster();
    for (const n of nodes) await createFakeNode(cluster.api, n);
    ns = await cluster.namespace("dep");
    kubelet = fakeKubelet(cluster.api, ns, nodes, (pod) =>
      [...neverReady].some((prefix) => pod.spec?.containers?.[0]?.image === prefix) ? "unready" : "ready",
    );
  });

  afterAll(async () => {
    await kubelet?.stop();
    for (const n of nodes) if (cluster) await deleteNode(cluster.api, n);
    await cluster?.stop();
  });

  it("creates, scales and rolls a deployment with kubectl; the rollout never drops below replicas - maxUnavailable", async () => {
    const name = uniqueName("myweb");
    await createDeployment(name, IMAGE_A, 3);
    await rolledOut(name, 3);
    const status = await cluster.kubectl(
      "rollout",
      "status",
      `deployment/${name}`,
      "-n",
      ns,
      "--timeout=60s",
    );
    expect(status).toContain(`deployment "${name}" successfully rolled out`);
    let d = await getDeployment(name);
    expect(d.metadata?.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    expect(d.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual(
      expect.arrayContaining([
        ["Available", "True", "MinimumReplicasAvailable"],
        ["Progressing", "True", "NewReplicaSetAvailable"],
      ]),
    );
    const [rs1] = await replicaSetsOf(name);
    const hash = rs1?.metadata?.labels?.["pod-template-hash"];
    expect(rs1?.metadata?.name).toBe(`${name}-${hash}`);
    expect(rs1?.spec?.selector?.matchLabels).toEqual({ app: name, "pod-template-hash": hash });

    await cluster.kubectl("scale", "deployment", name, "--replicas=5", "-n", ns);
    await rolledOut(name, 5);
    await cluster.kubectl("scale", "deployment", name, "--replicas=3", "-n", ns);
    await rolledOut(name, 3);

    // Watch the pods during the rolling update: ready pods never fewer than replicas - maxUnavailable (3 - 0).
    await cluster.kubectl(
      "patch",
      "deployment",
      name,
      "-n",
      ns,
      "-p",
      JSON.stringify({ spec: { strategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } } }),
    );
    await rolledOut(name, 3);
    const abort = new AbortController();
    const ready = new Map<string, boolean>();
    let minReady = Number.POSITIVE_INFINITY;
    let watchedEvents = 0;
    const watching = (async () => {
      const pods = await listPods(cluster.api, ns, `app=${name}`);
      const list = await cluster.api.list<Pod>(
        { version: "v1", resource: "pods", namespace: ns },
        { labelSelector: `app=${name}` },
      );
      for (const p of pods) ready.set(p.metadata?.name ?? "", isReady(p));
      for await (const ev of cluster.api.watch<Pod>(
        { version: "v1", resource: "pods", namespace: ns },
        {
          labelSelector: `app=${name}`,
          resourceVersion: list.metadata.resourceVersion,
          signal: abort.signal,
        },
      )) {
        watchedEvents++;
        const podName = ev.object.metadata?.name ?? "";
        if (ev.type === "DELETED" || ev.object.metadata?.deletionTimestamp) ready.delete(podName);
        else ready.set(podName, isReady(ev.object));
        minReady = Math.min(minReady, [...ready.values()].filter(Boolean).length);
      }
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const setImage = await cluster.kubectl(
      "set",
      "image",
      `deployment/${name}`,
      `${name.startsWith("myweb") ? "busybox" : "main"}=${IMAGE_B}`,
      "-n",
      ns,
    );
    expect(setImage).toContain(`deployment.apps/${name} image updated`);
    d = await rolledOut(name, 3);
    abort.abort();
    await watching;
    expect(watchedEvents).toBeGreaterThan(0);
    expect(minReady).toBeGreaterThanOrEqual(3);
    expect(d.metadata?.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
    const sets = await replicaSetsOf(name);
    expect(sets).toHaveLength(2);
    const byRevision = Object.fromEntries(
      sets.map((rs) => [rs.metadata?.annotations?.["deployment.kubernetes.io/revision"], rs]),
    );
    expect(byRevision["1"]?.spec?.replicas).toBe(0);
    expect(byRevision["2"]?.spec?.replicas).toBe(3);
    const events = await eventsFor(cluster.api, ns, name);
    expect(
      events.some(
        (e) =>
          e.reason === "ScalingReplicaSet" && /^Scaled up replica set .* from 0 to 1$/.test(e.message ?? ""),
      ),
    ).toBe(true);
    expect(
      events.some(
        (e) =>
          e.reason === "ScalingReplicaSet" &&
          /^Scaled down replica set .* from \d+ to \d+$/.test(e.message ?? ""),
      ),
    ).toBe(true);

    const history = await cluster.kubectl("rollout", "history", `deployment/${name}`, "-n", ns);
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(history).toMatch(/\n1\s+/);
    expect(history).toMatch(/\n2\s+/);

    // rollout undo: kubectl copies revision 1's template back; the controller makes it revision 3.
    expect(await cluster.kubectl("rollout", "undo", `deployment/${name}`, "-n", ns)).toContain("rolled back");
    d = await rolledOut(name, 3);
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe(IMAGE_A);
    expect(d.metadata?.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    const after = await replicaSetsOf(name);
    expect(after).toHaveLength(2);
    const reused = after.find((rs) => rs.metadata?.uid === byRevision["1"]?.metadata?.uid);
    expect(reused?.metadata?.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(reused?.spec?.replicas).toBe(3);
  });

  it("rejects a Deployment whose selector does not match its template (422)", async () => {
    const name = uniqueName("mismatch");
    const out = await cluster.cp.kubectl(["apply", "-f", "-"], {
      allowFailure: true,
      input: `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${ns} }
spec:
  selector: { matchLabels: { app: one } }
  template:
    metadata: { labels: { app: other } }
    spec: { containers: [ { name: main, image: deckhand.local/busybox:1.35 } ] }
`,
    });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("Invalid value");
    expect(out.stderr).toContain("`selector` does not match template `labels`");
    expect((await cluster.cp.fetch(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`)).status).toBe(404);
  });

  it("pauses and resumes: a paused deployment does not roll out template changes", async () => {
    const name = uniqueName("pause");
    await createDeployment(name, IMAGE_A, 2);
    await rolledOut(name, 2);
    expect(await cluster.kubectl("rollout", "pause", `deployment/${name}`, "-n", ns)).toContain("paused");
    await cluster.kubectl("set", "image", `deployment/${name}`, `busybox=${IMAGE_B}`, "-n", ns);
    const paused = await waitFor(
      async () => {
        const d = await getDeployment(name);
        const p = d.status?.conditions?.find((c) => c.type === "Progressing");
        return p?.reason === "DeploymentPaused" && p.status === "Unknown" ? d : undefined;
      },
      { what: "Progressing=Unknown DeploymentPaused", timeoutMs: 60_000 },
    );
    expect(paused.status?.conditions?.find((c) => c.type === "Progressing")?.message).toBe(
      "Deployment is paused",
    );
    expect(await replicaSetsOf(name)).toHaveLength(1);
    expect(await cluster.kubectl("rollout", "resume", `deployment/${name}`, "-n", ns)).toContain("resumed");
    const d = await rolledOut(name, 2);
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe(IMAGE_B);
    expect(await replicaSetsOf(name)).toHaveLength(2);
  });

  it("Recreate deletes every old pod before creating new ones; revisionHistoryLimit prunes old ReplicaSets", async () => {
    const name = uniqueName("recreate");
    await createDeployment(name, IMAGE_A, 2);
    await cluster.kubectl(
      "patch",
      "deployment",
      name,
      "-n",
      ns,
      "--type=merge",
      "-p",
      JSON.stringify({
        spec: { strategy: { type: "Recreate", rollingUpdate: null }, revisionHistoryLimit: 1 },
      }),
    );
    await rolledOut(name, 2);
    const abort = new AbortController();
    const alive = new Map<string, string>();
    let mixed = false;
    const list = await cluster.api.list<Pod>(
      { version: "v1", resource: "pods", namespace: ns },
      { labelSelector: `app=${name}` },
    );
    for (const p of list.items) alive.set(p.metadata?.name ?? "", p.spec?.containers?.[0]?.image ?? "");
    const watching = (async () => {
      for await (const ev of cluster.api.watch<Pod>(
        { version: "v1", resource: "pods", namespace: ns },
        {
          labelSelector: `app=${name}`,
          resourceVersion: list.metadata.resourceVersion,
          signal: abort.signal,
        },
      )) {
        if (ev.type === "DELETED") alive.delete(ev.object.metadata?.name ?? "");
        else alive.set(ev.object.metadata?.name ?? "", ev.object.spec?.containers?.[0]?.image ?? "");
        if (new Set(alive.values()).size > 1) mixed = true;
      }
    })().catch(() => undefined);
    await cluster.kubectl("set", "image", `deployment/${name}`, `busybox=${IMAGE_B}`, "-n", ns);
    await rolledOut(name, 2);
    await cluster.kubectl("set", "image", `deployment/${name}`, `busybox=${IMAGE_A}-x`, "-n", ns);
    await rolledOut(name, 2);
    abort.abort();
    await watching;
    expect(mixed).toBe(false);
    // revisionHistoryLimit 1: the new ReplicaSet plus one old one.
    await waitFor(async () => (await replicaSetsOf(name)).length === 2, {
      what: "old ReplicaSets pruned to 1",
      timeoutMs: 60_000,
    });
  });

  it("reports ProgressDeadlineExceeded when a rollout makes no progress", async () => {
    const name = uniqueName("stuck");
    await createDeployment(name, IMAGE_A, 1);
    await rolledOut(name, 1);
    const broken = `${IMAGE_A}-broken-${name}`;
    neverReady.add(broken);
    await cluster.kubectl(
      "patch",
      "deployment",
      name,
      "-n",
      ns,
      "-p",
      JSON.stringify({ spec: { progressDeadlineSeconds: 3 } }),
    );
    await cluster.kubectl("set", "image", `deployment/${name}`, `busybox=${broken}`, "-n", ns);
    const d = await waitFor(
      async () => {
        const dep = await getDeployment(name);
        const p = dep.status?.conditions?.find((c) => c.type === "Progressing");
        return p?.status === "False" ? dep : undefined;
      },
      { what: "Progressing=False", timeoutMs: 60_000 },
    );
    const p = d.status?.conditions?.find((c) => c.type === "Progressing");
    expect(p?.reason).toBe("ProgressDeadlineExceeded");
    expect(p?.message).toMatch(/^ReplicaSet ".*" has timed out progressing\.$/);
    const out = await cluster.cp.kubectl(
      ["rollout", "status", `deployment/${name}`, "-n", ns, "--timeout=20s"],
      { allowFailure: true },
    );
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("exceeded its progress deadline");
    // The old pod stays: maxUnavailable 25% of 1 rounds down to 0.
    const d2 = await getDeployment(name);
    expect(d2.status?.availableReplicas).toBe(1);
  });
});

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}
