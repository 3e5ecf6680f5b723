import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireRoot } from "../support/env.ts";
import { createNetns, type TestNetns } from "../support/netns.ts";

const SERVICE_CIDR = "10.96.0.0/12";

describe("smoke: iptables-restore in a fresh network namespace", () => {
  let ns: TestNetns;

  beforeAll(async () => {
    requireRoot();
    ns = await createNetns("dh-smoke-ipt", { serviceCidr: SERVICE_CIDR });
  });

  afterAll(async () => {
    await ns?.destroy();
  });

  it("routes the service CIDR to lo (the leak guard)", async () => {
    const route = await ns.exec("ip", ["route", "get", "10.96.0.10"]);
    expect(route.stdout).toMatch(/dev lo/);
  });

  it("applies a payload atomically with --noflush and reads it back with iptables-save", async () => {
    const payload = [
      "*nat",
      ":DH-SMOKE-SERVICES - [0:0]",
      ":DH-SMOKE-SEP - [0:0]",
      '-A DH-SMOKE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "smoke/svc:http" -m tcp --dport 80 -j DH-SMOKE-SEP',
      "-A DH-SMOKE-SEP -p tcp -m tcp -j DNAT --to-destination 127.0.0.1:8080",
      "COMMIT",
      "",
    ].join("\n");
    await ns.exec("iptables-restore", ["--noflush"], { input: payload });
    const saved = (await ns.exec("iptables-save", ["-t", "nat"])).stdout;
    expect(saved).toContain(":DH-SMOKE-SERVICES - [0:0]");
    expect(saved).toContain("-j DNAT --to-destination 127.0.0.1:8080");

    // A payload with a jump to a missing chain is rejected as a whole: nothing of it is applied.
    const broken = [
      "*nat",
      ":DH-SMOKE-OTHER - [0:0]",
      "-A DH-SMOKE-OTHER -j DH-SMOKE-MISSING",
      "COMMIT",
      "",
    ].join("\n");
    const result = await ns.exec("iptables-restore", ["--noflush"], { input: broken, allowFailure: true });
    expect(result.code).not.toBe(0);
    expect((await ns.exec("iptables-save", ["-t", "nat"])).stdout).not.toContain("DH-SMOKE-OTHER");
  });
});
