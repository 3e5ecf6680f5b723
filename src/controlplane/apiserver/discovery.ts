// Legacy JSON discovery documents: /api (APIVersions), /apis (APIGroupList), /apis/<g> (APIGroup) and one
// APIResourceList per group-version. kubectl asks for aggregated discovery first but accepts these.

import type { SubresourceName } from "../../api/resource.ts";
import type { ResourceRegistry, ServedResource } from "./resources.ts";

interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

/** Kind and verbs of each subresource as upstream serves them. */
const SUBRESOURCES: Record<
  SubresourceName | "finalize",
  (r: ServedResource) => { kind: string; verbs: string[]; group?: string; version?: string }
> = {
  status: (r) => ({ kind: r.kind, verbs: ["get", "patch", "update"] }),
  approval: (r) => ({ kind: r.kind, verbs: ["get", "patch", "update"] }),
  scale: () => ({ group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] }),
  binding: () => ({ kind: "Binding", verbs: ["create"] }),
  log: () => ({ kind: "Pod", verbs: ["get"] }),
  exec: () => ({ kind: "PodExecOptions", verbs: ["create", "get"] }),
  attach: () => ({ kind: "PodAttachOptions", verbs: ["create", "get"] }),
  portforward: () => ({ kind: "PodPortForwardOptions", verbs: ["create", "get"] }),
  proxy: (r) => ({ kind: `${r.kind}ProxyOptions`, verbs: ["create", "delete", "get", "patch", "update"] }),
  eviction: () => ({ group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] }),
  ephemeralcontainers: () => ({ kind: "Pod", verbs: ["get", "patch", "update"] }),
  token: () => ({ group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"] }),
  finalize: () => ({ kind: "Namespace", verbs: ["update"] }),
};

/** The subresources a resource serves, including namespaces/finalize which every server has. */
export function subresourcesOf(r: ServedResource): Array<SubresourceName | "finalize"> {
  const list: Array<SubresourceName | "finalize"> = [...r.def.subresources];
  if (r.group === "" && r.plural === "namespaces" && !list.includes("finalize")) list.push("finalize");
  return list;
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string) {
  const resources: APIResource[] = [];
  for (const r of registry.inGroupVersion(group, version)) {
    const main: APIResource = {
      name: r.plural,
      singularName: r.def.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...r.def.verbs],
    };
    if (r.def.shortNames.length > 0) main.shortNames = [...r.def.shortNames];
    if (r.def.categories.length > 0) main.categories = [...r.def.categories];
    resources.push(main);
    for (const sub of subresourcesOf(r)) {
      const info = SUBRESOURCES[sub](r);
      const entry: APIResource = {
        name: `${r.plural}/${sub}`,
        singularName: "",
        namespaced: r.namespaced,
        kind: info.kind,
        verbs: info.verbs,
      };
      if (info.group !== undefined) entry.group = info.group;
      if (info.version !== undefined) entry.version = info.version;
      resources.push(entry);
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources,
  };
}

export function apiVersions(serverAddress: string) {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function apiGroupEntry(group: string, versions: string[]) {
  const list = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: list, preferredVersion: list[0] };
}

export function apiGroupList(registry: ResourceRegistry) {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: registry.groups().map((g) => apiGroupEntry(g.group, g.versions)),
  };
}

export function apiGroup(registry: ResourceRegistry, group: string) {
  const found = registry.groups().find((g) => g.group === group);
  if (!found) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroupEntry(found.group, found.versions) };
}
