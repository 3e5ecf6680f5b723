// The agent's Node as the API and kubectl see it: registration (labels, taints, addresses), capacity and
// allocatable minus what the configuration reserves, nodeInfo with the runtime's version, the four
// conditions with upstream's reasons, and the Lease in kube-node-lease being renewed.
import { cpus, totalmem } from "node:os";
import { describe, expect, it } from "vitest";
import { cpuMillis, parseQuantity } from "../../../src/api/quantity.ts";
import { type AgentRuntimeKind, getNode, type NodeLike, nodeCondition } from "../../support/agent.ts";
import { waitFor } from "../../support/wait.ts";
import { useE2E } from "./harness.ts";

interface Lease {
  metadata?: { ownerReferences?: Array<{ kind?: string; name?: string; uid?: string }> };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

export function nodeSuite(kind: AgentRuntimeKind): void {
  describe(`agent node registration on ${kind}`, () => {
    const env = useE2E(kind, {
      config: {
        systemReserved: { cpu: "500m", memory: "100Mi" },
        nodeLabels: { "deckhand.test/role": "e2e" },
        registerWithTaints: [{ key: "deckhand.test/dedicated", value: "e2e", effect: "PreferNoSchedule" }],
      },
    });

    it("registers labels, taints, addresses, capacity and allocatable, nodeInfo and conditions", async () => {
      const e = env();
      const node = (await getNode(e.cp, e.agent.nodeName)) as NodeLike;
      expect(node.metadata?.labels).toMatchObject({
        "kubernetes.io/hostname": e.agent.nodeName,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": process.arch === "x64" ? "amd64" : process.arch,
        "deckhand.test/role": "e2e",
      });
      expect(node.spec?.taints).toEqual([
        { key: "deckhand.test/dedicated", value: "e2e", effect: "PreferNoSchedule" },
      ]);
      const addresses = node.status?.addresses ?? [];
      expect(addresses.map((a) => a.type)).toEqual(["InternalIP", "Hostname"]);
      expect(addresses[0]?.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

      const capacity = node.status?.capacity ?? {};
      const allocatable = node.status?.allocatable ?? {};
      expect(cpuMillis(capacity.cpu ?? "")).toBe(cpus().length * 1000);
      expect(cpuMillis(allocatable.cpu ?? "")).toBe(cpus().length * 1000 - 500);
      expect(capacity.pods).toBe("110");
      expect(allocatable.pods).toBe("110");
      const memory = parseQuantity(capacity.memory ?? "") ?? 0;
      expect(Math.abs(memory - totalmem())).toBeLessThan(1024);
      // Allocatable memory: capacity minus systemReserved (100Mi) minus the default hard eviction (100Mi).
      expect(parseQuantity(allocatable.memory ?? "")).toBe(
        Math.floor(memory / 1024) * 1024 - 200 * 1024 * 1024,
      );
      expect(parseQuantity(capacity["ephemeral-storage"] ?? "")).toBeGreaterThan(0);
      expect(parseQuantity(allocatable["ephemeral-storage"] ?? "")).toBeLessThan(
        parseQuantity(capacity["ephemeral-storage"] ?? "") ?? 0,
      );

      const info = node.status?.nodeInfo ?? {};
      expect(info.containerRuntimeVersion).toMatch(
        kind === "docker" ? /^docker:\/\/\d+\.\d+\.\d+/ : /^containerd:\/\/\d+\.\d+\.\d+/,
      );
      expect(info).toMatchObject({ operatingSystem: "linux", kubeletVersion: "v1.32.0" });
      for (const field of [
        "machineID",
        "bootID",
        "kernelVersion",
        "osImage",
        "architecture",
        "kubeProxyVersion",
      ])
        expect(info[field], field).toBeTruthy();

      const expected: Array<[string, string, string]> = [
        ["Ready", "True", "KubeletReady"],
        ["MemoryPressure", "False", "KubeletHasSufficientMemory"],
        ["DiskPressure", "False", "KubeletHasNoDiskPressure"],
        ["PIDPressure", "False", "KubeletHasSufficientPID"],
      ];
      for (const [type, status, reason] of expected) {
        const found = nodeCondition(node, type);
        expect([found?.status, found?.reason], type).toEqual([status, reason]);
        expect(found?.message, type).toBeTruthy();
      }

      // kubectl shows it the way operators expect.
      const row = await e.kubectl("get", "node", e.agent.nodeName, "--no-headers");
      expect(row.trim().split(/\s+/).slice(0, 2)).toEqual([e.agent.nodeName, "Ready"]);
    });

    it("holds a Lease in kube-node-lease and renews it", async () => {
      const e = env();
      const read = async () => {
        const res = await e.cp.fetch(
          `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${e.agent.nodeName}`,
        );
        return res.ok ? ((await res.json()) as Lease) : undefined;
      };
      const first = await waitFor(read, { what: "the node's Lease", timeoutMs: 60_000 });
      const node = await getNode(e.cp, e.agent.nodeName);
      expect(first.spec).toMatchObject({ holderIdentity: e.agent.nodeName, leaseDurationSeconds: 40 });
      expect(first.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: "Node", name: e.agent.nodeName, uid: node?.metadata?.uid }),
      ]);
      // Renewed every 10 s (a quarter of 40 s); the bound only stops a hang.
      const renewed = await waitFor(
        async () => {
          const lease = await read();
          return lease?.spec?.renewTime && lease.spec.renewTime !== first.spec?.renewTime ? lease : undefined;
        },
        { what: "the Lease to be renewed", timeoutMs: 90_000, intervalMs: 1000 },
      );
      expect(Date.parse(renewed.spec?.renewTime ?? "")).toBeGreaterThan(
        Date.parse(first.spec?.renewTime ?? ""),
      );
    });

    it("adopts its existing Node after a restart: same UID, admin labels kept", async () => {
      const e = env();
      const before = await getNode(e.cp, e.agent.nodeName);
      await e.kubectl("label", "node", e.agent.nodeName, "admin.example/keep=yes");
      await e.agent.restart();
      await waitFor(
        async () => (await getNode(e.cp, e.agent.nodeName))?.metadata?.labels?.["admin.example/keep"],
        { what: "the admin label to be readable" },
      );
      // The restarted agent reports again: the heartbeat moves on, and nothing was re-created.
      const heartbeat = (n: NodeLike | undefined) =>
        (n?.status?.conditions as Array<{ type: string; lastHeartbeatTime?: string }> | undefined)?.find(
          (c) => c.type === "Ready",
        )?.lastHeartbeatTime;
      const after = await waitFor(
        async () => {
          const node = await getNode(e.cp, e.agent.nodeName);
          return heartbeat(node) !== heartbeat(before) && nodeCondition(node, "Ready")?.status === "True"
            ? node
            : undefined;
        },
        { what: "the restarted agent to report its node Ready", timeoutMs: 90_000, intervalMs: 500 },
      );
      expect(after.metadata?.uid).toBe(before?.metadata?.uid);
      expect(after.metadata?.labels).toMatchObject({
        "admin.example/keep": "yes",
        "kubernetes.io/hostname": e.agent.nodeName,
      });
    });
  });
}
