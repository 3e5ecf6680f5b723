// Two control planes over one etcd: only the holder of the kube-system/deckhand-controller-manager Lease
// runs the scheduler and controllers (a ReplicaSet gets exactly its replicas, never twice as many); when
// the leader dies the other takes over after the lease expires and carries on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Lease } from "../../../src/api/schema/coordination/lease.ts";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { type EtcdServer, requireEtcd, startEtcd } from "../../support/etcd.ts";
import {
  apiClientFor,
  createFakeNode,
  deleteNode,
  fakeKubelet,
  listPods,
  uniqueName,
  waitFor,
} from "./support.ts";

const LEASE = {
  group: "coordination.k8s.io",
  version: "v1",
  resource: "leases",
  namespace: "kube-system",
  name: "deckhand-controller-manager",
};

describe("leader election between two control planes on one etcd", () => {
  let etcd: EtcdServer;
  const planes: TestControlPlane[] = [];

  beforeAll(async () => {
    requireEtcd();
    etcd = await startEtcd();
    for (let i = 0; i < 2; i++) planes.push(await startControlPlane({ args: ["--store", etcd.storeSpec] }));
  });

  afterAll(async () => {
    for (const p of planes) await p.stop();
    await etcd?.stop();
  });

  it("only the lease holder acts; the other takes over when it dies", async () => {
    const [a, b] = planes as [TestControlPlane, TestControlPlane];
    const api = apiClientFor(a);
    const apiB = apiClientFor(b);
    const leading = (p: TestControlPlane) => p.logs().includes('"msg":"became leader"');
    const leader = await waitFor(() => (leading(a) || leading(b) ? (leading(a) ? a : b) : undefined), {
      what: "one control plane to lead",
      timeoutMs: 60_000,
    });
    const follower = leader === a ? b : a;
    expect(leading(follower)).toBe(false);
    const lease = await api.get<Lease>(LEASE);
    expect(lease.spec?.leaseDurationSeconds).toBe(15);
    expect(lease.spec?.holderIdentity).toBeTruthy();

    const node = uniqueName("le-node");
    await createFakeNode(api, node);
    const ns = uniqueName("le");
    await a.kubectl(["create", "namespace", ns]);
    const kubelet = fakeKubelet(api, ns, [node]);
    try {
      const name = uniqueName("rs");
      const rsYaml = (replicas: number) => `apiVersion: apps/v1
kind: ReplicaSet
metadata: { name: ${name}, namespace: ${ns} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [ { name: main, image: deckhand.local/busybox:1.35 } ] }
`;
      await follower.kubectl(["apply", "-f", "-"], { input: rsYaml(3) });
      await waitFor(
        async () => {
          const pods = await listPods(api, ns, `app=${name}`);
          return pods.length === 3 && pods.every((p) => p.status?.phase === "Running");
        },
        { what: "3 running pods", timeoutMs: 60_000 },
      );
      // Give a second set of controllers, were there one, time to double the pods.
      await new Promise((r) => setTimeout(r, 2000));
      expect(await listPods(api, ns, `app=${name}`)).toHaveLength(3);

      // The leader dies without releasing the lease; the follower takes over once it expires (15 s).
      await leader.kill();
      const survivor = apiClientFor(follower);
      await waitFor(() => leading(follower), { what: "the follower to become leader", timeoutMs: 90_000 });
      const after = await survivor.get<Lease>(LEASE);
      expect(after.spec?.holderIdentity).not.toBe(lease.spec?.holderIdentity);
      expect(after.spec?.leaseTransitions).toBe((lease.spec?.leaseTransitions ?? 0) + 1);
      await follower.kubectl(["apply", "-f", "-"], { input: rsYaml(4) });
      await waitFor(async () => (await listPods(survivor, ns, `app=${name}`)).length === 4, {
        what: "the new leader to scale the ReplicaSet",
        timeoutMs: 60_000,
      });
      survivor.close();
    } finally {
      await kubelet.stop().catch(() => undefined);
      await deleteNode(apiB, node).catch(() => undefined);
      api.close();
      apiB.close();
    }
  });
});
