// The RBAC objects RBAC reads on every request, kept in maps by the watch-cache feeds, so authorizing is a
// few map lookups and no storage round trip. Changes apply as soon as the cache delivers them.

import type { KubeObject } from "../../../api/resource.ts";
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "../../../api/schema/rbac/rbac.ts";
import type { EventType } from "../watch/cache.ts";
import type { FeedTarget } from "./cache-feed.ts";
import type { RbacSource } from "./rbac.ts";

function keyOf(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

/** One kind's objects by namespace/name, and by namespace for listing. */
class ObjectIndex<T extends KubeObject> implements FeedTarget {
  readonly byKey = new Map<string, T>();
  private readonly byNamespace = new Map<string, Map<string, T>>();

  apply(type: EventType, object: KubeObject): void {
    const key = keyOf(object);
    const namespace = object.metadata?.namespace ?? "";
    if (type === "DELETED") {
      this.byKey.delete(key);
      const inNamespace = this.byNamespace.get(namespace);
      inNamespace?.delete(key);
      if (inNamespace?.size === 0) this.byNamespace.delete(namespace);
      return;
    }
    this.byKey.set(key, object as T);
    let inNamespace = this.byNamespace.get(namespace);
    if (!inNamespace) {
      inNamespace = new Map();
      this.byNamespace.set(namespace, inNamespace);
    }
    inNamespace.set(key, object as T);
  }

  reset(): void {
    this.byKey.clear();
    this.byNamespace.clear();
  }

  get(namespace: string, name: string): T | undefined {
    return this.byKey.get(`${namespace}/${name}`);
  }

  inNamespace(namespace: string): Iterable<T> {
    return this.byNamespace.get(namespace)?.values() ?? [];
  }
}

export class RbacIndex implements RbacSource {
  readonly roles = new ObjectIndex<Role>();
  readonly clusterRoles = new ObjectIndex<ClusterRole>();
  readonly roleBindingIndex = new ObjectIndex<RoleBinding>();
  readonly clusterRoleBindingIndex = new ObjectIndex<ClusterRoleBinding>();

  clusterRole(name: string): ClusterRole | undefined {
    return this.clusterRoles.get("", name);
  }

  role(namespace: string, name: string): Role | undefined {
    return this.roles.get(namespace, name);
  }

  clusterRoleBindings(): Iterable<ClusterRoleBinding> {
    return this.clusterRoleBindingIndex.inNamespace("");
  }

  roleBindings(namespace: string): Iterable<RoleBinding> {
    return this.roleBindingIndex.inNamespace(namespace);
  }
}
