import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DECKHAND_ROUTE_PROTO,
  desiredHostRoutes,
  IpRouteTable,
  planHostRoutes,
} from "../../../src/agent/network/host-routes.ts";
import { requireRoot } from "../../support/env.ts";
import { createNetns, type TestNetns } from "../../support/netns.ts";

const node = (name: string, podCIDR: string | undefined, internalIP: string | undefined) => ({
  metadata: { name },
  spec: podCIDR ? { podCIDR } : {},
  status: {
    addresses: [
      { type: "Hostname", address: name },
      ...(internalIP ? [{ type: "InternalIP", address: internalIP }] : []),
    ],
  },
});

describe("host-gw routes to other nodes' podCIDRs", () => {
  it("routes every other node's podCIDR via its InternalIP, skipping itself and incomplete nodes", () => {
    const routes = desiredHostRoutes("a", [
      node("a", "10.244.0.0/24", "192.168.5.10"),
      node("c", "10.244.2.0/24", "192.168.5.12"),
      node("b", "10.244.1.7/24", "192.168.5.11"),
      node("no-cidr", undefined, "192.168.5.13"),
      node("no-ip", "10.244.4.0/24", undefined),
      node("bad-cidr", "10.244.5.0", "192.168.5.14"),
    ]);
    expect(routes).toEqual([
      { dst: "10.244.1.0/24", via: "192.168.5.11" },
      { dst: "10.244.2.0/24", via: "192.168.5.12" },
    ]);
  });

  it("plans only the differences: new and moved routes replaced, stale ones removed", () => {
    const plan = planHostRoutes(
      [
        { dst: "10.244.1.0/24", via: "192.168.5.11" },
        { dst: "10.244.2.0/24", via: "192.168.5.99" },
        { dst: "10.244.9.0/24", via: "192.168.5.19" },
      ],
      [
        { dst: "10.244.1.0/24", via: "192.168.5.11" },
        { dst: "10.244.2.0/24", via: "192.168.5.12" },
        { dst: "10.244.3.0/24", via: "192.168.5.13" },
      ],
    );
    expect(plan).toEqual({
      replace: [
        { dst: "10.244.2.0/24", via: "192.168.5.12" },
        { dst: "10.244.3.0/24", via: "192.168.5.13" },
      ],
      remove: ["10.244.9.0/24"],
    });
    expect(planHostRoutes(plan.replace, plan.replace)).toEqual({ replace: [], remove: [] });
  });
});

describe("IpRouteTable in a network namespace of its own", () => {
  let ns: TestNetns;

  beforeAll(async () => {
    requireRoot();
    ns = await createNetns("dh-routes");
    // A connected link with the "other nodes" on it, so that their InternalIPs are valid gateways.
    await ns.exec("ip", ["link", "add", "n0", "type", "veth", "peer", "name", "n1"]);
    await ns.exec("ip", ["addr", "add", "192.168.77.1/24", "dev", "n0"]);
    await ns.exec("ip", ["link", "set", "n0", "up"]);
    await ns.exec("ip", ["link", "set", "n1", "up"]);
    // Someone else's route to a pod range: never touched.
    await ns.exec("ip", ["route", "add", "10.250.99.0/24", "via", "192.168.77.99"]);
  });

  afterAll(async () => {
    await ns?.destroy();
  });

  it("adds, moves and removes exactly its own routes", async () => {
    const table = new IpRouteTable({ netns: ns.name });
    const first = [
      { dst: "10.250.1.0/24", via: "192.168.77.11" },
      { dst: "10.250.2.0/24", via: "192.168.77.12" },
    ];
    expect((await table.sync(first)).replace).toHaveLength(2);
    expect(await table.list()).toEqual(first);
    expect(await table.sync(first)).toEqual({ replace: [], remove: [] });

    const second = [{ dst: "10.250.2.0/24", via: "192.168.77.22" }];
    expect(await table.sync(second)).toEqual({ replace: second, remove: ["10.250.1.0/24"] });
    expect(await table.list()).toEqual(second);

    const { stdout } = await ns.exec("ip", ["-4", "route", "show"]);
    expect(stdout).toContain("10.250.99.0/24 via 192.168.77.99");
    expect(stdout).toContain(`10.250.2.0/24 via 192.168.77.22 dev n0 proto ${DECKHAND_ROUTE_PROTO}`);
  });
});
