// The renderer and syncer against real iptables, on both backends, in network namespaces of this test:
// every rendered rule reads back from iptables-save exactly as rendered (so Deckhand can compare what it
// programmed with what the kernel holds), errors name the offending line, and a sequence of partial syncs
// leaves the same ruleset as one full sync.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecIptables, RestoreError, saveText } from "../../src/proxy/iptables.ts";
import { type ProxyState, renderPayload } from "../../src/proxy/render.ts";
import { type ProxyLogger, RuleSyncer } from "../../src/proxy/syncer.ts";
import { requirePrerequisite, requireRoot } from "../support/env.ts";
import { createNetns, type TestNetns } from "../support/netns.ts";
import { run } from "../support/run.ts";
import { endpoint, port, state, syntheticState, TEST_CONFIG } from "./support/fixtures.ts";

const quiet: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Every kind of rule the renderer emits. */
const EVERYTHING: ProxyState = state(
  [
    port("ns1/svc1", "p80", {
      clusterIP: "172.30.0.41",
      port: 80,
      nodePort: 3001,
      externalIPs: ["192.168.99.11"],
      stickyMaxAgeSeconds: 10_800,
    }),
    [endpoint("10.180.0.1", 80), endpoint("10.180.0.2", 80), endpoint("10.180.0.3", 80)],
  ],
  [
    port("ns2/svc2", "", {
      clusterIP: "172.30.0.42",
      port: 53,
      protocol: "UDP",
      nodePort: 3002,
      externalPolicyLocal: true,
      internalPolicyLocal: true,
    }),
    [endpoint("10.180.0.4", 53, { isLocal: true }), endpoint("10.180.0.5", 53)],
  ],
  [
    port("ns3/svc3", "p", {
      clusterIP: "172.30.0.43",
      port: 80,
      protocol: "SCTP",
      nodePort: 3003,
      loadBalancerVIPs: ["203.0.113.5"],
      loadBalancerSourceRanges: ["192.168.0.0/16"],
      externalPolicyLocal: true,
      healthCheckNodePort: 30_000,
    }),
    [endpoint("10.180.0.6", 80)],
  ],
  [
    port("ns4/svc4", "p", {
      clusterIP: "172.30.0.44",
      port: 80,
      nodePort: 3004,
      externalIPs: ["192.168.99.12"],
    }),
    [],
  ],
  [
    port("ns5/svc5", "p", { clusterIP: "172.30.0.45", port: 80, internalPolicyLocal: true }),
    [endpoint("10.180.1.5", 80)],
  ],
);

const ourRules = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.includes("KUBE-"))
    .sort();

for (const backend of ["nft", "legacy"] as const) {
  describe(`real iptables, ${backend} backend`, () => {
    let ns: TestNetns;
    let other: TestNetns;
    let iptables: ExecIptables;

    beforeAll(async () => {
      requireRoot();
      const command = backend === "nft" ? "iptables-nft-restore" : "iptables-legacy-restore";
      const found = await run("sh", ["-c", `command -v ${command}`], { allowFailure: true });
      requirePrerequisite(found.code === 0, `${command} is not installed`, "install the iptables package");
      ns = await createNetns(`dhipt-${backend}`);
      other = await createNetns(`dhipt2-${backend}`);
      iptables = new ExecIptables(backend, { netns: ns.name });
    });

    afterAll(async () => {
      await ns?.destroy();
      await other?.destroy();
    });

    it("reads every rendered rule back from iptables-save exactly as rendered", async () => {
      const payload = renderPayload(EVERYTHING, TEST_CONFIG);
      await iptables.restore(payload);
      const saved = new Set(
        `${await saveText(iptables, "filter")}\n${await saveText(iptables, "nat")}`.split("\n"),
      );
      const rendered = payload.split("\n").filter((l) => l.startsWith("-A "));
      expect(rendered.length).toBeGreaterThan(50);
      expect(rendered.filter((rule) => !saved.has(rule))).toEqual([]);
    });

    it("names the offending line of a refused payload and applies nothing of that table", async () => {
      const before = await saveText(iptables, "nat");
      const payload =
        "*nat\n:KUBE-SVC-TESTTESTTESTTEST - [0:0]\n-A KUBE-SVC-TESTTESTTESTTEST -j KUBE-SEP-MISSINGMISSINGMI\nCOMMIT\n";
      const error = await iptables.restore(payload).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RestoreError);
      expect((error as RestoreError).lineText).toBe(
        "-A KUBE-SVC-TESTTESTTESTTEST -j KUBE-SEP-MISSINGMISSINGMI",
      );
      expect((error as RestoreError).message).toMatch(/KUBE-SEP-MISSINGMISSINGMI/);
      const strip = (t: string) => t.split("\n").filter((l) => !l.startsWith("#"));
      expect(strip(await saveText(iptables, "nat"))).toEqual(strip(before));
    });

    it("ends a run of partial syncs with the same rules as one full sync, in small payloads", async () => {
      const fresh = new ExecIptables(backend, { netns: other.name });
      const syncer = new RuleSyncer({
        iptables: fresh,
        config: TEST_CONFIG,
        log: quiet,
        maxChainsPerCreateRestore: 60,
        maxChainsPerUpdateRestore: 60,
      });
      const first = syntheticState(40, 4);
      await syncer.sync(first, new Set());
      // Change the endpoints of some, drop some, add some, empty one.
      const next = syntheticState(40, 4, 10);
      const endpoints = new Map(next.endpoints);
      const keys = [...next.ports.keys()];
      endpoints.set(keys[0] as string, [endpoint("10.99.0.1", 9000), endpoint("10.99.0.2", 9000)]);
      endpoints.delete(keys[1] as string);
      const second = { ports: next.ports, endpoints };
      const changed = new Set([...first.ports.values(), ...next.ports.values()].map((p) => p.service));
      const report = await syncer.sync(second, changed);
      expect(report).toMatchObject({ kind: "partial", fellBack: false });
      expect(report.restores).toBeGreaterThan(2);

      const reference = new ExecIptables(backend, { netns: ns.name });
      await cleanupAll(reference);
      await new RuleSyncer({ iptables: reference, config: TEST_CONFIG, log: quiet }).sync(second, new Set());
      const a = ourRules(`${await saveText(fresh, "filter")}\n${await saveText(fresh, "nat")}`);
      const b = ourRules(`${await saveText(reference, "filter")}\n${await saveText(reference, "nat")}`);
      expect(a).toEqual(b);
    });
  });
}

async function cleanupAll(iptables: ExecIptables): Promise<void> {
  const { cleanupProxyRules } = await import("../../src/proxy/cleanup.ts");
  await cleanupProxyRules(iptables);
  expect(await saveText(iptables, "nat")).not.toMatch(/KUBE-/);
}
