// Churn through the service proxy: Services with endpoints created and deleted many times, against real
// iptables and real conntrack in this test's network namespace (test/proxy/support/lab.ts, the service range
// routed away from every real interface first). "Nothing leaked" means, after the last cycle:
//   - the nat and filter tables equal the baseline taken before the churn (no KUBE-SVC/SEP/EXT/FW/SVL chain
//     and no rule of any churned Service left);
//   - no UDP conntrack entry for a churned ClusterIP: the flows made to it each cycle are deleted when an
//     endpoint leaves the Service and when the Service goes (upstream's stale-entry cleanup);
//   - the proxy's state back to the baseline: view() lists only the anchor Service, and every Map, Set and
//     array reachable from the ServiceProxy has as many entries as before the churn.
// DECKHAND_PROXY_CHURN_CYCLES sets the cycle count (150 in CI; 1000 for a soak-scale run).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/resource.ts";
import type { ConntrackDeletion } from "../../src/proxy/conntrack.ts";
import { ExecIptables, type Iptables, saveText } from "../../src/proxy/iptables.ts";
import { ServiceProxy } from "../../src/proxy/service-proxy.ts";
import type { ProxyLogger } from "../../src/proxy/syncer.ts";
import { procSysctl } from "../../src/proxy/sysctl.ts";
import { FakeApi } from "../proxy/support/fake-api.ts";
import { makeService, makeSlice } from "../proxy/support/fixtures.ts";
import {
  BACKEND_PORT,
  BACKEND_UDP_PORT,
  createLab,
  type Lab,
  NODE_IP,
  POD_CIDR,
} from "../proxy/support/lab.ts";
import { recordingConntrack } from "../proxy/support/recording-conntrack.ts";
import { requireRoot } from "../support/env.ts";
import { run } from "../support/run.ts";
import { waitFor } from "../support/wait.ts";

const CYCLES = Number(process.env.DECKHAND_PROXY_CHURN_CYCLES ?? 150);
const SERVICE_CIDR = "10.96.0.0/16";
const NS = "churn";
const FLOWS_PER_CYCLE = 6;
/** endpointsOf() of a Service whose two ports each have both pods and programmed chains. */
const BOTH_PODS = "UDP:10.244.0.2:5353,10.244.0.3:5353:true TCP:10.244.0.2:8080,10.244.0.3:8080:true";

/**
 * Entries of every Map, Set and array reachable from `root`, by path (the proxy's retained state); `skip`
 * holds the test's own objects it was given.
 */
function collectionSizes(root: object, skip: readonly object[]): Map<string, number> {
  const sizes = new Map<string, number>();
  const seen = new Set<unknown>(skip);
  const visit = (value: unknown, path: string) => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    if (value instanceof Map) {
      sizes.set(path, value.size);
      for (const [k, v] of value) visit(v, `${path}[${typeof k === "string" ? "*" : "?"}]`);
    } else if (value instanceof Set) {
      sizes.set(path, value.size);
      for (const v of value) visit(v, `${path}{}`);
    } else if (Array.isArray(value)) {
      sizes.set(path, value.length);
      for (const v of value) visit(v, `${path}[]`);
    } else {
      for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], `${path}.${key}`);
    }
  };
  visit(root, "proxy");
  // Sizes of entries nested under a keyed collection add up: the growth of "a[*].b" is what matters.
  const summed = new Map<string, number>();
  for (const [path, size] of sizes) summed.set(path, (summed.get(path) ?? 0) + size);
  return summed;
}

function total(sizes: Map<string, number>): number {
  return [...sizes.values()].reduce((a, b) => a + b, 0);
}

/** nat and filter rules and chain declarations, without counters and comment headers. */
async function rules(iptables: Iptables): Promise<string[]> {
  const text = `${await saveText(iptables, "nat")}\n${await saveText(iptables, "filter")}`;
  return text
    .split("\n")
    .filter((l) => l.startsWith("-A") || l.startsWith(":") || l.startsWith("*"))
    .map((l) => (l.startsWith(":") ? l.replace(/ \[\d+:\d+\]$/, "") : l));
}

describe(`service proxy churn: ${CYCLES} Service create/delete cycles leak nothing`, () => {
  let lab: Lab;
  let api: FakeApi;
  let iptables: Iptables;
  let proxy: ServiceProxy;
  let conntrack: ReturnType<typeof recordingConntrack>;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const problems: string[] = [];
  const log: ProxyLogger = {
    debug() {},
    info() {},
    warn: (fields, message) => problems.push(`${message} ${JSON.stringify(fields)}`),
    error: (fields, message) => problems.push(`${message} ${JSON.stringify(fields)}`),
  };

  const podIP = (i: number) => `10.244.0.${i + 1}`;
  const clusterIPOf = (cycle: number) => `10.96.${1 + (cycle >> 8)}.${cycle & 255}`;
  const service = (name: string, clusterIP: string, nodePort: number) =>
    makeService(NS, name, {
      type: "NodePort",
      clusterIP,
      ports: [
        { name: "dns", port: 53, protocol: "UDP", targetPort: BACKEND_UDP_PORT, nodePort },
        { name: "http", port: 80, targetPort: BACKEND_PORT },
      ],
    }) as KubeObject;
  const slice = (name: string, pods: number[]) =>
    makeSlice(
      NS,
      name,
      `${name}-abc`,
      [
        { name: "dns", port: BACKEND_UDP_PORT, protocol: "UDP" },
        { name: "http", port: BACKEND_PORT },
      ],
      pods.map((i) => ({ ip: podIP(i), nodeName: "churn-node" })),
    ) as KubeObject;

  /** UDP conntrack entries to a service IP, as `conntrack -L` lines. */
  const udpFlows = async (ip: string) =>
    (
      await run("ip", ["netns", "exec", lab.node.name, "conntrack", "-L", "-p", "udp", "--orig-dst", ip], {
        allowFailure: true,
      })
    ).stdout
      .split("\n")
      .filter((l) => l.startsWith("udp"));

  /**
   * Datagrams to ip:53 from the node, one from each of FLOWS_PER_CYCLE sockets held open together: distinct
   * source ports, so one flow each (sockets opened one after another may be given a port just released).
   */
  const sendUdp = (ip: string) =>
    lab.node.exec(process.execPath, [
      "-e",
      `const dgram = require("node:dgram");
       const sockets = Array.from({ length: ${FLOWS_PER_CYCLE} }, () => dgram.createSocket("udp4"));
       Promise.all(sockets.map((s) => new Promise((done, fail) =>
         s.send("churn", 53, "${ip}", (err) => (err ? fail(err) : done())))))
         .then(() => sockets.forEach((s) => s.close()));`,
    ]);

  const endpointsOf = (name: string) =>
    proxy
      .view()
      .filter((v) => v.service === `${NS}/${name}`)
      .map((v) => `${v.protocol}:${v.endpoints.map((e) => e.endpoint).join(",")}:${v.chains.length > 0}`)
      .join(" ");

  beforeAll(async () => {
    requireRoot();
    lab = await createLab("dhpxc", SERVICE_CIDR, 2);
    iptables = new ExecIptables("nft", { netns: lab.node.name });
    api = new FakeApi();
    conntrack = recordingConntrack(lab.node.name);
    // An anchor Service that lives through the churn: its rules are part of the baseline.
    api.set("services", service("anchor", "10.96.0.10", 30_000));
    api.set("endpointslices", slice("anchor", [1, 2]));
    proxy = new ServiceProxy({
      client: api,
      nodeName: "churn-node",
      nodeIPs: [NODE_IP],
      clusterCIDR: POD_CIDR,
      iptables,
      sysctl: procSysctl(lab.node.name),
      conntrack,
      log,
      minSyncPeriodMs: 20,
      syncPeriodMs: 5_000,
    });
    running = proxy.run(abort.signal);
    await proxy.ready;
  });

  afterAll(async () => {
    abort.abort();
    await running;
    await lab?.destroy();
  });

  it("leaves no iptables rules, conntrack entries or proxy state behind", {
    timeout: 3_600_000,
  }, async () => {
    await waitFor(() => endpointsOf("anchor") === BOTH_PODS, {
      what: "the anchor Service's rules",
    });
    const baselineRules = await rules(iptables);
    const baselineState = collectionSizes(proxy, [conntrack]);
    const baselineView = proxy.view();
    const base = (prefix: string) => baselineRules.filter((l) => l.startsWith(`:${prefix}`)).length;
    const chainKinds = new Set<string>();
    let flowsMade = 0;
    let flowsDeletedOnEndpointRemoval = 0;
    const samples: string[] = [];
    const started = Date.now();
    /** Waits until `deletion` has been run (once more than before) and no other deletion is running. */
    const cleaned = async (deletion: ConntrackDeletion, what: string) => {
      const same = (d: ConntrackDeletion) => JSON.stringify(d) === JSON.stringify(deletion);
      const before = conntrack.done.filter(same).length;
      await waitFor(() => conntrack.inFlight === 0 && conntrack.done.filter(same).length > before, {
        what,
        intervalMs: 10,
      });
    };

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const name = `svc-${cycle}`;
      const ip = clusterIPOf(cycle);
      // The Service first, then its endpoints: that sync clears the flows made while it had none (a
      // conntrack deletion that must be over before this test makes flows of its own).
      api.set("services", service(name, ip, 31_000 + (cycle % 1000)));
      await waitFor(() => proxy.view().some((v) => v.service === `${NS}/${name}`), {
        what: `${name} in the proxy's view`,
        intervalMs: 10,
      });
      api.set("endpointslices", slice(name, [1, 2]));
      await cleaned({ kind: "ip", ip }, `the cleanup when ${name} got endpoints`);
      expect(endpointsOf(name)).toBe(BOTH_PODS);
      expect((await saveText(iptables, "nat")).includes(`-d ${ip}/32 -p udp`)).toBe(true);
      for (const view of proxy.view())
        if (view.service === `${NS}/${name}`)
          for (const chain of view.chains) chainKinds.add(chain.replace(/-[A-Z0-9]+$/, ""));
      await sendUdp(ip);
      const flows = await udpFlows(ip);
      expect(flows.length, `UDP flows to ${ip}`).toBe(FLOWS_PER_CYCLE);
      expect(
        flows.every((l) => /src=10\.244\.0\.[23] /.test(l)),
        flows.join("\n"),
      ).toBe(true);
      flowsMade += flows.length;
      // Each step waits for its sync's conntrack cleanup to be over and then expects the flows gone at once:
      // waiting for them to go would pass on their 30 s UDP timeout too.
      if (cycle % 2 === 0) {
        // An endpoint leaves first: the flows NATed to it go, the others stay.
        const toPod2 = flows.filter((l) => l.includes(`src=${podIP(2)} `)).length;
        api.set("endpointslices", slice(name, [1]));
        await cleaned(
          { kind: "nat", origin: ip, endpoint: podIP(2) },
          `the cleanup after pod-2 left ${name}`,
        );
        const left = await udpFlows(ip);
        expect(left.filter((l) => l.includes(`src=${podIP(2)} `))).toEqual([]);
        expect(left.length).toBe(FLOWS_PER_CYCLE - toPod2);
        flowsDeletedOnEndpointRemoval += toPod2;
      }
      api.delete("endpointslices", slice(name, []));
      api.delete("services", service(name, ip, 0));
      await cleaned({ kind: "ip", ip }, `the cleanup after ${name} was deleted`);
      expect(await udpFlows(ip)).toEqual([]);
      expect((await saveText(iptables, "nat")).includes(`${NS}/${name}:`)).toBe(false);
      if ((cycle + 1) % 50 === 0 || cycle + 1 === CYCLES) {
        const rss = process.memoryUsage();
        samples.push(
          `cycle ${cycle + 1}: state entries ${total(collectionSizes(proxy, [conntrack]))}, heap ${(rss.heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(rss.rss / 2 ** 20).toFixed(0)} MiB`,
        );
      }
    }

    // The last sync has settled: compare with the baseline.
    await waitFor(() => proxy.view().length === baselineView.length, {
      what: "the churned Services to leave the view",
    });
    const after = await rules(iptables);
    const leftover = after.filter((l) => !baselineRules.includes(l));
    const missing = baselineRules.filter((l) => !after.includes(l));
    expect(leftover).toEqual([]);
    expect(missing).toEqual([]);
    expect(proxy.view()).toEqual(baselineView);
    const allFlows = (
      await run("ip", ["netns", "exec", lab.node.name, "conntrack", "-L", "-p", "udp"], {
        allowFailure: true,
      })
    ).stdout
      .split("\n")
      .filter((l) => /dst=10\.96\.(?!0\.10 )/.test(l));
    expect(allFlows).toEqual([]);
    const afterState = collectionSizes(proxy, [conntrack]);
    const grown = [...afterState].filter(([path, size]) => size > (baselineState.get(path) ?? 0));
    expect(grown).toEqual([]);
    expect(proxy.stats.conntrackErrors).toBe(0);
    expect(problems).toEqual([]);

    console.log(
      [
        `proxy churn: ${CYCLES} cycles of a Service (UDP 53 + TCP 80) with 2 endpoints, created and deleted` +
          ` (every other cycle an endpoint removed first) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
        `  each churned Service programmed ${[...chainKinds].sort().join(", ")} chains`,
        `  iptables: ${baselineRules.length} nat+filter lines before and ${after.length} after, 0 leftover` +
          ` (KUBE-SVC ${base("KUBE-SVC-")}, KUBE-SEP ${base("KUBE-SEP-")} chains, the anchor's, both times)`,
        `  conntrack: ${flowsMade} UDP flows made to churned ClusterIPs, ${flowsDeletedOnEndpointRemoval} deleted when their endpoint left,` +
          ` the rest when their Service went; ${allFlows.length} left; ${proxy.stats.conntrackDeletions} conntrack -D runs, 0 errors`,
        `  proxy state: ${total(baselineState)} collection entries before, ${total(afterState)} after; view ${proxy.view().length} service ports;` +
          ` ${proxy.stats.syncs} syncs (${proxy.stats.fullSyncs} full)`,
        ...samples.map((s) => `  ${s}`),
      ].join("\n"),
    );
  });
});
