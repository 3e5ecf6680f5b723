// The ServiceProxy component with an in-memory API and the fake iptables: when it syncs, what it reports.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/resource.ts";
import type { ConntrackDeletion } from "../../src/proxy/conntrack.ts";
import { ServiceProxy, type ServiceProxyOptions } from "../../src/proxy/service-proxy.ts";
import type { ProxyLogger } from "../../src/proxy/syncer.ts";
import type { Sysctl } from "../../src/proxy/sysctl.ts";
import { waitFor } from "../support/wait.ts";
import { FakeApi } from "./support/fake-api.ts";
import { FakeIptables } from "./support/fake-iptables.ts";
import { makeService, makeSlice } from "./support/fixtures.ts";

function memorySysctl(values: Record<string, string> = {}): Sysctl & { values: Record<string, string> } {
  return {
    values,
    get: async (name) => values[name],
    set: async (name, value) => {
      values[name] = value;
    },
  };
}

function setup(options: Partial<ServiceProxyOptions> = {}) {
  const api = new FakeApi();
  const iptables = new FakeIptables();
  const sysctl = memorySysctl();
  const deletions: ConntrackDeletion[] = [];
  const warnings: string[] = [];
  const log: ProxyLogger = {
    debug() {},
    info() {},
    warn: (_f, m) => warnings.push(m),
    error: (_f, m) => warnings.push(m),
  };
  const proxy = new ServiceProxy({
    client: api,
    nodeName: "node-1",
    nodeIPs: ["192.168.0.2"],
    clusterCIDR: "10.244.0.0/16",
    iptables,
    sysctl,
    log,
    minSyncPeriodMs: 10,
    conntrack: { delete: async (d) => void deletions.push(d) },
    ...options,
  });
  const abort = new AbortController();
  const start = () => proxy.run(abort.signal);
  return { api, iptables, sysctl, deletions, warnings, proxy, abort, start };
}

const svc = (name: string, ip: string, protocol: "TCP" | "UDP" = "TCP") =>
  makeService("ns", name, { clusterIP: ip, ports: [{ name: "p", port: 80, protocol }] }) as KubeObject;
const slice = (name: string, ips: string[], protocol: "TCP" | "UDP" = "TCP") =>
  makeSlice(
    "ns",
    name,
    `${name}-1`,
    [{ name: "p", port: 8080, protocol }],
    ips.map((ip) => ({ ip })),
  ) as KubeObject;

describe("ServiceProxy", () => {
  it("programs nothing before both Services and EndpointSlices are listed, then syncs in full once", async () => {
    const t = setup();
    t.api.set("services", svc("a", "10.96.0.1"));
    t.api.set("endpointslices", slice("a", ["10.244.0.5"]));
    const running = t.start();
    await t.proxy.ready;
    expect(t.proxy.stats).toMatchObject({
      syncs: 1,
      fullSyncs: 1,
      servicePorts: 1,
      endpoints: 1,
      syncErrors: 0,
    });
    expect(t.iptables.chain("nat", "KUBE-SERVICES")?.some((r) => r.includes("ns/a:p cluster IP"))).toBe(true);
    expect(t.sysctl.values["net/ipv4/conf/all/route_localnet"]).toBe("1");
    t.abort.abort();
    await running;
  });

  it("follows changes with partial syncs and reports problems with a Service once", async () => {
    const problems: string[] = [];
    const t = setup({ onServiceProblem: (_svc, message) => problems.push(message) });
    const running = t.start();
    await t.proxy.ready;
    t.api.set("services", svc("b", "10.96.0.2"));
    t.api.set("endpointslices", slice("b", ["10.244.0.6"]));
    await waitFor(
      () => t.iptables.chain("nat", "KUBE-SERVICES")?.some((r) => r.includes("ns/b:p cluster IP")),
      {
        what: "the rules of Service b",
      },
    );
    const bad = makeService("ns", "bad", {
      clusterIP: "10.96.0.3",
      ports: [{ name: "x", port: 0 }],
    }) as KubeObject;
    t.api.set("services", bad);
    t.api.set("services", bad);
    await waitFor(() => problems.length > 0, { what: "the problem report" });
    expect(problems).toEqual(["spec.ports[0] (x): port 0 is not within 1..65535; port skipped"]);
    expect(t.proxy.stats.partialSyncs).toBeGreaterThan(0);
    expect(t.proxy.stats.syncErrors).toBe(0);
    t.abort.abort();
    await running;
  });

  it("deletes stale UDP conntrack entries after removing an endpoint", async () => {
    const t = setup();
    t.api.set("services", svc("dns", "10.96.0.10", "UDP"));
    t.api.set("endpointslices", slice("dns", ["10.244.0.7", "10.244.0.8"], "UDP"));
    const running = t.start();
    await t.proxy.ready;
    // The first sync clears flows to the Service (it had no endpoints before).
    await waitFor(() => t.deletions.length > 0, { what: "the first conntrack deletion" });
    expect(t.deletions).toEqual([{ kind: "ip", ip: "10.96.0.10" }]);
    t.api.set("endpointslices", slice("dns", ["10.244.0.7"], "UDP"));
    await waitFor(() => t.deletions.length > 1, { what: "the stale endpoint's conntrack deletion" });
    expect(t.deletions.slice(1)).toEqual([{ kind: "nat", origin: "10.96.0.10", endpoint: "10.244.0.8" }]);
    t.abort.abort();
    await running;
  });

  it("retries a failed sync after a back-off and recovers with a full sync", async () => {
    const t = setup();
    let failures = 2;
    t.iptables.failRestore = () => (failures-- > 0 ? "injected" : undefined);
    t.api.set("services", svc("c", "10.96.0.4"));
    const running = t.start();
    await t.proxy.ready;
    expect(t.proxy.stats.syncErrors).toBeGreaterThan(0);
    expect(t.proxy.stats.restoreFailures).toBe(2);
    expect(t.proxy.stats.lastReport?.kind).toBe("full");
    expect(t.warnings.some((w) => w.includes("iptables-restore failed"))).toBe(true);
    t.abort.abort();
    await running;
  });

  it("refuses a configuration it cannot use, naming the field", () => {
    expect(() => setup({ nodeIPs: ["fe80::1"] })).toThrow(/nodeIPs: "fe80::1" is not an IPv4 address/);
    expect(() => setup({ clusterCIDR: "10.0.0.0/33" })).toThrow(/clusterCIDR "10.0.0.0\/33"/);
    expect(() => setup({ minSyncPeriodMs: 5000, syncPeriodMs: 1000 })).toThrow(/minSyncPeriodMs \(5000\)/);
  });
});
