import { describe, expect, it } from "vitest";
import {
  podGateway,
  podNetworkConflist,
  renderPodNetworkConflist,
} from "../../../src/agent/network/cni-config.ts";

describe("pod network CNI config from the Node's podCIDR", () => {
  it("bridges pods with host-local addresses from the podCIDR and the bridge as gateway", () => {
    const conf = podNetworkConflist({ podCIDR: "10.244.3.0/24", ipamDataDir: "/var/lib/deckhand/cni" });
    expect(conf.cniVersion).toBe("1.0.0");
    const plugins = conf.plugins as Record<string, unknown>[];
    expect(plugins.map((p) => p.type)).toEqual(["bridge", "portmap", "firewall", "loopback"]);
    expect(plugins[0]).toMatchObject({
      bridge: "cbr0",
      isGateway: true,
      ipMasq: false,
      ipam: {
        type: "host-local",
        ranges: [[{ subnet: "10.244.3.0/24", gateway: "10.244.3.1" }]],
        routes: [{ dst: "0.0.0.0/0" }],
        dataDir: "/var/lib/deckhand/cni",
      },
    });
  });

  it("canonicalises the CIDR and renders the same bytes for the same inputs", () => {
    expect(podGateway("10.244.3.77/24")).toBe("10.244.3.1");
    expect(renderPodNetworkConflist({ podCIDR: "10.244.3.77/24" })).toBe(
      renderPodNetworkConflist({ podCIDR: "10.244.3.0/24" }),
    );
  });

  it("refuses what is not a usable IPv4 pod CIDR, naming it", () => {
    expect(() => podNetworkConflist({ podCIDR: "10.244.3.0" })).toThrow(/not an IPv4 CIDR/);
    expect(() => podGateway("10.244.3.0/31")).toThrow(/podCIDR 10.244.3.0\/31: a \/31 leaves no room/);
  });
});
