// `deckhand debug trace` with a real ServiceProxy (in-memory API, fake iptables that checks payloads like the
// kernel) behind a real DebugServer socket: the Service behind an address (ClusterIP, node port, external
// IP, load-balancer IP), its endpoints and readiness, the chain path with probabilities, the DNAT targets,
// masquerading, and the no-endpoints and no-Service cases. The trace reads the proxy's own record.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DebugHistory } from "../../../src/agent/debug/history.ts";
import { DebugServer } from "../../../src/agent/debug/server.ts";
import type { DebugState } from "../../../src/agent/debug/views.ts";
import type { KubeObject } from "../../../src/api/resource.ts";
import { debugGet, formatters } from "../../../src/cli/debug.ts";
import { ServiceProxy } from "../../../src/proxy/service-proxy.ts";
import type { ProxyLogger } from "../../../src/proxy/syncer.ts";
import { parseTraceTarget, type TraceView } from "../../../src/proxy/trace.ts";
import { FakeApi } from "../../proxy/support/fake-api.ts";
import { FakeIptables } from "../../proxy/support/fake-iptables.ts";
import { makeService, makeSlice } from "../../proxy/support/fixtures.ts";

const quiet: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };
const noLogs = { containerLogs: () => (async function* () {})() };
const log = { info() {}, warn() {} };
const NODE_IP = "192.168.0.2";

describe("deckhand debug trace", () => {
  const dir = mkdtempSync(join(tmpdir(), "deckhand-debug-trace-"));
  const socketPath = join(dir, "trace.sock");
  const api = new FakeApi();
  const iptables = new FakeIptables();
  let proxy: ServiceProxy;
  let server: DebugServer;
  const abort = new AbortController();
  let running: Promise<void>;

  beforeAll(async () => {
    api.set(
      "services",
      makeService(
        "shop",
        "web",
        {
          type: "LoadBalancer",
          clusterIP: "10.96.0.20",
          externalIPs: ["198.51.100.7"],
          ports: [{ name: "http", port: 80, nodePort: 30080 }],
        },
        { loadBalancer: { ingress: [{ ip: "198.51.100.80" }] } },
      ) as KubeObject,
    );
    api.set(
      "endpointslices",
      makeSlice(
        "shop",
        "web",
        "web-1",
        [{ name: "http", port: 8080, protocol: "TCP" }],
        [
          { ip: "10.244.0.5" },
          { ip: "10.244.0.6" },
          { ip: "10.244.0.7", ready: false, serving: true, terminating: true },
        ],
      ) as KubeObject,
    );
    api.set(
      "services",
      makeService("shop", "empty", {
        clusterIP: "10.96.0.30",
        ports: [{ name: "dns", port: 53, protocol: "UDP" }],
      }) as KubeObject,
    );
    proxy = new ServiceProxy({
      client: api,
      nodeName: "node-1",
      nodeIPs: [NODE_IP],
      clusterCIDR: "10.244.0.0/16",
      iptables,
      sysctl: { get: async () => undefined, set: async () => {} },
      conntrack: { delete: async () => {} },
      log: quiet,
      minSyncPeriodMs: 10,
    });
    running = proxy.run(abort.signal);
    await proxy.ready;
    const state: DebugState = {
      nodeName: "node-1",
      pods: () => [],
      runtimePods: () => [],
      probes: () => [],
      history: new DebugHistory(),
      services: () => ({ backend: proxy.backend, ...proxy.stats, servicePorts: proxy.view() }),
      trace: (target, options) => proxy.trace(target, options),
      config: () => ({}),
    };
    server = new DebugServer({ socketPath, runtime: noLogs, log, state });
    expect(await server.start()).toBe(true);
  });

  afterAll(async () => {
    await server?.stop();
    abort.abort();
    await running;
    rmSync(dir, { recursive: true, force: true });
  });

  const trace = async (target: string, from = "node"): Promise<TraceView> =>
    JSON.parse(await debugGet(socketPath, `/trace?${new URLSearchParams({ target, from })}`)) as TraceView;

  it("a ClusterIP from the node: the Service, its endpoints, an even split over the ready ones, masqueraded", async () => {
    const view = await trace("10.96.0.20:80/tcp");
    expect(view.rules).toBe("programmed");
    expect(view.packet).toMatchObject({ source: NODE_IP, origin: "local", dest: "10.96.0.20", dport: 80 });
    expect(view.servicePorts).toHaveLength(1);
    expect(view.servicePorts[0]).toMatchObject({ name: "shop/web:http", kind: "ClusterIP", nodePort: 30080 });
    expect(view.servicePorts[0]?.endpoints).toEqual([
      {
        endpoint: "10.244.0.5:8080",
        ready: true,
        serving: true,
        terminating: false,
        local: false,
        used: true,
      },
      {
        endpoint: "10.244.0.6:8080",
        ready: true,
        serving: true,
        terminating: false,
        local: false,
        used: true,
      },
      {
        endpoint: "10.244.0.7:8080",
        ready: false,
        serving: true,
        terminating: true,
        local: false,
        used: false,
      },
    ]);
    expect(view.outcomes.map((o) => [o.dnat, o.probability, o.masquerade])).toEqual([
      ["10.244.0.5:8080", expect.closeTo(0.5, 6), true],
      ["10.244.0.6:8080", expect.closeTo(0.5, 6), true],
    ]);
    const path = view.outcomes[0]?.path ?? [];
    expect(path[0]).toBe("nat/KUBE-SERVICES");
    expect(path[1]).toMatch(/^nat\/KUBE-SVC-/);
    expect(path).toContain("nat/KUBE-MARK-MASQ");
    expect(path.some((c) => /^nat\/KUBE-SEP-/.test(c))).toBe(true);
    // Random backend choice: each KUBE-SEP chain is entered by half of the packets.
    expect(path.filter((c) => /^nat\/KUBE-SEP-\S+ \(50%\)$/.test(c))).toHaveLength(1);
    expect(
      view.outcomes[0]?.actions.some((a) => a.includes("-j DNAT --to-destination 10.244.0.5:8080")),
    ).toBe(true);
    expect(view.summary[0]).toBe(
      "10.96.0.20:80/TCP is the ClusterIP of shop/web:http (3 endpoints, 2 ready, 2 in use)",
    );

    // A pod (inside clusterCIDR) is not masqueraded.
    const fromPod = await trace("10.96.0.20:80/tcp", "10.244.0.9");
    expect(fromPod.packet.origin).toBe("external");
    expect(fromPod.outcomes.every((o) => !o.masquerade && o.dnat)).toBe(true);
  });

  it("the node port on a node address, an external IP and the load-balancer IP, from outside: via KUBE-EXT", async () => {
    for (const [target, kind] of [
      [`${NODE_IP}:30080/tcp`, "NodePort"],
      ["198.51.100.7:80/tcp", "ExternalIP"],
      ["198.51.100.80:80/tcp", "LoadBalancerIP"],
    ] as const) {
      const view = await trace(target, "external");
      expect(view.packet).toMatchObject({ source: "203.0.113.1", origin: "external" });
      expect(view.servicePorts.map((p) => [p.name, p.kind])).toEqual([["shop/web:http", kind]]);
      expect(view.outcomes.map((o) => o.dnat).sort()).toEqual(["10.244.0.5:8080", "10.244.0.6:8080"]);
      expect(view.outcomes.every((o) => o.masquerade)).toBe(true);
      expect(view.outcomes[0]?.path.some((c) => /^nat\/KUBE-EXT-/.test(c))).toBe(true);
    }
    // The node port is not open on an address that is not the node's.
    const elsewhere = await trace("192.168.0.99:30080/tcp", "external");
    expect(elsewhere.servicePorts).toEqual([]);
  });

  it("says when a Service has no endpoints (rejected) and when no Service has the address", async () => {
    const empty = await trace("10.96.0.30:53/udp");
    expect(empty.servicePorts.map((p) => [p.name, p.kind, p.endpoints.length])).toEqual([
      ["shop/empty:dns", "ClusterIP", 0],
    ]);
    expect(empty.outcomes).toHaveLength(1);
    expect(empty.outcomes[0]).toMatchObject({ verdict: "REJECT", probability: 1 });
    expect(empty.summary).toEqual([
      "10.96.0.30:53/UDP is the ClusterIP of shop/empty:dns (0 endpoints, 0 ready, 0 in use)",
      "shop/empty:dns has no endpoints",
      "100%: rejected (shop/empty:dns has no endpoints)",
    ]);

    const none = await trace("10.96.0.99:80/tcp");
    expect(none.servicePorts).toEqual([]);
    expect(none.outcomes).toMatchObject([{ verdict: "ACCEPT", probability: 1, masquerade: false }]);
    expect(none.outcomes[0]?.dnat).toBeUndefined();
    expect(none.summary).toEqual([
      "no Service has 10.96.0.99:80/TCP",
      "100%: not translated (no Service rule matched)",
    ]);
    // Same port number, other protocol: no Service either.
    expect((await trace("10.96.0.20:80/udp")).servicePorts).toEqual([]);
  });

  it("prints a human trace", async () => {
    const text = formatters.trace(await trace("10.96.0.20:80/tcp"));
    const lines = text.split("\n");
    expect(lines[0]).toBe("Address:  10.96.0.20:80/TCP");
    expect(lines[1]).toBe(`From:     a process on this node (source ${NODE_IP})`);
    expect(text).toMatch(/^Service: {2}shop\/web:http \(ClusterIP; ClusterIP 10\.96\.0\.20:80;/m);
    expect(text).toMatch(/^ {2}ENDPOINT\s+READY\s+SERVING\s+TERMINATING\s+LOCAL\s+USED$/m);
    expect(text).toMatch(/^ {2}10\.244\.0\.7:8080\s+false\s+true\s+true\s+false\s+no$/m);
    expect(text).toMatch(
      /^ {2}50%\s+DNAT 10\.244\.0\.5:8080\s+yes\s+nat\/KUBE-SERVICES → nat\/KUBE-SVC-\S+ → nat\/KUBE-MARK-MASQ → nat\/KUBE-SEP-\S+ \(50%\) → filter\/KUBE-/m,
    );
  });

  it("rejects a malformed address or sender with a precise error", async () => {
    await expect(debugGet(socketPath, "/trace?target=10.96.0.20")).rejects.toThrow(
      "want IP:PORT/PROTOCOL with an IPv4 address, a port 1–65535 and tcp, udp or sctp (e.g. 10.96.0.10:53/udp)",
    );
    await expect(trace("10.96.0.20:80/icmp")).rejects.toThrow("10.96.0.20:80/icmp");
    await expect(trace("10.96.0.20:80/tcp", "pod-a")).rejects.toThrow(
      'from "pod-a": want "node", "external" or the client\'s IPv4 address',
    );
    expect(parseTraceTarget("10.96.0.10:53/UDP")).toEqual({ ip: "10.96.0.10", port: 53, protocol: "UDP" });
    expect(parseTraceTarget("10.96.0.10:443")).toEqual({ ip: "10.96.0.10", port: 443, protocol: "TCP" });
  });
});
