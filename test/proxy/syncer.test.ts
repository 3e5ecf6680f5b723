import { describe, expect, it } from "vitest";
import { JUMPS } from "../../src/proxy/jumps.ts";
import type { ProxyState } from "../../src/proxy/render.ts";
import { type ProxyLogger, RuleSyncer } from "../../src/proxy/syncer.ts";
import { Tracer } from "../../src/proxy/tracer.ts";
import type { EndpointInfo, ServicePortInfo } from "../../src/proxy/types.ts";
import { FakeIptables } from "./support/fake-iptables.ts";
import { endpoint, port, state, syntheticState, TEST_CONFIG } from "./support/fixtures.ts";

const quiet: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };

function syncer(iptables: FakeIptables, budgets: { create?: number; update?: number } = {}) {
  return new RuleSyncer({
    iptables,
    config: TEST_CONFIG,
    log: quiet,
    maxChainsPerCreateRestore: budgets.create,
    maxChainsPerUpdateRestore: budgets.update,
  });
}

/** Every rule of every table, sorted: two rulesets are equivalent when these are equal. */
function normalized(iptables: FakeIptables): string[] {
  return iptables.dump().split("\n").sort();
}

/** What a fresh full sync of `s` produces on an empty kernel. */
async function reference(s: ProxyState): Promise<string[]> {
  const fresh = new FakeIptables();
  await syncer(fresh).sync(s, new Set());
  return normalized(fresh);
}

const web = port("ns/web", "http", { clusterIP: "172.30.0.10", port: 80, nodePort: 30_010 });
const api = port("ns/api", "", { clusterIP: "172.30.0.11", port: 443 });
const eps = (...ips: string[]): EndpointInfo[] => ips.map((ip) => endpoint(ip, 8080));

function withPorts(entries: Array<[ServicePortInfo, EndpointInfo[]]>): ProxyState {
  return state(...entries);
}

describe("RuleSyncer full sync", () => {
  it("programs an empty kernel: base chains, canaries, jumps once, and working service rules", async () => {
    const ipt = new FakeIptables();
    const s = withPorts([
      [web, eps("10.180.0.1", "10.180.0.2")],
      [api, eps("10.180.0.3")],
    ]);
    const report = await syncer(ipt).sync(s, new Set());
    expect(report).toMatchObject({ kind: "full", fellBack: false, jumpsFixed: JUMPS.length });
    for (const table of ["filter", "nat", "mangle"] as const)
      expect(ipt.chain(table, "KUBE-PROXY-CANARY")).toEqual([]);
    for (const jump of JUMPS) {
      expect(ipt.chain(jump.table, jump.from)?.filter((r) => r === jump.rule)).toHaveLength(1);
    }
    const tracer = new Tracer(ipt.dump(), { localAddresses: ["192.168.0.2"] });
    const destinations = tracer.destinations({
      protocol: "tcp",
      source: "10.1.1.1",
      dest: "172.30.0.10",
      dport: 80,
      origin: "external",
    });
    expect([...destinations.keys()].sort()).toEqual(["10.180.0.1:8080", "10.180.0.2:8080"]);
    // The nodeports jump stays the last rule of nat KUBE-SERVICES.
    expect(ipt.chain("nat", "KUBE-SERVICES")?.at(-1)).toMatch(/-j KUBE-NODEPORTS$/);
  });

  it("changes nothing when the kernel already has the rules (repeat, or a restarted agent)", async () => {
    const ipt = new FakeIptables();
    const s = withPorts([[web, eps("10.180.0.1", "10.180.0.2")]]);
    const first = syncer(ipt);
    await first.sync(s, new Set());
    const before = ipt.dump();
    const restores = ipt.restores.length;
    const commands = ipt.commands.length;
    first.needFullSync = true;
    const again = await first.sync(s, new Set());
    const restarted = await syncer(ipt).sync(s, new Set());
    for (const report of [again, restarted]) {
      expect(report).toMatchObject({
        kind: "full",
        restores: 0,
        chainsWritten: 0,
        chainsDeleted: 0,
        jumpsFixed: 0,
      });
    }
    expect(ipt.restores.length).toBe(restores);
    expect(ipt.commands.length).toBe(commands);
    expect(ipt.dump()).toBe(before);
  });

  it("repairs drift chain by chain and removes foreign rules from Deckhand's chains, leaving other chains alone", async () => {
    const ipt = new FakeIptables();
    const s = withPorts([
      [web, eps("10.180.0.1", "10.180.0.2")],
      [api, eps("10.180.0.3")],
    ]);
    await ipt.restore("*nat\n:DOCKER - [0:0]\n-A DOCKER -j RETURN\n-A PREROUTING -j DOCKER\nCOMMIT\n");
    await syncer(ipt).sync(s, new Set());
    const want = normalized(ipt);
    // Someone deletes a rule of an endpoint chain, adds one to KUBE-SERVICES and removes a jump.
    const sep = [...ipt.tables.nat.keys()].find((c) => c.startsWith("KUBE-SEP-")) as string;
    ipt.tables.nat.get(sep)?.pop();
    ipt.tables.nat.get("KUBE-SERVICES")?.unshift("-A KUBE-SERVICES -d 1.1.1.1/32 -j RETURN");
    ipt.tables.nat.set(
      "PREROUTING",
      (ipt.chain("nat", "PREROUTING") ?? []).filter((r) => !r.includes("kubernetes service portals")),
    );
    const report = await syncer(ipt).sync(s, new Set());
    expect(report).toMatchObject({ chainsWritten: 1, topRulesChanged: 1, jumpsFixed: 1 });
    expect(normalized(ipt)).toEqual(want);
    expect(ipt.chain("nat", "DOCKER")).toEqual(["-A DOCKER -j RETURN"]);
    expect(ipt.chain("nat", "PREROUTING")).toContain("-A PREROUTING -j DOCKER");
  });

  it("deletes stale chains of Services gone while it was down, except those other rules jump to", async () => {
    const ipt = new FakeIptables();
    await syncer(ipt).sync(
      withPorts([
        [web, eps("10.180.0.1")],
        [api, eps("10.180.0.3")],
      ]),
      new Set(),
    );
    const apiChains = [...ipt.tables.nat.keys()].filter((c) => /KUBE-(SVC|SEP)-/.test(c));
    const apiSep = ipt.chain("nat", "KUBE-SERVICES")?.find((r) => r.includes("ns/api cluster IP"));
    expect(apiSep).toBeDefined();
    const sepOfApi = [...ipt.tables.nat.keys()].find(
      (c) => c.startsWith("KUBE-SEP-") && ipt.chain("nat", c)?.some((r) => r.includes("10.180.0.3:8080")),
    ) as string;
    await ipt.restore(`*nat\n:USER-CHAIN - [0:0]\n-A USER-CHAIN -j ${sepOfApi}\nCOMMIT\n`);
    const report = await syncer(ipt).sync(withPorts([[web, eps("10.180.0.1")]]), new Set());
    expect(report.chainsDeleted).toBe(1); // api's SVC chain; its SEP is still in use by USER-CHAIN
    expect(ipt.chain("nat", sepOfApi)).toBeDefined();
    expect(ipt.chain("nat", "KUBE-SERVICES")?.some((r) => r.includes("ns/api"))).toBe(false);
    expect(apiChains.length).toBeGreaterThan(2);
  });

  it("in a later full sync by the same syncer, deletes the chains it stopped wanting and rewrites only changes", async () => {
    const ipt = new FakeIptables();
    const sy = syncer(ipt);
    await sy.sync(
      withPorts([
        [web, eps("10.180.0.1")],
        [api, eps("10.180.0.3")],
      ]),
      new Set(),
    );
    // api is gone and web has another endpoint; a full sync (not a partial one) catches up.
    const wanted = withPorts([[web, eps("10.180.0.1", "10.180.0.2")]]);
    sy.needFullSync = true;
    const report = await sy.sync(wanted, new Set());
    expect(report.kind).toBe("full");
    expect(report.chainsDeleted).toBe(2); // api's SVC and SEP chains
    expect(report.chainsWritten).toBe(2); // web's SVC chain and its new SEP chain
    expect(normalized(ipt)).toEqual(await reference(wanted));
    // And the next full sync finds nothing to do.
    sy.needFullSync = true;
    const again = await sy.sync(wanted, new Set());
    expect([again.chainsWritten, again.chainsDeleted, again.topRulesChanged]).toEqual([0, 0, 0]);
  });

  it("fixes duplicated jumps", async () => {
    const ipt = new FakeIptables();
    const s = withPorts([[web, eps("10.180.0.1")]]);
    await syncer(ipt).sync(s, new Set());
    const jump = JUMPS.find((j) => j.table === "nat" && j.from === "OUTPUT") ?? JUMPS[0];
    if (!jump) throw new Error("no jumps");
    await ipt.run(["-t", jump.table, "-I", jump.from, "1", ...jump.args]);
    const report = await syncer(ipt).sync(s, new Set());
    expect(report.jumpsFixed).toBe(1);
    expect(ipt.chain(jump.table, jump.from)?.filter((r) => r === jump.rule)).toHaveLength(1);
  });
});

describe("RuleSyncer partial sync", () => {
  async function programmed(s: ProxyState, budgets?: { create?: number; update?: number }) {
    const ipt = new FakeIptables();
    const sync = syncer(ipt, budgets);
    await sync.sync(s, new Set());
    ipt.restores.length = 0;
    ipt.saves = 0;
    return { ipt, sync };
  }

  it("rewrites only the changed Service's chains, never re-declares KUBE-SERVICES, and reads nothing back", async () => {
    const before = withPorts([
      [web, eps("10.180.0.1", "10.180.0.2")],
      [api, eps("10.180.0.3")],
    ]);
    const { ipt, sync } = await programmed(before);
    const apiRules = [...ipt.tables.nat].filter(([c]) => c.includes("-")).map(([c, r]) => [c, [...r]]);
    const after = withPorts([
      [web, eps("10.180.0.1", "10.180.0.4")],
      [api, eps("10.180.0.3")],
    ]);
    const report = await sync.sync(after, new Set(["ns/web"]));
    expect(report).toMatchObject({
      kind: "partial",
      fellBack: false,
      restores: 1,
      chainsWritten: 2,
      chainsDeleted: 1,
    });
    expect(ipt.saves).toBe(0);
    const payload = ipt.restores[0] as string;
    expect(payload).not.toMatch(/^:KUBE-SERVICES /m);
    expect(payload).not.toContain("ns/api");
    expect(normalized(ipt)).toEqual(await reference(after));
    for (const [chain, rules] of apiRules) {
      if (String(rules).includes("ns/api")) expect(ipt.chain("nat", chain as string)).toEqual(rules);
    }
  });

  it("adds a new Service's chains before the rule that makes them reachable, and removes a deleted one", async () => {
    const { ipt, sync } = await programmed(withPorts([[web, eps("10.180.0.1")]]));
    const added = withPorts([
      [web, eps("10.180.0.1")],
      [api, eps("10.180.0.3", "10.180.0.4")],
    ]);
    const report = await sync.sync(added, new Set(["ns/api"]));
    expect(report.restores).toBe(2);
    const [chains, jump] = ipt.restores as [string, string];
    expect(chains).not.toContain("KUBE-SERVICES");
    expect(jump).toMatch(/^-I KUBE-SERVICES 1 -d 172\.30\.0\.11\/32 .* -j KUBE-SVC-/m);
    expect(jump).not.toMatch(/^:/m);
    expect(normalized(ipt)).toEqual(await reference(added));

    ipt.restores.length = 0;
    const removed = withPorts([[web, eps("10.180.0.1")]]);
    await sync.sync(removed, new Set(["ns/api"]));
    expect(ipt.restores).toHaveLength(1);
    expect(ipt.restores[0]).toMatch(/^-D KUBE-SERVICES -d 172\.30\.0\.11\/32/m);
    expect(ipt.restores[0]).toMatch(/^-X KUBE-SVC-/m);
    expect(normalized(ipt)).toEqual(await reference(removed));
  });

  it("moves a Service between REJECT (no endpoints) and DNAT both ways", async () => {
    const { ipt, sync } = await programmed(withPorts([[web, eps("10.180.0.1")]]));
    const empty = withPorts([[web, []]]);
    await sync.sync(empty, new Set(["ns/web"]));
    expect(normalized(ipt)).toEqual(await reference(empty));
    expect(ipt.chain("filter", "KUBE-SERVICES")?.some((r) => r.includes("has no endpoints"))).toBe(true);
    const back = withPorts([[web, eps("10.180.0.2")]]);
    await sync.sync(back, new Set(["ns/web"]));
    expect(normalized(ipt)).toEqual(await reference(back));
    expect(ipt.chain("filter", "KUBE-SERVICES")).toEqual([]);
  });

  it("does nothing for a periodic sync without changes, and runs a full sync when the canary is gone", async () => {
    const s = withPorts([[web, eps("10.180.0.1")]]);
    const { ipt, sync } = await programmed(s);
    expect(await sync.sync(s, new Set())).toMatchObject({ kind: "partial", restores: 0 });
    expect(ipt.restores).toHaveLength(0);
    // Someone flushes the nat table and deletes its chains.
    for (const chain of [...ipt.tables.nat.keys()]) {
      if (chain.startsWith("KUBE-")) ipt.tables.nat.delete(chain);
      else ipt.tables.nat.set(chain, []);
    }
    const report = await sync.sync(s, new Set());
    expect(report).toMatchObject({ kind: "full", fellBack: true });
    expect(normalized(ipt)).toEqual(await reference(s));
  });

  it("falls back to a full sync when a restore fails, leaving no half-applied table", async () => {
    const s1 = withPorts([
      [web, eps("10.180.0.1")],
      [api, eps("10.180.0.3")],
    ]);
    const { ipt, sync } = await programmed(s1);
    const s2 = withPorts([
      [web, eps("10.180.0.2")],
      [api, eps("10.180.0.4")],
    ]);
    let failed = 0;
    ipt.failRestore = () => (failed++ === 0 ? "injected failure" : undefined);
    const report = await sync.sync(s2, new Set(["ns/web", "ns/api"]));
    expect(report).toMatchObject({ kind: "full", fellBack: true });
    expect(sync.restoreFailures).toBe(1);
    expect(normalized(ipt)).toEqual(await reference(s2));
  });

  it("falls back to a full sync when the record is wrong (a rule it deletes is gone)", async () => {
    const s1 = withPorts([[web, eps("10.180.0.1")]]);
    const { ipt, sync } = await programmed(s1);
    ipt.tables.nat.set(
      "KUBE-NODEPORTS",
      (ipt.chain("nat", "KUBE-NODEPORTS") ?? []).filter((r) => !r.includes("ns/web")),
    );
    const s2 = withPorts([[{ ...web, nodePort: 30_099 }, eps("10.180.0.1")]]);
    const report = await sync.sync(s2, new Set(["ns/web"]));
    expect(report).toMatchObject({ kind: "full", fellBack: true });
    expect(normalized(ipt)).toEqual(await reference(s2));
  });

  it("keeps every restore within the chain budget (plus one unit)", async () => {
    const big = syntheticState(300, 3);
    const ipt = new FakeIptables();
    const sync = syncer(ipt, { create: 100, update: 200 });
    await sync.sync(big, new Set());
    const counts = ipt.restores.map((p) => new Set(p.match(/KUBE-(SVC|SEP)-[A-Z0-9]{16}/g)).size);
    const unit = 4; // one SVC + three SEP chains
    // The last restore adds the 300 KUBE-SERVICES rules at once (its jump targets are the SVC chains).
    for (const count of counts.slice(1, -1)) expect(count).toBeLessThanOrEqual(100 + unit);
    expect(counts.length).toBeGreaterThan(10);
    expect(normalized(ipt)).toEqual(await reference(big));

    // Changing 100 Services at once: payloads of at most ~200 chains.
    ipt.restores.length = 0;
    const changed = new Set<string>();
    const next = syntheticState(300, 3);
    const endpoints = new Map(next.endpoints);
    let n = 0;
    for (const [key, svc] of next.ports) {
      if (n++ >= 100) break;
      changed.add(svc.service);
      endpoints.set(key, [endpoint("10.99.0.1", 9090)]);
    }
    const changedState = { ports: next.ports, endpoints };
    await sync.sync(changedState, changed);
    for (const payload of ipt.restores) {
      expect(new Set(payload.match(/KUBE-(SVC|SEP)-[A-Z0-9]{16}/g)).size).toBeLessThanOrEqual(200 + 2 * unit);
    }
    expect(ipt.restores.length).toBeGreaterThan(1);
    expect(normalized(ipt)).toEqual(await reference(changedState));
  });

  it("puts a whole sync into one payload on the legacy backend (each commit copies the whole table)", async () => {
    const ipt = new FakeIptables("legacy");
    const sync = syncer(ipt);
    const big = syntheticState(300, 3);
    await sync.sync(big, new Set());
    expect(ipt.restores).toHaveLength(1);
    expect(normalized(ipt)).toEqual(await reference(big));
    ipt.restores.length = 0;
    const next = syntheticState(300, 3, 100);
    const changed = new Set([...big.ports.values(), ...next.ports.values()].map((p) => p.service));
    const report = await sync.sync(next, changed);
    expect(report).toMatchObject({ kind: "partial", restores: 1 });
    expect(ipt.restores).toHaveLength(1);
    expect(normalized(ipt)).toEqual(await reference(next));
  });

  it("rewrites everything once when large-cluster mode switches", async () => {
    const small = syntheticState(10, 3);
    const { ipt, sync } = await programmed(small);
    const large = syntheticState(400, 3);
    const report = await sync.sync(large, new Set([...large.ports.values()].map((p) => p.service)));
    expect(report.kind).toBe("full");
    expect(normalized(ipt)).toEqual(await reference(large));
    expect(
      ipt.chain("nat", [...ipt.tables.nat.keys()].find((c) => c.startsWith("KUBE-SEP-")) as string)?.[0],
    ).not.toContain("--comment");
  });
});

describe("RuleSyncer record as a rule source (deckhand debug trace)", () => {
  it("traces exactly like the kernel's rules, after full and partial syncs, without reading the kernel", async () => {
    const ipt = new FakeIptables();
    const s = syncer(ipt);
    const local = port("ns/local", "dns", {
      clusterIP: "172.30.0.12",
      port: 53,
      protocol: "UDP",
      externalIPs: ["192.168.0.50"],
      externalPolicyLocal: true,
      nodePort: 30_053,
    });
    const empty = port("ns/empty", "", { clusterIP: "172.30.0.13", port: 80 });
    await s.sync(
      withPorts([
        [web, eps("10.180.0.1", "10.180.0.2")],
        [api, eps("10.180.0.3")],
      ]),
      new Set(),
    );
    const next = withPorts([
      [web, eps("10.180.0.1", "10.180.0.2", "10.180.0.4")],
      [local, [endpoint("10.180.0.5", 53, { isLocal: true }), endpoint("10.180.0.6", 53)]],
      [empty, []],
    ]);
    await s.sync(next, new Set(["ns/web", "ns/api", "ns/local", "ns/empty"]));
    const saves = ipt.saves;
    const fromRecord = new Tracer(s.programmedRules(), { localAddresses: ["192.168.0.2"] });
    const fromKernel = new Tracer(ipt.dump(), { localAddresses: ["192.168.0.2"] });
    expect(ipt.saves).toBe(saves);
    const packets = [
      ["tcp", "172.30.0.10", 80],
      ["tcp", "172.30.0.11", 443],
      ["tcp", "192.168.0.2", 30_010],
      ["udp", "172.30.0.12", 53],
      ["udp", "192.168.0.50", 53],
      ["udp", "192.168.0.2", 30_053],
      ["tcp", "172.30.0.13", 80],
      ["tcp", "172.30.0.99", 80],
    ] as const;
    for (const [protocol, dest, dport] of packets) {
      for (const [source, origin] of [
        ["10.1.1.1", "external"],
        ["203.0.113.1", "external"],
        ["192.168.0.2", "local"],
      ] as const) {
        const packet = { protocol, source, dest, dport, origin };
        const summary = (t: Tracer) =>
          t
            .trace(packet)
            .map(
              (o) =>
                `${o.verdict} ${o.dnat} ${o.masquerade} ${o.probability.toFixed(6)} ${o.chains.join(",")}`,
            )
            .sort();
        expect(summary(fromRecord), `${protocol} ${dest}:${dport} from ${source}`).toEqual(
          summary(fromKernel),
        );
      }
    }
  });
});
