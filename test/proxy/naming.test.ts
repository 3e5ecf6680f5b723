import { describe, expect, it } from "vitest";
import { endpointChainName, flat, servicePortChains } from "../../src/proxy/chain-names.ts";
import { canonicalCidr, cidrContains } from "../../src/proxy/ip.ts";
import { deleteForm, insertFirstForm, jumpTarget, probability } from "../../src/proxy/rule-text.ts";

describe("chain names (upstream's hashing)", () => {
  it("match the names kube-proxy gives well-known services", () => {
    expect(servicePortChains("default/kubernetes:https", "tcp").cluster).toBe("KUBE-SVC-NPX46M4PTMTKRN6Y");
    expect(servicePortChains("kube-system/kube-dns:dns", "udp").cluster).toBe("KUBE-SVC-TCOU7JCQXEZGVUNU");
    expect(servicePortChains("kube-system/kube-dns:dns-tcp", "TCP").cluster).toBe(
      "KUBE-SVC-ERIFXISQEP7F7OF4",
    );
  });

  it("match upstream's proxier_test names for ns1/svc1:p80", () => {
    const chains = servicePortChains("ns1/svc1:p80", "tcp");
    expect(chains).toEqual({
      cluster: "KUBE-SVC-XPGD46QRK7WJZT7O",
      local: "KUBE-SVL-XPGD46QRK7WJZT7O",
      external: "KUBE-EXT-XPGD46QRK7WJZT7O",
      firewall: "KUBE-FW-XPGD46QRK7WJZT7O",
    });
    expect(endpointChainName("ns1/svc1:p80", "tcp", "10.180.0.1:80")).toBe("KUBE-SEP-SXIVWICOYRO3J4NJ");
    for (const name of Object.values(chains)) expect(name.length).toBeLessThanOrEqual(28);
  });
});

describe("rule text helpers", () => {
  it("formats probabilities as iptables-save prints upstream's %0.10f values", () => {
    expect(probability(2)).toBe("0.50000000000");
    expect(probability(3)).toBe("0.33333333349");
    expect(probability(10)).toBe("0.10000000009");
    // Same kernel value as upstream's text (round(2^31 · p)).
    for (const n of [3, 7, 10, 1000]) {
      expect(Math.round(0x80000000 * Number(probability(n)))).toBe(
        Math.round(0x80000000 * Number((1 / n).toFixed(10))),
      );
    }
  });

  it("turns an -A rule into its -D and insert-first forms", () => {
    const rule =
      '-A KUBE-SERVICES -d 10.0.0.1/32 -p tcp -m comment --comment "a b" -m tcp --dport 80 -j KUBE-SVC-X';
    expect(deleteForm(rule)).toBe(rule.replace("-A ", "-D "));
    expect(insertFirstForm(rule)).toBe(rule.replace("-A KUBE-SERVICES ", "-I KUBE-SERVICES 1 "));
    expect(jumpTarget(rule)).toBe("KUBE-SVC-X");
    expect(jumpTarget('-A KUBE-FW-X -m comment --comment "x"')).toBeUndefined();
  });

  it("canonicalizes CIDRs the way iptables prints them", () => {
    expect(canonicalCidr("10.1.2.3/8")).toBe("10.0.0.0/8");
    expect(canonicalCidr("1.2.3.4")).toBe("1.2.3.4/32");
    expect(cidrContains("10.0.0.0/8", "10.200.1.1")).toBe(true);
    expect(cidrContains("10.0.0.0/8", "11.0.0.1")).toBe(false);
    expect(cidrContains("0.0.0.0/0", "8.8.8.8")).toBe(true);
    expect(() => canonicalCidr("fe80::1/64")).toThrow(/not an IPv4/);
  });
});

describe("flat", () => {
  it("keeps chain names, addresses and ports as they are, in one piece", () => {
    const port = 8080;
    for (const text of [`10.244.${port % 7}.12:${port}`, `KUBE-SEP-${"ABCDEFGH234567QR"}`, "10.0.0.1"])
      expect(flat(text)).toBe(text);
  });
});
