// The service proxy's metrics, exported by the agent's registry under kube-proxy's names.
import { describe, expect, it } from "vitest";
import { AgentMetrics } from "../../src/agent/metrics.ts";
import type { KubeObject } from "../../src/api/resource.ts";
import { ServiceProxy } from "../../src/proxy/service-proxy.ts";
import { waitFor } from "../support/wait.ts";
import { FakeApi } from "./support/fake-api.ts";
import { FakeIptables } from "./support/fake-iptables.ts";
import { makeService, makeSlice } from "./support/fixtures.ts";

/** The value of one series in Prometheus text ("name{labels} value"), undefined when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("service proxy metrics", () => {
  it("counts syncs, changes, rules and restore failures under kube-proxy's names", async () => {
    const metrics = new AgentMetrics({ nodeName: "metrics-node", processMetrics: false });
    const api = new FakeApi();
    const iptables = new FakeIptables();
    let failures = 0;
    iptables.failRestore = () => (failures-- > 0 ? "injected" : undefined);
    api.set(
      "services",
      makeService("mns", "a", { clusterIP: "10.96.7.1", ports: [{ port: 80 }] }) as KubeObject,
    );
    api.set(
      "endpointslices",
      makeSlice("mns", "a", "a-1", [{ port: 8080 }], [{ ip: "10.244.7.5" }]) as KubeObject,
    );
    const proxy = new ServiceProxy({
      client: api,
      nodeName: "metrics-node",
      nodeIPs: ["192.168.0.2"],
      iptables,
      sysctl: { get: async () => undefined, set: async () => {} },
      log: { debug() {}, info() {}, warn() {}, error() {} },
      minSyncPeriodMs: 10,
      conntrack: { delete: async () => {} },
      metrics: metrics.proxyMetrics(),
    });
    const abort = new AbortController();
    const running = proxy.run(abort.signal);
    await proxy.ready;

    let text = await metrics.registry.metrics();
    expect(value(text, "kubeproxy_sync_proxy_rules_duration_seconds_count")).toBe(1);
    expect(value(text, "kubeproxy_sync_full_proxy_rules_duration_seconds_count")).toBe(1);
    expect(value(text, "kubeproxy_sync_proxy_rules_last_timestamp_seconds")).toBeGreaterThan(1.7e9);
    expect(value(text, "kubeproxy_sync_proxy_rules_iptables_restore_failures_total")).toBe(0);
    // Every rule in Deckhand's own nat chains (not the jumps from the built-in chains).
    const nat = value(text, 'kubeproxy_sync_proxy_rules_iptables_total{table="nat"}') ?? 0;
    let natRules = 0;
    for (const [chain, rules] of iptables.tables.nat) if (chain.startsWith("KUBE-")) natRules += rules.length;
    expect(nat).toBe(natRules);
    expect(value(text, 'kubeproxy_sync_proxy_rules_iptables_total{table="filter"}')).toBeGreaterThan(0);

    failures = 1; // the next restore (a partial sync) fails; a full sync follows
    api.set(
      "endpointslices",
      makeSlice("mns", "a", "a-1", [{ port: 8080 }], [{ ip: "10.244.7.6" }]) as KubeObject,
    );
    api.set(
      "services",
      makeService("mns", "b", { clusterIP: "10.96.7.2", ports: [{ port: 80 }] }) as KubeObject,
    );
    await waitFor(() => proxy.stats.syncErrors + proxy.stats.partialFallbacks > 0 && failures < 0, {
      what: "the failed partial sync",
    });
    await waitFor(
      async () =>
        value(await metrics.registry.metrics(), "kubeproxy_network_programming_duration_seconds_count") !==
        undefined,
      { what: "a network programming observation" },
    );
    text = await metrics.registry.metrics();
    expect(value(text, "kubeproxy_sync_proxy_rules_iptables_restore_failures_total")).toBe(1);
    expect(value(text, "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total")).toBe(1);
    expect(value(text, "kubeproxy_sync_proxy_rules_endpoint_changes_total")).toBe(1);
    expect(value(text, "kubeproxy_sync_proxy_rules_service_changes_total")).toBe(1);
    expect(value(text, "kubeproxy_network_programming_duration_seconds_count")).toBeGreaterThan(0);
    expect(value(text, "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds")).toBeGreaterThan(1.7e9);
    abort.abort();
    await running;
  });

  it("exports no kube-proxy metric when the agent runs no proxy", async () => {
    const metrics = new AgentMetrics({ nodeName: "metrics-node-2", processMetrics: false });
    expect(await metrics.registry.metrics()).not.toContain("kubeproxy_");
  });
});
