// The user's journey end to end, with two real agents on one machine (one on Docker, one on containerd/CRI,
// each with its own node name and state) and real kubectl: a Deployment created, scaled, exposed (its
// EndpointSlices list exactly the ready replicas), every replica answering over HTTP on its pod IP, a pod
// deleted and replaced, a rolling update watched never dropping below replicas − maxUnavailable ready, rollout
// undo; a ReplicationController, a ReplicaSet, a Job and a DaemonSet; then one agent stopped: its node goes
// NotReady, its pods are evicted and recreated on the other node. The control plane runs with short
// timeouts (grace 6 s, unreachable toleration 3 s). Afterwards both runtimes must be clean.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { EndpointSlice } from "../../../src/api/schema/discovery/endpointslice.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import {
  connectRuntime,
  describeObjects,
  nodeObjects,
  removeNodeObjects,
  startAgent,
  type TestAgent,
  waitForNodeReady,
} from "../../support/agent.ts";
import { testEnv } from "../../support/env.ts";
import { listPods, startCluster, type TestCluster, uniqueName, waitFor } from "./support.ts";

const IMAGE_V1 = testEnv.busyboxImage;
const IMAGE_V2 = `${testEnv.registry}/${testEnv.registryBusyboxRepo}:${testEnv.registryBusyboxTag}`;
/** Serves the pod's hostname (= pod name) on 8080; exits on TERM. */
const SERVE =
  "mkdir -p /tmp/w && hostname > /tmp/w/index.html && httpd -p 8080 -h /tmp/w && trap 'exit 0' TERM && while :; do sleep 1 & wait $!; done";

const isReady = (p: Pod) =>
  p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
const live = (p: Pod) =>
  !p.metadata?.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

async function httpGet(ip: string): Promise<string> {
  const res = await fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET http://${ip}:8080/: HTTP ${res.status}`);
  return (await res.text()).trim();
}

describe("controllers end to end with two real agents (Docker and CRI)", () => {
  let cluster: TestCluster;
  const agents: TestAgent[] = [];
  const runtimes: Runtime[] = [];
  let ns: string;

  const kubectl = (...args: string[]) => cluster.kubectl(...args);
  const apply = (yaml: string) =>
    cluster.cp.kubectl(["apply", "-f", "-"], { input: yaml, timeoutMs: 60_000 });
  const pods = (selector: string) => listPods(cluster.api, ns, selector);
  const readyPods = async (selector: string) => (await pods(selector)).filter((p) => live(p) && isReady(p));

  beforeAll(async () => {
    cluster = await startCluster({
      args: [
        "--node-monitor-grace-period",
        "6s",
        "--node-monitor-period",
        "1s",
        "--default-unreachable-toleration-seconds",
        "3",
        "--default-not-ready-toleration-seconds",
        "3",
      ],
    });
    for (const kind of ["docker", "cri"] as const) {
      const agent = await startAgent({
        runtime: kind,
        kubeconfigPath: cluster.cp.kubeconfigPath,
        nodeName: uniqueName(`e2e-ctl-${kind}`),
        config: { nodeStatusUpdateFrequency: "1s", nodeLeaseDurationSeconds: 4 },
        logLevel: "info",
      });
      agents.push(agent);
      runtimes.push(connectRuntime(kind, agent.runtimeEndpoint));
      await waitForNodeReady(cluster.cp, agent);
    }
    ns = await cluster.namespace("e2e-ctl");
  }, 240_000);

  afterAll(async () => {
    const problems: string[] = [];
    if (cluster && ns) {
      // Bring every agent back so that it confirms the deletion of its pods, then delete everything.
      for (const agent of agents)
        if (!agent.running) await agent.start().catch((e: Error) => problems.push(e.message));
      for (const kind of [
        "deployments",
        "replicasets",
        "replicationcontrollers",
        "daemonsets",
        "jobs",
        "services",
      ]) {
        await cluster.cp.kubectl(
          ["delete", kind, "--all", "-n", ns, "--wait=false", "--cascade=background"],
          { allowFailure: true },
        );
      }
      await cluster.cp.kubectl(["delete", "pods", "--all", "-n", ns, "--wait=false"], { allowFailure: true });
      await waitFor(async () => (await listPods(cluster.api, ns)).length === 0, {
        what: "every pod deleted and confirmed by its agent",
        timeoutMs: 180_000,
      }).catch((e: Error) => problems.push(e.message));
    }
    for (const [i, agent] of agents.entries()) {
      const runtime = runtimes[i] as Runtime;
      await waitFor(
        async () => {
          const left = await nodeObjects(runtime, agent.nodeName);
          return left.sandboxes.length + left.containers.length === 0;
        },
        { what: `agent ${agent.nodeName} to remove its containers`, timeoutMs: 60_000 },
      ).catch(async (e: Error) => {
        problems.push(`${e.message}: ${describeObjects(await nodeObjects(runtime, agent.nodeName))}`);
        await removeNodeObjects(runtime, agent.nodeName);
      });
      await agent.dispose();
      await runtime.close();
    }
    await cluster?.stop();
    expect(problems, "teardown found leftovers").toEqual([]);
  }, 360_000);

  it("runs the Deployment journey across both nodes and survives losing one", async () => {
    const name = uniqueName("myweb");
    const selector = `app=${name}`;
    // `kubectl create deployment`, rendered client-side (the API server takes JSON, not protobuf, for
    // Deployments) with a readiness probe and a short grace period added.
    const rendered = parse(
      await kubectl(
        "create",
        "deployment",
        name,
        `--image=${IMAGE_V1}`,
        "--replicas=3",
        "--port=8080",
        "-n",
        ns,
        "--dry-run=client",
        "-o",
        "yaml",
        "--",
        "sh",
        "-c",
        SERVE,
      ),
    );
    const podSpec = rendered.spec.template.spec;
    podSpec.terminationGracePeriodSeconds = 5;
    podSpec.containers[0].readinessProbe = { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 };
    await apply(stringify(rendered));

    const ready = async (n: number) =>
      waitFor(
        async () => {
          const list = await readyPods(selector);
          return list.length === n && (await pods(selector)).filter(live).length === n ? list : undefined;
        },
        { what: `${n} ready replicas`, timeoutMs: 180_000, intervalMs: 500 },
      );
    let running = await ready(3);
    expect(new Set(running.map((p) => p.spec?.nodeName))).toEqual(new Set(agents.map((a) => a.nodeName)));
    for (const p of running) expect(await httpGet(p.status?.podIP as string)).toBe(p.metadata?.name);

    await kubectl("scale", "deployment", name, "--replicas=5", "-n", ns);
    running = await ready(5);
    await kubectl("scale", "deployment", name, "--replicas=3", "-n", ns);
    running = await ready(3);

    expect(
      await kubectl("expose", "deployment", name, "--type=NodePort", "--port", "8080", "-n", ns),
    ).toContain("exposed");
    await waitFor(
      async () => {
        const slices = (
          await cluster.api.list<EndpointSlice>(
            { group: "discovery.k8s.io", version: "v1", resource: "endpointslices", namespace: ns },
            { labelSelector: `kubernetes.io/service-name=${name}` },
          )
        ).items;
        const readyIps = slices
          .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses))
          .sort();
        const podIps = (await readyPods(selector)).map((p) => p.status?.podIP).sort();
        return readyIps.length === 3 && JSON.stringify(readyIps) === JSON.stringify(podIps);
      },
      { what: "the EndpointSlices to list exactly the ready replicas", timeoutMs: 60_000 },
    );

    const victim = running[0] as Pod;
    await kubectl("delete", "pod", victim.metadata?.name ?? "", "-n", ns, "--wait=false");
    running = await waitFor(
      async () => {
        const list = await readyPods(selector);
        return list.length === 3 && !list.some((p) => p.metadata?.uid === victim.metadata?.uid)
          ? list
          : undefined;
      },
      { what: "the deleted pod replaced", timeoutMs: 180_000, intervalMs: 500 },
    );

    // Rolling update, watched: ready replicas never fewer than replicas − maxUnavailable (3 − 0).
    const abort = new AbortController();
    const state = new Map<string, boolean>();
    let minReady = Number.POSITIVE_INFINITY;
    const list = await cluster.api.list<Pod>(
      { version: "v1", resource: "pods", namespace: ns },
      { labelSelector: selector },
    );
    for (const p of list.items) if (live(p)) state.set(p.metadata?.name ?? "", isReady(p));
    const watching = (async () => {
      for await (const ev of cluster.api.watch<Pod>(
        { version: "v1", resource: "pods", namespace: ns },
        { labelSelector: selector, resourceVersion: list.metadata.resourceVersion, signal: abort.signal },
      )) {
        if (ev.type === "DELETED" || !live(ev.object)) state.delete(ev.object.metadata?.name ?? "");
        else state.set(ev.object.metadata?.name ?? "", isReady(ev.object));
        minReady = Math.min(minReady, [...state.values()].filter(Boolean).length);
      }
    })().catch(() => undefined);
    await kubectl("set", "image", `deployment/${name}`, `busybox=${IMAGE_V2}`, "-n", ns);
    const status = await cluster.cp.kubectl(
      ["rollout", "status", `deployment/${name}`, "-n", ns, "--timeout=180s"],
      { timeoutMs: 200_000 },
    );
    abort.abort();
    await watching;
    expect(status.stdout).toContain("successfully rolled out");
    expect(minReady).toBeGreaterThanOrEqual(3);
    running = await ready(3);
    expect(running.map((p) => p.spec?.containers?.[0]?.image)).toEqual([IMAGE_V2, IMAGE_V2, IMAGE_V2]);

    expect(await kubectl("rollout", "undo", `deployment/${name}`, "-n", ns)).toContain("rolled back");
    await cluster.cp.kubectl(["rollout", "status", `deployment/${name}`, "-n", ns, "--timeout=180s"], {
      timeoutMs: 200_000,
    });
    running = await ready(3);
    expect(running.map((p) => p.spec?.containers?.[0]?.image)).toEqual([IMAGE_V1, IMAGE_V1, IMAGE_V1]);

    // A ReplicationController, a ReplicaSet, a Job and a DaemonSet from YAML.
    const container = (cmd: string) =>
      `containers: [ { name: main, image: ${IMAGE_V1}, command: [sh, -c, "${cmd}"] } ]`;
    await apply(`apiVersion: v1
kind: ReplicationController
metadata: { name: rc, namespace: ${ns} }
spec:
  replicas: 1
  selector: { app: rc }
  template:
    metadata: { labels: { app: rc } }
    spec: { terminationGracePeriodSeconds: 2, ${container("trap 'exit 0' TERM; while :; do sleep 1; done")} }
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: { name: rs, namespace: ${ns} }
spec:
  replicas: 1
  selector: { matchLabels: { app: rs } }
  template:
    metadata: { labels: { app: rs } }
    spec: { terminationGracePeriodSeconds: 2, ${container("trap 'exit 0' TERM; while :; do sleep 1; done")} }
---
apiVersion: batch/v1
kind: Job
metadata: { name: job, namespace: ${ns} }
spec:
  completions: 2
  template:
    spec: { restartPolicy: Never, ${container("echo done")} }
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ds, namespace: ${ns} }
spec:
  selector: { matchLabels: { app: ds } }
  template:
    metadata: { labels: { app: ds } }
    spec: { terminationGracePeriodSeconds: 2, ${container("trap 'exit 0' TERM; while :; do sleep 1; done")} }
`);
    await cluster.cp.kubectl(["wait", "--for=condition=complete", "job/job", "-n", ns, "--timeout=180s"], {
      timeoutMs: 200_000,
    });
    for (const app of ["rc", "rs"]) {
      await waitFor(async () => (await pods(`app=${app}`)).some((p) => p.status?.phase === "Running"), {
        what: `the ${app} pod running`,
        timeoutMs: 180_000,
      });
    }
    const daemons = await waitFor(
      async () => {
        const d = (await pods("app=ds")).filter((p) => p.status?.phase === "Running");
        return d.length === 2 ? d : undefined;
      },
      { what: "a daemon pod running on each node", timeoutMs: 180_000 },
    );
    expect(new Set(daemons.map((p) => p.spec?.nodeName))).toEqual(new Set(agents.map((a) => a.nodeName)));

    // Lose the CRI node: its agent stops (its containers keep running, as after a crash).
    const [survivor, lost] = agents as [TestAgent, TestAgent];
    await lost.stop();
    await waitFor(
      async () => {
        const node = JSON.parse(await kubectl("get", "node", lost.nodeName, "-o", "json"));
        return node.status.conditions.find((c: { type: string }) => c.type === "Ready")?.status === "Unknown";
      },
      { what: "the lost node NotReady (Unknown)", timeoutMs: 60_000 },
    );
    expect(await kubectl("get", "node", lost.nodeName)).toMatch(/NotReady/);
    running = await waitFor(
      async () => {
        const listNow = await readyPods(selector);
        return listNow.length === 3 && listNow.every((p) => p.spec?.nodeName === survivor.nodeName)
          ? listNow
          : undefined;
      },
      { what: "3 ready replicas, all on the surviving node", timeoutMs: 180_000, intervalMs: 500 },
    );
    for (const p of running) expect(await httpGet(p.status?.podIP as string)).toBe(p.metadata?.name);
    // The daemon pod on the lost node is not evicted (daemon pods tolerate unreachable for ever).
    expect(
      (await pods("app=ds")).filter(
        (p) => p.spec?.nodeName === lost.nodeName && !p.metadata?.deletionTimestamp,
      ),
    ).toHaveLength(1);
  });
});
