import { describe, expect, it } from "vitest";
import { type DnsInput, parseResolvConf, podDnsConfig } from "../../../src/agent/pod-config/dns.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { pod } from "./fixtures.ts";

const host = parseResolvConf(
  "# generated\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch old.example\nsearch corp.example. lab.example\noptions timeout:2 edns0\n",
);
const input: DnsInput = {
  clusterDNS: ["10.96.0.10"],
  clusterDomain: "cluster.local",
  hostIPs: ["192.0.2.10"],
  host,
};
const clusterSearch = ["ns1.svc.cluster.local", "svc.cluster.local", "cluster.local"];

function spec(s: Partial<NonNullable<Pod["spec"]>>) {
  return pod({ spec: s });
}

describe("parseResolvConf", () => {
  it("accumulates nameservers; the last search and options lines win; trailing dots go", () => {
    expect(host).toEqual({
      servers: ["192.0.2.53", "192.0.2.54"],
      searches: ["corp.example", "lab.example"],
      options: ["timeout:2", "edns0"],
    });
  });
});

describe("podDnsConfig", () => {
  it.each([
    [
      "ClusterFirst",
      { dnsPolicy: "ClusterFirst" },
      input,
      {
        servers: ["10.96.0.10"],
        searches: [...clusterSearch, "corp.example", "lab.example"],
        options: ["ndots:5"],
      },
    ],
    [
      "ClusterFirst on the host network falls back to Default",
      { dnsPolicy: "ClusterFirst", hostNetwork: true },
      input,
      host,
    ],
    [
      "ClusterFirstWithHostNet",
      { dnsPolicy: "ClusterFirstWithHostNet", hostNetwork: true },
      input,
      {
        servers: ["10.96.0.10"],
        searches: [...clusterSearch, "corp.example", "lab.example"],
        options: ["ndots:5"],
      },
    ],
    ["Default", { dnsPolicy: "Default" }, input, host],
    ["None without dnsConfig", { dnsPolicy: "None" }, input, { servers: [], searches: [], options: [] }],
    [
      "None with dnsConfig",
      {
        dnsPolicy: "None",
        dnsConfig: {
          nameservers: ["1.1.1.1"],
          searches: ["a.example"],
          options: [{ name: "ndots", value: "2" }],
        },
      },
      input,
      { servers: ["1.1.1.1"], searches: ["a.example"], options: ["ndots:2"] },
    ],
    [
      "ClusterFirst merged with dnsConfig (duplicates dropped, options replaced by name)",
      {
        dnsPolicy: "ClusterFirst",
        dnsConfig: {
          nameservers: ["10.96.0.10", "192.0.2.99"],
          searches: ["svc.cluster.local", "extra.example"],
          options: [{ name: "ndots", value: "1" }, { name: "single-request-reopen" }],
        },
      },
      input,
      {
        servers: ["10.96.0.10", "192.0.2.99"],
        searches: [...clusterSearch, "corp.example", "lab.example", "extra.example"],
        options: ["ndots:1", "single-request-reopen"],
      },
    ],
    [
      "no resolver file: the local resolver and no search",
      { dnsPolicy: "Default" },
      { ...input, host: undefined },
      { servers: ["127.0.0.1"], searches: ["."], options: [] },
    ],
    [
      "ClusterFirst without a cluster domain keeps the host searches",
      { dnsPolicy: "ClusterFirst" },
      { ...input, clusterDomain: "" },
      { servers: ["10.96.0.10"], searches: ["corp.example", "lab.example"], options: ["ndots:5"] },
    ],
  ] as Array<[string, Partial<NonNullable<Pod["spec"]>>, DnsInput, object]>)(
    "%s",
    (_name, s, dnsInput, expected) => {
      const result = podDnsConfig(spec(s), dnsInput);
      expect(result.config).toEqual(expected);
      expect(result.warnings).toEqual([]);
    },
  );

  it("falls back to Default with a MissingClusterDNS warning when no cluster DNS is configured", () => {
    const result = podDnsConfig(spec({ dnsPolicy: "ClusterFirst" }), { ...input, clusterDNS: [] });
    expect(result.config).toEqual(host);
    expect(result.warnings).toEqual([
      {
        reason: "MissingClusterDNS",
        message:
          'pod: "web_ns1(uid-1)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
      },
    ]);
  });

  it("enforces the nameserver and search limits with DNSConfigForming warnings", () => {
    const long = `${"a".repeat(250)}.example`;
    const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const result = podDnsConfig(
      spec({
        dnsPolicy: "None",
        dnsConfig: { nameservers: ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"], searches: [long, ...many] },
      }),
      input,
    );
    expect(result.config.servers).toEqual(["1.1.1.1", "1.0.0.1", "8.8.8.8"]);
    expect(result.config.searches).toEqual(many.slice(0, 31)); // 32 kept, then the too-long one dropped
    expect(result.warnings.map((w) => w.reason)).toEqual(["DNSConfigForming", "DNSConfigForming"]);
    expect(result.warnings[0]?.message).toBe(
      "Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 1.1.1.1 1.0.0.1 8.8.8.8",
    );
    expect(result.warnings[1]?.message).toMatch(/^Search Line limits were exceeded/);
  });
});
