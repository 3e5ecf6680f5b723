// iptables-restore failing under the service proxy: another program references one of the proxy's endpoint
// chains from a chain of its own, so the restore that would delete that chain (the endpoint went away)
// fails, as upstream kube-proxy sees it in the field. The proxy runs in this test's network namespace.
// "Nothing lost" here: a failed restore leaves no half-applied ruleset (every jump in the nat table targets
// a chain that exists, and the Service's rules are either wholly the old set or wholly the new one), the
// proxy logs the failure and retries, and once the other program lets go the next (full) sync converges on
// the desired rules; the proxy never stops.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../../src/api/client/client.ts";
import { loadKubeconfig } from "../../src/api/client/kubeconfig.ts";
import { ExecIptables, saveText } from "../../src/proxy/iptables.ts";
import { ServiceProxy } from "../../src/proxy/service-proxy.ts";
import type { ProxyLogger } from "../../src/proxy/syncer.ts";
import { procSysctl } from "../../src/proxy/sysctl.ts";
import { startControlPlane, type TestControlPlane } from "../support/controlplane.ts";
import { requireRoot } from "../support/env.ts";
import { uniqueName } from "../support/names.ts";
import { createNetns, type TestNetns } from "../support/netns.ts";
import { waitFor } from "../support/wait.ts";

const SERVICE_CIDR = "10.96.0.0/12";
const CLUSTER_IP = "10.96.201.10";
const NODE = "fault-node";

/** Problems with the nat table as iptables-save prints it: jumps to chains that do not exist. */
function danglingJumps(nat: string): string[] {
  const chains = new Set(
    nat
      .split("\n")
      .filter((l) => l.startsWith(":"))
      .map((l) => l.slice(1).split(" ")[0]),
  );
  const builtin = new Set(["ACCEPT", "DROP", "RETURN", "DNAT", "SNAT", "MASQUERADE", "MARK", "REJECT"]);
  return nat
    .split("\n")
    .filter((l) => l.startsWith("-A "))
    .flatMap((l) => {
      const target = / -j (\S+)/.exec(l)?.[1];
      return target && !builtin.has(target) && !chains.has(target) ? [l] : [];
    });
}

/** The endpoint IPs the Service's KUBE-SVC chain sends traffic to (from the rule comments). */
function serviceEndpoints(nat: string, service: string): string[] {
  return nat
    .split("\n")
    .filter((l) => l.startsWith("-A KUBE-SVC-") && l.includes(`"${service} -> `))
    .map((l) => (/ -> ([\d.]+):/.exec(l)?.[1] ?? "") as string)
    .sort();
}

describe("iptables-restore failing under the service proxy", () => {
  let cp: TestControlPlane;
  let client: ApiClient;
  let ns: TestNetns;
  let proxy: ServiceProxy;
  let iptables: ExecIptables;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const namespace = uniqueName("ipf");
  const failures: string[] = [];
  const log: ProxyLogger = {
    debug() {},
    info() {},
    warn: (fields, message) => failures.push(`${message} ${JSON.stringify(fields).slice(0, 300)}`),
    error: (fields, message) => failures.push(`${message} ${JSON.stringify(fields).slice(0, 300)}`),
  };
  const slice = (ips: string[]) => `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-manual
  namespace: ${namespace}
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
  - name: http
    port: 8080
    protocol: TCP
endpoints:
${ips.map((ip) => `  - addresses: ["${ip}"]\n    conditions: { ready: true }`).join("\n")}
`;

  beforeAll(async () => {
    requireRoot();
    cp = await startControlPlane({ controllers: false });
    client = new ApiClient(await loadKubeconfig(cp.kubeconfigPath));
    ns = await createNetns("dhipf", { serviceCidr: SERVICE_CIDR });
    iptables = new ExecIptables("nft", { netns: ns.name });
    await cp.kubectl(["create", "namespace", namespace]);
    await cp.kubectl(["apply", "-f", "-"], {
      input: `
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${namespace}
spec:
  clusterIP: ${CLUSTER_IP}
  ports:
    - name: http
      port: 80
      targetPort: 8080
---${slice(["10.244.1.2", "10.244.1.3"])}`,
    });
    proxy = new ServiceProxy({
      client,
      nodeName: NODE,
      nodeIPs: ["192.168.77.2"],
      clusterCIDR: "10.244.0.0/16",
      iptables,
      sysctl: procSysctl(ns.name),
      log,
      minSyncPeriodMs: 200,
      // Periodic syncs every 5 s (upstream's 30 s): the retry after the conflict ends comes sooner.
      syncPeriodMs: 5_000,
    });
    running = proxy.run(abort.signal);
    await proxy.ready;
  });

  afterAll(async () => {
    abort.abort();
    await running;
    client?.close();
    await ns?.destroy();
    await cp?.stop();
  });

  it("a failed restore changes nothing, the proxy retries, and converges once the conflict is gone", async () => {
    const service = `${namespace}/web:http`;
    const nat = () => saveText(iptables, "nat");
    await waitFor(async () => serviceEndpoints(await nat(), service).length === 2, {
      what: "the Service's rules for two endpoints",
    });
    // Another program takes a reference to the endpoint chain of 10.244.1.2.
    const sep = /-A (KUBE-SEP-\S+) -s 10\.244\.1\.2\/32/.exec(await nat())?.[1] as string;
    expect(sep).toBeDefined();
    await ns.exec("iptables-nft", ["-t", "nat", "-N", "OTHER-PROGRAM"]);
    await ns.exec("iptables-nft", ["-t", "nat", "-A", "OTHER-PROGRAM", "-j", sep]);
    const failedBefore = failures.length;

    // The endpoint goes away: the restore that deletes its chain must fail.
    await cp.kubectl(["apply", "-f", "-"], { input: slice(["10.244.1.3"]) });
    await waitFor(() => failures.length > failedBefore, {
      what: "the proxy to report a failed restore",
      timeoutMs: 60_000,
    });
    // Several retries while the conflict stands; each must leave a consistent table behind.
    for (let check = 0; check < 3; check++) {
      const table = await nat();
      expect(danglingJumps(table), "jumps to missing chains").toEqual([]);
      const endpoints = serviceEndpoints(table, service);
      expect([["10.244.1.2", "10.244.1.3"], ["10.244.1.3"]]).toContainEqual(endpoints);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const failedWhileHeld = failures.length - failedBefore;

    await ns.exec("iptables-nft", ["-t", "nat", "-F", "OTHER-PROGRAM"]);
    await ns.exec("iptables-nft", ["-t", "nat", "-X", "OTHER-PROGRAM"]);
    await waitFor(
      async () => {
        const table = await nat();
        return serviceEndpoints(table, service).join() === "10.244.1.3" && !table.includes(`:${sep} `);
      },
      { what: "the proxy to converge on one endpoint and delete the stale chain", timeoutMs: 60_000 },
    ).catch(async (error: Error) => {
      throw new Error(
        `${error.message}\nproxy warnings:\n${failures.slice(failedBefore).join("\n")}\nnat:\n${await nat()}`,
      );
    });
    expect(danglingJumps(await nat())).toEqual([]);
    console.log(
      `iptables-restore failure: ${failedWhileHeld} failed syncs reported while another program held ${sep}; converged after it let go, no dangling jump at any check`,
    );
    expect(failures.slice(failedBefore).some((f) => /restore|iptables/i.test(f))).toBe(true);
  }, 180_000);
});
