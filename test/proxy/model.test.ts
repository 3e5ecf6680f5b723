import { describe, expect, it } from "vitest";
import { endpointChainName } from "../../src/proxy/chain-names.ts";
import { mergeSlices, sliceInfo } from "../../src/proxy/endpoints.ts";
import { renderServicePort } from "../../src/proxy/render.ts";
import { servicePorts } from "../../src/proxy/service-port.ts";
import { categorizeEndpoints } from "../../src/proxy/topology.ts";
import { endpoint, makeService, makeSlice, port, TEST_CONFIG } from "./support/fixtures.ts";

describe("Service → service ports", () => {
  it("takes a ClusterIP Service's ports with upstream's names and defaults", () => {
    const parsed = servicePorts(
      makeService("ns1", "svc1", {
        clusterIP: "172.30.0.41",
        clusterIPs: ["172.30.0.41"],
        ports: [
          { name: "p80", port: 80 },
          { name: "dns", port: 53, protocol: "UDP" },
        ],
        sessionAffinity: "ClientIP",
      }),
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.ports.map((p) => [p.name, p.protocol, p.port, p.nodePort, p.stickyMaxAgeSeconds])).toEqual([
      ["ns1/svc1:p80", "TCP", 80, 0, 10_800],
      ["ns1/svc1:dns", "UDP", 53, 0, 10_800],
    ]);
  });

  it("names an unnamed port by the Service alone", () => {
    const parsed = servicePorts(makeService("ns", "s", { clusterIP: "10.96.0.5", ports: [{ port: 80 }] }));
    expect(parsed.ports[0]?.name).toBe("ns/s");
  });

  it("skips headless and ExternalName Services without complaint", () => {
    expect(servicePorts(makeService("ns", "h", { clusterIP: "None", ports: [{ port: 80 }] })).ports).toEqual(
      [],
    );
    expect(
      servicePorts(
        makeService("ns", "e", { type: "ExternalName", externalName: "example.com", ports: [{ port: 80 }] }),
      ).ports,
    ).toEqual([]);
  });

  it("skips an unsupported protocol or invalid port with a reason naming the field, keeping the rest", () => {
    const svc = makeService("ns", "bad", {
      clusterIP: "10.96.0.9",
      ports: [
        { name: "ok", port: 80 },
        { name: "weird", port: 81, protocol: "ICMP" as never },
        { name: "big", port: 70_000 },
      ],
    });
    const parsed = servicePorts(svc);
    expect(parsed.ports.map((p) => p.name)).toEqual(["ns/bad:ok"]);
    expect(parsed.problems).toEqual([
      'spec.ports[1] (weird): protocol "ICMP" is not TCP, UDP or SCTP; port skipped',
      "spec.ports[2] (big): port 70000 is not within 1..65535; port skipped",
    ]);
  });

  it("keeps node ports, external IPs and load-balancer VIPs by type, and the traffic policies", () => {
    const lb = servicePorts(
      makeService(
        "ns",
        "lb",
        {
          type: "LoadBalancer",
          clusterIP: "10.96.0.10",
          externalIPs: ["1.2.3.4", "fd00::1"],
          externalTrafficPolicy: "Local",
          healthCheckNodePort: 30_999,
          loadBalancerSourceRanges: ["192.168.1.7/16"],
          ports: [{ name: "http", port: 80, nodePort: 30_080 }],
        },
        {
          loadBalancer: {
            ingress: [{ ip: "5.6.7.8" }, { ip: "5.6.7.9", ipMode: "Proxy" }, { hostname: "lb.example" }],
          },
        },
      ),
    ).ports[0];
    expect(lb).toMatchObject({
      nodePort: 30_080,
      externalIPs: ["1.2.3.4"],
      loadBalancerVIPs: ["5.6.7.8"],
      loadBalancerSourceRanges: ["192.168.0.0/16"],
      externalPolicyLocal: true,
      healthCheckNodePort: 30_999,
    });
    const clusterIPOnly = servicePorts(
      makeService("ns", "c", {
        clusterIP: "10.96.0.11",
        externalTrafficPolicy: "Local",
        internalTrafficPolicy: "Local",
        ports: [{ port: 80, nodePort: 30_081 }],
      }),
    ).ports[0];
    // No node port on a ClusterIP Service; Local external policy only matters for externally reachable ones.
    expect(clusterIPOnly).toMatchObject({
      nodePort: 0,
      externalPolicyLocal: false,
      internalPolicyLocal: true,
    });
  });
});

describe("EndpointSlices → endpoints", () => {
  it("keeps one endpoint per ip:port: the last that is not terminating, or the first when all are", () => {
    type Spec = { ip: string; ready?: boolean; nodeName?: string; terminating?: boolean };
    const kept = (endpoints: Spec[]) =>
      (
        sliceInfo(makeSlice("ns", "svc", "svc-a", [{ name: "http", port: 80 }], endpoints), "node-1")
          ?.ports[0]?.endpoints ?? []
      ).map((e) => [e.endpoint, e.ready, e.isLocal, e.terminating]);
    const T = true;
    // All terminating: the first.
    expect(
      kept([
        { ip: "10.0.0.1", ready: false, terminating: T },
        { ip: "10.0.0.1", nodeName: "node-1", terminating: T },
      ]),
    ).toEqual([["10.0.0.1:80", false, false, true]]);
    // Otherwise the last that is not terminating.
    expect(
      kept([
        { ip: "10.0.0.1", terminating: T },
        { ip: "10.0.0.1", ready: false },
        { ip: "10.0.0.1", nodeName: "node-1" },
        { ip: "10.0.0.1", ready: false, terminating: T },
      ]),
    ).toEqual([["10.0.0.1:80", true, true, false]]);
    expect(
      kept([{ ip: "10.0.0.2" }, { ip: "10.0.0.1" }, { ip: "10.0.0.2", ready: false, terminating: T }]),
    ).toEqual([
      ["10.0.0.1:80", true, false, false],
      ["10.0.0.2:80", true, false, false],
    ]);
  });

  it("merges slices of a Service, deduplicates by ip:port (preferring non-terminating) and sorts", () => {
    const a = sliceInfo(
      makeSlice(
        "ns",
        "svc",
        "svc-a",
        [{ name: "http", port: 8080 }],
        [{ ip: "10.0.0.3" }, { ip: "10.0.0.1", ready: false, serving: true, terminating: true }],
      ),
      "node-1",
    );
    const b = sliceInfo(
      makeSlice(
        "ns",
        "svc",
        "svc-b",
        [{ name: "http", port: 8080 }],
        [
          { ip: "10.0.0.1", nodeName: "node-1" },
          { ip: "10.0.0.2", ready: false },
        ],
      ),
      "node-1",
    );
    const merged = mergeSlices([a, b].filter((x) => x !== undefined));
    const eps = merged.get("ns/svc:http/TCP") ?? [];
    expect(eps.map((e) => [e.endpoint, e.ready, e.isLocal])).toEqual([
      ["10.0.0.1:8080", true, true],
      ["10.0.0.2:8080", false, false],
      ["10.0.0.3:8080", true, false],
    ]);
  });

  it("names each endpoint's KUBE-SEP chain once, as the renderer would", () => {
    const info = sliceInfo(
      makeSlice(
        "ns",
        "svc",
        "svc-a",
        [
          { name: "http", port: 8080 },
          { name: "dns", port: 53, protocol: "UDP" },
        ],
        [{ ip: "10.0.0.3" }, { ip: "10.0.0.3" }],
      ),
      "node-1",
    );
    const merged = mergeSlices(info ? [info] : []);
    const http = merged.get("ns/svc:http/TCP") ?? [];
    const dns = merged.get("ns/svc:dns/UDP") ?? [];
    expect(http.map((e) => e.endpoint)).toEqual(["10.0.0.3:8080"]);
    expect(http[0]?.chain).toBe(endpointChainName("ns/svc:http", "tcp", "10.0.0.3:8080"));
    expect(dns[0]?.chain).toBe(endpointChainName("ns/svc:dns", "udp", "10.0.0.3:53"));
    const rendered = renderServicePort(
      port("ns/svc", "http", { clusterIP: "172.30.0.9", port: 80 }),
      [endpoint("10.0.0.3", 8080)],
      { ...TEST_CONFIG, largeClusterMode: false },
    );
    expect(rendered.chains.map((c) => c.name)).toContain(http[0]?.chain);
  });

  it("ignores slices without the service-name label and non-IPv4 slices", () => {
    const unlabeled = makeSlice("ns", "svc", "x", [{ port: 80 }], [{ ip: "10.0.0.1" }]);
    delete unlabeled.metadata?.labels;
    expect(sliceInfo(unlabeled, "n")).toBeUndefined();
    expect(
      sliceInfo({ ...makeSlice("ns", "svc", "y", [{ port: 80 }], []), addressType: "IPv6" }, "n"),
    ).toBeUndefined();
  });
});

describe("categorizing endpoints", () => {
  const svc = port("ns/svc", "", { clusterIP: "10.96.0.1", port: 80 });

  it("uses ready endpoints only", () => {
    const eps = [endpoint("10.0.0.1", 80), endpoint("10.0.0.2", 80, { ready: false, serving: false })];
    expect(categorizeEndpoints(svc, eps).cluster.map((e) => e.ip)).toEqual(["10.0.0.1"]);
  });

  it("falls back to serving-and-terminating endpoints when none is ready", () => {
    const eps = [
      endpoint("10.0.0.1", 80, { ready: false, serving: true, terminating: true }),
      endpoint("10.0.0.2", 80, { ready: false, serving: false, terminating: true }),
    ];
    const result = categorizeEndpoints(svc, eps);
    expect(result.cluster.map((e) => e.ip)).toEqual(["10.0.0.1"]);
    expect(result.hasAnyEndpoints).toBe(true);
  });

  it("picks local endpoints for Local policies and keeps cluster ones for short-circuiting", () => {
    const local = port("ns/svc", "", {
      clusterIP: "10.96.0.1",
      port: 80,
      nodePort: 30_000,
      externalPolicyLocal: true,
    });
    const eps = [endpoint("10.0.0.1", 80), endpoint("10.0.0.2", 80, { isLocal: true })];
    const result = categorizeEndpoints(local, eps);
    expect(result.cluster.map((e) => e.ip)).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(result.local.map((e) => e.ip)).toEqual(["10.0.0.2"]);
    expect(result.allReachable.map((e) => e.ip)).toEqual(["10.0.0.1", "10.0.0.2"]);
  });
});
