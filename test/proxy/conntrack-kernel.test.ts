// Stale UDP conntrack entries on the real kernel, for every address of a Service: its ClusterIP, an external
// IP, a load-balancer IP and its node port on the node's address. Real flows are made in this test's
// network namespaces (test/proxy/support/lab.ts) and counted with `conntrack -L`:
//   - entries made while no Service had the address (not NATed: they would keep swallowing a client's
//     datagrams) are deleted when the service port gets its first serving endpoint;
//   - when an endpoint leaves, the entries NATed to it are deleted on all four addresses and the others stay.
// The external and load-balancer IPs (172.31.4.0/24) are routed like the service range: into an empty bridge.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/resource.ts";
import type { ConntrackDeletion } from "../../src/proxy/conntrack.ts";
import { ExecIptables } from "../../src/proxy/iptables.ts";
import { ServiceProxy } from "../../src/proxy/service-proxy.ts";
import type { ProxyLogger } from "../../src/proxy/syncer.ts";
import { procSysctl } from "../../src/proxy/sysctl.ts";
import { requireRoot } from "../support/env.ts";
import type { TestNetns } from "../support/netns.ts";
import { run } from "../support/run.ts";
import { waitFor } from "../support/wait.ts";
import { FakeApi } from "./support/fake-api.ts";
import { makeService, makeSlice } from "./support/fixtures.ts";
import { BACKEND_UDP_PORT, createLab, type Lab, NODE_IP, POD_CIDR } from "./support/lab.ts";
import { recordingConntrack } from "./support/recording-conntrack.ts";

const SERVICE_CIDR = "10.96.0.0/16";
const EXTRA_CIDR = "172.31.4.0/24";
const NS = "ctk";
const CLUSTER_IP = "10.96.4.20";
const EXTERNAL_IP = "172.31.4.60";
const LB_IP = "172.31.4.61";
const NODE_PORT = 30_454;
const PORT = 53;
const SOCKETS = 8;
const quiet: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };

describe("stale UDP conntrack entries on the real kernel: ClusterIP, external IP, LB IP, node port", () => {
  let lab: Lab;
  let api: FakeApi;
  let proxy: ServiceProxy;
  let conntrack: ReturnType<typeof recordingConntrack>;
  const abort = new AbortController();
  let running: Promise<void> | undefined;

  const podIP = (i: number) => lab.pods[i - 1]?.ip as string;
  const service = makeService(
    NS,
    "game",
    {
      type: "LoadBalancer",
      clusterIP: CLUSTER_IP,
      externalIPs: [EXTERNAL_IP],
      ports: [
        { name: "dns", port: PORT, protocol: "UDP", targetPort: BACKEND_UDP_PORT, nodePort: NODE_PORT },
      ],
    },
    { loadBalancer: { ingress: [{ ip: LB_IP }] } },
  ) as KubeObject;
  const slice = (pods: number[]) =>
    makeSlice(
      NS,
      "game",
      "game-abc",
      [{ name: "dns", port: BACKEND_UDP_PORT, protocol: "UDP" }],
      pods.map((i) => ({ ip: podIP(i), nodeName: "ctk-node" })),
    ) as KubeObject;

  /** The four addresses and where their traffic comes from: the node itself, or the outside namespace. */
  const addresses = (): Array<{ what: string; ip: string; port: number; from: TestNetns }> => [
    { what: "ClusterIP", ip: CLUSTER_IP, port: PORT, from: lab.node },
    { what: "external IP", ip: EXTERNAL_IP, port: PORT, from: lab.outside },
    { what: "LB IP", ip: LB_IP, port: PORT, from: lab.outside },
    { what: "node port", ip: NODE_IP, port: NODE_PORT, from: lab.outside },
  ];

  /** One datagram from each of SOCKETS sockets held open together (distinct source ports: one flow each). */
  const send = (from: TestNetns, ip: string, port: number) =>
    from.exec(process.execPath, [
      "-e",
      `const dgram = require("node:dgram");
       const sockets = Array.from({ length: ${SOCKETS} }, () => dgram.createSocket("udp4"));
       Promise.all(sockets.map((s) => new Promise((done, fail) =>
         s.send("ct", ${port}, "${ip}", (err) => (err ? fail(err) : done())))))
         .then(() => new Promise((r) => setTimeout(r, 200)))
         .then(() => sockets.forEach((s) => s.close()));`,
    ]);

  /** UDP conntrack entries to ip:port, as `conntrack -L` lines. */
  const flows = async (ip: string, port: number) =>
    (
      await run(
        "ip",
        [
          "netns",
          "exec",
          lab.node.name,
          "conntrack",
          "-L",
          "-p",
          "udp",
          "--orig-dst",
          ip,
          "--dport",
          String(port),
        ],
        { allowFailure: true },
      )
    ).stdout
      .split("\n")
      .filter((l) => l.startsWith("udp"));

  /** The reply source of a `conntrack -L` line (its second src=): the endpoint, or the address itself. */
  const replySource = (line: string) => [...line.matchAll(/src=(\S+)/g)][1]?.[1];

  /** Waits until `deletion` has been run (once more than before) and no other deletion is running. */
  const cleaned = async (deletion: ConntrackDeletion, before: number) => {
    const same = (d: ConntrackDeletion) => JSON.stringify(d) === JSON.stringify(deletion);
    await waitFor(() => conntrack.inFlight === 0 && conntrack.done.filter(same).length > before, {
      what: `conntrack deletion ${JSON.stringify(deletion)}`,
      intervalMs: 10,
    });
  };
  const count = (deletion: ConntrackDeletion) =>
    conntrack.done.filter((d) => JSON.stringify(d) === JSON.stringify(deletion)).length;

  beforeAll(async () => {
    requireRoot();
    lab = await createLab("dhctk", SERVICE_CIDR, 2);
    // Unmatched packets to the external and LB IPs go nowhere, like those to the service range.
    await lab.node.exec("ip", ["route", "replace", EXTRA_CIDR, "dev", "svcguard0"]);
    api = new FakeApi();
    conntrack = recordingConntrack(lab.node.name);
    proxy = new ServiceProxy({
      client: api,
      nodeName: "ctk-node",
      nodeIPs: [NODE_IP],
      clusterCIDR: POD_CIDR,
      iptables: new ExecIptables("nft", { netns: lab.node.name }),
      sysctl: procSysctl(lab.node.name),
      conntrack,
      log: quiet,
      minSyncPeriodMs: 50,
    });
    running = proxy.run(abort.signal);
    await proxy.ready;
  });

  afterAll(async () => {
    abort.abort();
    await running;
    await lab?.destroy();
  });

  it("entries made before the Service had a serving endpoint go when it gets its first one", async () => {
    // No Service yet: the datagrams are not NATed, and their entries stay (30 s and more).
    for (const a of addresses()) {
      await send(a.from, a.ip, a.port);
      const made = await flows(a.ip, a.port);
      expect(made.length, `${a.what}: flows made`).toBe(SOCKETS);
      expect(
        made.every((l) => replySource(l) === a.ip),
        made.join("\n"),
      ).toBe(true);
    }
    const expected: ConntrackDeletion[] = [
      { kind: "ip", ip: CLUSTER_IP },
      { kind: "ip", ip: EXTERNAL_IP },
      { kind: "ip", ip: LB_IP },
      { kind: "port", port: NODE_PORT },
    ];
    const before = expected.map(count);
    api.set("services", service);
    api.set("endpointslices", slice([1, 2]));
    for (const [i, deletion] of expected.entries()) await cleaned(deletion, before[i] as number);
    for (const a of addresses()) expect(await flows(a.ip, a.port), `${a.what}: stale flows`).toEqual([]);
  });

  it("entries NATed to an endpoint that leaves go on every address; the others stay", async () => {
    const toPod2 = new Map<string, number>();
    for (const a of addresses()) {
      await send(a.from, a.ip, a.port);
      const made = await flows(a.ip, a.port);
      expect(made.length, `${a.what}: flows made`).toBe(SOCKETS);
      const sources = made.map(replySource);
      expect(
        sources.every((s) => s === podIP(1) || s === podIP(2)),
        `${a.what}: NATed to the pods\n${made.join("\n")}`,
      ).toBe(true);
      toPod2.set(a.what, sources.filter((s) => s === podIP(2)).length);
    }
    const expected: ConntrackDeletion[] = [
      { kind: "nat", origin: CLUSTER_IP, endpoint: podIP(2) },
      { kind: "nat", origin: EXTERNAL_IP, endpoint: podIP(2) },
      { kind: "nat", origin: LB_IP, endpoint: podIP(2) },
      { kind: "port-nat", port: NODE_PORT, endpoint: podIP(2) },
    ];
    const before = expected.map(count);
    api.set("endpointslices", slice([1]));
    for (const [i, deletion] of expected.entries()) await cleaned(deletion, before[i] as number);
    for (const a of addresses()) {
      const left = await flows(a.ip, a.port);
      expect(
        left.filter((l) => replySource(l) === podIP(2)),
        `${a.what}: flows to pod-2`,
      ).toEqual([]);
      expect(left.length, `${a.what}: flows to pod-1 kept`).toBe(SOCKETS - (toPod2.get(a.what) ?? 0));
    }
    // With 8 flows on each of 4 addresses, some went to pod-2 (a 1 in 2^32 chance that none did).
    expect([...toPod2.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});
