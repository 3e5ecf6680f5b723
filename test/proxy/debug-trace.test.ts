// `deckhand debug trace` against the real kernel: a ServiceProxy programs real iptables (nf_tables) in this
// test's network namespace, a real DebugServer serves it, and the `deckhand debug trace` command asks it.
// The trace over the proxy's own record and the trace over a live iptables-save (with another program's
// rules in the built-in chains) must agree, and real traffic must go where the trace says.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DebugHistory } from "../../src/agent/debug/history.ts";
import { DebugServer } from "../../src/agent/debug/server.ts";
import type { KubeObject } from "../../src/api/resource.ts";
import { execConntrack } from "../../src/proxy/conntrack.ts";
import { ExecIptables } from "../../src/proxy/iptables.ts";
import { ServiceProxy } from "../../src/proxy/service-proxy.ts";
import type { ProxyLogger } from "../../src/proxy/syncer.ts";
import { procSysctl } from "../../src/proxy/sysctl.ts";
import type { TraceView } from "../../src/proxy/trace.ts";
import { requireRoot } from "../support/env.ts";
import { run } from "../support/run.ts";
import { FakeApi } from "./support/fake-api.ts";
import { makeService, makeSlice } from "./support/fixtures.ts";
import { BACKEND_PORT, createLab, type Lab, NODE_IP, OUTSIDE_IP, POD_CIDR } from "./support/lab.ts";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
const SERVICE_CIDR = "10.96.0.0/16";
const NS = "trace";
const quiet: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };

describe("deckhand debug trace on real iptables", () => {
  let lab: Lab;
  let proxy: ServiceProxy;
  let server: DebugServer;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const dir = mkdtempSync(join(tmpdir(), "deckhand-trace-"));
  const socket = join(dir, "debug.sock");
  // Another program's rules in the built-in chains, with matches the tracer does not interpret.
  const foreign = [
    "-A FORWARD -i dhbr0 -o ext0 -j TRACE-FOREIGN",
    "-A TRACE-FOREIGN -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
  ];

  beforeAll(async () => {
    requireRoot();
    lab = await createLab("dhtrc", SERVICE_CIDR, 2);
    const iptables = new ExecIptables("nft", { netns: lab.node.name });
    await iptables.restore(`*filter\n:TRACE-FOREIGN - [0:0]\n${foreign.join("\n")}\nCOMMIT\n`);
    const api = new FakeApi();
    api.set(
      "services",
      makeService(NS, "web", {
        type: "NodePort",
        clusterIP: "10.96.3.10",
        ports: [{ name: "http", port: 80, targetPort: BACKEND_PORT, nodePort: 30_380 }],
      }) as KubeObject,
    );
    api.set(
      "endpointslices",
      makeSlice(
        NS,
        "web",
        "web-abc",
        [{ name: "http", port: BACKEND_PORT }],
        lab.pods.map((pod) => ({ ip: pod.ip, nodeName: "lab-node" })),
      ) as KubeObject,
    );
    api.set(
      "services",
      makeService(NS, "empty", {
        clusterIP: "10.96.3.11",
        ports: [{ name: "http", port: 80 }],
      }) as KubeObject,
    );
    proxy = new ServiceProxy({
      client: api,
      nodeName: "lab-node",
      nodeIPs: [NODE_IP],
      clusterCIDR: POD_CIDR,
      iptables,
      sysctl: procSysctl(lab.node.name),
      conntrack: execConntrack(lab.node.name),
      log: quiet,
      minSyncPeriodMs: 100,
    });
    running = proxy.run(abort.signal);
    await proxy.ready;
    server = new DebugServer({
      socketPath: socket,
      runtime: { containerLogs: () => (async function* () {})() },
      log: { info() {}, warn() {} },
      state: {
        nodeName: "lab-node",
        pods: () => [],
        runtimePods: () => [],
        probes: () => [],
        history: new DebugHistory(),
        services: () => ({ backend: proxy.backend, ...proxy.stats, servicePorts: proxy.view() }),
        trace: (target, options) => proxy.trace(target, options),
        config: () => ({}),
      },
    });
    expect(await server.start()).toBe(true);
  });

  afterAll(async () => {
    await server?.stop();
    abort.abort();
    await running;
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) =>
    run(process.execPath, [CLI, "debug", "trace", ...args, "--socket", socket], { timeoutMs: 120_000 });
  const trace = async (...args: string[]): Promise<TraceView> =>
    JSON.parse((await cli(...args, "-o", "json")).stdout) as TraceView;
  const ends = (view: TraceView) =>
    view.outcomes
      .map((o) => `${o.verdict} ${o.dnat ?? "-"} ${o.masquerade} ${o.probability.toFixed(6)}`)
      .sort();

  it("a ClusterIP from the node: both backends, even, masqueraded; the kernel's rules agree; traffic goes there", async () => {
    const [pod1, pod2] = lab.pods;
    const view = await trace("10.96.3.10:80/tcp");
    expect(view.rules).toBe("programmed");
    expect(view.servicePorts.map((p) => [p.name, p.kind])).toEqual([["trace/web:http", "ClusterIP"]]);
    expect(ends(view)).toEqual([
      `ACCEPT ${pod1?.ip}:${BACKEND_PORT} true 0.500000`,
      `ACCEPT ${pod2?.ip}:${BACKEND_PORT} true 0.500000`,
    ]);

    const kernel = await trace("10.96.3.10:80/tcp", "--kernel");
    expect(kernel.rules).toBe("kernel");
    expect(ends(kernel)).toEqual(ends(view));
    expect(kernel.outcomes.map((o) => o.path.filter((c) => c.startsWith("nat/")))).toEqual(
      view.outcomes.map((o) => o.path.filter((c) => c.startsWith("nat/"))),
    );

    // From a pod to another pod: not masqueraded, so FORWARD goes on past Deckhand's chains to the other program's rule,
    // which the trace over the kernel's rules passes over and names.
    const fromPod = await trace("10.96.3.10:80/tcp", "--from", pod1?.ip as string, "--kernel");
    // Only the hairpin path (the pod reaching itself) is masqueraded.
    expect(fromPod.outcomes.map((o) => [o.dnat, o.masquerade]).sort()).toEqual([
      [`${pod1?.ip}:${BACKEND_PORT}`, true],
      [`${pod2?.ip}:${BACKEND_PORT}`, false],
    ]);
    expect(fromPod.skippedRules).toEqual([`filter ${foreign[0]}`]);

    const traffic = await lab.request(lab.node, "tcp", "10.96.3.10", 80, 40);
    expect(traffic.errors).toEqual({});
    expect(Object.keys(traffic.answers).sort()).toEqual(["pod-1", "pod-2"]);
  });

  it("the node port from outside, through a FORWARD chain with another program's rules", async () => {
    const view = await trace(`${NODE_IP}:30380/tcp`, "--from", OUTSIDE_IP, "--kernel");
    expect(view.packet).toMatchObject({ source: OUTSIDE_IP, origin: "external" });
    expect(view.servicePorts.map((p) => [p.name, p.kind, p.nodePort])).toEqual([
      ["trace/web:http", "NodePort", 30_380],
    ]);
    expect(view.outcomes.map((o) => o.dnat).sort()).toEqual(lab.pods.map((p) => `${p.ip}:${BACKEND_PORT}`));
    expect(
      view.outcomes.every((o) => o.masquerade && o.path.some((c) => c.startsWith("nat/KUBE-EXT-"))),
    ).toBe(true);
    // Marked for masquerading, it is accepted by KUBE-FORWARD before the other program's rule.
    expect(view.skippedRules).toEqual([]);
    expect(ends(await trace(`${NODE_IP}:30380/tcp`, "--from", OUTSIDE_IP))).toEqual(ends(view));

    const traffic = await lab.request(lab.outside, "tcp", NODE_IP, 30_380, 20);
    expect(traffic.errors).toEqual({});
    expect(Object.values(traffic.answers).reduce((a, b) => a + b, 0)).toBe(20);
  });

  it("no endpoints: rejected, as the kernel does; no Service: not translated", async () => {
    const empty = await trace("10.96.3.11:80/tcp");
    expect(empty.summary).toContain("100%: rejected (trace/empty:http has no endpoints)");
    expect(ends(await trace("10.96.3.11:80/tcp", "--kernel"))).toEqual(["REJECT - false 1.000000"]);
    expect(await lab.request(lab.node, "tcp", "10.96.3.11", 80, 2, { timeoutMs: 20_000 })).toEqual({
      answers: {},
      errors: { ECONNREFUSED: 2 },
    });

    const none = await trace("10.96.3.99:80/tcp", "--kernel");
    expect(none.servicePorts).toEqual([]);
    expect(none.summary[0]).toBe("no Service has 10.96.3.99:80/TCP");
  });

  it("prints a human trace, and a precise error for a bad address", async () => {
    const text = (await cli("10.96.3.10:80")).stdout;
    expect(text).toContain("Address:  10.96.3.10:80/TCP");
    expect(text).toMatch(/^Service: {2}trace\/web:http \(ClusterIP;/m);
    expect(text).toMatch(
      new RegExp(
        `^ {2}50%\\s+DNAT ${lab.pods[0]?.ip.replaceAll(".", "\\.")}:${BACKEND_PORT}\\s+yes\\s+nat/KUBE-SERVICES → `,
        "m",
      ),
    );
    const bad = await run(process.execPath, [CLI, "debug", "trace", "10.96.3.10", "--socket", socket], {
      allowFailure: true,
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("want IP:PORT/PROTOCOL");
  });
});
