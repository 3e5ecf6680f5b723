// networkPlugin kubenet against a real control plane: the Node's podCIDR becomes the bridge conflist, and
// the other nodes' podCIDRs become host routes via their InternalIPs (in a network namespace of its own).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpRouteTable } from "../../../src/agent/network/host-routes.ts";
import { PodNetwork } from "../../../src/agent/network/pod-network.ts";
import { ApiClient } from "../../../src/api/client/client.ts";
import { loadKubeconfig } from "../../../src/api/client/kubeconfig.ts";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { requireRoot } from "../../support/env.ts";
import { uniqueName } from "../../support/names.ts";
import { createNetns, type TestNetns } from "../../support/netns.ts";

const nodes = { version: "v1", resource: "nodes" } as const;

describe("PodNetwork (networkPlugin kubenet)", () => {
  let cp: TestControlPlane;
  let client: ApiClient;
  let ns: TestNetns;
  let confDir: string;
  const self = uniqueName("podnet-a");
  const other = uniqueName("podnet-b");

  beforeAll(async () => {
    requireRoot();
    // No controllers: the test assigns podCIDRs itself, as the nodeipam controller would.
    cp = await startControlPlane({ controllers: false });
    client = new ApiClient(await loadKubeconfig(cp.kubeconfigPath));
    ns = await createNetns("dh-podnet");
    await ns.exec("ip", ["link", "add", "p0", "type", "veth", "peer", "name", "p1"]);
    await ns.exec("ip", ["addr", "add", "192.168.78.1/24", "dev", "p0"]);
    await ns.exec("ip", ["link", "set", "p0", "up"]);
    await ns.exec("ip", ["link", "set", "p1", "up"]);
    confDir = mkdtempSync(join(tmpdir(), "deckhand-cni-"));
    for (const [name, cidr, ip] of [
      [self, "10.251.1.0/24", "192.168.78.1"],
      [other, "10.251.2.0/24", "192.168.78.2"],
    ] as const) {
      await client.create(nodes, {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name },
        spec: { podCIDR: cidr },
      });
      await client.patch({ ...nodes, name, subresource: "status" }, "merge", {
        status: { addresses: [{ type: "InternalIP", address: ip }] },
      });
    }
  });

  afterAll(async () => {
    client?.close();
    await ns?.destroy();
    await cp?.stop();
    if (confDir) rmSync(confDir, { recursive: true, force: true });
  });

  it("writes the conflist for its own podCIDR and routes the other node's podCIDR via its InternalIP", async () => {
    const network = new PodNetwork({
      client,
      nodeName: self,
      cniConfDir: confDir,
      routes: new IpRouteTable({ netns: ns.name }),
      log: pino({ level: "silent" }),
    });
    const first = await network.syncOnce();
    expect(first.podCIDR).toBe("10.251.1.0/24");
    expect(first.conflistWritten).toBe(true);
    const conf = JSON.parse(readFileSync(network.conflistPath, "utf8"));
    expect(conf.plugins[0].ipam.ranges).toEqual([[{ subnet: "10.251.1.0/24", gateway: "10.251.1.1" }]]);
    expect(first.routes.replace).toEqual([{ dst: "10.251.2.0/24", via: "192.168.78.2" }]);
    expect((await ns.exec("ip", ["-4", "route", "show", "10.251.2.0/24"])).stdout).toContain(
      "via 192.168.78.2",
    );

    const again = await network.syncOnce();
    expect(again).toEqual({
      podCIDR: "10.251.1.0/24",
      conflistWritten: false,
      routes: { replace: [], remove: [] },
    });

    await client.delete({ ...nodes, name: other });
    expect((await network.syncOnce()).routes.remove).toEqual(["10.251.2.0/24"]);
    expect((await ns.exec("ip", ["-4", "route", "show", "10.251.2.0/24"])).stdout.trim()).toBe("");
  });
});
