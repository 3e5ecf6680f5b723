// The set of resources this server serves, indexed every way a request or an object names them: by
// group/version/plural (URL), by group/kind (objects, owner references) and by group-version (discovery).

import type { KubeObject, ResourceDefinition } from "../../api/resource.ts";
import type { QualifiedResource } from "./errors.ts";

export interface ServedResource {
  readonly def: ResourceDefinition;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** "v1" or "apps/v1". */
  readonly apiVersion: string;
  /** "PodList". */
  readonly listKind: string;
  /** For messages: "pods", "deployments.apps". */
  readonly qualified: QualifiedResource;
  /** Storage prefix of every object of this resource, ending in "/". */
  readonly keyPrefix: string;
  readonly hasStatus: boolean;
}

function storagePrefix(group: string, plural: string): string {
  return `/registry/${group === "" ? "core" : group}/${plural}/`;
}

export class ResourceRegistry {
  readonly all: readonly ServedResource[];
  private readonly byPath = new Map<string, ServedResource>();
  private readonly byKind = new Map<string, ServedResource>();

  constructor(definitions: readonly ResourceDefinition[]) {
    const all: ServedResource[] = [];
    for (const def of definitions) {
      const served: ServedResource = {
        def: def as ResourceDefinition<KubeObject>,
        group: def.group,
        version: def.version,
        plural: def.plural,
        kind: def.kind,
        namespaced: def.namespaced,
        apiVersion: def.group === "" ? def.version : `${def.group}/${def.version}`,
        listKind: `${def.kind}List`,
        qualified: { group: def.group, resource: def.plural },
        keyPrefix: def.storedAs
          ? storagePrefix(def.storedAs.group, def.storedAs.plural)
          : storagePrefix(def.group, def.plural),
        hasStatus: def.subresources.includes("status"),
      };
      const pathKey = `${def.group}/${def.version}/${def.plural}`;
      if (this.byPath.has(pathKey)) throw new Error(`resource ${pathKey} is defined twice`);
      this.byPath.set(pathKey, served);
      this.byKind.set(`${def.group}/${def.kind}`, served);
      all.push(served);
    }
    this.all = all;
  }

  lookup(group: string, version: string, plural: string): ServedResource | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  byGroupKind(group: string, kind: string): ServedResource | undefined {
    return this.byKind.get(`${group}/${kind}`);
  }

  /** Resolves an object's apiVersion + kind (an owner reference, an involvedObject). */
  byApiVersionKind(apiVersion: string, kind: string): ServedResource | undefined {
    const slash = apiVersion.indexOf("/");
    const group = slash >= 0 ? apiVersion.slice(0, slash) : "";
    return this.byGroupKind(group, kind);
  }

  /** Group names in discovery order (upstream lists core first, then groups in a stable order). */
  groups(): Array<{ group: string; versions: string[] }> {
    const groups = new Map<string, Set<string>>();
    for (const r of this.all) {
      if (r.group === "") continue;
      const versions = groups.get(r.group) ?? new Set<string>();
      versions.add(r.version);
      groups.set(r.group, versions);
    }
    return [...groups].map(([group, versions]) => ({ group, versions: [...versions] }));
  }

  inGroupVersion(group: string, version: string): ServedResource[] {
    return this.all.filter((r) => r.group === group && r.version === version);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.all.some((r) => r.group === group && r.version === version);
  }
}
