// End to end with the real control plane: Services and EndpointSlices made with kubectl (EndpointSlices by
// hand; the endpoint controller is another component), a ServiceProxy in this process watching them through
// the API client, programming iptables in this test's network namespace, and real traffic to backends there.
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
import { waitFor } from "../support/wait.ts";
import { BACKEND_PORT, createLab, type Lab, NODE_IP, POD_CIDR } from "./support/lab.ts";

const SERVICE_CIDR = "10.96.0.0/12";
const CLUSTER_IP = "10.96.200.10";
const NODE_PORT = 30_555;

describe("service proxy end to end with the control plane", () => {
  let cp: TestControlPlane;
  let client: ApiClient;
  let lab: Lab;
  let proxy: ServiceProxy;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const namespace = uniqueName("px");
  const warnings: string[] = [];
  const log: ProxyLogger = {
    debug() {},
    info() {},
    warn: (_fields, message) => warnings.push(message),
    error: (fields, message) => warnings.push(`${message} ${JSON.stringify(fields)}`),
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
    port: ${BACKEND_PORT}
    protocol: TCP
endpoints:
${ips.map((ip) => `  - addresses: ["${ip}"]\n    conditions: { ready: true }\n    nodeName: e2e-node`).join("\n")}
`;

  beforeAll(async () => {
    requireRoot();
    cp = await startControlPlane();
    client = new ApiClient(await loadKubeconfig(cp.kubeconfigPath));
    lab = await createLab("dhpxe", SERVICE_CIDR, 2);
    await cp.kubectl(["create", "namespace", namespace]);
    await cp.kubectl(["apply", "-f", "-"], {
      input: `
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${namespace}
spec:
  type: NodePort
  clusterIP: ${CLUSTER_IP}
  ports:
    - name: http
      port: 80
      targetPort: ${BACKEND_PORT}
      nodePort: ${NODE_PORT}
${slice(["10.244.0.2", "10.244.0.3"]).replace(/^\n/, "---\n")}`,
    });
    proxy = new ServiceProxy({
      client,
      nodeName: "e2e-node",
      nodeIPs: [NODE_IP],
      clusterCIDR: POD_CIDR,
      iptables: new ExecIptables("nft", { netns: lab.node.name }),
      sysctl: procSysctl(lab.node.name),
      log,
      minSyncPeriodMs: 200,
    });
    running = proxy.run(abort.signal);
    await proxy.ready;
  });

  afterAll(async () => {
    abort.abort();
    await running;
    client?.close();
    await lab?.destroy();
    await cp?.stop();
  });

  it("reaches both backends through the ClusterIP and the node port", async () => {
    await waitFor(
      async () =>
        (await saveText(new ExecIptables("nft", { netns: lab.node.name }), "nat")).includes(CLUSTER_IP),
      {
        what: "the Service's rules",
      },
    );
    const viaClusterIP = await lab.request(lab.node, "tcp", CLUSTER_IP, 80, 200);
    expect(viaClusterIP.errors).toEqual({});
    expect(Object.keys(viaClusterIP.answers).sort()).toEqual(["pod-1", "pod-2"]);
    const viaNodePort = await lab.request(lab.outside, "tcp", NODE_IP, NODE_PORT, 50);
    expect(viaNodePort.errors).toEqual({});
    expect(Object.values(viaNodePort.answers).reduce((a, b) => a + b, 0)).toBe(50);
  });

  it("follows an EndpointSlice update made with kubectl", async () => {
    await cp.kubectl(["apply", "-f", "-"], { input: slice(["10.244.0.2"]) });
    await waitFor(
      async () => {
        const result = await lab.request(lab.node, "tcp", CLUSTER_IP, 80, 50);
        return result.answers["pod-1"] === 50;
      },
      { what: "traffic to go to pod-1 only", timeoutMs: 60_000, intervalMs: 200 },
    );
  });

  it("removes the rules when the Service is deleted", async () => {
    await cp.kubectl(["delete", "service", "web", "-n", namespace]);
    const iptables = new ExecIptables("nft", { netns: lab.node.name });
    await waitFor(async () => !(await saveText(iptables, "nat")).includes(`${namespace}/web`), {
      what: "the Service's rules to go",
      timeoutMs: 60_000,
    });
    expect(await saveText(iptables, "filter")).not.toContain(`${namespace}/web`);
    expect(warnings).toEqual([]);
  });
});
