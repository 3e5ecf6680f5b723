// Objects every cluster has, created at startup when missing (upstream's bootstrap controllers in
// kube-apiserver): the system namespaces and the `kubernetes` Service in `default` with the first address
// of the service CIDR, plus its Endpoints/EndpointSlice when the server has a routable address.

import type { Logger } from "pino";
import type { KubeObject } from "../../api/resource.ts";
import { isApiError } from "./errors.ts";
import type { UserInfo } from "./pipeline/authentication.ts";
import type { ResourceRegistry, ServedResource } from "./resources.ts";
import type { ObjectStore } from "./store/object-store.ts";
import type { ServiceAllocators } from "./strategies/services.ts";

export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export const SYSTEM_USER: UserInfo = { name: "system:apiserver", groups: ["system:masters"] };

export interface BootstrapDeps {
  registry: ResourceRegistry;
  stores: ReadonlyMap<ServedResource, ObjectStore>;
  allocators: ServiceAllocators;
  log: Logger;
  advertise?: { address: string; port: number };
}

async function ensure(
  store: ObjectStore | undefined,
  namespace: string,
  obj: KubeObject,
  log: Logger,
): Promise<void> {
  if (!store) return;
  const name = obj.metadata?.name ?? "";
  if (await store.tryGet(namespace, name)) return;
  try {
    await store.create(namespace, obj, { user: SYSTEM_USER, dryRun: false });
    log.info(
      { resource: store.resource.plural, namespace: namespace || undefined, name },
      "created built-in object",
    );
  } catch (error) {
    if (!isApiError(error, "AlreadyExists")) throw error;
  }
}

function isRoutable(address: string): boolean {
  return (
    address !== "" &&
    address !== "0.0.0.0" &&
    address !== "::" &&
    !address.startsWith("127.") &&
    address !== "::1"
  );
}

export async function bootstrapCluster(deps: BootstrapDeps): Promise<void> {
  const { registry, stores, log } = deps;
  const store = (group: string, version: string, plural: string) => {
    const r = registry.lookup(group, version, plural);
    return r ? stores.get(r) : undefined;
  };
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(
      store("", "v1", "namespaces"),
      "",
      { apiVersion: "v1", kind: "Namespace", metadata: { name } },
      log,
    );
  }
  const port = deps.advertise?.port ?? 6443;
  const labels = { component: "apiserver", provider: "kubernetes" };
  const services = store("", "v1", "services");
  const existing = await services?.tryGet("default", "kubernetes");
  const firstIp = deps.allocators.ips.firstAddress();
  if (existing) {
    const ip = (existing.object as { spec?: { clusterIP?: string } }).spec?.clusterIP;
    if (ip !== firstIp) {
      log.warn(
        { clusterIP: ip, expected: firstIp },
        "the kubernetes Service does not have the first address of --service-cidr; leaving it as is",
      );
    }
  } else {
    await ensure(
      services,
      "default",
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "kubernetes", namespace: "default", labels },
        spec: {
          type: "ClusterIP",
          clusterIP: firstIp,
          sessionAffinity: "None",
          ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: port }],
        },
      },
      log,
    );
  }
  const address = deps.advertise?.address ?? "";
  if (!isRoutable(address)) {
    log.info(
      { address: address || undefined },
      "no routable address to advertise: the kubernetes Service has no endpoints",
    );
    return;
  }
  await ensure(
    store("", "v1", "endpoints"),
    "default",
    {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: {
        name: "kubernetes",
        namespace: "default",
        labels: { "endpointslice.kubernetes.io/skip-mirror": "true" },
      },
      subsets: [{ addresses: [{ ip: address }], ports: [{ name: "https", port, protocol: "TCP" }] }],
    },
    log,
  );
  await ensure(
    store("discovery.k8s.io", "v1", "endpointslices"),
    "default",
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: "kubernetes",
        namespace: "default",
        labels: { "kubernetes.io/service-name": "kubernetes" },
      },
      addressType: "IPv4",
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
      ports: [{ name: "https", port, protocol: "TCP" }],
    },
    log,
  );
}
