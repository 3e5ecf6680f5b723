// Two nodes on one machine (issue 9): each agent runs in a network namespace of its own with its own address
// on a shared L2 segment, its own containerd, networkPlugin kubenet and the iptables service proxy, and joins
// one control plane listening on the segment. The control plane gives each Node a podCIDR; each agent writes
// the pod bridge's CNI config for it and routes the other node's podCIDR via that node's address (host-gw).
// Pods on the two nodes reach each other by pod IP, a ClusterIP Service balances over both nodes' pods, and
// kubectl logs/exec reach the pod on each node through the control plane (which dials the agent at its
// InternalIP). The last test tears everything down and checks that nothing is left behind.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pod } from "../../src/api/schema/core/pod-types.ts";
import { Kubectl } from "../agent/server/kubectl.ts";
import { type NodeLike, waitForNodeReady } from "../support/agent.ts";
import { startControlPlane, type TestControlPlane } from "../support/controlplane.ts";
import { requireRoot, testEnv } from "../support/env.ts";
import { createSegment, type LabNode, type Segment, startLabNode } from "../support/multi-node.ts";
import { uniqueName } from "../support/names.ts";
import { run } from "../support/run.ts";
import { CLI } from "../support/standalone-agent.ts";
import { waitFor } from "../support/wait.ts";

// Ranges no other test uses: the segment is a free /24 of 10.73.0.0/16 (support/multi-node.ts).
const CLUSTER_CIDR = "10.74.0.0/16";
const SERVICE_CIDR = "10.75.0.0/24";
const REQUESTS = 40;

describe("two nodes on one machine (host-gw pod network, iptables Services)", () => {
  let segment: Segment | undefined;
  let cp: TestControlPlane | undefined;
  const nodes: LabNode[] = [];
  const ns = uniqueName("mn");

  const nodeA = () => nodes[0] as LabNode;
  const nodeB = () => nodes[1] as LabNode;
  const api = () => cp as TestControlPlane;
  const kubectl = async (...args: string[]) => (await api().kubectl(args, { timeoutMs: 60_000 })).stdout;
  const getNode = async (name: string) => {
    const res = await api().fetch(`/api/v1/nodes/${name}`);
    if (!res.ok) throw new Error(`GET node ${name}: ${res.status} ${await res.text()}`);
    return (await res.json()) as NodeLike & { spec?: { podCIDR?: string } };
  };
  const webPods = async () => {
    const res = await api().fetch(`/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb`);
    return ((await res.json()) as { items: Pod[] }).items;
  };
  const podOn = async (node: LabNode) => {
    const pod = (await webPods()).find((p) => p.spec?.nodeName === node.name);
    if (!pod?.status?.podIP) throw new Error(`no running web pod on ${node.name}`);
    return pod;
  };
  /** Counts the answers (each backend answers with its pod name). */
  const tally = (answers: string[]) => {
    const counts: Record<string, number> = {};
    for (const answer of answers) counts[answer] = (counts[answer] ?? 0) + 1;
    return counts;
  };

  /** What a failure message needs: pods, events, and the end of each node's agent and containerd logs. */
  const diagnose = async () => {
    const show = (args: string[]) => kubectl(...args).catch((e: Error) => e.message);
    const parts = [
      await show(["get", "pods", "-n", ns, "-o", "wide"]),
      await show(["get", "events", "-n", ns]),
    ];
    for (const node of nodes) {
      const containerdLog = await readFile(join(node.containerd.dir, "containerd.log"), "utf8").catch(
        () => "",
      );
      parts.push(`agent ${node.name}:\n${node.agent.tail(20)}`);
      parts.push(`containerd ${node.name}:\n${containerdLog.trimEnd().split("\n").slice(-20).join("\n")}`);
    }
    return parts.join("\n");
  };

  /** Everything down, in order; resolves to what each node's runtime still held. */
  let torn: Promise<string[]> | undefined;
  const teardown = () => {
    torn ??= (async () => {
      const leftovers: string[] = [];
      for (const node of nodes) leftovers.push(`${node.name}: ${await node.dispose()}`);
      await cp?.stop();
      await segment?.destroy();
      return leftovers;
    })();
    return torn;
  };

  beforeAll(async () => {
    requireRoot();
    segment = await createSegment();
    cp = await startControlPlane({
      listenHost: segment.hostAddress,
      args: ["--cluster-cidr", CLUSTER_CIDR, "--service-cidr", SERVICE_CIDR],
    });
    const names = [uniqueName("dh-mn-a"), uniqueName("dh-mn-b")];
    for (const [i, name] of names.entries()) {
      nodes.push(
        await startLabNode({
          segment,
          name,
          host: 2 + i,
          serviceCidr: SERVICE_CIDR,
          controlPlane: api(),
          // Node A gets a certificate out of band; node B joins with a bootstrap token.
          identity: i === 0 ? "certificate" : "join",
          config: { clusterCIDR: CLUSTER_CIDR },
        }),
      );
    }
    await kubectl("create", "namespace", ns);
  }, 300_000);

  afterAll(async () => {
    await teardown();
  }, 180_000);

  it("registers both nodes Ready with their own addresses and distinct podCIDRs, routed to each other", async () => {
    for (const node of nodes) await waitForNodeReady(api(), node.agent, 180_000);
    const withPodCIDR = (node: LabNode) =>
      waitFor(
        async () => {
          const n = await getNode(node.name);
          return n.spec?.podCIDR ? n : undefined;
        },
        { what: `a podCIDR on ${node.name}`, timeoutMs: 60_000 },
      );
    const [a, b] = [await withPodCIDR(nodeA()), await withPodCIDR(nodeB())];
    const internalIP = (n: NodeLike) => n.status?.addresses?.find((x) => x.type === "InternalIP")?.address;
    expect(internalIP(a)).toBe(nodeA().address);
    expect(internalIP(b)).toBe(nodeB().address);
    const cidrA = a.spec?.podCIDR as string;
    const cidrB = b.spec?.podCIDR as string;
    expect(cidrA).toMatch(/^10\.74\.\d+\.0\/24$/);
    expect(cidrB).toMatch(/^10\.74\.\d+\.0\/24$/);
    expect(cidrA).not.toBe(cidrB);

    // host-gw: each namespace routes the other node's podCIDR via the other node's address (proto 77).
    const routes = async (node: LabNode) =>
      (await node.netns.exec("ip", ["-4", "route", "show", "proto", "77"])).stdout.trim();
    await waitFor(async () => (await routes(nodeA())) === `${cidrB} via ${nodeB().address} dev eth0`, {
      what: `node A's route to ${cidrB}`,
      timeoutMs: 60_000,
    });
    await waitFor(async () => (await routes(nodeB())) === `${cidrA} via ${nodeA().address} dev eth0`, {
      what: `node B's route to ${cidrA}`,
      timeoutMs: 60_000,
    });

    const wide = await kubectl("get", "nodes", "-o", "wide");
    for (const node of nodes)
      expect(wide).toMatch(new RegExp(`${node.name}\\s+Ready\\s.*\\s${node.address}\\s`));
  }, 300_000);

  it("schedules a Deployment's pods onto both nodes, each with an IP of its node's podCIDR", async () => {
    // Each replica asks for more than half a node's CPU, so the scheduler must put one on each node.
    const allocatable = (await getNode(nodeA().name)).status?.allocatable?.cpu ?? "1";
    const millis = allocatable.endsWith("m") ? Number.parseInt(allocatable, 10) : Number(allocatable) * 1000;
    const request = `${Math.floor(millis * 0.6)}m`;
    const script =
      "mkdir -p /tmp/www && hostname > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && " +
      "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done";
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: "web",
                image: testEnv.busyboxImage,
                command: ["sh", "-c", script],
                resources: { requests: { cpu: request } },
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    };
    await api().kubectl(["apply", "-f", "-"], { input: JSON.stringify(deployment), timeoutMs: 60_000 });
    const pods = await waitFor(
      async () => {
        const items = await webPods();
        const ready = items.filter((p) =>
          p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        );
        return ready.length === 2 ? ready : undefined;
      },
      { what: "two Ready web pods", timeoutMs: 180_000, intervalMs: 500 },
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await diagnose()}`);
    });
    expect(new Set(pods.map((p) => p.spec?.nodeName))).toEqual(new Set([nodeA().name, nodeB().name]));
    for (const node of nodes) {
      const pod = pods.find((p) => p.spec?.nodeName === node.name) as Pod;
      const cidr = (await getNode(node.name)).spec?.podCIDR as string;
      const prefix = cidr.split(".").slice(0, 3).join(".");
      expect(pod.status?.podIP?.startsWith(`${prefix}.`), `${pod.status?.podIP} in ${cidr}`).toBe(true);
      expect(pod.status?.hostIP).toBe(node.address);
    }
    const wide = await kubectl("get", "pods", "-n", ns, "-o", "wide");
    for (const pod of pods)
      expect(wide).toMatch(
        new RegExp(
          `${pod.metadata?.name}\\s+1/1\\s+Running\\s.*\\s${pod.status?.podIP}\\s+${pod.spec?.nodeName}\\s`,
        ),
      );
  }, 300_000);

  it("lets a pod on one node reach a pod on the other by pod IP, both ways", async () => {
    const [a, b] = [await podOn(nodeA()), await podOn(nodeB())];
    const get = (from: Pod, to: Pod) =>
      kubectl(
        "exec",
        "-n",
        ns,
        from.metadata?.name as string,
        "--",
        "sh",
        "-c",
        `timeout 5 wget -qO- http://${to.status?.podIP}:8080/`,
      );
    expect((await get(a, b)).trim()).toBe(b.metadata?.name);
    expect((await get(b, a)).trim()).toBe(a.metadata?.name);
    // And from the nodes themselves (each namespace is a node's host network).
    const fromNode = async (node: LabNode, to: Pod) =>
      (
        await node.netns.exec("curl", ["-s", "--max-time", "5", `http://${to.status?.podIP}:8080/`])
      ).stdout.trim();
    expect(await fromNode(nodeA(), b)).toBe(b.metadata?.name);
    expect(await fromNode(nodeB(), a)).toBe(a.metadata?.name);
  }, 120_000);

  it("balances a ClusterIP Service over both nodes' pods, from a node and from a pod", async () => {
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: ns },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    };
    await api().kubectl(["apply", "-f", "-"], { input: JSON.stringify(service), timeoutMs: 60_000 });
    const res = await api().fetch(`/api/v1/namespaces/${ns}/services/web`);
    const clusterIP = ((await res.json()) as { spec: { clusterIP: string } }).spec.clusterIP;
    expect(clusterIP).toMatch(/^10\.75\.0\.\d+$/);
    const backends = new Set([(await podOn(nodeA())).metadata?.name, (await podOn(nodeB())).metadata?.name]);

    // From node A's host network: the proxy in A's namespace DNATs to either node's pod.
    const curl = async () =>
      (
        await nodeA().netns.exec("curl", ["-s", "--max-time", "5", `http://${clusterIP}/`], {
          allowFailure: true,
        })
      ).stdout.trim();
    await waitFor(async () => backends.has(await curl()), {
      what: `an answer from ${clusterIP} in node A's namespace`,
      timeoutMs: 60_000,
    });
    const fromNode: string[] = [];
    for (let i = 0; i < REQUESTS; i++) fromNode.push(await curl());
    const nodeCounts = tally(fromNode);
    expect(new Set(Object.keys(nodeCounts)), JSON.stringify(nodeCounts)).toEqual(backends);

    // From the pod on node B: PREROUTING in B's namespace.
    const client = (await podOn(nodeB())).metadata?.name as string;
    const once = `timeout 5 wget -qO- http://${clusterIP}/`;
    await waitFor(
      async () => backends.has((await kubectl("exec", "-n", ns, client, "--", "sh", "-c", once)).trim()),
      { what: `an answer from ${clusterIP} in ${client} (node B's proxy synced)`, timeoutMs: 60_000 },
    );
    const loop = `for i in $(seq ${REQUESTS}); do ${once} || echo failed; done`;
    const fromPod = (await kubectl("exec", "-n", ns, client, "--", "sh", "-c", loop)).trim().split("\n");
    const podCounts = tally(fromPod);
    expect(new Set(Object.keys(podCounts)), JSON.stringify(podCounts)).toEqual(backends);

    // `deckhand debug trace` on node A tells the same story from the rules its proxy programmed: the
    // ClusterIP is the Service's, and a packet goes to either node's pod, one chance in two each.
    const podIPs = [await podOn(nodeA()), await podOn(nodeB())].map((p) => `${p.status?.podIP}:8080`);
    const traced = await run(process.execPath, [
      CLI,
      "debug",
      "trace",
      `${clusterIP}:80/tcp`,
      "-o",
      "json",
      "--socket",
      nodeA().agent.debugSocket,
    ]);
    const trace = JSON.parse(traced.stdout) as {
      servicePorts: Array<{ service: string }>;
      outcomes: Array<{ probability: number; verdict: string; dnat?: string }>;
    };
    expect(trace.servicePorts.map((p) => p.service)).toEqual([`${ns}/web`]);
    expect(
      trace.outcomes.map((o) => ({ probability: o.probability, verdict: o.verdict, dnat: o.dnat })),
      traced.stdout,
    ).toEqual(
      expect.arrayContaining(podIPs.map((dnat) => ({ probability: 0.5, verdict: expect.any(String), dnat }))),
    );
    expect(trace.outcomes).toHaveLength(2);
  }, 180_000);

  it("serves kubectl logs, exec and port-forward for the pod on the second node through the control plane", async () => {
    const pod = await podOn(nodeB());
    const name = pod.metadata?.name as string;
    const out = await kubectl("exec", "-n", ns, name, "--", "cat", "/tmp/www/index.html");
    expect(out.trim()).toBe(name);
    await kubectl("exec", "-n", ns, name, "--", "sh", "-c", "echo hello-from-node-b > /proc/1/fd/1");
    await waitFor(async () => (await kubectl("logs", "-n", ns, name)).includes("hello-from-node-b"), {
      what: `"hello-from-node-b" in kubectl logs ${name}`,
      timeoutMs: 30_000,
    });
    const client = new Kubectl(api().kubeconfigPath);
    try {
      const forward = client.start([
        "port-forward",
        "-n",
        ns,
        `pod/${name}`,
        "--address",
        "127.0.0.1",
        ":8080",
      ]);
      const port = await forward.waitForOutput(
        (stdout) => /127\.0\.0\.1:(\d+) -> 8080/.exec(stdout)?.[1],
        "the forwarded local port",
        60_000,
      );
      const page = await waitFor(
        async () => {
          const res = await run("curl", ["-s", "--max-time", "5", `http://127.0.0.1:${port}/`], {
            allowFailure: true,
          });
          return res.code === 0 && res.stdout.trim();
        },
        { what: `the page through kubectl port-forward on 127.0.0.1:${port}`, timeoutMs: 30_000 },
      );
      expect(page).toBe(name);
      await forward.stop();
    } finally {
      client.dispose();
    }
  }, 120_000);

  it("keeps the joined node's certificates: one serving certificate, no renewal loop", async () => {
    // Certificates from the default one-year signer are renewed months from now; a wait longer than
    // setTimeout's limit once fired at once and renewed in a loop (a CSR every half second).
    const res = await api().fetch("/apis/certificates.k8s.io/v1/certificatesigningrequests");
    const csrs = ((await res.json()) as { items: { spec: { username: string; signerName: string } }[] })
      .items;
    const mine = csrs.filter((c) => c.spec.username === `system:node:${nodeB().name}`);
    expect(mine.map((c) => c.spec.signerName)).toEqual(["kubernetes.io/kubelet-serving"]);
    expect(nodeB().agent.logs()).not.toContain("TimeoutOverflowWarning");
  });

  it("removes the route to a node that left the cluster", async () => {
    const cidrB = (await getNode(nodeB().name)).spec?.podCIDR as string;
    await nodeB().agent.stop();
    const res = await api().fetch(`/api/v1/nodes/${nodeB().name}`, { method: "DELETE" });
    expect(res.status, await res.text()).toBe(200);
    await waitFor(
      async () =>
        !(await nodeA().netns.exec("ip", ["-4", "route", "show", "proto", "77"])).stdout.includes(cidrB),
      { what: `node A's route to ${cidrB} to go`, timeoutMs: 60_000 },
    );
  }, 120_000);

  it("tears down without leaving namespaces, interfaces, pods, containerd, agents or iptables rules behind", async () => {
    const namespaces = [segment?.lan.name, ...nodes.map((n) => n.netns.name)] as string[];
    expect(nodes.every((node) => node.containerd.running)).toBe(true);
    const prefix = segment?.prefix as string;
    const leftovers = await teardown();
    expect(leftovers).toEqual(nodes.map((node) => `${node.name}: nothing`));
    const netnsList = (await run("ip", ["netns", "list"])).stdout;
    for (const name of namespaces) expect(netnsList).not.toContain(name);
    expect((await run("ip", ["-4", "addr"])).stdout).not.toContain(`${prefix}.`);
    for (const node of nodes) {
      expect(node.agent.running, `${node.name}'s agent`).toBe(false);
      expect(node.containerd.running, `${node.name}'s containerd`).toBe(false);
    }
    // The proxies and the CNI firewall programmed iptables inside the node namespaces only.
    const hostRules = (await run("iptables-save", [])).stdout;
    expect(hostRules).not.toContain("10.75.0.");
    expect(hostRules).not.toContain(`${prefix}.`);
  }, 180_000);
});
