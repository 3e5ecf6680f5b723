// `deckhand debug services` with a real ServiceProxy (in-memory API, fake iptables) behind a real DebugServer
// socket: each Service port with its ClusterIP/NodePort, endpoints and readiness, the chains programmed for
// it, and the last sync; and the socket itself (root-only, never taken over from a live agent).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DebugHistory } from "../../../src/agent/debug/history.ts";
import { DebugServer } from "../../../src/agent/debug/server.ts";
import type { DebugState, ServicesView } from "../../../src/agent/debug/views.ts";
import type { KubeObject } from "../../../src/api/resource.ts";
import { debugGet, formatters } from "../../../src/cli/debug.ts";
import { ServiceProxy } from "../../../src/proxy/service-proxy.ts";
import type { ProxyLogger } from "../../../src/proxy/syncer.ts";
import { FakeApi } from "../../proxy/support/fake-api.ts";
import { FakeIptables } from "../../proxy/support/fake-iptables.ts";
import { makeService, makeSlice } from "../../proxy/support/fixtures.ts";

const quiet: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), "deckhand-debug-svc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function state(services?: () => ServicesView | undefined): DebugState {
  return {
    nodeName: "node-1",
    pods: () => [],
    runtimePods: () => [],
    probes: () => [],
    history: new DebugHistory(),
    ...(services ? { services } : {}),
    config: () => ({ nodeName: "node-1" }),
  };
}

const noLogs = { containerLogs: () => (async function* () {})() };
const log = { info() {}, warn() {} };

describe("deckhand debug services", () => {
  it("shows Service port → ClusterIP/NodePort → endpoints, programmed chains and the last sync", async () => {
    const api = new FakeApi();
    api.set(
      "services",
      makeService("shop", "web", {
        type: "NodePort",
        clusterIP: "10.96.0.20",
        ports: [{ name: "http", port: 80, nodePort: 30080 }],
      }) as KubeObject,
    );
    api.set(
      "endpointslices",
      makeSlice(
        "shop",
        "web",
        "web-1",
        [{ name: "http", port: 8080, protocol: "TCP" }],
        [{ ip: "10.244.0.5" }, { ip: "10.244.0.6", ready: false, serving: false }],
      ) as KubeObject,
    );
    const proxy = new ServiceProxy({
      client: api,
      nodeName: "node-1",
      nodeIPs: ["192.168.0.2"],
      iptables: new FakeIptables(),
      sysctl: { get: async () => undefined, set: async () => {} },
      conntrack: { delete: async () => {} },
      log: quiet,
      minSyncPeriodMs: 10,
    });
    const abort = new AbortController();
    const running = proxy.run(abort.signal);
    await proxy.ready;
    const socketPath = join(dir, "svc.sock");
    const server = new DebugServer({
      socketPath,
      runtime: noLogs,
      log,
      state: state(() => ({ backend: proxy.backend, ...proxy.stats, servicePorts: proxy.view() })),
    });
    expect(await server.start()).toBe(true);
    try {
      const view = JSON.parse(await debugGet(socketPath, "/services")) as ServicesView;
      expect(view.syncs).toBeGreaterThanOrEqual(1);
      expect(view.lastSyncAt).toBeGreaterThan(0);
      expect(view.servicePorts).toHaveLength(1);
      const port = view.servicePorts[0];
      expect(port).toMatchObject({
        service: "shop/web",
        name: "shop/web:http",
        protocol: "TCP",
        clusterIP: "10.96.0.20",
        port: 80,
        nodePort: 30080,
      });
      expect(port?.endpoints).toEqual([
        { endpoint: "10.244.0.5:8080", ready: true, serving: true, terminating: false, local: false },
        { endpoint: "10.244.0.6:8080", ready: false, serving: false, terminating: false, local: false },
      ]);
      // KUBE-SVC and KUBE-EXT for the NodePort, a KUBE-SEP for the ready endpoint.
      expect(port?.chains.some((c) => c.startsWith("KUBE-SVC-"))).toBe(true);
      expect(port?.chains.filter((c) => c.startsWith("KUBE-SEP-"))).toHaveLength(1);
      expect(
        port?.topRules.some((r) => r.startsWith("nat -A KUBE-SERVICES") && r.includes("10.96.0.20")),
      ).toBe(true);
      expect(port?.topRules.some((r) => r.startsWith("nat -A KUBE-NODEPORTS") && r.includes("30080"))).toBe(
        true,
      );

      const text = formatters.services(view, view.lastSyncAt + 3_000);
      const lines = text.split("\n");
      expect(lines[0]).toMatch(/^backend \S+: \d+ syncs, 0 failed, 0 restore failures; last sync 3s ago/);
      expect(lines[2]).toMatch(
        /^SERVICE PORT\s+PROTOCOL\s+CLUSTER-IP\s+NODE-PORT\s+ENDPOINTS\s+READY\s+CHAINS/,
      );
      expect(lines[3]).toMatch(
        /^shop\/web:http\s+TCP\s+10\.96\.0\.20:80\s+30080\s+10\.244\.0\.5:8080,10\.244\.0\.6:8080\s+1\/2\s+\d+\s+\d+\s+-$/,
      );
    } finally {
      await server.stop();
      abort.abort();
      await running;
    }
  });

  it("the socket is root-only, answers only GET, and a live agent's socket is never taken over", async () => {
    const socketPath = join(dir, "live.sock");
    const first = new DebugServer({ socketPath, runtime: noLogs, log, state: state() });
    expect(await first.start()).toBe(true);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const warnings: string[] = [];
    const second = new DebugServer({
      socketPath,
      runtime: noLogs,
      log: { info() {}, warn: (_f, m) => warnings.push(m) },
      state: state(),
    });
    expect(await second.start()).toBe(false);
    expect(warnings).toEqual(["debug socket not started: another agent answers on it"]);
    await expect(debugGet(socketPath, "/services")).rejects.toThrow(
      "the service proxy is not running on this node (proxyMode none, or a standalone node)",
    );
    await expect(debugGet(socketPath, "/nothing")).rejects.toThrow("no such debug view: /nothing");
    await first.stop();
    await expect(debugGet(socketPath, "/pods")).rejects.toThrow(
      `cannot reach the agent at ${socketPath}: ENOENT`,
    );
    // A stale socket file (its agent died without cleaning up) is replaced.
    const stale = new DebugServer({ socketPath, runtime: noLogs, log, state: state() });
    expect(await stale.start()).toBe(true);
    expect(JSON.parse(await debugGet(socketPath, "/pods"))).toEqual([]);
    await stale.stop();
  });
});
