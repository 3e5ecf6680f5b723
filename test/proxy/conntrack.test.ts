import { describe, expect, it } from "vitest";
import { conntrackArgs, planConntrackCleanup } from "../../src/proxy/conntrack.ts";
import { servicePortKey } from "../../src/proxy/types.ts";
import { endpoint, port } from "./support/fixtures.ts";

const dns = port("kube-system/dns", "dns", {
  clusterIP: "10.96.0.10",
  port: 53,
  protocol: "UDP",
  nodePort: 30_053,
  externalIPs: ["192.168.1.53"],
});
const key = servicePortKey(dns.name, dns.protocol);
const web = port("ns/web", "http", { clusterIP: "10.96.0.20", port: 80 });
const webKey = servicePortKey(web.name, web.protocol);

describe("stale UDP conntrack cleanup", () => {
  it("deletes flows NATed to a removed endpoint, on every service address and the node port", () => {
    const previous = new Map([
      ["kube-system/dns", new Map([[key, [endpoint("10.0.0.1", 53), endpoint("10.0.0.2", 53)]]])],
    ]);
    const plan = planConntrackCleanup(
      previous,
      new Map([[key, dns]]),
      new Map([[key, [endpoint("10.0.0.1", 53)]]]),
    );
    expect(plan).toEqual([
      { kind: "nat", origin: "10.96.0.10", endpoint: "10.0.0.2" },
      { kind: "nat", origin: "192.168.1.53", endpoint: "10.0.0.2" },
      { kind: "port-nat", port: 30_053, endpoint: "10.0.0.2" },
    ]);
    expect(plan.map(conntrackArgs)[0]).toEqual([
      "-D",
      "-p",
      "udp",
      "--orig-dst",
      "10.96.0.10",
      "--dst-nat",
      "10.0.0.2",
    ]);
  });

  it("clears flows to a Service that had no endpoints once it has some", () => {
    const previous = new Map([["kube-system/dns", new Map()]]);
    const plan = planConntrackCleanup(
      previous,
      new Map([[key, dns]]),
      new Map([[key, [endpoint("10.0.0.1", 53)]]]),
    );
    expect(plan).toEqual([
      { kind: "ip", ip: "10.96.0.10" },
      { kind: "ip", ip: "192.168.1.53" },
      { kind: "port", port: 30_053 },
    ]);
  });

  it("clears every flow to the ClusterIP of a deleted UDP service port", () => {
    expect(planConntrackCleanup(new Map(), new Map(), new Map(), ["10.96.0.10"])).toEqual([
      { kind: "ip", ip: "10.96.0.10" },
    ]);
  });

  it("leaves TCP Services and unchanged Services alone", () => {
    const previous = new Map([["ns/web", new Map([[webKey, [endpoint("10.0.0.5", 80)]]])]]);
    expect(
      planConntrackCleanup(
        previous,
        new Map([
          [webKey, web],
          [key, dns],
        ]),
        new Map(),
      ),
    ).toEqual([]);
    expect(planConntrackCleanup(new Map(), new Map([[key, dns]]), new Map())).toEqual([]);
  });

  const lb = port("edge/game", "udp", {
    clusterIP: "10.96.0.40",
    port: 7777,
    protocol: "UDP",
    nodePort: 30_777,
    externalIPs: ["192.168.1.77"],
    loadBalancerVIPs: ["198.51.100.77"],
  });
  const lbKey = servicePortKey(lb.name, lb.protocol);
  const plan = (before: ReturnType<typeof endpoint>[], after: ReturnType<typeof endpoint>[]) =>
    planConntrackCleanup(
      new Map([["edge/game", new Map([[lbKey, before]])]]),
      new Map([[lbKey, lb]]),
      new Map([[lbKey, after]]),
    );

  it("covers load-balancer IPs, external IPs and the node port for a removed endpoint", () => {
    expect(
      plan([endpoint("10.0.0.1", 7777), endpoint("10.0.0.2", 7777)], [endpoint("10.0.0.1", 7777)]),
    ).toEqual([
      { kind: "nat", origin: "10.96.0.40", endpoint: "10.0.0.2" },
      { kind: "nat", origin: "192.168.1.77", endpoint: "10.0.0.2" },
      { kind: "nat", origin: "198.51.100.77", endpoint: "10.0.0.2" },
      { kind: "port-nat", port: 30_777, endpoint: "10.0.0.2" },
    ]);
    expect(conntrackArgs({ kind: "port-nat", port: 30_777, endpoint: "10.0.0.2" })).toEqual([
      "-D",
      "-p",
      "udp",
      "--dport",
      "30777",
      "--dst-nat",
      "10.0.0.2",
    ]);
  });

  it("clears every address and the node port when the first serving endpoint appears", () => {
    const all = [
      { kind: "ip", ip: "10.96.0.40" },
      { kind: "ip", ip: "192.168.1.77" },
      { kind: "ip", ip: "198.51.100.77" },
      { kind: "port", port: 30_777 },
    ];
    expect(plan([], [endpoint("10.0.0.1", 7777)])).toEqual(all);
    // Only endpoints that served nothing before (not ready, not serving) count as none.
    expect(
      plan([endpoint("10.0.0.1", 7777, { ready: false, serving: false })], [endpoint("10.0.0.1", 7777)]),
    ).toEqual(all);
    expect(conntrackArgs({ kind: "port", port: 30_777 })).toEqual(["-D", "-p", "udp", "--dport", "30777"]);
    // Still no serving endpoint: nothing to clear.
    expect(plan([], [endpoint("10.0.0.1", 7777, { ready: false, serving: false })])).toEqual([]);
  });

  it("an endpoint that stops serving is stale; one still serving while terminating, or that never served, is not", () => {
    const a = endpoint("10.0.0.1", 7777);
    const b = endpoint("10.0.0.2", 7777);
    expect(plan([a, b], [a, { ...b, ready: false, serving: false, terminating: true }])).toEqual([
      { kind: "nat", origin: "10.96.0.40", endpoint: "10.0.0.2" },
      { kind: "nat", origin: "192.168.1.77", endpoint: "10.0.0.2" },
      { kind: "nat", origin: "198.51.100.77", endpoint: "10.0.0.2" },
      { kind: "port-nat", port: 30_777, endpoint: "10.0.0.2" },
    ]);
    // Terminating but still serving: its flows may finish (upstream keeps them too).
    expect(plan([a, b], [a, { ...b, ready: false, serving: true, terminating: true }])).toEqual([]);
    // Never served, then removed: it got no traffic.
    expect(plan([a, { ...b, ready: false, serving: false }], [a])).toEqual([]);
  });
});
