// The RBAC objects RBAC reads on every request, kept in maps by the watch-cache feeds, so authorizing is a
// few map lookups and no storage round trip. Bindings are also indexed by subject (user, group, service
// account), so a request looks only at the bindings that can name its user. Changes apply as soon as the
// cache delivers them.

import type { KubeObject } from "../../../api/resource.ts";
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "../../../api/schema/rbac/rbac.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import type { EventType } from "../watch/cache.ts";
import type { FeedTarget } from "./cache-feed.ts";
import type { RbacSource } from "./rbac.ts";
import { SERVICE_ACCOUNT_PREFIX } from "./rules.ts";

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

type Binding = RoleBinding | ClusterRoleBinding;

/** The subject keys a binding in `namespace` answers to (a ServiceAccount without namespace: the binding's). */
function subjectKeys(binding: Binding, namespace: string): string[] {
  return (binding.subjects ?? []).map((s) =>
    s.kind === "ServiceAccount"
      ? `ServiceAccount:${s.namespace || namespace}:${s.name}`
      : `${s.kind}:${s.name}`,
  );
}

/** The keys a user is known by: their name, their groups, and their service account when they are one. */
function userKeys(user: UserInfo): string[] {
  const keys = [`User:${user.name}`, ...user.groups.map((g) => `Group:${g}`)];
  if (user.name.startsWith(SERVICE_ACCOUNT_PREFIX)) {
    keys.push(`ServiceAccount:${user.name.slice(SERVICE_ACCOUNT_PREFIX.length)}`);
  }
  return keys;
}

/** Bindings also indexed by subject, so a request looks at the user's bindings only, not at every binding. */
class BindingIndex<T extends Binding> extends ObjectIndex<T> {
  /** namespace → subject key → binding key → binding */
  private readonly bySubject = new Map<string, Map<string, Map<string, T>>>();

  override apply(type: EventType, object: KubeObject): void {
    const key = keyOf(object);
    const namespace = object.metadata?.namespace ?? "";
    const previous = this.byKey.get(key);
    if (previous) this.unindex(previous, key, namespace);
    super.apply(type, object);
    if (type !== "DELETED") {
      let subjects = this.bySubject.get(namespace);
      if (!subjects) {
        subjects = new Map();
        this.bySubject.set(namespace, subjects);
      }
      for (const subject of subjectKeys(object as T, namespace)) {
        let bindings = subjects.get(subject);
        if (!bindings) {
          bindings = new Map();
          subjects.set(subject, bindings);
        }
        bindings.set(key, object as T);
      }
    }
  }

  private unindex(binding: T, key: string, namespace: string): void {
    const subjects = this.bySubject.get(namespace);
    if (!subjects) return;
    for (const subject of subjectKeys(binding, namespace)) {
      const bindings = subjects.get(subject);
      bindings?.delete(key);
      if (bindings?.size === 0) subjects.delete(subject);
    }
    if (subjects.size === 0) this.bySubject.delete(namespace);
  }

  override reset(): void {
    super.reset();
    this.bySubject.clear();
  }

  /** Bindings in `namespace` that may name `user` (each at most once). */
  for(namespace: string, user: UserInfo): T[] {
    const subjects = this.bySubject.get(namespace);
    if (!subjects) return [];
    const found = new Map<string, T>();
    for (const k of userKeys(user)) for (const [key, b] of subjects.get(k) ?? []) found.set(key, b);
    return [...found.values()];
  }
}

export class RbacIndex implements RbacSource {
  readonly roles = new ObjectIndex<Role>();
  readonly clusterRoles = new ObjectIndex<ClusterRole>();
  readonly roleBindingIndex = new BindingIndex<RoleBinding>();
  readonly clusterRoleBindingIndex = new BindingIndex<ClusterRoleBinding>();

  clusterRole(name: string): ClusterRole | undefined {
    return this.clusterRoles.get("", name);
  }

  role(namespace: string, name: string): Role | undefined {
    return this.roles.get(namespace, name);
  }

  clusterRoleBindings(user: UserInfo): Iterable<ClusterRoleBinding> {
    return this.clusterRoleBindingIndex.for("", user);
  }

  roleBindings(namespace: string, user: UserInfo): Iterable<RoleBinding> {
    return this.roleBindingIndex.for(namespace, user);
  }
}
