// The scheduler against a real control plane with kubectl: FailedScheduling in upstream's words (and
// PodScheduled=False/Unschedulable) for a pod that fits nowhere, a retry when a fitting node appears, the
// Scheduled event, cordoned nodes, host ports, and pods of other schedulers left alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import {
  createFakeNode,
  deleteNode,
  eventsFor,
  PODS,
  startCluster,
  type TestCluster,
  uniqueName,
  waitFor,
} from "../controllers/support.ts";

describe("scheduler", () => {
  let cluster: TestCluster;
  const tag = uniqueName("sch");
  const small = `${tag}-small`;
  const gpuA = `${tag}-gpu-a`;
  const gpuB = `${tag}-gpu-b`;
  const big = `${tag}-big`;
  const nodes = [small, gpuA, gpuB, big];
  let ns: string;

  const podYaml = (name: string, spec: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns} }
spec:
${spec}
`;
  const container = (cpu = "100m", ports = "") =>
    `  containers:\n  - name: main\n    image: deckhand.local/busybox:1.35\n    resources: { requests: { cpu: "${cpu}" } }\n${ports}`;
  const getPod = (name: string) => cluster.api.get<Pod>({ ...PODS, namespace: ns, name });
  const failedScheduling = (name: string) =>
    waitFor(
      async () =>
        (await eventsFor(cluster.api, ns, name)).find((e) => e.reason === "FailedScheduling")?.message,
      { what: `FailedScheduling for ${name}`, timeoutMs: 30_000 },
    );

  beforeAll(async () => {
    cluster = await startCluster();
    await createFakeNode(cluster.api, small, { cpu: "1" });
    for (const n of [gpuA, gpuB]) {
      await createFakeNode(cluster.api, n, {
        cpu: "8",
        taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }],
      });
    }
    ns = await cluster.namespace("sch");
  });

  afterAll(async () => {
    for (const n of nodes) if (cluster) await deleteNode(cluster.api, n);
    await cluster?.stop();
  });

  it("explains why a pod fits nowhere, keeps it Pending, and schedules it once a node fits", async () => {
    const name = uniqueName("hungry");
    await cluster.cp.kubectl(["apply", "-f", "-"], { input: podYaml(name, container("2")) });
    const message = await failedScheduling(name);
    expect(message).toBe(
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}. " +
        "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    );
    const pod = await waitFor(
      async () => {
        const p = await getPod(name);
        return p.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False")
          ? p
          : undefined;
      },
      { what: "PodScheduled=False", timeoutMs: 30_000 },
    );
    expect(pod.status?.phase).toBe("Pending");
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.status?.conditions?.find((c) => c.type === "PodScheduled")).toMatchObject({
      reason: "Unschedulable",
      message,
    });
    const described = await cluster.kubectl("describe", "pod", name, "-n", ns);
    expect(described).toMatch(/Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available/);

    await createFakeNode(cluster.api, big, { cpu: "4" });
    const bound = await waitFor(
      async () => {
        const p = await getPod(name);
        return p.spec?.nodeName ? p : undefined;
      },
      { what: "the pod scheduled after a fitting node appeared", timeoutMs: 60_000 },
    );
    expect(bound.spec?.nodeName).toBe(big);
    expect(bound.status?.conditions?.find((c) => c.type === "PodScheduled")?.status).toBe("True");
    const scheduled = await waitFor(
      async () => (await eventsFor(cluster.api, ns, name)).find((e) => e.reason === "Scheduled"),
      { what: "the Scheduled event", timeoutMs: 30_000 },
    );
    expect(scheduled.message).toBe(`Successfully assigned ${ns}/${name} to ${big}`);
    expect(scheduled.source?.component).toBe("default-scheduler");
  });

  it("honours tolerations, nodeSelector, cordoned nodes and host ports", async () => {
    const tolerant = uniqueName("tolerant");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: podYaml(
        tolerant,
        `  tolerations: [ { key: dedicated, operator: Equal, value: gpu, effect: NoSchedule } ]\n  nodeSelector: { kubernetes.io/hostname: ${gpuA} }\n${container()}`,
      ),
    });
    await waitFor(async () => (await getPod(tolerant)).spec?.nodeName === gpuA, {
      what: "the tolerant pod on the gpu node",
      timeoutMs: 30_000,
    });

    const nowhere = uniqueName("nowhere");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: podYaml(nowhere, `  nodeSelector: { disk: none-such }\n${container()}`),
    });
    expect(await failedScheduling(nowhere)).toMatch(
      /^0\/4 nodes are available: 2 node\(s\) didn't match Pod's node affinity\/selector, 2 node\(s\) had untolerated taint \{dedicated: gpu\}\./,
    );

    await cluster.kubectl("cordon", big);
    await cluster.kubectl("cordon", small);
    const cordoned = uniqueName("cordoned");
    await cluster.cp.kubectl(["apply", "-f", "-"], { input: podYaml(cordoned, container()) });
    expect(await failedScheduling(cordoned)).toMatch(
      /^0\/4 nodes are available: 2 node\(s\) had untolerated taint \{dedicated: gpu\}, 2 node\(s\) were unschedulable\./,
    );
    await cluster.kubectl("uncordon", big);
    await cluster.kubectl("uncordon", small);
    await waitFor(async () => !!(await getPod(cordoned)).spec?.nodeName, {
      what: "scheduled after uncordon",
      timeoutMs: 60_000,
    });

    const ports = "    ports: [ { containerPort: 80, hostPort: 18080 } ]\n";
    const first = uniqueName("port-a");
    const second = uniqueName("port-b");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: podYaml(
        first,
        `  nodeSelector: { kubernetes.io/hostname: ${small} }\n${container("100m", ports)}`,
      ),
    });
    await waitFor(async () => (await getPod(first)).spec?.nodeName === small, {
      what: "the first host-port pod",
      timeoutMs: 30_000,
    });
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: podYaml(
        second,
        `  nodeSelector: { kubernetes.io/hostname: ${small} }\n${container("100m", ports)}`,
      ),
    });
    expect(await failedScheduling(second)).toContain(
      "1 node(s) didn't have free ports for the requested pod ports",
    );
  });

  it("leaves pods of other schedulers alone", async () => {
    const name = uniqueName("other");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: podYaml(name, `  schedulerName: my-scheduler\n${container()}`),
    });
    await new Promise((r) => setTimeout(r, 1500));
    const pod = await getPod(name);
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.status?.conditions ?? []).toEqual([]);
    expect(await eventsFor(cluster.api, ns, name)).toEqual([]);
  });
});
