import { describe, expect, it } from "vitest";
import { renderPayload } from "../../src/proxy/render.ts";
import { type Packet, Tracer } from "../../src/proxy/tracer.ts";
import { endpoint, port, state, TEST_CONFIG } from "./support/fixtures.ts";

// Semantics of the rendered rules, without the kernel: where a packet ends, with which probability, and
// whether it is masqueraded. The node is 192.168.0.2; pods are in 10.0.0.0/8 (TEST_CONFIG.clusterCIDR).

const NODE = "192.168.0.2";
const tcp = (source: string, dest: string, dport: number, origin: Packet["origin"] = "external"): Packet => ({
  protocol: "tcp",
  source,
  dest,
  dport,
  origin,
});

function tracer(...entries: Parameters<typeof state>) {
  return new Tracer(renderPayload(state(...entries), TEST_CONFIG), { localAddresses: [NODE] });
}

function expectClose(actual: Map<string, number>, expected: Record<string, number>): void {
  expect([...actual.keys()].sort()).toEqual(Object.keys(expected).sort());
  for (const [key, p] of Object.entries(expected)) expect(actual.get(key)).toBeCloseTo(p, 8);
}

describe("packet tracer over rendered rules", () => {
  const three = [endpoint("10.180.0.1", 8080), endpoint("10.180.0.2", 8080), endpoint("10.180.0.3", 8080)];

  it("sends ClusterIP traffic to each ready endpoint with equal probability", () => {
    const t = tracer([port("ns/web", "http", { clusterIP: "172.30.0.10", port: 80 }), three]);
    expectClose(t.destinations(tcp("10.1.1.1", "172.30.0.10", 80)), {
      "10.180.0.1:8080": 1 / 3,
      "10.180.0.2:8080": 1 / 3,
      "10.180.0.3:8080": 1 / 3,
    });
    // A pod (inside the cluster CIDR) is not masqueraded; the node itself (outside it) is.
    expect(t.trace(tcp("10.1.1.1", "172.30.0.10", 80)).every((o) => !o.masquerade)).toBe(true);
    expect(t.trace(tcp(NODE, "172.30.0.10", 80, "local")).every((o) => o.masquerade)).toBe(true);
  });

  it("leaves other ports and addresses alone", () => {
    const t = tracer([port("ns/web", "http", { clusterIP: "172.30.0.10", port: 80 }), three]);
    expectClose(t.destinations(tcp("10.1.1.1", "172.30.0.10", 81)), { "no DNAT": 1 });
    expectClose(t.destinations({ ...tcp("10.1.1.1", "172.30.0.10", 80), protocol: "udp" }), { "no DNAT": 1 });
  });

  it("uses only ready endpoints, and serving-terminating ones when none is ready", () => {
    const t = tracer([
      port("ns/web", "http", { clusterIP: "172.30.0.10", port: 80 }),
      [endpoint("10.180.0.1", 8080), endpoint("10.180.0.2", 8080, { ready: false })],
    ]);
    expectClose(t.destinations(tcp("10.1.1.1", "172.30.0.10", 80)), { "10.180.0.1:8080": 1 });
    const terminating = tracer([
      port("ns/web", "http", { clusterIP: "172.30.0.10", port: 80 }),
      [
        endpoint("10.180.0.1", 8080, { ready: false, serving: true, terminating: true }),
        endpoint("10.180.0.2", 8080, { ready: false, serving: false, terminating: true }),
      ],
    ]);
    expectClose(terminating.destinations(tcp("10.1.1.1", "172.30.0.10", 80)), { "10.180.0.1:8080": 1 });
  });

  it("rejects traffic to a Service without endpoints, on its ClusterIP, external IP and node port", () => {
    const t = tracer([
      port("ns/empty", "http", {
        clusterIP: "172.30.0.11",
        port: 80,
        nodePort: 30_011,
        externalIPs: ["192.168.5.5"],
      }),
      [],
    ]);
    expectClose(t.destinations(tcp("10.1.1.1", "172.30.0.11", 80, "local")), { REJECT: 1 });
    expectClose(t.destinations(tcp("10.1.1.1", "172.30.0.11", 80)), { REJECT: 1 });
    expectClose(t.destinations(tcp("203.0.113.9", "192.168.5.5", 80)), { REJECT: 1 });
    expectClose(t.destinations(tcp("203.0.113.9", NODE, 30_011)), { REJECT: 1 });
  });

  it("DNATs node-port traffic on node addresses and 127.0.0.1, masquerading it (Cluster policy)", () => {
    const t = tracer([
      port("ns/np", "http", { clusterIP: "172.30.0.12", port: 80, nodePort: 30_012 }),
      three,
    ]);
    for (const o of t.trace(tcp("203.0.113.9", NODE, 30_012))) {
      expect(o.dnat).toMatch(/^10\.180\.0\.\d:8080$/);
      expect(o.masquerade).toBe(true);
    }
    expectClose(t.destinations(tcp("127.0.0.1", "127.0.0.1", 30_012, "local")), {
      "10.180.0.1:8080": 1 / 3,
      "10.180.0.2:8080": 1 / 3,
      "10.180.0.3:8080": 1 / 3,
    });
    // Not a node address: no node port.
    expectClose(t.destinations(tcp("203.0.113.9", "198.51.100.1", 30_012)), { "no DNAT": 1 });
  });

  it("externalTrafficPolicy Local: external clients reach only local endpoints and keep their address", () => {
    const t = tracer([
      port("ns/local", "http", {
        clusterIP: "172.30.0.13",
        port: 80,
        nodePort: 30_013,
        externalPolicyLocal: true,
      }),
      [endpoint("10.180.0.1", 8080, { isLocal: true }), endpoint("10.180.1.1", 8080)],
    ]);
    const outcomes = t.trace(tcp("203.0.113.9", NODE, 30_013));
    expect(outcomes.map((o) => [o.dnat, o.masquerade, o.probability])).toEqual([
      ["10.180.0.1:8080", false, 1],
    ]);
    // A pod uses the whole Service (short-circuit), and so does the node itself (masqueraded).
    expectClose(t.destinations(tcp("10.5.5.5", NODE, 30_013)), {
      "10.180.0.1:8080": 0.5,
      "10.180.1.1:8080": 0.5,
    });
    expect(t.trace(tcp(NODE, NODE, 30_013, "local")).every((o) => o.masquerade)).toBe(true);
  });

  it("externalTrafficPolicy Local without local endpoints drops external traffic", () => {
    const t = tracer([
      port("ns/local", "http", {
        clusterIP: "172.30.0.14",
        port: 80,
        nodePort: 30_014,
        externalPolicyLocal: true,
      }),
      [endpoint("10.180.1.1", 8080)],
    ]);
    expectClose(t.destinations(tcp("203.0.113.9", NODE, 30_014)), { DROP: 1 });
    expectClose(t.destinations(tcp("10.5.5.5", "172.30.0.14", 80)), { "10.180.1.1:8080": 1 });
  });

  it("internalTrafficPolicy Local sends ClusterIP traffic to local endpoints only, or drops it", () => {
    const withLocal = tracer([
      port("ns/itp", "http", { clusterIP: "172.30.0.15", port: 80, internalPolicyLocal: true }),
      [endpoint("10.180.0.1", 8080, { isLocal: true }), endpoint("10.180.1.1", 8080)],
    ]);
    expectClose(withLocal.destinations(tcp("10.5.5.5", "172.30.0.15", 80)), { "10.180.0.1:8080": 1 });
    const without = tracer([
      port("ns/itp", "http", { clusterIP: "172.30.0.15", port: 80, internalPolicyLocal: true }),
      [endpoint("10.180.1.1", 8080)],
    ]);
    expectClose(without.destinations(tcp("10.5.5.5", "172.30.0.15", 80)), { DROP: 1 });
  });

  it("sessionAffinity ClientIP: a known client sticks to its endpoint, a new one is recorded", () => {
    const svc = port("ns/sticky", "http", { clusterIP: "172.30.0.16", port: 80, stickyMaxAgeSeconds: 600 });
    const rules = renderPayload(state([svc, three]), TEST_CONFIG);
    const fresh = new Tracer(rules, { localAddresses: [NODE] });
    const outcomes = fresh.trace(tcp("10.1.1.1", "172.30.0.16", 80));
    expect(outcomes).toHaveLength(3);
    for (const o of outcomes) expect(o.recentSet).toEqual([o.chains.find((c) => c.startsWith("KUBE-SEP-"))]);
    const sep2 = outcomes.find((o) => o.dnat === "10.180.0.2:8080")?.recentSet[0] as string;
    const known = new Tracer(rules, {
      localAddresses: [NODE],
      recent: new Map([[sep2, new Set(["10.1.1.1"])]]),
    });
    expectClose(known.destinations(tcp("10.1.1.1", "172.30.0.16", 80)), { "10.180.0.2:8080": 1 });
    expectClose(known.destinations(tcp("10.1.1.2", "172.30.0.16", 80)), {
      "10.180.0.1:8080": 1 / 3,
      "10.180.0.2:8080": 1 / 3,
      "10.180.0.3:8080": 1 / 3,
    });
  });

  it("masquerades hairpin traffic (an endpoint reaching itself through its Service)", () => {
    const t = tracer([
      port("ns/hp", "http", { clusterIP: "172.30.0.17", port: 80 }),
      [endpoint("10.180.0.1", 8080)],
    ]);
    const [outcome] = t.trace(tcp("10.180.0.1", "172.30.0.17", 80));
    expect(outcome).toMatchObject({ dnat: "10.180.0.1:8080", masquerade: true });
    expect(t.trace(tcp("10.180.0.9", "172.30.0.17", 80))[0]?.masquerade).toBe(false);
  });

  it("loadBalancerSourceRanges: allowed sources reach the Service, others are dropped", () => {
    const t = tracer([
      port("ns/lb", "http", {
        clusterIP: "172.30.0.18",
        port: 80,
        loadBalancerVIPs: ["203.0.113.50"],
        loadBalancerSourceRanges: ["198.51.100.0/24"],
      }),
      [endpoint("10.180.0.1", 8080)],
    ]);
    expectClose(t.destinations(tcp("198.51.100.7", "203.0.113.50", 80)), { "10.180.0.1:8080": 1 });
    expectClose(t.destinations(tcp("203.0.113.9", "203.0.113.50", 80)), { DROP: 1 });
  });

  it("external IPs reach the Service, masqueraded", () => {
    const t = tracer([
      port("ns/ext", "http", { clusterIP: "172.30.0.19", port: 80, externalIPs: ["192.168.7.7"] }),
      [endpoint("10.180.0.1", 8080)],
    ]);
    const [outcome] = t.trace(tcp("203.0.113.9", "192.168.7.7", 80));
    expect(outcome).toMatchObject({ dnat: "10.180.0.1:8080", masquerade: true, verdict: "ACCEPT" });
  });

  it("blocks martian traffic to 127.0.0.0/8 from outside (route_localnet mitigation)", () => {
    const t = tracer([port("ns/web", "http", { clusterIP: "172.30.0.10", port: 80 }), three]);
    expectClose(t.destinations(tcp("203.0.113.9", "127.0.0.1", 22)), { DROP: 1 });
  });
});

describe("packet tracer over a live ruleset with other programs' rules", () => {
  const payload = renderPayload(
    state([port("ns/web", "http", { clusterIP: "172.30.0.10", port: 80 }), [endpoint("10.180.0.1", 8080)]]),
    TEST_CONFIG,
  );
  // Docker-style rules in the built-in chains, with matches the tracer does not interpret.
  const withDocker = payload
    .replace(
      "*nat\n",
      "*nat\n:DOCKER - [0:0]\n-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n-A DOCKER -i docker0 -j RETURN\n",
    )
    .replace(
      "*filter\n",
      "*filter\n:DOCKER-USER - [0:0]\n-A FORWARD -j DOCKER-USER\n-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n",
    );

  it("refuses what it does not understand by default", () => {
    expect(() =>
      new Tracer(withDocker, { localAddresses: [NODE] }).trace(tcp("10.1.1.1", "172.30.0.10", 80)),
    ).toThrow(/unsupported token -i|unsupported token -o/);
  });

  it("in skip mode follows only Deckhand's jumps and lists what it passed over", () => {
    const t = new Tracer(withDocker, { localAddresses: [NODE], foreignRules: "skip" });
    expectClose(t.destinations(tcp("10.1.1.1", "172.30.0.10", 80)), { "10.180.0.1:8080": 1 });
    // Docker's PREROUTING rule comes after Deckhand's jump, which DNATs the packet: it is never reached.
    expect(t.skippedRules()).toEqual([
      "filter -A FORWARD -j DOCKER-USER",
      "filter -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    ]);
  });

  it("shows the random choice in the path and the acting rules", () => {
    const t = tracer([
      port("ns/web", "http", { clusterIP: "172.30.0.10", port: 80 }),
      [endpoint("10.180.0.1", 8080), endpoint("10.180.0.2", 8080), endpoint("10.180.0.3", 8080)],
    ]);
    const outcomes = t.trace(tcp("10.1.1.1", "172.30.0.10", 80));
    expect(
      outcomes.map((o) => o.path.find((c) => c.includes("KUBE-SEP-"))?.replace(/KUBE-SEP-\S+/, "SEP")),
    ).toEqual(["nat/SEP (33.33%)", "nat/SEP (33.33%)", "nat/SEP (33.33%)"]);
    expect(outcomes[0]?.actions.at(-1)).toMatch(
      /^nat -A KUBE-SEP-\S+ .*-j DNAT --to-destination 10\.180\.0\.1:8080$/,
    );
  });
});
