// The RBAC authorizer (upstream plugin/pkg/auth/authorizer/rbac): the ClusterRoleBindings, then the
// RoleBindings of the request's namespace, that name the user grant their role's rules; the first rule that
// covers the request allows it. RBAC never denies: without a matching rule it has no opinion, and a binding
// to a role that does not exist is reported in the reason.

import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
} from "../../../api/schema/rbac/rbac.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import type { AuthorizationAttributes, Authorizer, Decision, UserRules } from "../pipeline/authorization.ts";
import { rulesAllow, subjectMatches } from "./rules.ts";

/** What RBAC reads; the API server's implementation answers from its watch caches. */
export interface RbacSource {
  clusterRole(name: string): ClusterRole | undefined;
  role(namespace: string, name: string): Role | undefined;
  /** ClusterRoleBindings that may name `user` (at least those that do). */
  clusterRoleBindings(user: UserInfo): Iterable<ClusterRoleBinding>;
  /** RoleBindings in `namespace` that may name `user` (at least those that do). */
  roleBindings(namespace: string, user: UserInfo): Iterable<RoleBinding>;
}

/** Every rule granted to `user` cluster-wide and, when `namespace` is set, in that namespace. */
export function rbacRulesFor(source: RbacSource, user: UserInfo, namespace: string): UserRules {
  const rules: UserRules = { resourceRules: [], nonResourceRules: [], incomplete: false };
  const errors: string[] = [];
  const add = (policy: readonly { verbs?: string[]; nonResourceURLs?: string[] }[]) => {
    for (const r of policy as PolicyRule[]) {
      if ((r.nonResourceURLs ?? []).length > 0) {
        rules.nonResourceRules.push({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs ?? [] });
      } else {
        const { verbs = [], apiGroups = [], resources = [], resourceNames } = r;
        rules.resourceRules.push({
          verbs,
          apiGroups,
          resources,
          ...(resourceNames ? { resourceNames } : {}),
        });
      }
    }
  };
  for (const binding of source.clusterRoleBindings(user)) {
    if (!(binding.subjects ?? []).some((s) => subjectMatches(s, user, ""))) continue;
    const role = source.clusterRole(binding.roleRef?.name ?? "");
    if (role) add(role.rules ?? []);
    else errors.push(`clusterrole.rbac.authorization.k8s.io "${binding.roleRef?.name ?? ""}" not found`);
  }
  if (namespace !== "") {
    for (const binding of source.roleBindings(namespace, user)) {
      if (!(binding.subjects ?? []).some((s) => subjectMatches(s, user, namespace))) continue;
      const { kind = "", name = "" } = binding.roleRef ?? {};
      const role = kind === "Role" ? source.role(namespace, name) : source.clusterRole(name);
      if (role) add(role.rules ?? []);
      else errors.push(`${kind.toLowerCase()}.rbac.authorization.k8s.io "${name}" not found`);
    }
  }
  if (errors.length > 0) {
    rules.incomplete = true;
    rules.evaluationError = errors.join(", ");
  }
  return rules;
}

export function rbacAuthorizer(source: RbacSource): Authorizer {
  return {
    name: "RBAC",
    rulesFor: (user, namespace) => rbacRulesFor(source, user, namespace),
    authorize(attributes: AuthorizationAttributes): Decision {
      const { user, request } = attributes;
      const errors: string[] = [];
      for (const binding of source.clusterRoleBindings(user)) {
        if (!(binding.subjects ?? []).some((s) => subjectMatches(s, user, ""))) continue;
        const name = binding.roleRef?.name ?? "";
        const role = binding.roleRef?.kind === "ClusterRole" ? source.clusterRole(name) : undefined;
        if (!role) {
          errors.push(`clusterrole.rbac.authorization.k8s.io "${name}" not found`);
          continue;
        }
        if (rulesAllow(role.rules ?? [], request)) return allowed(binding, user, "ClusterRoleBinding");
      }
      const namespace = request.isResourceRequest ? request.namespace : "";
      if (namespace !== "") {
        for (const binding of source.roleBindings(namespace, user)) {
          if (!(binding.subjects ?? []).some((s) => subjectMatches(s, user, namespace))) continue;
          const { kind = "", name = "" } = binding.roleRef ?? {};
          const role = kind === "Role" ? source.role(namespace, name) : source.clusterRole(name);
          if (!role) {
            errors.push(`${kind.toLowerCase()}.rbac.authorization.k8s.io "${name}" not found`);
            continue;
          }
          if (rulesAllow(role.rules ?? [], request)) return allowed(binding, user, "RoleBinding");
        }
      }
      if (errors.length === 0) return { allowed: false, reason: "" };
      return {
        allowed: false,
        reason: `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(", ")}]`}`,
      };
    },
  };
}

/** The reason SubjectAccessReviews report for an allow, worded as upstream's rule-checking visitor words it. */
function allowed(binding: RoleBinding | ClusterRoleBinding, user: UserInfo, bindingKind: string): Decision {
  const meta = binding.metadata ?? {};
  const name = meta.namespace ? `${meta.name ?? ""}/${meta.namespace}` : (meta.name ?? "");
  const namespace = meta.namespace ?? "";
  const subject = (binding.subjects ?? []).find((s) => subjectMatches(s, user, namespace));
  const to = subject ? ` to ${subject.kind} "${subject.name}"` : "";
  return {
    allowed: true,
    reason: `RBAC: allowed by ${bindingKind} "${name}" of ${binding.roleRef?.kind ?? ""} "${binding.roleRef?.name ?? ""}"${to}`,
  };
}
