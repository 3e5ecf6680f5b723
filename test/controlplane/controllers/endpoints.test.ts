// Endpoints and EndpointSlice controllers against a real control plane and kubectl: `kubectl expose`, the
// ready/serving/terminating conditions, named target ports resolved per pod, nodeName and zone,
// publishNotReadyAddresses, headless services and services without a selector (left alone).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Endpoints } from "../../../src/api/schema/core/endpoints.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { EndpointSlice } from "../../../src/api/schema/discovery/endpointslice.ts";
import {
  createFakeNode,
  deleteNode,
  fakeKubelet,
  listPods,
  PODS,
  startCluster,
  type TestCluster,
  uniqueName,
  waitFor,
} from "./support.ts";

const SLICES = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" } as const;
const ENDPOINTS = { version: "v1", resource: "endpoints" } as const;

describe("Endpoints and EndpointSlice controllers", () => {
  let cluster: TestCluster;
  const nodes = [uniqueName("ep-node-a"), uniqueName("ep-node-b")];
  let ns: string;
  let kubelet: { stop(): Promise<void> } | undefined;
  const unready = new Set<string>();
  const hold = new Set<string>();

  const slicesOf = async (svc: string) =>
    (
      await cluster.api.list<EndpointSlice>(
        { ...SLICES, namespace: ns },
        { labelSelector: `kubernetes.io/service-name=${svc}` },
      )
    ).items;
  const podYaml = (name: string, labels: Record<string, string>, port: number, extra = "") => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels: ${JSON.stringify(labels)}
spec:
${extra}  containers:
  - name: main
    image: deckhand.local/busybox:1.35
    ports: [{ name: http, containerPort: ${port} }]
`;

  beforeAll(async () => {
    cluster = await startCluster();
    await createFakeNode(cluster.api, nodes[0] as string, {
      labels: { "topology.kubernetes.io/zone": "zone-a" },
    });
    await createFakeNode(cluster.api, nodes[1] as string);
    ns = await cluster.namespace("ep");
    kubelet = fakeKubelet(
      cluster.api,
      ns,
      nodes,
      (pod) => (unready.has(pod.metadata?.name ?? "") ? "unready" : "ready"),
      (pod) => hold.has(pod.metadata?.name ?? ""),
    );
  });

  afterAll(async () => {
    await kubelet?.stop();
    for (const n of nodes) if (cluster) await deleteNode(cluster.api, n);
    await cluster?.stop();
  });

  it("kubectl expose: the slices list exactly the ready replicas, with node, zone and conditions", async () => {
    const name = uniqueName("myweb");
    const yaml = await cluster.kubectl(
      "create",
      "deployment",
      name,
      "--image=deckhand.local/busybox:1.35",
      "--replicas=3",
      "--port=8080",
      "-n",
      ns,
      "--dry-run=client",
      "-o",
      "yaml",
    );
    await cluster.cp.kubectl(["apply", "-f", "-"], { input: yaml });
    expect(
      await cluster.kubectl("expose", "deployment", name, "--type=NodePort", "--port", "8080", "-n", ns),
    ).toContain(`service/${name} exposed`);
    const pods = await waitFor(
      async () => {
        const list = (await listPods(cluster.api, ns, `app=${name}`)).filter(
          (p) => p.status?.podIP && isReady(p),
        );
        return list.length === 3 ? list : undefined;
      },
      { what: "3 ready pods", timeoutMs: 60_000 },
    );
    const slice = await waitFor(
      async () => {
        const [s, ...rest] = await slicesOf(name);
        return s && rest.length === 0 && s.endpoints?.length === 3 ? s : undefined;
      },
      { what: "one slice with 3 endpoints", timeoutMs: 60_000 },
    );
    expect(slice.addressType).toBe("IPv4");
    expect(slice.metadata?.labels).toMatchObject({
      "kubernetes.io/service-name": name,
      "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    });
    expect(slice.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: "Service", name, controller: true }),
    ]);
    expect(slice.ports).toEqual([{ name: "", port: 8080, protocol: "TCP" }]);
    expect(new Set(slice.endpoints.map((e) => e.addresses[0]))).toEqual(
      new Set(pods.map((p) => p.status?.podIP)),
    );
    for (const e of slice.endpoints) {
      const pod = pods.find((p) => p.status?.podIP === e.addresses[0]) as Pod;
      expect(e.conditions).toEqual({ ready: true, serving: true, terminating: false });
      expect(e.nodeName).toBe(pod.spec?.nodeName);
      expect(e.targetRef).toMatchObject({ kind: "Pod", name: pod.metadata?.name, uid: pod.metadata?.uid });
      expect(e.zone).toBe(pod.spec?.nodeName === nodes[0] ? "zone-a" : undefined);
    }
    const ep = await cluster.api.get<Endpoints>({ ...ENDPOINTS, namespace: ns, name });
    expect(ep.subsets).toHaveLength(1);
    expect(ep.subsets?.[0]?.addresses).toHaveLength(3);
    expect(ep.subsets?.[0]?.ports).toEqual([{ name: "", port: 8080, protocol: "TCP" }]);
    const table = await cluster.kubectl(
      "get",
      "endpointslices",
      "-n",
      ns,
      "-l",
      `kubernetes.io/service-name=${name}`,
    );
    expect(table).toMatch(/IPv4\s+8080/);

    // Scale to 1: the slice follows.
    await cluster.kubectl("scale", "deployment", name, "--replicas=1", "-n", ns);
    await waitFor(async () => (await slicesOf(name))[0]?.endpoints?.length === 1, {
      what: "1 endpoint",
      timeoutMs: 60_000,
    });
  });

  it("not-ready and terminating pods: conditions, notReadyAddresses, publishNotReadyAddresses", async () => {
    const app = uniqueName("cond");
    const [ready, notReady, terminating] = ["r", "n", "t"].map((s) => `${app}-${s}`) as [
      string,
      string,
      string,
    ];
    unready.add(notReady);
    hold.add(terminating);
    for (const p of [ready, notReady, terminating]) {
      await cluster.cp.kubectl(["apply", "-f", "-"], {
        input: podYaml(p, { app }, 80, `  nodeName: ${nodes[1]}\n`),
      });
    }
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: Service
metadata: { name: ${app}, namespace: ${ns} }
spec:
  selector: { app: ${app} }
  ports: [{ name: web, port: 80, targetPort: http }]
`,
    });
    await waitFor(
      async () => (await listPods(cluster.api, ns, `app=${app}`)).every((p) => p.status?.phase === "Running"),
      {
        what: "pods running",
        timeoutMs: 60_000,
      },
    );
    await cluster.kubectl("delete", "pod", terminating, "-n", ns, "--wait=false");
    const byName = async () => {
      const [slice] = await slicesOf(app);
      return new Map((slice?.endpoints ?? []).map((e) => [e.targetRef?.name, e.conditions]));
    };
    const conditions = await waitFor(
      async () => {
        const m = await byName();
        return m.size === 3 && m.get(terminating)?.terminating ? m : undefined;
      },
      { what: "3 endpoints with the terminating one marked", timeoutMs: 60_000 },
    );
    expect(conditions.get(ready)).toEqual({ ready: true, serving: true, terminating: false });
    expect(conditions.get(notReady)).toEqual({ ready: false, serving: false, terminating: false });
    expect(conditions.get(terminating)).toEqual({ ready: false, serving: true, terminating: true });
    expect((await slicesOf(app))[0]?.ports).toEqual([{ name: "web", port: 80, protocol: "TCP" }]);
    // Endpoints: terminating pods are left out, not-ready ones are listed as such.
    const ep = await waitFor(
      async () => {
        const e = await cluster.api.get<Endpoints>({ ...ENDPOINTS, namespace: ns, name: app });
        return e.subsets?.[0]?.addresses?.length === 1 && e.subsets[0].notReadyAddresses?.length === 1
          ? e
          : undefined;
      },
      { what: "Endpoints with one ready and one not-ready address", timeoutMs: 60_000 },
    );
    expect(ep.subsets?.[0]?.addresses?.[0]?.targetRef?.name).toBe(ready);
    expect(ep.subsets?.[0]?.notReadyAddresses?.[0]?.targetRef?.name).toBe(notReady);

    await cluster.kubectl(
      "patch",
      "service",
      app,
      "-n",
      ns,
      "-p",
      JSON.stringify({ spec: { publishNotReadyAddresses: true } }),
    );
    const published = await waitFor(
      async () => {
        const m = await byName();
        return m.get(notReady)?.ready ? m : undefined;
      },
      { what: "publishNotReadyAddresses makes every endpoint ready", timeoutMs: 60_000 },
    );
    expect(published.get(terminating)).toEqual({ ready: true, serving: true, terminating: true });
    hold.delete(terminating);
  });

  it("resolves a named target port per pod: pods with different numbers land in different slices", async () => {
    const app = uniqueName("named");
    await cluster.cp.kubectl(["apply", "-f", "-"], { input: podYaml(`${app}-a`, { app }, 8080) });
    await cluster.cp.kubectl(["apply", "-f", "-"], { input: podYaml(`${app}-b`, { app }, 9090) });
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: Service
metadata: { name: ${app}, namespace: ${ns} }
spec:
  selector: { app: ${app} }
  ports: [{ port: 80, targetPort: http }]
`,
    });
    const slices = await waitFor(
      async () => {
        const s = await slicesOf(app);
        return s.length === 2 && s.every((x) => x.endpoints?.length === 1) ? s : undefined;
      },
      { what: "two slices, one per port mapping", timeoutMs: 60_000 },
    );
    const ports = slices.map((s) => [s.endpoints?.[0]?.targetRef?.name, s.ports?.[0]?.port]).sort();
    expect(ports).toEqual([
      [`${app}-a`, 8080],
      [`${app}-b`, 9090],
    ]);
    const ep = await cluster.api.get<Endpoints>({ ...ENDPOINTS, namespace: ns, name: app });
    expect(ep.subsets?.map((s) => s.ports?.[0]?.port).sort()).toEqual([8080, 9090]);
  });

  it("headless services get the headless label and pod hostnames; services without a selector are left alone", async () => {
    const app = uniqueName("hl");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: podYaml(`${app}-0`, { app }, 80, `  hostname: web-0\n  subdomain: ${app}\n`),
    });
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: Service
metadata: { name: ${app}, namespace: ${ns} }
spec:
  clusterIP: None
  selector: { app: ${app} }
  ports: [{ port: 80 }]
`,
    });
    const slice = await waitFor(
      async () => {
        const [s] = await slicesOf(app);
        return s?.endpoints?.length === 1 ? s : undefined;
      },
      { what: "the headless service's slice", timeoutMs: 60_000 },
    );
    expect(slice.metadata?.labels?.["service.kubernetes.io/headless"]).toBe("");
    expect(slice.endpoints?.[0]?.hostname).toBe("web-0");

    const manual = uniqueName("manual");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: Service
metadata: { name: ${manual}, namespace: ${ns} }
spec:
  ports: [{ port: 80 }]
---
apiVersion: v1
kind: Endpoints
metadata: { name: ${manual}, namespace: ${ns} }
subsets:
- addresses: [{ ip: 192.0.2.10 }]
  ports: [{ port: 80 }]
`,
    });
    // Give the controllers a chance to (wrongly) act, then check nothing changed.
    await new Promise((r) => setTimeout(r, 1500));
    const ep = await cluster.api.get<Endpoints>({ ...ENDPOINTS, namespace: ns, name: manual });
    expect(ep.subsets?.[0]?.addresses?.[0]?.ip).toBe("192.0.2.10");
    expect(await slicesOf(manual)).toEqual([]);
    // And the selector-less service of the cluster itself is untouched too.
    const pod = await cluster.api.get<Pod>({ ...PODS, namespace: ns, name: `${app}-0` });
    expect(pod.metadata?.name).toBe(`${app}-0`);
  });
});

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}
