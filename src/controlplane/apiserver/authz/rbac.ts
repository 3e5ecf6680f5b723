// The RBAC authorizer (upstream plugin/pkg/auth/authorizer/rbac): the ClusterRoleBindings, then the
// RoleBindings of the request's namespace, that name the user grant their role's rules; the first rule that
// covers the request allows it. RBAC never denies: without a matching rule it has no opinion, and a binding
// to a role that does not exist is reported in the reason.

import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "../../../api/schema/rbac/rbac.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import type { AuthorizationAttributes, Authorizer, Decision } from "../pipeline/authorization.ts";
import { rulesAllow, subjectMatches } from "./rules.ts";

/** What RBAC reads; the API server's implementation answers from its watch caches. */
export interface RbacSource {
  clusterRole(name: string): ClusterRole | undefined;
  role(namespace: string, name: string): Role | undefined;
  clusterRoleBindings(): Iterable<ClusterRoleBinding>;
  roleBindings(namespace: string): Iterable<RoleBinding>;
}

export function rbacAuthorizer(source: RbacSource): Authorizer {
  return {
    name: "RBAC",
    authorize(attributes: AuthorizationAttributes): Decision {
      const { user, request } = attributes;
      const errors: string[] = [];
      for (const binding of source.clusterRoleBindings()) {
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
        for (const binding of source.roleBindings(namespace)) {
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
