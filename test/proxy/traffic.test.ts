// The service proxy against the real kernel: a ServiceProxy (fed by an in-memory API) programs iptables in a
// network namespace of this test, and real connections from that namespace, from pod namespaces and from an
// "outside" namespace reach real backends. Counts, never timings.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/resource.ts";
import { cleanupProxyRules } from "../../src/proxy/cleanup.ts";
import { execConntrack } from "../../src/proxy/conntrack.ts";
import { ExecIptables, type Iptables, type RestoreSession, saveText } from "../../src/proxy/iptables.ts";
import { JUMPS } from "../../src/proxy/jumps.ts";
import { ServiceProxy } from "../../src/proxy/service-proxy.ts";
import type { ProxyLogger } from "../../src/proxy/syncer.ts";
import { procSysctl } from "../../src/proxy/sysctl.ts";
import { requireRoot } from "../support/env.ts";
import { waitFor } from "../support/wait.ts";
import { FakeApi } from "./support/fake-api.ts";
import { makeService, makeSlice } from "./support/fixtures.ts";
import { BACKEND_PORT, BACKEND_UDP_PORT, createLab, type Lab, NODE_IP, POD_CIDR } from "./support/lab.ts";

const SERVICE_CIDR = "10.96.0.0/16";
const NS = "lab";

/**
 * Chi-square critical value for 2 degrees of freedom at p = 0.00001. Even spreading fails it once in 100,000
 * runs (at p = 0.001 it failed one CI run in a few hundred, as it should); a broken spread does not pass it:
 * with 3,000 connections, a 1/2, 1/4, 1/4 split scores 375 and one backend left out 1,500.
 */
const CHI2_2DF_P00001 = 23.026;

function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
}

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function memoryLog(lines: LogLine[]): ProxyLogger {
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Wraps the real iptables; corrupts the next restore when asked, and snapshots the tables after it fails. */
class CorruptingIptables implements Iptables {
  readonly backend;
  corruptNext = false;
  snapshotAfterFailure: string | undefined;
  private readonly inner: Iptables;

  constructor(inner: Iptables) {
    this.inner = inner;
    this.backend = inner.backend;
  }

  private corrupt(payload: string): string {
    if (!this.corruptNext) return payload;
    this.corruptNext = false;
    return payload.replace(/COMMIT\n$/, "-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN\nCOMMIT\n");
  }

  private async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      this.snapshotAfterFailure = `${await saveText(this.inner, "filter")}\n${await saveText(this.inner, "nat")}`;
      throw error;
    }
  }

  restore(payload: string): Promise<void> {
    return this.snapshot(() => this.inner.restore(this.corrupt(payload)));
  }

  openRestore(): RestoreSession {
    const session = this.inner.openRestore();
    return {
      write: (payload) => this.snapshot(() => session.write(this.corrupt(payload))),
      close: () => this.snapshot(() => session.close()),
      abort: () => session.abort(),
    };
  }

  save(table: Parameters<Iptables["save"]>[0], onLine: Parameters<Iptables["save"]>[1]) {
    return this.inner.save(table, onLine);
  }

  run(args: readonly string[]) {
    return this.inner.run(args);
  }

  hasRandomFully() {
    return this.inner.hasRandomFully();
  }
}

/** iptables-save text without comment header lines (they carry timestamps). */
async function saveAll(iptables: Iptables, counters = false, netns?: string): Promise<string> {
  if (counters && netns) {
    const { run } = await import("../support/run.ts");
    const result = await run("ip", ["netns", "exec", netns, "iptables-save", "-c"]);
    return result.stdout
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .join("\n");
  }
  return `${await saveText(iptables, "filter")}\n${await saveText(iptables, "nat")}\n${await saveText(iptables, "mangle")}`
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");
}

describe("service proxy on real iptables (nf_tables) with real traffic", () => {
  let lab: Lab;
  let api: FakeApi;
  let real: Iptables;
  let iptables: CorruptingIptables;
  let proxy: ServiceProxy;
  let abort: AbortController;
  let running: Promise<void>;
  const logs: LogLine[] = [];
  const foreign = {
    nat: [
      "-A PREROUTING -j FOREIGN-NAT",
      "-A FOREIGN-NAT -d 10.250.0.1/32 -p tcp -m tcp --dport 9 -j RETURN",
    ],
    filter: ["-A INPUT -j FOREIGN-FILTER", "-A FOREIGN-FILTER -s 10.250.0.0/16 -j ACCEPT"],
  };

  const services = {
    web: makeService(NS, "web", {
      type: "NodePort",
      clusterIP: "10.96.0.10",
      ports: [{ name: "http", port: 80, targetPort: BACKEND_PORT, nodePort: 30_080 }],
    }),
    self: makeService(NS, "self", { clusterIP: "10.96.0.11", ports: [{ name: "http", port: 80 }] }),
    empty: makeService(NS, "empty", { clusterIP: "10.96.0.12", ports: [{ name: "http", port: 80 }] }),
    sticky: makeService(NS, "sticky", {
      clusterIP: "10.96.0.13",
      sessionAffinity: "ClientIP",
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      ports: [{ name: "http", port: 80 }],
    }),
    dns: makeService(NS, "dns", {
      clusterIP: "10.96.0.14",
      ports: [{ name: "dns", port: 53, protocol: "UDP" }],
    }),
  };
  const slice = (service: string, pods: number[], protocol: "TCP" | "UDP" = "TCP") =>
    makeSlice(
      NS,
      service,
      `${service}-abc`,
      [
        {
          name: protocol === "UDP" ? "dns" : "http",
          port: protocol === "UDP" ? BACKEND_UDP_PORT : BACKEND_PORT,
          protocol,
        },
      ],
      pods.map((i) => ({ ip: `10.244.0.${i + 1}`, nodeName: "lab-node" })),
    );

  function startProxy(ipt: Iptables): {
    proxy: ServiceProxy;
    abort: AbortController;
    running: Promise<void>;
  } {
    const p = new ServiceProxy({
      client: api,
      nodeName: "lab-node",
      nodeIPs: [NODE_IP],
      clusterCIDR: POD_CIDR,
      iptables: ipt,
      sysctl: procSysctl(lab.node.name),
      conntrack: execConntrack(lab.node.name),
      log: memoryLog(logs),
      minSyncPeriodMs: 100,
      syncPeriodMs: 2_000,
    });
    const a = new AbortController();
    return { proxy: p, abort: a, running: p.run(a.signal) };
  }

  beforeAll(async () => {
    requireRoot();
    lab = await createLab("dhpx", SERVICE_CIDR, 3);
    real = new ExecIptables("nft", { netns: lab.node.name });
    iptables = new CorruptingIptables(real);
    await real.restore(
      `*nat\n:FOREIGN-NAT - [0:0]\n${foreign.nat.join("\n")}\nCOMMIT\n*filter\n:FOREIGN-FILTER - [0:0]\n${foreign.filter.join("\n")}\nCOMMIT\n`,
    );
    api = new FakeApi();
    for (const svc of Object.values(services)) api.set("services", svc as KubeObject);
    api.set("endpointslices", slice("web", [1, 2, 3]) as KubeObject);
    api.set("endpointslices", slice("self", [1]) as KubeObject);
    api.set("endpointslices", slice("sticky", [1, 2, 3]) as KubeObject);
    api.set("endpointslices", slice("dns", [1, 2, 3], "UDP") as KubeObject);
    ({ proxy, abort, running } = startProxy(iptables));
    await proxy.ready;
  });

  afterAll(async () => {
    abort?.abort();
    await running;
    await lab?.destroy();
  });

  it("spreads ClusterIP connections evenly over three backends (chi-square, p = 0.00001)", async () => {
    const result = await lab.request(lab.node, "tcp", "10.96.0.10", 80, 3000);
    expect(result.errors).toEqual({});
    const counts = ["pod-1", "pod-2", "pod-3"].map((name) => result.answers[name] ?? 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(chiSquare(counts), `connections per backend: ${counts.join(", ")}`).toBeLessThan(CHI2_2DF_P00001);
  });

  it("answers pods too, including a pod reaching itself through its Service (hairpin)", async () => {
    const [pod1, pod2] = lab.pods;
    if (!pod1 || !pod2) throw new Error("lab has no pods");
    expect(await lab.request(pod1.netns, "tcp", "10.96.0.11", 80, 5)).toEqual({
      answers: { "pod-1": 5 },
      errors: {},
    });
    const fromPod = await lab.request(pod2.netns, "tcp", "10.96.0.10", 80, 30);
    expect(fromPod.errors).toEqual({});
    expect(Object.keys(fromPod.answers).every((k) => /^pod-[123]$/.test(k))).toBe(true);
  });

  it("serves the node port on 127.0.0.1 (route_localnet) and on the node address from outside", async () => {
    const local = await lab.request(lab.node, "tcp", "127.0.0.1", 30_080, 30);
    expect(local.errors).toEqual({});
    expect(Object.values(local.answers).reduce((a, b) => a + b, 0)).toBe(30);
    const outside = await lab.request(lab.outside, "tcp", NODE_IP, 30_080, 30);
    expect(outside.errors).toEqual({});
    expect(Object.values(outside.answers).reduce((a, b) => a + b, 0)).toBe(30);
  });

  it("refuses connections to a Service without endpoints at once (REJECT), from the node and from pods", async () => {
    const refused = { answers: {}, errors: { ECONNREFUSED: 3 } };
    expect(await lab.request(lab.node, "tcp", "10.96.0.12", 80, 3, { timeoutMs: 20_000 })).toEqual(refused);
    const pod = lab.pods[0];
    if (!pod) throw new Error("lab has no pods");
    expect(await lab.request(pod.netns, "tcp", "10.96.0.12", 80, 3, { timeoutMs: 20_000 })).toEqual(refused);
  });

  it("keeps a client on one backend with sessionAffinity ClientIP", async () => {
    const result = await lab.request(lab.node, "tcp", "10.96.0.13", 80, 60);
    expect(result.errors).toEqual({});
    expect(Object.values(result.answers)).toEqual([60]);
  });

  it("proxies UDP", async () => {
    const result = await lab.request(lab.node, "udp", "10.96.0.14", 53, 30);
    expect(result.errors).toEqual({});
    expect(Object.keys(result.answers).every((k) => /^pod-[123]$/.test(k))).toBe(true);
    expect(Object.values(result.answers).reduce((a, b) => a + b, 0)).toBe(30);
  });

  it("deletes the conntrack entries of a removed UDP endpoint", async () => {
    const { run } = await import("../support/run.ts");
    const flows = async () =>
      (
        await run(
          "ip",
          ["netns", "exec", lab.node.name, "conntrack", "-L", "-p", "udp", "--orig-dst", "10.96.0.14"],
          {
            allowFailure: true,
          },
        )
      ).stdout;
    // UDP flows are kept per source port: make many, so that each endpoint has some.
    const result = await lab.request(lab.node, "udp", "10.96.0.14", 53, 60);
    expect(result.answers["pod-3"]).toBeGreaterThan(0);
    expect(await flows()).toContain("src=10.244.0.4 ");
    api.set("endpointslices", slice("dns", [1, 2], "UDP") as KubeObject);
    await waitFor(async () => !(await flows()).includes("src=10.244.0.4 "), {
      what: "the flows to pod-3 to be deleted",
    });
    expect(await flows()).toContain("src=10.244.0.2 ");
    expect(proxy.stats.conntrackErrors).toBe(0);
  });

  it("changes only the changed Service's rules: the others keep their rules and packet counters", async () => {
    await lab.request(lab.node, "tcp", "10.96.0.13", 80, 10);
    const others = (text: string) =>
      text
        .split("\n")
        .filter((l) => /lab\/(sticky|self|dns|empty)/.test(l))
        .sort();
    const before = others(await saveAll(real, true, lab.node.name));
    expect(
      before.some((l) => /^\[[1-9]\d*:\d+\] -A KUBE-SERVICES .*lab\/sticky:http cluster IP/.test(l)),
    ).toBe(true);
    const syncsBefore = proxy.stats.partialSyncs;
    const fullsBefore = proxy.stats.fullSyncs;
    api.set("endpointslices", slice("web", [1, 2]) as KubeObject);
    await waitFor(async () => !/lab\/web:http -> 10\.244\.0\.4:8080/.test(await saveText(real, "nat")), {
      what: "pod-3 to leave the web Service's rules",
    });
    // The kernel has the rules once iptables-restore commits, a moment before the sync is counted.
    await waitFor(() => proxy.stats.partialSyncs > syncsBefore, { what: "the partial sync to be counted" });
    expect(proxy.stats.fullSyncs).toBe(fullsBefore);
    expect(others(await saveAll(real, true, lab.node.name))).toEqual(before);
    // The removed endpoint gets no more traffic.
    const result = await lab.request(lab.node, "tcp", "10.96.0.10", 80, 200);
    expect(result.errors).toEqual({});
    expect(result.answers["pod-3"]).toBeUndefined();
    expect((result.answers["pod-1"] ?? 0) + (result.answers["pod-2"] ?? 0)).toBe(200);
  });

  it("falls back to a full sync when a restore fails, and the failed restore changed nothing", async () => {
    const strip = (text: string) => text.split("\n").filter((l) => !l.startsWith("#"));
    const before = strip(`${await saveText(real, "filter")}\n${await saveText(real, "nat")}`);
    const fallbacks = proxy.stats.partialFallbacks;
    const failures = proxy.stats.restoreFailures;
    iptables.corruptNext = true;
    api.set("endpointslices", slice("web", [1, 2, 3]) as KubeObject);
    await waitFor(() => proxy.stats.partialFallbacks > fallbacks, { what: "the fallback full sync" });
    expect(strip(iptables.snapshotAfterFailure ?? "")).toEqual(before);
    expect(proxy.stats.restoreFailures).toBe(failures + 1);
    expect(
      logs.some(
        (l) =>
          l.message.includes("iptables-restore failed") &&
          l.fields.line === "-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN",
      ),
    ).toBe(true);
    const result = await lab.request(lab.node, "tcp", "10.96.0.10", 80, 300);
    expect(result.errors).toEqual({});
    expect(Object.keys(result.answers).sort()).toEqual(["pod-1", "pod-2", "pod-3"]);
  });

  it("converges after a restart without a moment where the Service is unreachable, and never duplicates jumps", async () => {
    const during = lab.request(lab.node, "tcp", "10.96.0.10", 80, 150, { intervalMs: 20 });
    abort.abort();
    await running;
    ({ proxy, abort, running } = startProxy(real));
    await proxy.ready;
    const result = await during;
    expect(result.errors).toEqual({});
    expect(Object.values(result.answers).reduce((a, b) => a + b, 0)).toBe(150);
    // The restarted proxy found everything in place.
    expect(proxy.stats.lastFullSyncReport).toMatchObject({
      kind: "full",
      restores: 0,
      chainsWritten: 0,
      jumpsFixed: 0,
    });
    const saved = await saveAll(real);
    for (const jump of JUMPS) {
      expect(saved.split("\n").filter((line) => line === jump.rule)).toHaveLength(1);
    }
  });

  it("cleanup removes every Deckhand rule and chain and leaves the other program's rules", async () => {
    abort.abort();
    await running;
    const result = await cleanupProxyRules(real);
    expect(result.chainsKept).toEqual([]);
    expect(result.jumpsRemoved).toBe(JUMPS.length);
    const saved = await saveAll(real);
    expect(saved).not.toMatch(/KUBE-/);
    for (const rule of [...foreign.nat, ...foreign.filter]) expect(saved.split("\n")).toContain(rule);
  });
});
